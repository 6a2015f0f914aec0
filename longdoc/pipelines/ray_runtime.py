"""Joining a Ray cluster for `--ray`: a local runtime, or an existing cluster by address.

Ray is an optional extra (`pip install "longdoc[ray]"`); this module and the executors built
on it are imported only when a command is given `--ray`, so nothing else ever imports Ray.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from ..errors import ConfigError

LOCAL = "local"
"""`--ray` without an address: start a Ray runtime on this machine for the run."""


def is_ray_address(word: str) -> bool:
    """Whether `word` reads as a Ray address: local, auto, scheme://..., or host:port."""
    if word in (LOCAL, "auto") or "://" in word:
        return True
    host, _, port = word.rpartition(":")
    return bool(host) and port.isdigit()


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError as exc:
        raise ConfigError('--ray needs Ray: pip install "longdoc[ray]"') from exc
    return ray


@contextmanager
def ray_session(address: str | None) -> Iterator[ModuleType]:
    """Ray, connected to `address` ("local", "auto", "ray://host:port" or a GCS address) for
    the block. A session already open in this process (a script or a test that called
    `ray.init`) is used as it is and left open; one opened here is shut down on exit."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    try:
        ray.init(
            address=address or LOCAL,
            include_dashboard=False,
            logging_level="WARNING",
            log_to_driver=True,
            # The actors import the same longdoc as this process (an editable install, a
            # checkout on PYTHONPATH): a local runtime's workers inherit the environment.
            runtime_env=None if address not in (None, LOCAL) else {"env_vars": _pythonpath()},
        )
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"--ray {address or ''}: cannot start or join a Ray cluster: {exc}".replace("  ", " ")) from exc
    try:
        yield ray
    finally:
        ray.shutdown()


def _pythonpath() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": path} if path else {}


def cluster_cpus(ray: ModuleType) -> int:
    """The CPUs the cluster has in all (at least 1)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))
