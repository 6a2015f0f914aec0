"""`import longdoc` and the command line stay light: heavy runtimes load only when used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("langgraph", "langchain_core", "openai", "xllamacpp", "tree_sitter")


def imported_after(code: str) -> set[str]:
    """Top-level packages imported by a fresh interpreter running `code`."""
    probe = f"{code}\nimport sys, json; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "LONGDOC_CACHE_DIR": os.environ["LONGDOC_CACHE_DIR"]},
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_import_longdoc_imports_no_heavy_runtime():
    loaded = imported_after("import longdoc")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_public_names_still_resolve_on_first_use():
    loaded = imported_after("import longdoc; longdoc.ask; longdoc.Settings")
    assert "langgraph" in loaded


def test_help_and_tokens_load_no_heavy_runtime(tmp_path):
    (tmp_path / "a.py").write_text("def f():\n    return 1\n", encoding="utf-8")
    for argv in (["--help"], ["tokens", str(tmp_path / "a.py")], ["split", str(tmp_path / "a.py"), "--splitter", "token"]):
        loaded = imported_after(
            "import sys\nfrom longdoc.cli import main\n"
            f"code = main({argv!r})\n"
        )
        assert not loaded & {"langgraph", "langchain_core", "openai", "xllamacpp"}, (argv, loaded & set(HEAVY))


def test_the_help_lists_every_command_as_its_own_help_starts():
    from longdoc.commands.lazy import COMMANDS, load_command

    for name, entry in COMMANDS.items():
        help_text = " ".join((load_command(name).help or "").split())
        assert help_text.startswith(entry.summary.rstrip(".")), (name, help_text[:80])
