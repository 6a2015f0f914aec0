"""Loading a repository: the exact sets of files read and skipped, with their reasons."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from longdoc.errors import SourceError
from longdoc.sources import load

PRIVATE_KEY_HEADER = "-----BEGIN " + "RSA PRIVATE KEY-----"  # split so this file is not itself a secret


def write(root: Path, relative: str, content: str | bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per module (it holds a 20 MB file); tests only read it."""
    root = tmp_path_factory.mktemp("fixture") / "repo"
    write(root, ".gitignore", "*.log\n!keep.log\ntmp_out/\n")
    write(root, ".longdocignore", "notes/draft.md\n")
    write(root, ".git/config", "[core]\n")
    write(root, ".git/info/exclude", "local_only.txt\n")
    write(root, "README.md", "# Repo\n\nHello.\n")
    write(root, "app.log", "noise\n")
    write(root, "keep.log", "kept by negation\n")
    write(root, "local_only.txt", "excluded by .git/info/exclude\n")
    write(root, "src/.gitignore", "generated.py\n!important.log\n")
    write(root, "src/main.py", "def main():\n    return 1\n")
    write(root, "src/generated.py", "x = 1\n")
    write(root, "src/important.log", "re-included by a nested negation\n")
    write(root, "src/debug.log", "ignored by the root rule\n")
    write(root, "src/key_holder.py", f'KEY = """{PRIVATE_KEY_HEADER}\nMIIEow\n"""\n')
    write(root, "notes/draft.md", "draft\n")
    write(root, "notes/final.md", "final\n")
    write(root, "tmp_out/result.txt", "output\n")
    write(root, "node_modules/pkg/index.js", "module.exports = 1\n")
    write(root, "package-lock.json", "{}\n")
    write(root, "bundle.min.js", "var a=1;\n")
    write(root, "image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    write(root, "latin1.txt", b"caf\xe9 cr\xe8me\n")
    write(root, "broken_utf8.txt", "ok \u2713 ".encode() + b"\xff\xfe" + b" fine\n")
    write(root, "data.json", '{"a": 1}\n')
    write(root, ".env", "TOKEN=abc\n")
    write(root, "config/.env.production", "TOKEN=abc\n")
    write(root, "empty.txt", "")
    with (root / "big.txt").open("wb") as handle:
        handle.write(b"all work and no play makes jack a dull boy\n" * (20_000_000 // 43 + 1))
    os.symlink("..", root / "src" / "again")  # a loop back to the root
    os.symlink("missing-target", root / "broken_link")
    os.symlink("README.md", root / "readme_link.md")  # the same file again
    os.mkfifo(root / "fifo")
    return root


def test_repository_reads_and_skips_exactly(repo: Path):
    result = load(repo)
    assert [d.path for d in result.documents] == sorted(
        [
            ".gitignore",
            ".longdocignore",
            "README.md",
            "broken_utf8.txt",
            "data.json",
            "keep.log",
            "latin1.txt",
            "notes/final.md",
            "src/.gitignore",
            "src/important.log",
            "src/main.py",
        ]
    )
    assert {(s.path, s.reason) for s in result.skipped} == {
        (".git/", "default-ignore"),
        ("app.log", "gitignore"),
        ("local_only.txt", "gitignore"),
        ("src/generated.py", "gitignore"),
        ("src/debug.log", "gitignore"),
        ("src/key_holder.py", "secret"),
        ("notes/draft.md", "longdocignore"),
        ("tmp_out/", "gitignore"),
        ("node_modules/", "default-ignore"),
        ("package-lock.json", "default-ignore"),
        ("bundle.min.js", "minified"),
        ("image.png", "binary"),
        ("big.txt", "too-large"),
        ("src/again/", "symlink-loop"),
        (".env", "secret"),
        ("config/.env.production", "secret"),
        ("empty.txt", "empty"),
        ("fifo", "not-a-file"),
        ("broken_link", "unreadable"),
        ("readme_link.md", "duplicate"),
    }
    details = {s.path: s.detail for s in result.skipped}
    assert details["src/generated.py"] == "src/.gitignore"
    assert details["src/debug.log"] == ".gitignore"
    assert details["local_only.txt"] == ".git/info/exclude"
    assert details["src/key_holder.py"] == "private key block"


def test_documents_carry_kind_language_and_decoded_text(repo: Path):
    docs = {d.path: d for d in load(repo).documents}
    assert docs["src/main.py"].kind == "code" and docs["src/main.py"].language == "python"
    assert docs["README.md"].kind == "markdown"
    assert docs["README.md"].sections[0].title == "Repo"
    assert docs["data.json"].kind == "data"
    assert docs["latin1.txt"].text == "caf\u00e9 cr\u00e8me\n"
    assert docs["latin1.txt"].meta["encoding"] == "cp1252"
    assert docs["broken_utf8.txt"].text == "ok \u2713 \ufffd\ufffd fine\n"
    assert docs["broken_utf8.txt"].meta["replaced_characters"] == 2
    assert all(d.id == d.path for d in docs.values())


def test_order_is_stable_and_sorted(repo: Path):
    first, second = load(repo), load(repo)
    assert [d.path for d in first.documents] == [d.path for d in second.documents]
    assert [s.path for s in first.skipped] == sorted(s.path for s in first.skipped)


def test_allow_secrets_reads_credential_files(repo: Path):
    result = load(repo, allow_secrets=True)
    read = {d.path for d in result.documents}
    assert {".env", "config/.env.production", "src/key_holder.py"} <= read
    assert "secret" not in {s.reason for s in result.skipped}


def test_size_cap_is_checked_before_reading(repo: Path):
    everything = load(repo).documents
    result = load(repo, max_file_bytes=20)
    assert {d.path for d in result.documents} == {d.path for d in everything if d.meta["bytes"] <= 20}
    too_large = {s.path for s in result.skipped if s.reason == "too-large"}
    assert too_large >= {d.path for d in everything if d.meta["bytes"] > 20} | {"big.txt", "image.png"}


def test_negation_order_within_one_file(tmp_path: Path):
    write(tmp_path, ".gitignore", "!keep.log\n*.log\n")  # negation first: *.log wins after it
    write(tmp_path, "keep.log", "x\n")
    write(tmp_path, "a.txt", "x\n")
    result = load(tmp_path)
    assert [d.path for d in result.documents] == [".gitignore", "a.txt"]
    assert [(s.path, s.reason) for s in result.skipped] == [("keep.log", "gitignore")]


def test_ignored_folder_cannot_be_reincluded_below(tmp_path: Path):
    write(tmp_path, ".gitignore", "logs/\n!logs/keep.txt\n")
    write(tmp_path, "logs/keep.txt", "x\n")
    result = load(tmp_path)
    assert [(s.path, s.reason) for s in result.skipped] == [("logs/", "gitignore")]


def test_include_and_exclude_globs_exclude_wins(repo: Path):
    result = load(repo, include=["*.py", "*.md"], exclude=["notes/", "src/main.py"])
    assert [d.path for d in result.documents] == ["README.md"]
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["notes/"] == "excluded"
    assert reasons["src/main.py"] == "excluded"
    assert reasons["data.json"] == "not-included"


def test_subfolder_of_a_git_tree_obeys_the_repository_ignore_files(tmp_path: Path):
    write(tmp_path, ".git/HEAD", "ref: refs/heads/main\n")
    write(tmp_path, ".gitignore", "*.log\nbuild/\n")
    write(tmp_path, "src/a.py", "a = 1\n")
    write(tmp_path, "src/b.log", "x\n")
    write(tmp_path, "build/gen/c.py", "c = 1\n")
    sub = load(tmp_path / "src")
    assert [d.path for d in sub.documents] == ["a.py"]
    assert [(s.path, s.reason) for s in sub.skipped] == [("b.log", "gitignore")]
    # a folder the repository ignores is still read when named explicitly
    assert [d.path for d in load(tmp_path / "build" / "gen").documents] == ["c.py"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_skipped_in_a_folder_and_an_error_alone(tmp_path: Path):
    locked = write(tmp_path, "locked.txt", "secret-ish\n")
    write(tmp_path, "open.txt", "fine\n")
    locked.chmod(0)
    try:
        result = load(tmp_path)
        assert [d.path for d in result.documents] == ["open.txt"]
        assert [(s.path, s.reason) for s in result.skipped] == [("locked.txt", "unreadable")]
        with pytest.raises(SourceError) as error:
            load(locked)
        assert error.value.path == str(locked)
    finally:
        locked.chmod(0o644)


def test_read_error_is_skipped_in_a_folder_and_an_error_alone(tmp_path: Path, monkeypatch):
    write(tmp_path, "locked.txt", "x\n")
    write(tmp_path, "open.txt", "fine\n")
    real_open = Path.open

    def failing_open(self, *args, **kwargs):
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", failing_open)
    result = load(tmp_path)
    assert [d.path for d in result.documents] == ["open.txt"]
    assert [(s.path, s.reason, s.detail) for s in result.skipped] == [("locked.txt", "unreadable", "Permission denied")]
    with pytest.raises(SourceError, match=r"locked\.txt"):
        load(tmp_path / "locked.txt")


def test_missing_path_is_a_source_error_naming_it(tmp_path: Path):
    with pytest.raises(SourceError) as error:
        load(tmp_path / "nope.txt")
    assert error.value.path == str(tmp_path / "nope.txt")
    assert "nope.txt" in str(error.value)


def test_explicit_file_keeps_its_path_and_bypasses_ignore_rules(repo: Path):
    result = load(str(repo / "app.log"))
    assert [d.path for d in result.documents] == [str(repo / "app.log")]
    binary = load(repo / "image.png")
    assert binary.documents == [] and [s.reason for s in binary.skipped] == ["binary"]
    assert [s.reason for s in load(repo / ".env").skipped] == ["secret"]


def test_a_file_named_twice_is_read_once(repo: Path):
    result = load([repo / "README.md", repo / "README.md"])
    assert len(result.documents) == 1
    assert [s.reason for s in result.skipped] == ["duplicate"]


def test_several_roots_prefix_paths_so_ids_stay_unique(tmp_path: Path):
    write(tmp_path, "one/README.md", "one\n")
    write(tmp_path, "two/README.md", "two\n")
    result = load([tmp_path / "one", tmp_path / "two"])
    paths = [d.path for d in result.documents]
    assert paths == [f"{tmp_path.as_posix()}/one/README.md", f"{tmp_path.as_posix()}/two/README.md"]
    assert len({d.id for d in result.documents}) == 2


def test_stdin_is_read_as_a_document():
    result = load("-", stdin=io.BytesIO(b"line one\r\nline two\r\n"))
    [doc] = result.documents
    assert doc.path == "<stdin>" and doc.text == "line one\nline two\n" and doc.meta["stdin"]
    secret = load("-", stdin=io.BytesIO(("k = 'ghp_" + "a" * 36 + "'\n").encode()))
    assert [(s.path, s.reason, s.detail) for s in secret.skipped] == [("<stdin>", "secret", "GitHub token")]


def test_virtualenv_under_any_name_is_skipped(tmp_path: Path):
    write(tmp_path, "myenv/pyvenv.cfg", "home = /usr/bin\n")
    write(tmp_path, "myenv/lib/x.py", "x = 1\n")
    write(tmp_path, "main.py", "y = 2\n")
    result = load(tmp_path)
    assert [d.path for d in result.documents] == ["main.py"]
    assert [(s.path, s.reason, s.detail) for s in result.skipped] == [("myenv/", "default-ignore", "virtualenv")]


def test_within_skips_links_out_of_the_folders_and_refuses_a_named_path_outside(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "private.txt").write_text("private\n", encoding="utf-8")
    (root / "kept.txt").write_text("kept\n", encoding="utf-8")
    (root / "inner").mkdir()
    (root / "inner" / "deep.txt").write_text("deep\n", encoding="utf-8")
    (root / "file-link.txt").symlink_to(outside / "private.txt")
    (root / "folder-link").symlink_to(outside)
    (root / "inner-link").symlink_to(root / "inner")
    result = load(root, within=[root])
    assert sorted(d.path for d in result.documents) == ["inner/deep.txt", "kept.txt"]
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["file-link.txt"] == "outside-root" and reasons["folder-link"] == "outside-root"
    with pytest.raises(SourceError, match="outside the folders"):
        load(outside / "private.txt", within=[root])
    assert "file-link.txt" in [d.path for d in load(root, within=None).documents]  # links are followed by default
