"""Language detection by extension, file name and shebang; grammars load from the wheels."""

from __future__ import annotations

import pytest

from longdoc.errors import SplitError
from longdoc.splitters.languages import (
    CODE_LANGUAGES,
    canonical_language,
    detect_language,
    get_language,
    get_parser,
)


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("a/b/mod.py", "python"), ("stub.pyi", "python"), ("app.JS", "javascript"),
        ("x.mjs", "javascript"), ("comp.jsx", "javascript"), ("svc.ts", "typescript"),
        ("view.tsx", "tsx"), ("main.go", "go"), ("lib.rs", "rust"), ("A.java", "java"),
        ("ring.c", "c"), ("ring.h", "c"), ("lru.cpp", "cpp"), ("lru.hpp", "cpp"),
        ("Ledger.cs", "c_sharp"), ("stack.rb", "ruby"), ("Rakefile", "ruby"),
        ("index.php", "php"), ("deploy.sh", "bash"), ("README.md", "markdown"),
        ("notes.txt", None), ("data.json", None), ("Makefile", None),
    ],
)  # fmt: skip
def test_detect_by_name(path, language):
    assert detect_language(path, "") == language


@pytest.mark.parametrize(
    ("first_line", "language"),
    [
        ("#!/usr/bin/env python3", "python"), ("#!/usr/bin/python3.11 -u", "python"),
        ("#!/bin/bash", "bash"), ("#!/bin/sh -e", "bash"), ("#!/usr/bin/env node", "javascript"),
        ("#!/usr/bin/env -S deno run", "typescript"), ("#!/usr/bin/ruby -w", "ruby"),
        ("#!/usr/bin/env perl", None), ("# just a comment", None),
    ],
)  # fmt: skip
def test_detect_by_shebang(first_line, language):
    assert detect_language("scripts/tool", first_line + "\nrest\n") == language


def test_extension_wins_over_shebang():
    assert detect_language("tool.py", "#!/bin/bash\n") == "python"
    assert detect_language(None, "#!/usr/bin/env python\n") == "python"


def test_aliases():
    assert canonical_language("c_sharp") == canonical_language("csharp") == "c_sharp"
    assert canonical_language("TS") == "typescript"
    assert canonical_language("kotlin") is None
    assert canonical_language(None) is None


def test_every_grammar_loads_and_parses():
    for language in sorted(CODE_LANGUAGES):
        tree = get_parser(language).parse(b"x")
        assert tree.root_node is not None, language
    assert get_parser("python") is get_parser("python")  # cached per thread
    assert get_language("tsx") is not get_language("typescript")


def test_unknown_grammar_is_a_split_error():
    with pytest.raises(SplitError):
        get_language("cobol")
