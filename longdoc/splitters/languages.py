"""Which language a file is written in, and the tree-sitter parser for it (grammar wheels only).

Grammars come from the per-language `tree-sitter-<lang>` wheels, which ship compiled
code: nothing is downloaded. A grammar that fails to load is reported once and the
caller falls back to the token splitter for that file.
"""

from __future__ import annotations

import importlib
import logging
import threading
from functools import cache
from pathlib import PurePath

from tree_sitter import Language, Parser

from ..documents import Document
from ..errors import SplitError

log = logging.getLogger(__name__)

MARKDOWN = "markdown"

LANGUAGE_BY_EXTENSION: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp",
    ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp", ".h++": "cpp", ".ipp": "cpp", ".inl": "cpp",
    ".cs": "c_sharp",
    ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby", ".ru": "ruby",
    ".php": "php", ".phtml": "php",
    ".sh": "bash", ".bash": "bash", ".ksh": "bash", ".bats": "bash",
    ".md": MARKDOWN, ".markdown": MARKDOWN, ".mdx": MARKDOWN, ".mkd": MARKDOWN,
}  # fmt: skip
"""File extensions (lower case) and the language each one means."""

LANGUAGE_BY_FILENAME: dict[str, str] = {
    "Rakefile": "ruby", "Gemfile": "ruby", "Guardfile": "ruby", "Vagrantfile": "ruby",
    "Podfile": "ruby", ".bashrc": "bash", ".bash_profile": "bash", ".profile": "bash",
    "PKGBUILD": "bash", "SConstruct": "python", "SConscript": "python",
}  # fmt: skip
"""Well-known extensionless file names."""

LANGUAGE_BY_INTERPRETER: dict[str, str] = {
    "python": "python", "python2": "python", "python3": "python", "pypy": "python",
    "pypy3": "python", "node": "javascript", "nodejs": "javascript", "deno": "typescript",
    "ts-node": "typescript", "tsx": "typescript", "bun": "javascript",
    "sh": "bash", "bash": "bash", "dash": "bash", "ksh": "bash", "ash": "bash",
    "ruby": "ruby", "php": "php",
}  # fmt: skip
"""Interpreters named on a `#!` line (the basename, version digits after `python` allowed)."""

_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "c_sharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "bash": ("tree_sitter_bash", "language"),
}
"""Language name -> (grammar wheel module, function returning the compiled grammar)."""

CODE_LANGUAGES: frozenset[str] = frozenset(_GRAMMARS)
"""Languages the code splitter parses with tree-sitter."""

_parsers = threading.local()


def _interpreter_of(first_line: str) -> str | None:
    if not first_line.startswith("#!"):
        return None
    words = first_line[2:].strip().split()
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if program == "env":
        args = [w for w in words[1:] if not w.startswith("-") and "=" not in w]
        if not args:
            return None
        program = args[0].rsplit("/", 1)[-1]
    if program.startswith("python"):
        return "python"
    return LANGUAGE_BY_INTERPRETER.get(program)


LANGUAGE_ALIASES: dict[str, str] = {
    "csharp": "c_sharp", "c-sharp": "c_sharp", "cs": "c_sharp", "c#": "c_sharp",
    "js": "javascript", "jsx": "javascript", "ts": "typescript", "py": "python",
    "c++": "cpp", "cxx": "cpp", "sh": "bash", "shell": "bash", "zsh": "bash", "rb": "ruby",
    "golang": "go", "rs": "rust", "md": MARKDOWN,
}  # fmt: skip
"""Other spellings of language names (as loaders and users write them)."""


def canonical_language(name: str | None) -> str | None:
    """The name this module uses for a language, or None if it is neither code we parse
    nor Markdown."""
    if not name:
        return None
    name = name.lower()
    name = LANGUAGE_ALIASES.get(name, name)
    return name if name in _GRAMMARS or name == MARKDOWN else None


def detect_language(path: str | PurePath | None, text: str = "") -> str | None:
    """The language of a file from its extension, its name, or its `#!` line; None if unknown."""
    if path is not None:
        name = PurePath(path).name
        suffix = PurePath(name).suffix.lower()
        if suffix in LANGUAGE_BY_EXTENSION:
            return LANGUAGE_BY_EXTENSION[suffix]
        if name in LANGUAGE_BY_FILENAME:
            return LANGUAGE_BY_FILENAME[name]
    if text.startswith("#!"):
        return _interpreter_of(text[: text.find("\n")] if "\n" in text else text)
    return None


@cache
def get_language(language: str) -> Language:
    """The compiled tree-sitter grammar of `language`; SplitError if it cannot be loaded."""
    try:
        module_name, function_name = _GRAMMARS[language]
    except KeyError:
        raise SplitError(f"no tree-sitter grammar for language {language!r}") from None
    try:
        module = importlib.import_module(module_name)
        return Language(getattr(module, function_name)())
    except (ImportError, AttributeError, OSError, TypeError, ValueError) as exc:
        raise SplitError(f"tree-sitter grammar for {language} failed to load: {exc}") from exc


def get_parser(language: str) -> Parser:
    """A parser for `language`, cached per thread (tree-sitter parsers are not thread-safe)."""
    cached: dict[str, Parser] | None = getattr(_parsers, "by_language", None)
    if cached is None:
        cached = _parsers.by_language = {}
    parser = cached.get(language)
    if parser is None:
        parser = cached[language] = Parser(get_language(language))
    return parser


def document_language(document: Document) -> str | None:
    """The language the code splitter would use for a document: its own `language` if we
    parse it, Markdown for markdown documents, else detected from path and shebang."""
    return (
        canonical_language(document.language)
        or (MARKDOWN if document.kind == "markdown" else None)
        or detect_language(document.path, document.text)
    )
