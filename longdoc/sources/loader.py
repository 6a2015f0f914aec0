"""Load files, folders (repositories) and stdin into Documents, reporting every skip.

Folders are walked in sorted order with the ignore rules of `ignore.py`; each file is
size-checked before it is read, sniffed for binary content, decoded without ever
raising, checked for secrets, classified (code, markdown, book, data, text) and, for
prose, given its chapters as sections. Files named explicitly bypass ignore rules and
globs (as `cat` would) but not the size cap, binary or secret checks.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from ..documents import Document, Section
from ..errors import SourceError
from . import books
from .decode import SNIFF_BYTES, decode_text, looks_binary, normalize_newlines
from .ignore import (
    GlobFilter,
    IgnoreRules,
    default_ignored,
    is_virtualenv,
    looks_minified,
    minified_name,
)
from .kinds import BOOK_MIN_CHARS, classify, may_be_book
from .report import LoadResult, Skipped
from .secrets import secret_file_name, secret_in_content

MAX_FILE_BYTES = 10_000_000
"""Per-file size cap: War and Peace is 3.3 MB; bigger files are mostly dumps and datasets."""

STDIN = "-"
STDIN_PATH = "<stdin>"


def load(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    max_file_bytes: int = MAX_FILE_BYTES,
    allow_secrets: bool = False,
    stdin: BinaryIO | None = None,
    within: Sequence[str | os.PathLike[str]] | None = None,
) -> LoadResult:
    """Read files, folders and `-` (stdin) into documents; report everything skipped.

    Document paths are relative to the folder given (prefixed with that folder when
    several paths are given, so that ids stay unique); a file keeps the path as given.
    Raises SourceError for a path that does not exist or a named file that cannot be read.
    `within` (folders): nothing whose real path, links resolved, lies outside them is read;
    a named path outside is a SourceError, a link met in a folder is skipped (`outside-root`).
    """
    roots = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    loader = _Loader(
        globs=GlobFilter(tuple(include), tuple(exclude)),
        max_file_bytes=max_file_bytes,
        allow_secrets=allow_secrets,
        within=tuple(os.path.realpath(folder) for folder in within) if within is not None else None,
    )
    result = LoadResult()
    for root in roots:
        root_text = os.fspath(root)
        if root_text == STDIN:
            outcome = loader.read_stdin(stdin)
            (result.skipped if isinstance(outcome, Skipped) else result.documents).append(outcome)
            continue
        path = Path(root_text)
        if not os.path.lexists(path):
            raise SourceError("no such file or folder", path=root_text)
        if not loader.inside(path):
            raise SourceError("outside the folders that may be read", path=root_text)
        if path.is_dir():
            prefix = "" if len(roots) == 1 else _display_root(root_text)
            documents, skipped = loader.walk(path, prefix)
            result.documents.extend(documents)
            result.skipped.extend(skipped)
        else:
            outcome = loader.read_file(path, _display_root(root_text).rstrip("/"), explicit=True)
            (result.skipped if isinstance(outcome, Skipped) else result.documents).append(outcome)
    return result


def _display_root(root: str) -> str:
    normal = PurePosixPath(os.path.normpath(root).replace(os.sep, "/")).as_posix()
    return "" if normal == "." else normal + "/"


class _Loader:
    def __init__(
        self, *, globs: GlobFilter, max_file_bytes: int, allow_secrets: bool, within: tuple[str, ...] | None = None
    ) -> None:
        self.globs = globs
        self.max_file_bytes = max_file_bytes
        self.allow_secrets = allow_secrets
        self.within = within
        self._seen_files: set[tuple[int, int]] = set()

    def inside(self, path: Path) -> bool:
        """Whether `path`, links resolved, lies in one of the `within` folders (or none is set)."""
        if self.within is None:
            return True
        real = os.path.realpath(path)
        return any(real == folder or real.startswith(folder.rstrip(os.sep) + os.sep) for folder in self.within)

    # -- folders -----------------------------------------------------------------------

    def walk(self, root: Path, prefix: str) -> tuple[list[Document], list[Skipped]]:
        documents: list[Document] = []
        skipped: list[Skipped] = []
        rules, repo_prefix = _rules_for(root)
        root_stat = root.stat()
        visited = {(root_stat.st_dev, root_stat.st_ino)}
        stack: list[tuple[Path, str, IgnoreRules]] = [(root, "", rules)]
        while stack:
            folder, relative, rules = stack.pop()
            try:
                with os.scandir(folder) as scan:
                    entries = sorted(scan, key=lambda e: e.name)
            except OSError as exc:
                skipped.append(Skipped(path=prefix + relative + "/", reason="unreadable", detail=_why(exc)))
                continue
            subfolders: list[tuple[Path, str, IgnoreRules]] = []
            for entry in entries:
                rel = f"{relative}/{entry.name}" if relative else entry.name
                shown = prefix + rel
                try:
                    info = os.stat(entry.path)  # follows symlinks
                except OSError as exc:
                    skipped.append(Skipped(path=shown, reason="unreadable", detail=_why(exc)))
                    continue
                if entry.is_symlink() and not self.inside(Path(entry.path)):
                    skipped.append(Skipped(path=shown, reason="outside-root", detail="a link out of the allowed folders"))
                    continue
                if stat.S_ISDIR(info.st_mode):
                    skip = self._folder_skip(Path(entry.path), rel, shown, rules, repo_prefix)
                    if skip is None and (info.st_dev, info.st_ino) in visited:
                        skip = Skipped(path=shown + "/", reason="symlink-loop", detail="links to a folder already walked")
                    if skip is not None:
                        skipped.append(skip)
                        continue
                    visited.add((info.st_dev, info.st_ino))
                    subfolders.append((Path(entry.path), rel, rules.child(Path(entry.path), repo_prefix + rel)))
                    continue
                skip = self._file_skip(rel, shown, rules, repo_prefix)
                if skip is not None:
                    skipped.append(skip)
                    continue
                outcome = self.read_file(Path(entry.path), shown, info=info)
                (skipped if isinstance(outcome, Skipped) else documents).append(outcome)
            stack.extend(reversed(subfolders))
        documents.sort(key=lambda d: d.path or "")
        skipped.sort(key=lambda s: s.path)
        return documents, skipped

    def _folder_skip(self, folder: Path, rel: str, shown: str, rules: IgnoreRules, repo_prefix: str) -> Skipped | None:
        if default_ignored(rel, is_dir=True):
            return Skipped(path=shown + "/", reason="default-ignore", detail="VCS, dependency, build or cache folder")
        if is_virtualenv(folder):
            return Skipped(path=shown + "/", reason="default-ignore", detail="virtualenv")
        ignored = rules.check(repo_prefix + rel, is_dir=True)
        if ignored:
            return Skipped(path=shown + "/", reason=ignored[0], detail=ignored[1])
        if self.globs.excluded(rel, is_dir=True):
            return Skipped(path=shown + "/", reason="excluded")
        return None

    def _file_skip(self, rel: str, shown: str, rules: IgnoreRules, repo_prefix: str) -> Skipped | None:
        if default_ignored(rel, is_dir=False):
            return Skipped(path=shown, reason="default-ignore", detail="lock file or build artifact")
        if minified_name(rel):
            return Skipped(path=shown, reason="minified")
        ignored = rules.check(repo_prefix + rel, is_dir=False)
        if ignored:
            return Skipped(path=shown, reason=ignored[0], detail=ignored[1])
        if self.globs.excluded(rel):
            return Skipped(path=shown, reason="excluded")
        if not self.globs.included(rel):
            return Skipped(path=shown, reason="not-included")
        return None

    # -- files -------------------------------------------------------------------------

    def read_file(
        self, path: Path, shown: str, *, explicit: bool = False, info: os.stat_result | None = None
    ) -> Document | Skipped:
        """A document, or the reason the file is skipped."""
        try:
            info = info or path.stat()
        except OSError as exc:
            if explicit:
                raise SourceError(f"cannot read ({_why(exc)})", path=shown) from exc
            return Skipped(path=shown, reason="unreadable", detail=_why(exc))
        if not stat.S_ISREG(info.st_mode):
            return Skipped(path=shown, reason="not-a-file")
        if (info.st_dev, info.st_ino) in self._seen_files:
            return Skipped(path=shown, reason="duplicate", detail="already read through another path")
        self._seen_files.add((info.st_dev, info.st_ino))
        if not self.allow_secrets and (rule := secret_file_name(shown)):
            return Skipped(path=shown, reason="secret", detail=rule)
        if info.st_size > self.max_file_bytes:
            return Skipped(
                path=shown, reason="too-large", detail=f"{info.st_size:,} bytes > {self.max_file_bytes:,}"
            )
        kind, language = classify(shown)
        try:
            if kind == "book":
                return self._book(path, shown)
            with path.open("rb") as handle:
                data = handle.read(self.max_file_bytes + 1)
        except SourceError as exc:
            if explicit:
                raise
            return Skipped(path=shown, reason="unreadable", detail=str(exc))
        except OSError as exc:
            if explicit:
                raise SourceError(f"cannot read ({_why(exc)})", path=shown) from exc
            return Skipped(path=shown, reason="unreadable", detail=_why(exc))
        if len(data) > self.max_file_bytes:
            return Skipped(path=shown, reason="too-large", detail=f"more than {self.max_file_bytes:,} bytes")
        return self._text_document(data, shown, kind, language)

    def read_stdin(self, stream: BinaryIO | None) -> Document | Skipped:
        stream = stream if stream is not None else sys.stdin.buffer
        data = stream.read()
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        return self._text_document(data, STDIN_PATH, "text", None, stdin=True)

    def _text_document(
        self, data: bytes, shown: str, kind: str, language: str | None, *, stdin: bool = False
    ) -> Document | Skipped:
        if looks_binary(data[:SNIFF_BYTES]):
            return Skipped(path=shown, reason="binary")
        text, encoding, replaced = decode_text(data)
        text = normalize_newlines(text)
        if not text.strip():
            return Skipped(path=shown, reason="empty")
        if not self.allow_secrets and (found := secret_in_content(text)):
            return Skipped(path=shown, reason="secret", detail=found)
        if kind == "code" and looks_minified(shown, text):
            return Skipped(path=shown, reason="minified")
        meta: dict = {"bytes": len(data), "encoding": encoding}
        if replaced:
            meta["replaced_characters"] = replaced
        if stdin:
            meta["stdin"] = True
        sections: list[Section] = []
        if kind == "markdown":
            sections = books.detect_markdown_sections(text)
        elif kind == "text" and (stdin or may_be_book(shown)):
            found, book_meta = books.book_structure(text)
            if books.looks_like_book(text, found, BOOK_MIN_CHARS):
                kind, sections = "book", found
                meta.update(book_meta)
        return Document(
            id=shown, text=text, path=shown, kind=kind, language=language, sections=tuple(sections), meta=meta
        )

    def _book(self, path: Path, shown: str) -> Document | Skipped:
        reader = books.read_epub if path.suffix.lower() == ".epub" else books.read_pdf
        text, sections, meta = reader(path)
        text = normalize_newlines(text)
        if not text.strip():
            return Skipped(path=shown, reason="empty", detail="no extractable text")
        if not self.allow_secrets and (found := secret_in_content(text)):
            return Skipped(path=shown, reason="secret", detail=found)
        return Document(id=shown, text=text, path=shown, kind="book", sections=tuple(sections), meta=meta)


def _rules_for(root: Path) -> tuple[IgnoreRules, str]:
    """Ignore rules for a walk of `root`, and the root's path inside its repository.

    When `root` lies inside a git work tree, the ignore files from the repository's top
    down to `root` apply too, as in git; unless `root` itself is ignored there (a user who
    names `build/` explicitly wants it read), in which case only files from `root` down do.
    """
    resolved = root.resolve()
    for top in resolved.parents:
        if not (top / ".git").exists():
            continue
        rules = IgnoreRules.at_root(top)
        parts = resolved.relative_to(top).parts
        for depth in range(1, len(parts) + 1):
            relative = "/".join(parts[:depth])
            if rules.check(relative, is_dir=True) is not None:
                break
            rules = rules.child(top.joinpath(*parts[:depth]), relative)
        else:
            return rules, "/".join(parts) + "/"
        break
    return IgnoreRules.at_root(root), ""


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
