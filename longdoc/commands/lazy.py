"""The command table of `longdoc`, and the group that imports a command's module only when it runs.

`longdoc --help` lists the commands from this table alone; `longdoc split ...` imports the
split command's module and no other, so no command pays for another's imports (langgraph,
the openai client, the embedded model's runtime).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup


@dataclass(frozen=True)
class CommandEntry:
    """A command: the modules whose `register(app)` adds it, and its line in `--help`."""

    modules: tuple[str, ...]
    summary: str
    """The start of the command's own help text (a test keeps the two in step)."""


COMMANDS: dict[str, CommandEntry] = {
    "split": CommandEntry(("longdoc.commands.split",), "Show the chunks PATH would be cut into."),
    "tokens": CommandEntry(
        ("longdoc.commands.tokens",),
        "Report the files PATH would read with their token counts, and every file skipped.",
    ),
    "ask": CommandEntry(("longdoc.commands.ask",), "Answer QUESTION from PATH."),
    "summarize": CommandEntry(("longdoc.commands.summarize",), "Summarize PATH."),
    "write": CommandEntry(
        ("longdoc.commands.write",), "Write a long piece with AgentWrite: plan sections, write them in turn."
    ),
    "dataset": CommandEntry(
        ("longdoc.commands.dataset",), "Write every prompt with AgentWrite into a chat-format JSONL dataset."
    ),
    "batch": CommandEntry(
        ("longdoc.commands.batch",), "Ask or summarize every document of a corpus: one JSONL row each, resumable."
    ),
    "llm": CommandEntry(("longdoc.commands.llm",), "Send PROMPT to the configured model and print its reply."),
    "logs": CommandEntry(("longdoc.commands.logs",), "List recent model calls, newest first."),
    "mcp": CommandEntry(
        ("longdoc.commands.mcp",), "Run an MCP server over stdio with the tools ask, summarize, tokens, outline and split."
    ),
    "eval": CommandEntry(
        ("longdoc.commands.eval", "longdoc.commands.needle", "longdoc.commands.qa", "longdoc.commands.write"),
        "Measure longdoc on benchmark data: length control, needles, long-document QA.",
    ),
}
"""Every command, in the order `--help` lists them."""

_registry = typer.Typer(rich_markup_mode=None)
"""The commands loaded so far, each module registered once (`eval length` lives in write's module)."""
_registered: set[str] = set()
_loaded: dict[str, Any] = {}


def load_command(name: str) -> Any:
    """The click command `name`, its modules imported and registered on first use."""
    if name not in _loaded:
        for module in COMMANDS[name].modules:
            if module not in _registered:
                importlib.import_module(module).register(_registry)
                _registered.add(module)
        _loaded[name] = typer.main.get_group(_registry).commands[name]
    return _loaded[name]


class LazyCommandGroup(TyperGroup):
    """A typer group whose commands come from `COMMANDS`, imported when one is looked up."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in super().list_commands(ctx) if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS:
            return load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list of `--help`, from the table: no command module is imported."""
        rows = [(name, entry.summary) for name, entry in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)
