"""Markdown splits at headings; fenced blocks and paragraphs stay whole where they fit."""

from __future__ import annotations

from longdoc.documents import Document
from longdoc.splitters import split_document
from longdoc.splitters.markdown import MarkdownSplitter
from longdoc.tokens import count_tokens


def guide() -> str:
    parts = ["# Guide\n\nAn introduction to the guide.\n\n"]
    for chapter in ("Install", "Configure", "Run"):
        parts.append(f"## {chapter}\n\n")
        for step in range(4):
            parts.append(f"### {chapter} step {step}\n\n")
            parts.append(f"Do the {chapter.lower()} thing number {step}. " * 6 + "\n\n")
        parts.append("```python\n# a fenced block\n\nprint('kept whole')\n\n# end\n```\n\n")
    return "".join(parts)


def test_cuts_fall_at_headings_and_carry_the_heading_path():
    text = guide()
    document = Document.from_text(text, path="docs/guide.md", kind="markdown")
    chunks = MarkdownSplitter(120).split(document)
    assert "".join(c.text for c in chunks) == text
    assert all(c.tokens == count_tokens(c.text) <= 120 for c in chunks)
    assert len(chunks) > 3
    for chunk in chunks[1:]:
        assert chunk.text.lstrip().startswith("#") or chunk.text.startswith("```")
    configure = [c for c in chunks if c.meta.get("section", "").startswith("Configure")]
    assert configure and all(c.meta["path"] == "docs/guide.md" for c in configure)
    deep = next(c for c in chunks if c.meta.get("section") == "Run step 2")
    assert deep.meta["context"].splitlines()[:2] == ["# Guide", "## Run"]


def test_fenced_block_is_not_cut_at_its_blank_lines():
    text = guide()
    chunks = MarkdownSplitter(120).split(Document.from_text(text, path="guide.md"))
    for chunk in chunks:
        assert chunk.text.count("```") % 2 == 0, chunk.text


def test_heading_like_lines_inside_fences_are_not_headings():
    text = "# Real\n\n```sh\n# not a heading\necho hi\n```\n\n" + "Words here. " * 300 + "\n"
    chunks = MarkdownSplitter(60).split(Document.from_text(text, path="x.md"))
    assert "".join(c.text for c in chunks) == text
    assert all(c.meta.get("section") in (None, "Real") for c in chunks)


def test_dispatcher_sends_markdown_here():
    text = guide()
    chunks = split_document(Document.from_text(text, path="guide.md", kind="markdown"), 120)
    assert any("## Install" in c.meta.get("context", "") for c in chunks)
    assert chunks[0].meta["language"] == "markdown"
