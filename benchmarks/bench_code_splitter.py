"""Code splitters side by side on the installed Python's standard library (tests left out).

Rows: tree-sitter parse + tiktoken encode (the floor any AST splitter pays), longdoc's
CodeSplitter, chonkie's CodeChunker, semantic-text-splitter's CodeSplitter and
llama-index's CodeSplitter, each at 512 and 2048 tokens (o200k_base), one thread.
Time is the process's CPU time (`time.process_time`), so that other work on a shared
machine does not skew the comparison.

Metrics: time and throughput; chunks over the limit (every chunk counted with
o200k_base); characters lost (file characters no chunk covers, non-whitespace; and
files whose chunks do not concatenate back to the file); the share of cuts at a
declaration boundary (the start of a top-level or class-member def/class, its
decorators, or the comments directly above it); the share of cuts between complete
statements (not mid-line, and no statement or expression spans the cut: the smallest
node around the cut is the module or a block).

Run: .venv/bin/python benchmarks/bench_code_splitter.py [--limits 512 2048] [--max-files N]
"""

from __future__ import annotations

import argparse
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import machine, markdown_table, write_section

from longdoc.documents import Document
from longdoc.splitters.code import CodeSplitter
from longdoc.splitters.languages import get_parser
from longdoc.tokens import get_encoding, install_tiktoken_cache

TEST_FOLDERS = frozenset({"test", "tests", "idle_test", "site-packages"})
"""Folders left out of the corpus: the test suites (as in the issue's reference numbers)."""

ENCODE = get_encoding("o200k_base").encode_ordinary

DECLARATION_NODES = frozenset({"function_definition", "class_definition", "decorated_definition"})
CONTAINER_NODES = frozenset({"module", "block"})
COMPOUND_NODES = frozenset({
    "function_definition", "class_definition", "decorated_definition", "if_statement",
    "for_statement", "while_statement", "try_statement", "with_statement", "match_statement",
})  # fmt: skip
"""Statements with blocks: a cut inside one is never forced (a block boundary exists)."""


@dataclass
class SourceFile:
    path: str
    text: str
    data: bytes
    byte_of: list[int] | None  # char offset -> byte offset, for non-ASCII files
    declaration_starts: set[int] = field(default_factory=set)  # byte offsets


@dataclass
class Outcome:
    name: str
    limit: int
    seconds: float
    chunks: int = 0
    over: int = 0
    lost_chars: int = 0
    inexact_files: int = 0
    cuts: int = 0
    at_declaration: int = 0
    between_statements: int = 0
    forced: int = 0
    unforced_at_declaration: int = 0
    note: str = ""


def corpus(max_files: int | None) -> list[SourceFile]:
    root = Path(sysconfig.get_paths()["stdlib"])
    files: list[SourceFile] = []
    for path in sorted(root.rglob("*.py")):
        if TEST_FOLDERS & set(path.relative_to(root).parts[:-1]):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if not text.strip():
            continue
        data = text.encode("utf-8")
        byte_of = None if len(data) == len(text) else list(
            accumulate((len(ch.encode("utf-8", "surrogatepass")) for ch in text), initial=0))  # fmt: skip
        files.append(SourceFile(str(path.relative_to(root)), text, data, byte_of))
        if max_files and len(files) >= max_files:
            break
    return files


def index_declarations(files: list[SourceFile]) -> None:
    """Byte offsets where a top-level or class-member def/class (with its decorators and the
    comments right above it) begins."""
    parser = get_parser("python")
    for source in files:
        root = parser.parse(source.data).root_node
        containers = [root]
        while containers:
            container = containers.pop()
            children = container.children
            for index, child in enumerate(children):
                if child.type not in DECLARATION_NODES:
                    continue
                source.declaration_starts.add(child.start_byte)
                earlier = index - 1  # comments directly above (no blank line) belong to it
                start_row = child.start_point[0]
                while earlier >= 0 and children[earlier].type == "comment" and \
                        children[earlier].end_point[0] == start_row - 1:  # fmt: skip
                    source.declaration_starts.add(children[earlier].start_byte)
                    start_row = children[earlier].start_point[0]
                    earlier -= 1
                inner = child.child_by_field_name("definition") or child
                if inner.type == "class_definition":
                    body = inner.child_by_field_name("body")
                    if body is not None:
                        containers.append(body)


def to_byte(source: SourceFile, char_offset: int) -> int:
    return char_offset if source.byte_of is None else source.byte_of[char_offset]


