"""The `longdoc` command: parses arguments, calls the API, renders results.

Global options (`--model`, `--json`, ...) are accepted before or after the command name:
`main` moves them in front of the command before typer parses, so scripts can write
`longdoc ask book.txt "..." --json` as naturally as `longdoc --json ask ...`.
Each command lives in a module of `longdoc.commands` with a `register(app)` function,
imported only when that command runs (`longdoc.commands.lazy`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .commands.lazy import LazyCommandGroup
from .errors import LongdocError

if TYPE_CHECKING:
    from rich.console import Console

    from .config import Settings

GLOBAL_VALUE_OPTIONS = {"--model", "--base-url", "--window", "--concurrency", "--cache-dir", "--profile", "--max-output"}
GLOBAL_FLAGS = {"--no-cache", "--quiet", "-q", "--json"}

app = typer.Typer(
    name="longdoc",
    cls=LazyCommandGroup,
    help="Read documents far longer than a model's context window; write far longer outputs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@dataclass
class CliContext:
    """What every command gets from the global options."""

    settings: Settings
    json: bool = False
    quiet: bool = False

    @property
    def err(self) -> Console:
        """Progress and logs: stderr, silent with --quiet, lines never wrapped."""
        from .console import stderr_console

        return stderr_console(quiet=self.quiet)

    @property
    def out(self) -> Console:
        """Results: stdout."""
        from .console import stdout_console

        return stdout_console()

    def emit_json(self, obj: Any) -> None:
        sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=str) + "\n")
        sys.stdout.flush()


def cli_context(ctx: typer.Context) -> CliContext:
    return ctx.find_root().obj


@app.callback()
def _global_options(
    ctx: typer.Context,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            envvar="LONGDOC_MODEL",
            help="`local` (embedded base model), `local-instruct` (embedded chat model, the `instruct` extra), "
            "`fake` (tests), or a model served by the endpoint.",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", envvar="OPENAI_BASE_URL", help="OpenAI-compatible endpoint."),
    ] = None,
    window: Annotated[
        int | None, typer.Option("--window", help="The agent's context window in tokens.")
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", help="Model calls in flight at most.")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Bypass the response cache.")
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", envvar="LONGDOC_CACHE_DIR", help="Cache and call-log folder."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            envvar="LONGDOC_PROFILE",
            help="`base` (completion prompts, output repair, grounding enforced) or `instruct` "
            "(chat, the model's text as written). Default: from the model.",
        ),
    ] = None,
    max_output: Annotated[
        int | None,
        typer.Option(
            "--max-output",
            envvar="LONGDOC_MAX_OUTPUT",
            help="Output tokens each call may spend thinking before its answer (reasoning "
            "models; default 4096 for known ones, 0 otherwise).",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    from .config import Settings

    settings = Settings.from_env(
        model=model,
        base_url=base_url,
        window=window,
        concurrency=concurrency,
        cache=False if no_cache else None,
        cache_dir=cache_dir,
        profile=profile,
        max_output=max_output,
    )
    ctx.obj = CliContext(settings=settings, json=json_output, quiet=quiet)


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move global options found after the command name to the front."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        name = arg.split("=", 1)[0]
        if name in GLOBAL_FLAGS:
            front.append(arg)
        elif name in GLOBAL_VALUE_OPTIONS:
            front.append(arg)
            if "=" not in arg and i + 1 < len(argv):
                front.append(argv[i + 1])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


OPTIONAL_VALUE_OPTIONS = {"--ray"}
"""Options whose value may be left out (`--ray` alone: a local Ray runtime). Typer has no
such options, so `main` writes the default value in when the next word is not an address."""


def fill_optional_values(argv: list[str]) -> list[str]:
    """`--ray` followed by no Ray address gets the address `local` written after it."""
    if not OPTIONAL_VALUE_OPTIONS.intersection(argv):
        return argv
    from .pipelines.ray_runtime import LOCAL, is_ray_address

    filled: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return filled + argv[i:]
        filled.append(arg)
        if arg in OPTIONAL_VALUE_OPTIONS and (i + 1 == len(argv) or not is_ray_address(argv[i + 1])):
            filled.append(LOCAL)
    return filled


def main(argv: list[str] | None = None) -> int:
    """Entry point: exit 0 on success, 1 on a reported failure, 2 on bad usage."""
    args = fill_optional_values(hoist_global_options(list(sys.argv[1:] if argv is None else argv)))
    try:
        app(args=args, prog_name="longdoc", standalone_mode=False)
    except LongdocError as exc:
        from .console import print_error

        print_error(str(exc))
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        from .console import stderr_console

        stderr_console().print("aborted")
        return 1
    except usage_errors() as exc:
        if not hasattr(exc, "show"):
            raise
        exc.show()
        return exc.exit_code
    return 0


def usage_errors() -> tuple[type[Exception], ...]:
    """The exception types of bad usage. Typer 0.20 and later vendor click, whose errors then
    derive from typer.TyperException and click itself may not be installed at all; older
    typers raise click's own ClickException."""
    found: list[type[Exception]] = []
    if hasattr(typer, "TyperException"):
        found.append(typer.TyperException)
    try:
        import click
    except ImportError:
        pass
    else:
        found.append(click.ClickException)
    return tuple(found)


if __name__ == "__main__":
    sys.exit(main())
