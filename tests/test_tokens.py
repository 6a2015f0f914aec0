"""Token counting works offline: no network, an empty cache folder, real tiktoken ranks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

OFFLINE_SCRIPT = """
import json, os, socket, sys

def refuse(*args, **kwargs):
    raise OSError("network disabled by the test")

socket.socket.connect = refuse
socket.create_connection = refuse

empty_cache, peer_cache = sys.argv[1], sys.argv[2]
from longdoc.tokens import count_tokens, get_encoding, install_tiktoken_cache

enc = get_encoding("o200k_base")
result = {
    "o200k": count_tokens("hello world"),
    "cl100k": count_tokens("hello world", "cl100k_base"),
    "roundtrip": enc.decode(enc.encode("Longdoc reads long documents.")),
    "vocab": enc.n_vocab,
    "empty_cache_after": os.listdir(empty_cache),
}
import tiktoken

install_tiktoken_cache(peer_cache)
text = "Peers call tiktoken.get_encoding themselves."
result["peer_cl100k_same"] = tiktoken.get_encoding("cl100k_base").encode(text) == get_encoding("cl100k_base").encode(text)
result["peer_o200k_same"] = tiktoken.get_encoding("o200k_base").encode(text) == enc.encode(text)
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """One fresh interpreter with sockets disabled and TIKTOKEN_CACHE_DIR an empty folder."""
    base = tmp_path_factory.mktemp("offline")
    empty, peer = base / "empty-cache", base / "peer-cache"
    empty.mkdir()
    env = {"TIKTOKEN_CACHE_DIR": str(empty), "PATH": "/usr/bin:/bin", "HOME": str(base)}
    completed = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT, str(empty), str(peer)],
        capture_output=True, text=True, env=env, timeout=180, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1]), peer


def test_counting_needs_no_network_and_no_cache(offline):
    result, _ = offline
    assert (result["o200k"], result["cl100k"], result["vocab"]) == (2, 2, 200019)
    assert result["roundtrip"] == "Longdoc reads long documents."
    assert result["empty_cache_after"] == []


def test_installed_cache_serves_tiktoken_get_encoding_offline(offline):
    result, peer_cache = offline
    assert result["peer_cl100k_same"] and result["peer_o200k_same"]
    assert len(list(peer_cache.iterdir())) == 2


def test_parsed_ranks_are_kept_in_the_cache_dir_and_a_corrupt_copy_is_ignored(tmp_path, monkeypatch):
    from longdoc import tokens

    monkeypatch.setenv("LONGDOC_CACHE_DIR", str(tmp_path))
    spec = tokens._spec("cl100k_base")
    url, expected = spec["_source_url"], spec["_expected_hash"]
    parsed = tokens._parse_bpe(tokens._packaged_bpe(url, expected))
    assert tokens._ranks(url, expected) == parsed
    (copy,) = (tmp_path / tokens.RANKS_CACHE_FOLDER).iterdir()
    assert tokens._ranks(url, expected) == parsed
    blob = bytearray(copy.read_bytes())
    blob[-3] ^= 0xFF
    copy.write_bytes(bytes(blob))
    assert tokens._ranks(url, expected) == parsed
    assert copy.read_bytes() != bytes(blob)
