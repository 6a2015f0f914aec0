"""What kind of document a file is (code, markdown, book, data, text), from its name."""

from __future__ import annotations

from pathlib import PurePosixPath

CODE_LANGUAGES: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript",
    ".cjs": "javascript", ".jsx": "javascript", ".ts": "typescript", ".mts": "typescript",
    ".cts": "typescript", ".tsx": "tsx", ".go": "go", ".rs": "rust", ".java": "java",
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp",
    ".hh": "cpp", ".hxx": "cpp", ".cs": "c_sharp", ".rb": "ruby", ".php": "php",
    ".sh": "bash", ".bash": "bash", ".zsh": "bash", ".kt": "kotlin", ".kts": "kotlin",
    ".swift": "swift", ".scala": "scala", ".lua": "lua", ".r": "r", ".jl": "julia",
    ".pl": "perl", ".pm": "perl", ".m": "objc", ".mm": "objc", ".dart": "dart",
    ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".hs": "haskell", ".ml": "ocaml",
    ".clj": "clojure", ".sql": "sql", ".vue": "vue", ".svelte": "svelte", ".zig": "zig",
    ".nim": "nim", ".groovy": "groovy", ".ps1": "powershell", ".css": "css",
    ".scss": "scss", ".less": "less", ".html": "html", ".htm": "html",
}
"""Source-code extensions and the language name a code splitter keys its grammar on."""

CODE_FILE_NAMES: dict[str, str] = {
    "Makefile": "make", "Dockerfile": "dockerfile", "CMakeLists.txt": "cmake",
    "Rakefile": "ruby", "Gemfile": "ruby", "Justfile": "make",
}

MARKDOWN_EXTENSIONS = frozenset({".md", ".markdown", ".mdx", ".mkd"})
DATA_EXTENSIONS = frozenset(
    {".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".xml", ".yaml", ".yml", ".toml"}
)
BOOK_EXTENSIONS = frozenset({".epub", ".pdf"})
"""Formats that are always read as books (they need their own readers)."""

PROSE_EXTENSIONS = frozenset({".txt", ".text", ".rst", ".adoc", ".org", ""})

BOOK_MIN_CHARS = 100_000
"""A plain-text file this long (a novella, ~25k tokens) or with chapter headings is a book."""


def classify(path: str) -> tuple[str, str | None]:
    """(kind, language) from a file name; a long .txt is promoted to `book` by the loader."""
    name = PurePosixPath(path).name
    suffix = PurePosixPath(name).suffix.lower()
    if name in CODE_FILE_NAMES:
        return "code", CODE_FILE_NAMES[name]
    if suffix in CODE_LANGUAGES:
        return "code", CODE_LANGUAGES[suffix]
    if suffix in MARKDOWN_EXTENSIONS:
        return "markdown", None
    if suffix in DATA_EXTENSIONS:
        return "data", suffix.lstrip(".")
    if suffix in BOOK_EXTENSIONS:
        return "book", None
    return "text", None


def may_be_book(path: str) -> bool:
    """Plain prose files that become `book` when long or chaptered."""
    return PurePosixPath(path).suffix.lower() in PROSE_EXTENSIONS
