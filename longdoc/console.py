"""The command line's consoles: results on stdout, progress and errors on stderr, never wrapped.

Rich wraps text at the terminal's width, and at 80 columns (or `COLUMNS`) when the stream is
not a terminal, which breaks an error message into lines a script or a grep cannot match.
Every console here soft-wraps (a line is as long as its text), errors are folded onto one
line, and progress that would animate on a terminal is a plain line elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

PIPE_WIDTH = 1000
"""Width a table gets when its stream is not a terminal: a table renders at its natural
width (tables do not expand), so a path or a preview is never folded for a pipe or a
file, where no reader has a width and `COLUMNS` is whatever the environment left."""


def _unwrapped(console: Console) -> Console:
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def stderr_console(*, quiet: bool = False) -> Console:
    """Progress and logs: stderr, silent with `quiet`, lines never wrapped."""
    return _unwrapped(Console(stderr=True, quiet=quiet, soft_wrap=True))


def stdout_console() -> Console:
    """Results: stdout, lines never wrapped; tables fit a terminal's width, not a pipe's."""
    return _unwrapped(Console(soft_wrap=True))


def one_line(message: str) -> str:
    """`message` on one line: its own line breaks (a pydantic report, a traceback summary)
    become `; ` between the non-empty lines."""
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())


def print_error(message: str, console: Console | None = None) -> None:
    """`error: MESSAGE` as exactly one line on stderr, whatever the width."""
    console = console or stderr_console()
    console.print(f"[bold red]error:[/] {escape(one_line(message))}", highlight=False, soft_wrap=True)


@contextmanager
def status(console: Console, message: str) -> Iterator[None]:
    """A spinner with `message` on a terminal; one plain line elsewhere (a pipe, a CI log)."""
    if console.is_terminal:
        with console.status(escape(message)):
            yield
        return
    console.print(message, markup=False, highlight=False, soft_wrap=True)
    yield
