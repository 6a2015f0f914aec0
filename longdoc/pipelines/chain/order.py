"""The order in which Chain-of-Agents workers read documents.

A book, or any single document, is read in text order. A repository is read the way a
newcomer would: the top-level README first, then other documentation (READMEs, `docs/`,
Markdown or reST files at the top two levels), then project manifests, then source
files (data files such as prompt templates included), then tests; within each group,
shallower paths first, then path order. The order is stable across runs and machines, which
also keeps the checkpoint key stable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath

from ...documents import Document

DOC_SUFFIXES = frozenset({".md", ".rst", ".txt", ".adoc", ".markdown"})
MANIFESTS = frozenset(
    {"pyproject.toml", "setup.py", "setup.cfg", "package.json", "cargo.toml", "go.mod",
     "pom.xml", "build.gradle", "gemfile", "composer.json", "makefile", "dockerfile"}
)
TEST_DIRS = frozenset({"test", "tests", "spec", "specs", "__tests__", "testing"})


def reading_rank(path: str | None) -> int:
    """0 README at the root, 1 docs, 2 manifests, 3 source, 4 tests."""
    if not path:
        return 3
    p = PurePosixPath(path.replace("\\", "/"))
    name = p.name.lower()
    parts = [part.lower() for part in p.parts[:-1]]
    if name.startswith("readme") and len(parts) <= 1:
        return 0
    if any(part in TEST_DIRS for part in parts) or name.startswith("test_") or name.endswith(
        ("_test.py", ".test.js", ".test.ts", ".spec.ts", "_test.go")
    ):
        return 4
    in_docs = "docs" in parts or "doc" in parts
    prose = p.suffix.lower() in DOC_SUFFIXES - {".txt"} or (p.suffix.lower() == ".txt" and not parts)
    if name.startswith("readme") or in_docs or (prose and len(parts) <= 1):
        return 1
    if name in MANIFESTS:
        return 2
    return 3


def _path_key(path: str | None) -> tuple:
    p = PurePosixPath((path or "").replace("\\", "/"))
    return (len(p.parts), tuple(part.lower() for part in p.parts))


def reading_order(documents: Sequence[Document]) -> list[Document]:
    """`documents` in the order the workers read them (see the module docstring).

    A single document, or documents given without paths, keep their order; the top-level
    README comes first only when it sits at the shallowest level of the given paths.
    """
    if len(documents) <= 1 or all(d.path is None for d in documents):
        return list(documents)
    depth = min(len(PurePosixPath((d.path or "").replace("\\", "/")).parts) for d in documents)

    def key(doc: Document) -> tuple:
        path = doc.path or ""
        parts = PurePosixPath(path.replace("\\", "/")).parts
        rel = "/".join(parts[depth - 1 :]) if depth > 1 else path
        return (reading_rank(rel), _path_key(rel))

    return sorted(documents, key=key)
