"""The synchronous entry of a pipeline, made from its async one: one implementation, one
signature, run through `longdoc.aio.run_sync` (so it works inside a running event loop)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from ..aio import run_sync

P = ParamSpec("P")
T = TypeVar("T")


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
