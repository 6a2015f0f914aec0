"""What Chain-of-Agents reads, in which order, and within which budget."""

from __future__ import annotations

from longdoc.documents import Document
from longdoc.pipelines.chain.order import reading_order
from longdoc.pipelines.condense import OUTLINE_PATH, condense_repository
from longdoc.tokens import count_tokens


def docs(paths: list[str], text: str = "x = 1\n", kind: str = "code") -> list[Document]:
    return [Document.from_text(text, path=p, kind=kind if p.endswith(".py") else "markdown") for p in paths]


def test_repository_reading_order():
    paths = ["tests/test_a.py", "pkg/sub/deep.py", "pkg/cli.py", "docs/guide.md", "README.md",
             "pyproject.toml", "pkg/prompts/ask.txt", "pkg/__init__.py"]
    order = [d.path for d in reading_order(docs(paths))]
    assert order == ["README.md", "docs/guide.md", "pyproject.toml", "pkg/__init__.py", "pkg/cli.py",
                     "pkg/prompts/ask.txt", "pkg/sub/deep.py", "tests/test_a.py"]


def test_a_single_document_keeps_its_place():
    only = docs(["book.txt"], "Chapter 1. It begins.", kind="text")
    assert reading_order(only) == only


def test_condense_fits_the_budget_with_real_prefixes():
    body = "".join(f'def function_{i}(value):\n    """Return value plus {i}."""\n    return value + {i}\n\n'
                   for i in range(200))
    code = [Document.from_text(body, path=f"pkg/module_{m}.py", kind="code", language="python") for m in range(6)]
    readme = Document.from_text("# Pkg\n\n" + "Pkg adds numbers to values. " * 400, path="README.md", kind="markdown")
    chosen = condense_repository([*code, readme], 3000)
    total = sum(count_tokens(d.text) for d in chosen)
    assert total <= 3000 * 1.05
    assert chosen[0].path == "README.md"
    assert any(d.path == OUTLINE_PATH and "function_" in d.text for d in chosen)
    originals = {d.path: d.text for d in [*code, readme]}
    for doc in chosen:
        if doc.path != OUTLINE_PATH:
            assert originals[doc.path].startswith(doc.text)


def test_condense_leaves_a_small_repository_whole():
    small = docs(["README.md", "pkg/a.py"])
    assert condense_repository(small, 5000) == reading_order(small)
