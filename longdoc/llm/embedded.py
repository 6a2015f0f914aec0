"""Embedded models: a GGUF shipped in wheel parts, assembled once, served in process by llama.cpp.

An `EmbeddedModelSpec` says everything that differs between embedded models: the name a
user picks (`--model local`), the name the server gives it, its windows, where its parts
are and the sha256 they must make, and how it is sampled. The rest is shared:

- `assemble_gguf` concatenates the parts into the model directory (`LONGDOC_MODEL_DIR`,
  else `<cache dir>/models`) once, streaming, under a temporary name that is renamed into
  place only after its sha256 matched; a stamp file lets later processes skip the rehash.
- `EmbeddedServer.for_spec(spec)`: one xllamacpp server per model per process, started
  lazily on a free loopback port with the model's own (jinja) chat template, stopped at exit.
- `EmbeddedModel` reaches that server through the `openai` backend.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import ModelUnavailable
from ..machine import available_cores
from .base import CompletionRequest
from .openai_backend import OpenAIModel
from .profiles import ModelProfile, default_profile, resolved_profile

if TYPE_CHECKING:
    from ..config import Settings

SLOTS = 2
"""Requests the server decodes together (continuous batching); more queue in the server."""

LOCAL_MAX_RETRIES = 1
"""Retries of a call to an embedded model (fewer if `settings.max_retries` says so)."""

COPY_BLOCK = 1 << 20
"""Bytes read and hashed at a time while assembling: the file never sits in memory."""


@dataclass(frozen=True)
class ModelPart:
    """One piece of a GGUF file and the package that installs it."""

    package: str
    path: Path


@dataclass(frozen=True)
class EmbeddedModelSpec:
    """What makes one embedded model itself."""

    name: str
    """What a user selects: `--model NAME`, `LONGDOC_MODEL=NAME`."""
    alias: str
    """The model id the server reports, calls are logged under, and `Model.name` returns."""
    file_name: str
    """The assembled GGUF's name in the model directory."""
    sha256: str
    """The assembled file's hash: the trust anchor for parts downloaded from a registry."""
    window: int
    """Tokens per request slot served by default."""
    trained_context: int
    """The model's trained context: the largest `--window` that can be served."""
    parts: Callable[[], list[ModelPart]]
    """The installed parts, in order; ModelUnavailable (naming the package) when missing."""
    install_hint: str
    """The command that installs the parts, quoted in every assembly error."""
    completion_style: bool
    """The model's own rendering: completion-primed text (a base model) or chat."""
    sampling: Callable[[int], dict[str, float | int]]
    """llama.cpp sampling parameters for a reply of at most N tokens."""
    sampling_policy: str
    """`sampling` in a few characters, part of the cache identity."""


