"""The repository outline: definitions per file, within a token budget, best-referenced first."""

from __future__ import annotations

import json
from pathlib import Path

from longdoc.cli import main
from longdoc.documents import Document
from longdoc.splitters.outline import build_outline, file_outline
from longdoc.tokens import count_tokens

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_documents() -> list[Document]:
    return [
        Document.from_text(path.read_text(encoding="utf-8"), path=path.name)
        for path in sorted(FIXTURES.iterdir())
    ]


def test_python_definitions_with_kinds_lines_and_nesting():
    text = (FIXTURES / "shapes.py").read_text(encoding="utf-8")
    outline = file_outline(Document.from_text(text, path="shapes.py"))
    rows = {(d.qualname, d.kind, d.line, d.depth) for d in outline.definitions}
    lines = text.splitlines()
    assert ("Circle", "class", lines.index("@register") + 1, 0) in rows  # decorators included
    assert ("Circle.area", "method", lines.index("    @cached_property") + 1, 1) in rows
    init_line = next(i for i, line in enumerate(lines, 1) if "def __init__" in line)
    assert ("Polygon.__init__", "method", init_line, 1) in rows
    assert ("largest", "function", lines.index("def largest(shapes: list) -> object:") + 1, 0) in rows
    assert not any(d.name == "grow" for d in outline.definitions)  # function locals left out


def test_every_language_has_definitions():
    outlines = {o.path: o for d in fixture_documents() if (o := file_outline(d))}
    names = {path: {d.qualname for d in o.definitions} for path, o in outlines.items()}
    assert {"Store", "NewStore", "Store.Get"} <= names["server.go"]
    assert {"Matrix", "Matrix.zeros"} <= names["matrix.rs"]
    assert {"Account", "Account.deposit", "Account.Statement"} <= names["Account.java"]
    assert {"JobQueue", "JobQueue.push", "Job"} <= names["queue.ts"]
    assert {"Collections", "Collections.Stack", "Collections.Stack.push"} <= names["stack.rb"]
    assert {"Router", "Router.dispatch", "router"} <= names["Router.php"]
    assert {"ring_new", "ring_push"} <= names["ring.c"]
    assert {"cache", "cache.LruCache", "cache.LruCache.get"} <= names["cache.cpp"]
    assert {"Accounting", "Accounting.Ledger", "Accounting.Ledger.Add"} <= names["Ledger.cs"]
    assert {"log", "build", "main"} <= names["deploy.sh"]
    assert {"Inventory", "Inventory.add", "loadInventory"} <= names["inventory.js"]


def test_budget_is_respected_and_referenced_names_win():
    library = "class Engine:\n    def start(self):\n        pass\n\n\ndef obscure_helper():\n    pass\n"
    users = [f"from lib import Engine\n\nEngine().start()  # user {i}\n" for i in range(5)]
    documents = [Document.from_text(library, path="lib.py")] + [
        Document.from_text(text, path=f"user_{i}.py") for i, text in enumerate(users)
    ]
    documents += fixture_documents()
    full = build_outline(documents)
    assert full.shown_definitions == full.total_definitions
    small = build_outline(documents, budget=120)
    assert small.tokens == count_tokens(small.render()) <= 120
    assert 0 < small.shown_definitions < full.total_definitions
    shown = {(f.path, d.qualname) for f in small.files for d in f.definitions}
    assert ("lib.py", "Engine") in shown
    assert ("lib.py", "obscure_helper") not in shown


def test_markdown_headings_and_prose_left_out():
    documents = [
        Document.from_text("# Title\n\n## Part\n\n```\n# not a heading\n```\n", path="a.md"),
        Document.from_text("plain prose only", path="notes.txt"),
    ]
    outline = build_outline(documents)
    assert [f.path for f in outline.files] == ["a.md"]
    assert [d.name for d in outline.files[0].definitions] == ["Title", "Part"]


def test_tokens_command_outline(tmp_path: Path, capsys):
    (tmp_path / "shapes.py").write_text((FIXTURES / "shapes.py").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("nothing to outline\n", encoding="utf-8")
    assert main(["tokens", str(tmp_path), "--outline", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    outline = report["outline"]
    assert outline["tokens"] <= 2048 and "class Circle:" in outline["text"]
    assert [f["path"] for f in outline["files"]] == ["shapes.py"]
    assert main(["tokens", str(tmp_path), "--outline", "--outline-tokens", "40"]) == 0
    out = capsys.readouterr().out
    assert "outline:" in out and "shapes.py:" in out