def cut_quality(source: SourceFile, tree_root, cut: int, limit: int) -> tuple[bool, bool, bool]:
    """(at a declaration boundary, between complete statements, forced) for a cut at a
    char offset; forced: inside a statement that alone is over the limit."""
    text = source.text
    after = cut
    while after < len(text) and text[after].isspace():
        after += 1
    before = cut - 1
    while before >= 0 and text[before].isspace():
        before -= 1
    if after >= len(text) or before < 0:
        return False, False, False
    at_declaration = to_byte(source, after) in source.declaration_starts
    line_start = text.rfind("\n", 0, cut) + 1
    line_end = text.find("\n", cut)
    line_end = len(text) if line_end < 0 else line_end
    mid_line = bool(text[line_start:cut].strip()) and bool(text[cut:line_end].strip())
    node = tree_root.descendant_for_byte_range(to_byte(source, before), to_byte(source, after) + 1)
    between = not mid_line and node is not None and node.type in CONTAINER_NODES
    if between or node is None:
        return at_declaration, between, False
    while node.parent is not None and node.parent.type not in CONTAINER_NODES:
        node = node.parent  # the statement around the cut
    if node.type in COMPOUND_NODES:
        return at_declaration, False, False  # it has blocks: a cut between statements existed
    statement = source.data[node.start_byte : node.end_byte].decode("utf-8", "replace")
    return at_declaration, False, len(ENCODE(statement)) > limit


def measure(
    name: str,
    limit: int,
    files: list[SourceFile],
    split: Callable[[SourceFile], list[tuple[int | None, str]]],
    repeats: int = 1,
) -> Outcome:
    """Run `split` over the corpus (timed, best of `repeats`), then score its chunks.

    `split` returns (start offset or None, text) per chunk; without an offset the chunk
    is looked up in the file after the previous one.
    """
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        results = [split(source) for source in files]
        best = min(best, time.process_time() - started)
    outcome = Outcome(name, limit, best)
    encode = get_encoding("o200k_base").encode_ordinary
    parser = get_parser("python")
    for source, chunks in zip(files, results, strict=True):
        text = source.text
        outcome.chunks += len(chunks)
        outcome.over += sum(len(encode(chunk)) > limit for _, chunk in chunks)
        if "".join(chunk for _, chunk in chunks) != text:
            outcome.inexact_files += 1
        covered = bytearray(len(text))
        starts: list[int] = []
        cursor = 0
        for offset, chunk in chunks:
            if not chunk:
                continue
            if offset is None or text[offset : offset + len(chunk)] != chunk:
                found = text.find(chunk, cursor)
                offset = found if found >= 0 else text.find(chunk)
            if offset < 0:
                continue
            covered[offset : offset + len(chunk)] = b"\x01" * len(chunk)
            starts.append(offset)
            cursor = offset + len(chunk)
        outcome.lost_chars += sum(
            1 for index, flag in enumerate(covered) if not flag and not text[index].isspace()
        )
        root = parser.parse(source.data).root_node
        for cut in starts[1:]:
            outcome.cuts += 1
            at_declaration, between, forced = cut_quality(source, root, cut, limit)
            outcome.at_declaration += at_declaration
            outcome.between_statements += between
            outcome.forced += forced
            outcome.unforced_at_declaration += at_declaration and not forced
    return outcome


def floor(files: list[SourceFile], repeats: int) -> float:
    """CPU seconds to parse and encode every file once (best of `repeats`)."""
    parser, encode = get_parser("python"), get_encoding("o200k_base").encode_ordinary
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        for source in files:
            parser.parse(source.data)
            encode(source.text)
        best = min(best, time.process_time() - started)
    return best


def longdoc_splitter(limit: int):
    splitter = CodeSplitter(limit)

    def split(source: SourceFile) -> list[tuple[int | None, str]]:
        document = Document(id=source.path, text=source.text, path=source.path, kind="code",
                            language="python")  # fmt: skip
        return [(chunk.start, chunk.text) for chunk in splitter.split(document)]

    return split


def chonkie_splitter(limit: int):
    from chonkie import CodeChunker

    # chonkie looks up a tokenizer *name* online; an Encoding object works offline.
    chunker = CodeChunker(language="python", tokenizer=get_encoding("o200k_base"), chunk_size=limit)
    return lambda source: [(c.start_index, c.text) for c in chunker.chunk(source.text)]


def semantic_text_splitter(limit: int):
    import tree_sitter_python
    from semantic_text_splitter import CodeSplitter as SemanticCodeSplitter

    splitter = SemanticCodeSplitter.from_tiktoken_model(
        tree_sitter_python.language(), "gpt-4o", limit, trim=False
    )
    return lambda source: [(offset, chunk) for offset, chunk in splitter.chunk_indices(source.text)]


def llama_index_splitter(limit: int):
    from llama_index.core.node_parser import CodeSplitter as LlamaCodeSplitter

    splitter = LlamaCodeSplitter(
        language="python", count_mode="token", max_tokens=limit,
        tokenizer=get_encoding("o200k_base").encode_ordinary,
    )  # fmt: skip
    return lambda source: [(None, chunk) for chunk in splitter.split_text(source.text)]


