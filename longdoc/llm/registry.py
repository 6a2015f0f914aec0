"""The backends `load_model` can build, by name: the built-in ones and those of installed plugins.

A backend is a name (what `--model NAME` selects) and a function that builds the bare model
from `Settings` (no limit, no cache: `load_model` adds those). The built-in backends register
themselves through the same callback a third-party package uses: each built-in module, and
each entry point of the `longdoc.backends` group, is a function `register_backends(register)`:

    # my_package/longdoc_backends.py
    def register_backends(register):
        register("echo", EchoModel.from_settings, description="repeats the prompt")

    # my_package's pyproject.toml
    [project.entry-points."longdoc.backends"]
    echo = "my_package.longdoc_backends:register_backends"

A model name that no backend is registered under is a model served at an OpenAI-compatible
endpoint: the `openai` backend (`ENDPOINT_BACKEND`) builds it.

Importing this module imports the built-in backends and finds the installed plugins' entry
points (installed metadata only: no plugin code runs until the first `backend_registry()`),
so that a dataset run's fork server, which imports longdoc once, hands both to every worker.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from ..errors import ConfigError
from . import fake, local, local_instruct, openai_backend

if TYPE_CHECKING:
    from ..config import Settings
    from .base import Model

ENTRY_POINT_GROUP = "longdoc.backends"
"""The entry point group read for third-party backends."""

ENDPOINT_BACKEND = openai_backend.OPENAI_BACKEND
"""The backend of every model name that is not a registered backend's."""

BUILTIN_MODULES: tuple[ModuleType, ...] = (fake, local, local_instruct, openai_backend)
"""The modules whose `register_backends` registers the built-in backends."""

BUILTIN = "longdoc"
"""The origin of a built-in backend."""

BuildBackend = Callable[["Settings"], "Model"]


class Register(Protocol):
    """The callback a `register_backends` function is given."""

    def __call__(self, name: str, build: BuildBackend, *, description: str = "") -> None: ...


@dataclass(frozen=True)
class Backend:
    name: str
    build: BuildBackend
    """The bare model `Settings` describe."""
    description: str
    origin: str
    """`longdoc` for a built-in backend, else the entry point that registered it."""


class BackendRegistry:
    """Backends by name; a name is registered once."""

    def __init__(self) -> None:
        self._backends: dict[str, Backend] = {}

    def register(self, name: str, build: BuildBackend, *, description: str = "", origin: str = BUILTIN) -> None:
        existing = self._backends.get(name)
        if existing is not None:
            raise ConfigError(
                f"backend {name!r} from {origin} is already registered by {existing.origin}"
            )
        self._backends[name] = Backend(name, build, description, origin)

    def registrar(self, origin: str) -> Register:
        """A `register` callback whose backends come from `origin`."""

        def register(name: str, build: BuildBackend, *, description: str = "") -> None:
            self.register(name, build, description=description, origin=origin)

        return register

    def names(self) -> list[str]:
        return sorted(self._backends)

    def __contains__(self, name: object) -> bool:
        return name in self._backends

    def get(self, name: str) -> Backend:
        """The backend `name`; ConfigError listing the registered ones otherwise."""
        backend = self._backends.get(name)
        if backend is None:
            raise ConfigError(f"unknown backend {name!r}; registered: {', '.join(self.names())}")
        return backend

    def for_model(self, model: str | None) -> Backend:
        """The backend `--model NAME` selects: the one registered as NAME, else the endpoint
        backend, which serves any model name at an OpenAI-compatible endpoint."""
        return self.get(model if model is not None and model in self else ENDPOINT_BACKEND)

    def load_builtins(self) -> None:
        for module in BUILTIN_MODULES:
            module.register_backends(self.registrar(BUILTIN))

    def load_plugins(self, entry_points: Iterable[metadata.EntryPoint]) -> None:
        """Let each entry point's `register_backends` register its backends; ConfigError
        naming the entry point when one cannot be loaded or fails to register."""
        for entry_point in entry_points:
            origin = _describe(entry_point)
            try:
                register_backends = entry_point.load()
            except Exception as exc:  # any failure of a third party's import is theirs to fix
                raise ConfigError(
                    f"the backend plugin {origin} cannot be loaded: {type(exc).__name__}: {exc}"
                ) from exc
            if not callable(register_backends):
                raise ConfigError(
                    f"the backend plugin {origin} is not a function register_backends(register)"
                )
            try:
                register_backends(self.registrar(origin))
            except ConfigError:
                raise
            except Exception as exc:
                raise ConfigError(
                    f"the backend plugin {origin} failed to register: {type(exc).__name__}: {exc}"
                ) from exc


def _describe(entry_point: metadata.EntryPoint) -> str:
    """`entry point NAME = VALUE (DIST VERSION)`, as a message names it."""
    dist = entry_point.dist
    source = f" ({dist.name} {dist.version})" if dist is not None else ""
    return f"entry point {entry_point.name} = {entry_point.value}{source} in {ENTRY_POINT_GROUP}"


_registry: BackendRegistry | None = None
_registry_lock = threading.Lock()
_plugins: metadata.EntryPoints | None = metadata.entry_points(group=ENTRY_POINT_GROUP)
"""The installed plugins' entry points (found at import: see the module's docstring); None
after `forget_backends`: found again on next use."""


def backend_registry() -> BackendRegistry:
    """The process's registry: the built-in backends, then every installed plugin's, read
    on first use (a plugin's error is raised again on every use until it is fixed)."""
    global _registry, _plugins
    with _registry_lock:
        if _registry is None:
            if _plugins is None:
                _plugins = metadata.entry_points(group=ENTRY_POINT_GROUP)
            registry = BackendRegistry()
            registry.load_builtins()
            registry.load_plugins(_plugins)
            _registry = registry
        return _registry


def forget_backends() -> None:
    """Read the backends again on next use (a plugin installed while this process runs)."""
    global _registry, _plugins
    with _registry_lock:
        _registry = _plugins = None
