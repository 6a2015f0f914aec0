"""One way to run a coroutine from synchronous code, inside a running event loop or not.

`asyncio.run` refuses to start when the calling thread already runs a loop, which is where
a Jupyter notebook calls everything. `run_sync` then runs the coroutine to completion on a
fresh loop in a worker thread and waits for it, so every sync entry of longdoc (`write`,
`ask`, `select_key_context`, `generate_dataset`, ...) works the same in a script, a
notebook or an async application's thread; in async code, await the `a...` twin instead.
`sync_entry` makes such a twin from the async function, so each signature is written once.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def loop_is_running() -> bool:
    """Whether the calling thread is inside a running event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to completion and return its result (or raise its exception).

    With no loop running in this thread it is `asyncio.run`; with one (a notebook), the
    coroutine runs on its own loop in a new thread, with this thread's context variables,
    and this thread waits for it.
    """
    if not loop_is_running():
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()

    def run() -> None:
        try:
            outcome["value"] = context.run(asyncio.run, coroutine)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=run, name="longdoc-run-sync", daemon=True)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def sync_entry(async_entry: Callable[P, Coroutine[Any, Any, T]]) -> Callable[[Callable[..., Any]], Callable[P, T]]:
    """Make the decorated function the synchronous twin of `async_entry`.

    The decorated `def` gives only the twin's name and docstring (its body is never run);
    the twin takes exactly `async_entry`'s parameters (`inspect.signature` and type
    checkers see them) and returns what `async_entry` returns, via `run_sync`.
    """

    def make(named: Callable[..., Any]) -> Callable[P, T]:
        @functools.wraps(named, assigned=("__module__", "__name__", "__qualname__", "__doc__"))
        def entry(*args: P.args, **kwargs: P.kwargs) -> T:
            return run_sync(async_entry(*args, **kwargs))

        entry.__wrapped__ = async_entry  # type: ignore[attr-defined]  # the parameters shown
        return entry

    return make
