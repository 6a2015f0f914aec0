"""Which paths a repository walk skips: .gitignore/.longdocignore rules, defaults, globs.

Ignore files are evaluated as git does: each folder's file applies to paths below it,
a deeper file overrides a shallower one, and within one file the last matching pattern
wins, so `!negation` keeps its order. Rules are never merged into an unordered set. A
folder that is ignored is not entered, so nothing below it can be re-included (git's
rule too). `.longdocignore` files follow the same syntax and override `.gitignore`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pathspec

from .report import SkipReason

IGNORE_FILES: tuple[tuple[str, SkipReason], ...] = (
    (".gitignore", "gitignore"),
    (".longdocignore", "longdocignore"),
)
"""Per-folder ignore files, in increasing precedence."""

DEFAULT_IGNORED_DIRS: tuple[str, ...] = (
    ".git/", ".hg/", ".svn/", ".bzr/", "_darcs/", ".jj/",
    "node_modules/", "bower_components/", ".venv/", "venv/", ".virtualenv/", "__pypackages__/",
    "build/", "dist/", "target/", "out/", "_build/", ".next/", ".nuxt/", ".svelte-kit/",
    "*.egg-info/", ".eggs/", ".gradle/", ".terraform/",
    "__pycache__/", ".cache/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/",
    ".hypothesis/", ".tox/", ".nox/", ".ipynb_checkpoints/", ".parcel-cache/",
    ".turbo/", ".idea/", ".vscode/", "coverage/", "htmlcov/",
)
"""VCS folders, dependencies, virtualenvs, build output and caches (any depth)."""

DEFAULT_IGNORED_FILES: tuple[str, ...] = (
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
    "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "composer.lock",
    "Gemfile.lock", "go.sum", "flake.lock", "*.lock",
    "*.pyc", "*.pyo", "*.class", "*.o", "*.so", "*.dylib", "*.dll", "*.exe",
    ".DS_Store", "Thumbs.db", ".coverage", "*.swp",
)
"""Lock files and build artifacts: machine-written, long, useless to read."""

MINIFIED_FILES: tuple[str, ...] = ("*.min.js", "*.min.mjs", "*.min.css", "*.map", "*-min.js")

MINIFIED_LINE_CHARS = 1000
"""Mean line length above which JS/CSS counts as minified even without a .min name."""

_DEFAULT_SPEC = pathspec.GitIgnoreSpec.from_lines(DEFAULT_IGNORED_DIRS + DEFAULT_IGNORED_FILES)
_MINIFIED_SPEC = pathspec.GitIgnoreSpec.from_lines(MINIFIED_FILES)


def default_ignored(relative_path: str, is_dir: bool) -> bool:
    """Whether a path is skipped by default (a folder's path is checked with a trailing /)."""
    return bool(_DEFAULT_SPEC.match_file(relative_path + "/" if is_dir else relative_path))


def minified_name(relative_path: str) -> bool:
    return bool(_MINIFIED_SPEC.match_file(relative_path))


def looks_minified(relative_path: str, text: str) -> bool:
    """JS/CSS whose lines are very long on average (one-line bundles)."""
    if not relative_path.endswith((".js", ".mjs", ".cjs", ".css")) or len(text) < 5000:
        return False
    return len(text) / (text.count("\n") + 1) > MINIFIED_LINE_CHARS


def is_virtualenv(directory: Path) -> bool:
    """A Python virtualenv under any name (it holds pyvenv.cfg)."""
    return (directory / "pyvenv.cfg").is_file()


@dataclass(frozen=True)
class _Rules:
    base: str  # folder of the ignore file, relative to the root, "" or "a/b/"
    spec: pathspec.GitIgnoreSpec
    reason: SkipReason
    source: str  # the ignore file, relative to the root


class IgnoreRules:
    """The ignore files in effect for one folder: its ancestors' and its own, in order.

    `IgnoreRules.root(root)` reads the root's files; `child(folder)` adds a subfolder's.
    Immutable, so a walk can keep one per folder on its stack.
    """

    def __init__(self, root: Path, layers: tuple[_Rules, ...] = ()) -> None:
        self._root = root
        self._layers = layers

    @classmethod
    def at_root(cls, root: Path) -> IgnoreRules:
        layers: list[_Rules] = []
        exclude = root / ".git" / "info" / "exclude"
        if exclude.is_file():
            layers.append(_load(exclude, "", "gitignore", ".git/info/exclude"))
        rules = cls(root, tuple(layer for layer in layers if layer is not None))
        return rules.child(root, "")

    def child(self, folder: Path, relative: str) -> IgnoreRules:
        """Rules for `folder` (relative path "" for the root, else "a/b")."""
        base = f"{relative}/" if relative else ""
        layers = list(self._layers)
        for name, reason in IGNORE_FILES:
            path = folder / name
            if path.is_file():
                layer = _load(path, base, reason, base + name)
                if layer is not None:
                    layers.append(layer)
        return IgnoreRules(self._root, tuple(layers)) if len(layers) != len(self._layers) else self

    def check(self, relative_path: str, is_dir: bool) -> tuple[SkipReason, str] | None:
        """(reason, ignore file) when the path is ignored, None when it is kept.

        The deepest ignore file with a matching pattern decides; within it the last
        matching pattern (pathspec's GitIgnoreSpec), so a later `!pattern` re-includes.
        """
        for layer in reversed(self._layers):
            if not relative_path.startswith(layer.base):
                continue
            local = relative_path[len(layer.base) :]
            result = layer.spec.check_file(local + "/" if is_dir else local)
            if result.include is None:
                continue
            return (layer.reason, layer.source) if result.include else None
        return None


def _load(path: Path, base: str, reason: SkipReason, source: str) -> _Rules | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _Rules(base, pathspec.GitIgnoreSpec.from_lines(lines), reason, source)


class GlobFilter:
    """`--include` / `--exclude` globs (gitignore-style); exclude always wins."""

    def __init__(self, include: tuple[str, ...] | list[str] = (), exclude: tuple[str, ...] | list[str] = ()) -> None:
        self._include = pathspec.GitIgnoreSpec.from_lines(include) if include else None
        self._exclude = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None

    def excluded(self, relative_path: str, is_dir: bool = False) -> bool:
        if self._exclude is None:
            return False
        return bool(self._exclude.match_file(relative_path + "/" if is_dir else relative_path))

    def included(self, relative_path: str) -> bool:
        """Files only: folders are always entered so that `src/**/*.py` can match below."""
        return self._include is None or bool(self._include.match_file(relative_path))
