"""CodeSplitter: chunks under the limit, exact offsets, cuts at declarations, qualified symbols."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from longdoc.documents import Chunk, Document
from longdoc.splitters import languages as languages_module
from longdoc.splitters import split_document
from longdoc.splitters.code import CodeSplitter, module_name
from longdoc.splitters.languages import get_parser
from longdoc.splitters.syntax import ATTACHED_TYPES, COMMENT_TYPES, declared_node
from longdoc.tokens import count_tokens

FIXTURES = Path(__file__).parent / "fixtures"


def check_chunks(document: Document, chunks: list[Chunk], limit: int) -> None:
    """Offsets tile the text exactly, every chunk is within the limit and counted right."""
    assert chunks, "a non-empty document gives chunks"
    assert "".join(chunk.text for chunk in chunks) == document.text
    position = 0
    for index, chunk in enumerate(chunks):
        assert chunk.index == index
        assert chunk.start == position and chunk.end > chunk.start
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert chunk.tokens == count_tokens(chunk.text) <= limit
        first = document.text.count("\n", 0, chunk.start) + 1
        last = document.text.count("\n", 0, max(chunk.start, chunk.end - 1)) + 1
        assert chunk.lines == (first, last)
        position = chunk.end
    assert position == len(document.text)


def declaration_starts(text: str, language: str) -> set[int]:
    """Character offsets where a declaration, or a comment or decorator before one, begins."""
    data = text.encode()
    tree = get_parser(language).parse(data)
    starts: set[int] = set()
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        for child in node.children:
            if child.type in COMMENT_TYPES or child.type in ATTACHED_TYPES or declared_node(child):
                starts.add(len(data[: child.start_byte].decode()))
            if child.child_count:
                stack.append(child)
    return starts


def cut_is_at_declaration(text: str, cut: int, starts: set[int]) -> bool:
    position = cut
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position in starts


LANGUAGE_CASES = [
    # file, language, limit, symbols that must appear, (symbol, context) pairs
    ("shapes.py", "python", 120,
     {"pkg.shapes.Circle", "pkg.shapes.Circle.scaled", "pkg.shapes.Polygon.area",
      "pkg.shapes.Polygon.perimeter", "pkg.shapes.largest"},
     [("pkg.shapes.Circle.scaled", "class Circle:")]),
    ("inventory.js", "javascript", 120,
     {"pkg.inventory.Inventory", "pkg.inventory.Inventory.remove",
      "pkg.inventory.loadInventory", "pkg.inventory.report"},
     [("pkg.inventory.Inventory.remove", "class Inventory extends EventEmitter")]),
    ("queue.ts", "typescript", 120,
     {"pkg.queue.JobQueue", "pkg.queue.JobQueue.drain", "pkg.queue.JobQueue.runOne"},
     [("pkg.queue.JobQueue.drain", "class JobQueue")]),
    ("widget.tsx", "tsx", 120, {"pkg.widget.Panel"}, []),
    ("server.go", "go", 200, {"pkg.server.Store", "pkg.server.Store.ServeHTTP"}, []),
    ("matrix.rs", "rust", 120, {"pkg.matrix.Matrix", "pkg.matrix.Matrix.get", "pkg.matrix.Matrix.mul"},
     [("pkg.matrix.Matrix.get", "impl Matrix")]),
    ("Account.java", "java", 120,
     {"pkg.Account.Account.deposit", "pkg.Account.Account.withdraw",
      "pkg.Account.Account.Statement"},
     [("pkg.Account.Account.withdraw", "public class Account")]),
    ("ring.c", "c", 160, {"pkg.ring.ring_t", "pkg.ring.ring_push", "pkg.ring.ring_pop"}, []),
    ("cache.cpp", "cpp", 160, {"pkg.cache.cache", "pkg.cache.cache.LruCache.put", "pkg.cache.cache.hits"},
     [("pkg.cache.cache.LruCache.put", "namespace cache\nclass LruCache")]),
    ("Ledger.cs", "c_sharp", 120,
     {"pkg.Ledger.Accounting", "pkg.Ledger.Accounting.Ledger.Add",
      "pkg.Ledger.Accounting.Ledger.Between"},
     [("pkg.Ledger.Accounting.Ledger.Add", "namespace Accounting\npublic class Ledger")]),
    ("stack.rb", "ruby", 120, {"pkg.stack.Collections", "pkg.stack.Collections.Stack.each"},
     [("pkg.stack.Collections.Stack.pop", "module Collections\nclass Stack")]),
    ("Router.php", "php", 120,
     {"pkg.Router.Router", "pkg.Router.Router.add", "pkg.Router.Router.dispatch", "pkg.Router.router"},
     [("pkg.Router.Router.dispatch", "class Router")]),
    ("deploy.sh", "bash", 120, {"pkg.deploy.log", "pkg.deploy.upload"}, []),
]  # fmt: skip


@pytest.mark.parametrize(("name", "language", "limit", "symbols", "contexts"), LANGUAGE_CASES)
def test_language_fixture(name, language, limit, symbols, contexts):
    text = (FIXTURES / name).read_text(encoding="utf-8")
    document = Document.from_text(text, path=f"pkg/{name}")
    chunks = CodeSplitter(limit).split(document)

    check_chunks(document, chunks, limit)
    assert len(chunks) >= 2
    assert all(chunk.meta["language"] == language and chunk.meta["path"] == f"pkg/{name}"
               for chunk in chunks)  # fmt: skip
    found = {chunk.meta.get("symbol") for chunk in chunks}
    found |= {symbol for chunk in chunks for symbol in chunk.meta.get("symbols", ())}
    assert symbols <= found, f"missing {symbols - found}"
    by_symbol = {chunk.meta.get("symbol"): chunk for chunk in chunks}
    for symbol, context in contexts:
        assert by_symbol[symbol].meta["context"] == context
    starts = declaration_starts(text, language)
    for chunk in chunks[1:]:
        assert chunk.text[:1] != " " or chunk.start == 0 or text[chunk.start - 1] == "\n"
    at_declarations = [cut_is_at_declaration(text, c.start, starts) for c in chunks[1:]]
    assert sum(at_declarations) >= 0.75 * len(at_declarations), at_declarations


@pytest.mark.parametrize("limit", [30, 64, 200, 4000])
def test_all_fixtures_any_limit(limit):
    for path in sorted(FIXTURES.iterdir()):
        document = Document.from_text(path.read_text(encoding="utf-8"), path=path.name)
        check_chunks(document, CodeSplitter(limit).split(document), limit)


def test_whole_file_within_limit_is_one_chunk():
    text = (FIXTURES / "shapes.py").read_text(encoding="utf-8")
    chunks = CodeSplitter(4000).split(Document.from_text(text, path="shapes.py"))
    assert len(chunks) == 1 and chunks[0].text == text


def test_python_cuts_are_between_lines_and_keep_decorators_and_comments():
    text = (FIXTURES / "shapes.py").read_text(encoding="utf-8")
    document = Document.from_text(text, path="shapes.py")
    chunks = CodeSplitter(120).split(document)
    for chunk in chunks[1:]:
        assert text[chunk.start - 1] == "\n", "cuts fall at line starts"
    circle = next(c for c in chunks if c.meta.get("symbol") == "shapes.Circle")
    assert circle.text.lstrip().startswith("@register\n@dataclass\nclass Circle:")
    assert circle.meta["node_kind"] == "class"
    scaled = next(c for c in chunks if c.meta.get("symbol") == "shapes.Circle.scaled")
    assert "def grow(value: float)" in scaled.text  # the nested helper stays in its function


def test_import_block_stays_together():
    imports = "".join(f"import module_{i}\n" for i in range(30))
    body = "".join(f"def function_{i}(x):\n    return x + {i}\n\n\n" for i in range(30))
    document = Document.from_text(imports + "\n\n" + body, path="many.py")
    chunks = CodeSplitter(250).split(document)
    check_chunks(document, chunks, 250)
    holding = [c for c in chunks if "import module_" in c.text]
    assert len(holding) == 1 and holding[0].text.count("import module_") == 30
    assert holding[0].text.startswith("import module_0\n")


def test_syntax_error_file_still_chunks():
    text = (FIXTURES / "shapes.py").read_text(encoding="utf-8")
    broken = text.replace("def perimeter(self) -> float:\n        return 2", "def perimeter(self -> float\n        return (2", 1)
    assert get_parser("python").parse(broken.encode()).root_node.has_error
    document = Document.from_text(broken, path="broken.py")
    chunks = CodeSplitter(80).split(document)
    check_chunks(document, chunks, 80)
    assert any(c.meta.get("symbol") == "broken.largest" for c in chunks)


def test_one_megabyte_function_is_cut_between_statements():
    lines = [f"    value_{i} = compute(value_{i - 1}, {i}) if value_{i - 1} else {i}\n" for i in range(1, 16_000)]
    text = "def enormous(compute):\n    value_0 = 0\n" + "".join(lines) + "    return value_0\n"
    assert len(text) > 1_000_000
    document = Document.from_text(text, path="big.py")
    chunks = CodeSplitter(512).split(document)
    check_chunks(document, chunks, 512)
    assert len(chunks) > 100
    for chunk in chunks[1:]:
        assert text[chunk.start - 1] == "\n"
        assert chunk.meta["context"] == "def enormous(compute):"
        assert chunk.meta["symbol"] == "big.enormous"


def test_minified_javascript_on_one_line():
    parts = []
    for i in range(1500):
        parts.append(f"function f{i}(a,b){{var c=a*{i}+b;if(c>{i}){{return c-{i}}}return [c,{i},\"s{i}\"]}}")
        parts.append(f"var o{i}={{k:{i},v:[{i},{i + 1}],n:{{x:\"y{i}\"}}}};")
    text = "".join(parts)
    assert "\n" not in text
    document = Document.from_text(text, path="bundle.min.js")
    chunks = CodeSplitter(256).split(document)
    check_chunks(document, chunks, 256)
    root = get_parser("javascript").parse(text.encode()).root_node
    statement_starts = {child.start_byte for child in root.children}  # ASCII: bytes == chars
    at_statements = [c.start in statement_starts for c in chunks[1:]]
    assert sum(at_statements) >= 0.9 * len(at_statements)
    assert any(c.meta.get("symbol", "").startswith("bundle.min.f") for c in chunks)


def test_giant_literal_falls_back_to_lines_then_tokens():
    table = "TABLE = [\n" + "".join(f"    ({i}, 'entry number {i}'),\n" for i in range(3000)) + "]\n"
    blob = "BLOB = '" + "x9" * 40_000 + "'\n"
    text = "import os\n\n" + table + "\n" + blob + "\ndef after():\n    return TABLE\n"
    document = Document.from_text(text, path="data.py")
    chunks = CodeSplitter(300).split(document)
    check_chunks(document, chunks, 300)
    table_start = text.index("TABLE")
    blob_start = text.index("BLOB")
    for chunk in chunks[1:]:
        if table_start < chunk.start < blob_start:
            assert text[chunk.start - 1] == "\n", "the list is cut between its lines"
    assert chunks[-1].meta.get("symbol") == "data.after"


def test_unicode_identifiers_and_character_offsets():
    text = (
        '"""Größen und Maße."""\n\n\n'
        "class Überraschung:\n"
        '    """Eine Klasse mit Umlauten — und Emoji 🎉."""\n\n'
        "    def größe(self, länge: float) -> float:\n"
        "        return länge * 2  # doppelt 🎉🎉\n\n"
        "    def 名前(self) -> str:\n"
        "        return '東京' * 40\n\n\n"
        "def café(crème):\n"
        "    return [crème] * 3\n"
    ) * 3
    document = Document.from_text(text, path="umlaute.py")
    chunks = CodeSplitter(40).split(document)
    check_chunks(document, chunks, 40)
    symbols = {c.meta.get("symbol") for c in chunks}
    assert {"umlaute.Überraschung", "umlaute.café"} <= symbols
    assert "umlaute.Überraschung.名前" in symbols or "umlaute.Überraschung.größe" in symbols


def test_crlf_line_endings():
    text = (FIXTURES / "inventory.js").read_text(encoding="utf-8").replace("\n", "\r\n")
    document = Document.from_text(text, path="inventory.js")
    chunks = CodeSplitter(120).split(document)
    check_chunks(document, chunks, 120)
    for chunk in chunks[1:]:
        assert text[chunk.start - 2 : chunk.start] == "\r\n"
    assert "inventory.Inventory.remove" in {c.meta.get("symbol") for c in chunks}


def test_custom_counter_is_respected():
    def words(text: str) -> int:
        return len(text.split())

    text = (FIXTURES / "Account.java").read_text(encoding="utf-8")
    document = Document.from_text(text, path="Account.java")
    chunks = CodeSplitter(40, counter=words).split(document)
    assert "".join(c.text for c in chunks) == text
    assert all(c.tokens == words(c.text) <= 40 for c in chunks)
    assert len(chunks) > 3


def test_grammar_failure_degrades_one_file_to_tokens(monkeypatch, caplog):
    def broken(language: str):
        raise languages_module.SplitError(f"grammar for {language} is broken")

    monkeypatch.setattr("longdoc.splitters.code.get_parser", broken)
    text = (FIXTURES / "server.go").read_text(encoding="utf-8")
    document = Document.from_text(text, path="server.go")
    splitter = CodeSplitter(100)
    with caplog.at_level(logging.WARNING, logger="longdoc.splitters.code"):
        chunks = splitter.split(document)
    check_chunks(document, chunks, 100)
    assert all(c.meta.get("language") == "go" and "symbol" not in c.meta for c in chunks)
    assert splitter.warnings and "server.go" in splitter.warnings[0]
    assert "split by tokens" in caplog.text


def test_unknown_language_goes_to_token_splitter_quietly():
    document = Document.from_text("plain words here. " * 200, path="notes.txt")
    splitter = CodeSplitter(50)
    chunks = splitter.split(document)
    check_chunks(document, chunks, 50)
    assert splitter.warnings == []


def test_loader_language_names_are_understood():
    text = (FIXTURES / "Ledger.cs").read_text(encoding="utf-8")
    document = Document(id="Ledger.cs", text=text, path="Ledger.cs", kind="code", language="c_sharp")
    chunks = CodeSplitter(120).split(document)
    assert chunks[0].meta["language"] == "c_sharp"
    assert any(c.meta.get("symbol", "").endswith("Ledger.Add") for c in chunks)


def test_empty_document():
    assert CodeSplitter(100).split(Document.from_text("", path="empty.py")) == []


def test_dispatcher_auto_picks_code_for_source_and_tokens_for_prose():
    text = (FIXTURES / "shapes.py").read_text(encoding="utf-8")
    code_chunks = split_document(Document.from_text(text, path="shapes.py"), 120)
    assert code_chunks[0].meta.get("language") == "python"
    assert any(c.meta.get("symbol") == "shapes.Circle" for c in code_chunks)
    prose = split_document(Document.from_text("Some prose. " * 100, path="a.txt"), 50)
    assert all("symbol" not in c.meta for c in prose)


def test_module_names():
    assert module_name("pkg/sub/mod.py", "python") == "pkg.sub.mod"
    assert module_name("pkg/sub/__init__.py", "python") == "pkg.sub"
    assert module_name("./src/app.ts", "typescript") == "src.app"
    assert module_name("/abs/path/tool.go", "go") == "tool"
    assert module_name(None, "go") is None


def test_attribute_docstrings_stay_under_their_constant():
    text = "".join(
        f'LIMIT_{i} = {i * 100}\n"""Why limit {i} is {i * 100}: a reason given in a sentence or two."""\n\n'
        for i in range(40)
    )
    document = Document.from_text(text, path="limits.py")
    chunks = CodeSplitter(60).split(document)
    check_chunks(document, chunks, 60)
    assert len(chunks) > 5
    assert all(chunk.text.startswith("LIMIT_") for chunk in chunks)


def test_comments_go_with_the_code_they_touch():
    text = (
        "def first(values):\n    return sorted(values)[0]\n# end of first\n\n\n"
        "# Section: helpers for the second half of the module\n\n\n"
        "# what second does\ndef second(values):\n    return sorted(values)[-1]\n"
    )
    document = Document.from_text(text, path="comments.py")
    chunks = CodeSplitter(20).split(document)
    check_chunks(document, chunks, 20)
    by_symbol = {c.meta.get("symbol"): c.text for c in chunks}
    assert "# end of first" in by_symbol["comments.first"]
    assert by_symbol["comments.second"].lstrip().startswith(("# what second does", "# Section"))
    assert "# Section" not in by_symbol["comments.first"]