PEERS: dict[str, Callable[[int], Callable]] = {
    "longdoc CodeSplitter": longdoc_splitter,
    "chonkie CodeChunker": chonkie_splitter,
    "semantic-text-splitter CodeSplitter": semantic_text_splitter,
    "llama-index CodeSplitter": llama_index_splitter,
}


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--max-files", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3, help="time each row this often, keep the best")
    parser.add_argument("--only", nargs="*", default=None, help="run only these rows (by name prefix)")
    parser.add_argument("--no-write", action="store_true", help="print, do not update RESULTS.md")
    args = parser.parse_args()

    install_tiktoken_cache(Path(tempfile.mkdtemp(prefix="tiktoken-")))
    files = corpus(args.max_files)
    megabytes = sum(len(f.data) for f in files) / 1e6
    tokens = sum(len(get_encoding("o200k_base").encode_ordinary(f.text)) for f in files)
    index_declarations(files)
    CodeSplitter(512).split(Document.from_text(files[0].text, path=files[0].path))  # warm caches
    print(f"corpus: {len(files)} files, {megabytes:.1f} MB, {tokens / 1e6:.2f}M tokens", file=sys.stderr)

    floor_seconds = floor(files, args.repeats)
    print(f"parse + encode: {floor_seconds:.1f} s", file=sys.stderr)
    rows: list[list[object]] = [[
        "tree-sitter parse + tiktoken encode", "–", f"{floor_seconds:.1f}",
        f"{megabytes / floor_seconds:.2f}", "–", "–", "–", "–", "–", "–", "–", "–",
    ]]  # fmt: skip
    for limit in args.limits:
        for name, make in PEERS.items():
            if args.only and not any(name.startswith(prefix) for prefix in args.only):
                continue
            try:
                split = make(limit)
                outcome = measure(name, limit, files, split, args.repeats)
            except Exception as exc:  # a peer that cannot run is reported, not fatal
                rows.append([name, limit, "–", "–", "–", "–", "–", "–", "–", "–", "–",
                             f"could not run here: {type(exc).__name__}: {str(exc)[:80]}"])  # fmt: skip
                print(f"{name} @ {limit}: failed: {exc}", file=sys.stderr)
                continue
            print(f"{name} @ {limit}: {outcome.seconds:.1f} s, {outcome.chunks} chunks, "
                  f"{outcome.over} over", file=sys.stderr)  # fmt: skip
            rows.append([
                name, limit, f"{outcome.seconds:.1f}", f"{megabytes / outcome.seconds:.2f}",
                outcome.chunks, f"{outcome.over} ({percent(outcome.over, outcome.chunks)})",
                f"{outcome.lost_chars:,} / {outcome.inexact_files} files",
                percent(outcome.at_declaration, outcome.cuts),
                percent(outcome.unforced_at_declaration, outcome.cuts - outcome.forced),
                percent(outcome.between_statements, outcome.cuts),
                percent(outcome.between_statements, outcome.cuts - outcome.forced), outcome.note,
            ])  # fmt: skip

    headers = ["splitter", "limit", "CPU s", "MB/s", "chunks", "over limit",
               "non-ws chars lost / files not exact", "cuts at declarations",
               "… of unforced cuts", "cuts between statements", "… of unforced cuts",
               "note"]  # fmt: skip
    table = markdown_table(headers, rows)
    body = f"""Corpus: the installed Python's standard library without its test folders
({len(files)} files, {megabytes:.1f} MB, {tokens / 1e6:.2f}M o200k_base tokens), one thread, {machine()};
seconds are CPU seconds of the process, best of {args.repeats} runs (the machine was shared
with other jobs, so wall time was not a fair measure).
Every chunk is counted with tiktoken o200k_base. chonkie gets the tiktoken `Encoding`
object (its lookup by name downloads a tokenizer); semantic-text-splitter uses
`from_tiktoken_model("gpt-4o")` with `trim=False`; llama-index runs with
`count_mode="token"` and the same encoder. "Cuts at declarations": the cut (after
whitespace) is the start of a top-level or class-member def/class, its decorators or the
comment lines directly above it. "Between statements": not mid-line, and the smallest
syntax node around the cut is the module or a block. "… of unforced cuts" leaves out
the cuts forced inside a simple statement (no block of its own) that alone is over the
limit: a giant docstring or data literal (`pydoc_data/topics.py`, the `encodings`
tables) can be cut neither at a declaration nor between statements.

{table}
"""
    print(body)
    if not args.no_write:
        write_section("code splitter", body)


if __name__ == "__main__":
    main()