def model_dir(cache_dir: Path) -> Path:
    env = os.environ.get("LONGDOC_MODEL_DIR")
    return Path(env) if env else Path(cache_dir) / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while block := stream.read(COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _stamp_line(path: Path, sha256: str) -> str:
    info = path.stat()
    return f"{info.st_size} {info.st_mtime_ns} {sha256}"


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def is_verified(target: Path, sha256: str) -> bool:
    """`target` was hashed to `sha256` and has not changed since (size and mtime as then)."""
    stamp = _stamp(target)
    return (
        target.exists()
        and stamp.exists()
        and stamp.read_text(encoding="utf-8").strip() == _stamp_line(target, sha256)
    )


def assemble_gguf(
    parts: Sequence[ModelPart], sha256: str, target: Path, *, install_hint: str
) -> Path:
    """`target`, verified: assembled from `parts` unless it is already there and intact.

    An existing file is trusted when its stamp (`<target>.verified`: size, mtime, sha256)
    still matches it, else rehashed once; a damaged one is rebuilt. The parts are copied
    and hashed in one streaming pass into `<target>.<pid>.<thread>.part`, renamed onto
    `target` only when the hash matches, and removed otherwise, so no process ever loads a
    half-written or wrong file. A missing part or a wrong hash is ModelUnavailable naming
    the package and `install_hint`.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = _stamp(target)
    if is_verified(target, sha256):
        return target
    if target.exists() and sha256_of(target) == sha256:  # no stamp yet, or a stale one
        stamp.write_text(_stamp_line(target, sha256) + "\n", encoding="utf-8")
        return target
    missing = [part for part in parts if not part.path.is_file()]
    if missing:
        listing = ", ".join(f"{part.path} (package {part.package})" for part in missing)
        raise ModelUnavailable(f"model part missing: {listing}; install it with: {install_hint}")
    partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.path.open("rb") as stream:
                    while block := stream.read(COPY_BLOCK):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != sha256:
            packages = ", ".join(dict.fromkeys(part.package for part in parts))
            raise ModelUnavailable(
                f"the parts from {packages} assemble to sha256 {digest.hexdigest()}, not the pinned "
                f"{sha256}; nothing was written to {target}. Reinstall the pinned versions: "
                f"{install_hint} (add --force-reinstall)"
            )
        partial.replace(target)
    except OSError as exc:
        raise ModelUnavailable(f"cannot assemble {target.name} in {target.parent}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    stamp.write_text(_stamp_line(target, sha256) + "\n", encoding="utf-8")
    return target


def assemble_model(spec: EmbeddedModelSpec, directory: Path) -> Path:
    """The verified GGUF of `spec` in `directory`, assembled from its installed parts if needed."""
    target = directory / spec.file_name
    if is_verified(target, spec.sha256):  # needs no parts: the file outlives them
        return target
    return assemble_gguf(spec.parts(), spec.sha256, target, install_hint=spec.install_hint)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedServer:
    """One model's llama.cpp server in this process, started on first use."""

    _servers: ClassVar[dict[str, EmbeddedServer]] = {}
    _servers_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, spec: EmbeddedModelSpec) -> None:
        self.spec = spec
        self._lock = threading.Lock()
        self._server: Any = None
        self._url: str | None = None
        self._window = 0

    @classmethod
    def for_spec(cls, spec: EmbeddedModelSpec) -> EmbeddedServer:
        """The process's server for `spec` (not started until `url` is asked for)."""
        with cls._servers_lock:
            server = cls._servers.get(spec.name)
            if server is None:
                server = cls._servers[spec.name] = cls(spec)
                atexit.register(server.stop)
            return server

    def url(self, directory: Path, window: int) -> str:
        """The running server's base URL (`http://127.0.0.1:PORT/v1`), starting it if needed."""
        if self._url is not None:
            return self._url
        with self._lock:
            if self._url is None:
                self._start(directory, window)
            assert self._url is not None
            return self._url

    def running_window(self) -> int | None:
        """Tokens per request of the running server; None when none runs."""
        return self._window if self._url is not None else None

    def _start(self, directory: Path, window: int) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise ModelUnavailable(f"the embedded model needs xllamacpp: {exc}") from exc
        path = assemble_model(self.spec, directory)
        cores = available_cores()
        last_error: Exception | None = None
        for _ in range(3):  # another process may take the port between our probe and bind
            params = xllamacpp.CommonParams()
            params.model.path = str(path)
            params.model_alias = {self.spec.alias}
            params.n_parallel = SLOTS
            params.n_ctx = window * SLOTS
            params.cpuparams.n_threads = cores
            params.cpuparams_batch.n_threads = cores
            # No busy-polling between graph steps: on a shared machine spinning threads
            # starve each other (and everything else) far more than they save.
            params.cpuparams.poll = 0
            params.cpuparams_batch.poll = 0
            # Chat requests are rendered with the model's own template from the GGUF.
            params.use_jinja = True
            params.hostnames = ["127.0.0.1"]
            params.port = free_loopback_port()
            params.verbosity = 0
            try:
                server = xllamacpp.Server(params)
            except (RuntimeError, OSError) as exc:
                last_error = exc
                continue
            self._server = server
            self._url = f"http://127.0.0.1:{params.port}/v1"
            self._window = window
            return
        raise ModelUnavailable(f"the embedded model server for {self.spec.name} did not start: {last_error}")

    def stop(self) -> None:
        """Stop the server (its destructor joins llama.cpp's loop); a later call restarts it."""
        with self._lock:
            server, self._server, self._url = self._server, None, None
        del server


class EmbeddedModel(OpenAIModel):
    """An embedded model, reached through its loopback OpenAI-compatible server; each
    subclass is one model, named by its class-level `spec`."""

    spec: ClassVar[EmbeddedModelSpec]

    def __init__(
        self,
        *,
        cache_dir: Path,
        window: int | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
        profile: ModelProfile | None = None,
    ) -> None:
        spec = self.spec
        profile = profile or default_profile(spec.completion_style)
        super().__init__(
            model=spec.alias,
            base_url=None,
            api_key=None,
            window=min(window or spec.window, spec.trained_context),
            timeout=timeout,
            max_retries=max_retries,
            completion_style=profile.completion_style,
            profile=profile,
        )
        self._directory = model_dir(cache_dir)
        self._served_window = min(max(window or spec.window, spec.window), spec.trained_context)

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedModel:
        """The model on the profile `settings` name (else its own rendering's), served with
        `settings.window`, and retried at most `LOCAL_MAX_RETRIES` times."""
        return cls(
            profile=resolved_profile(settings, completion_style=cls.spec.completion_style),
            cache_dir=settings.cache_dir,
            window=settings.window,
            timeout=settings.timeout,
            # in-process server: no rate limits or flaky network to wait out, and a
            # timed-out prompt would only time out again
            max_retries=min(settings.max_retries, LOCAL_MAX_RETRIES),
        )

    @property
    def cache_identity(self) -> str:
        return f"{self.spec.name}:{self.spec.sha256[:16]}:{self.spec.sampling_policy}"

    @property
    def price(self) -> tuple[float, float] | None:
        return None

    @property
    def context_window(self) -> int:
        """The window asked for, unless this process's server for the model already runs
        with less (it was started by a model with a smaller window; one server per model)."""
        running = EmbeddedServer.for_spec(self.spec).running_window()
        wanted = super().context_window
        return min(wanted, running) if running else wanted

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        return super()._params(request) | self.spec.sampling(request.max_tokens)

    schema_field = "json_schema"  # llama.cpp's completions endpoint constrains to it

    @property
    def where(self) -> str:
        return f"the embedded llama.cpp server ({self.spec.name})"

    def _endpoint_url(self) -> str:
        return EmbeddedServer.for_spec(self.spec).url(self._directory, self._served_window)

    @property
    def endpoint_url(self) -> str:
        """The server's base URL, for clients outside longdoc (starts it if needed)."""
        return self._endpoint_url()
