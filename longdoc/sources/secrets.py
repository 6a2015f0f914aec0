"""Secret detection: credential files by name, and secret material by content.

A file flagged here is skipped with reason `secret` unless the user opts in, so that
keys never reach a model endpoint by accident. The content patterns are the common,
well-delimited formats (private key blocks and provider token prefixes), chosen to
rarely fire on ordinary code.
"""

from __future__ import annotations

import re

import pathspec

SECRET_FILE_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    "_netrc",
    ".pgpass",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    "credentials",
    "credentials.json",
    "*credentials*.json",
    "client_secret*.json",
    "service-account*.json",
    "secrets.yml",
    "secrets.yaml",
    "*.secret",
    "*.secrets",
)
"""Names of files that hold credentials by convention (gitignore-style globs)."""

_NAME_SPEC = pathspec.GitIgnoreSpec.from_lines(SECRET_FILE_PATTERNS)

_CONTENT_PATTERNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("private key block", ("PRIVATE KEY-----",), r"-----BEGIN[ A-Z0-9]{0,30} PRIVATE KEY(?: BLOCK)?-----"),
    ("AWS access key id", ("AKIA", "ASIA", "ABIA", "ACCA"), r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    (
        "AWS secret access key",
        ("ws_secret_access_key", "WS_SECRET_ACCESS_KEY"),
        r"(?i:aws_secret_access_key)\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}\b",
    ),
    ("OpenAI API key", ("T3BlbkFJ",), r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}"),
    ("OpenAI API key", ("sk-proj-", "sk-svcacct-", "sk-admin-"), r"\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,}"),
    ("Anthropic API key", ("sk-ant-",), r"\bsk-ant-[a-z0-9]{3,8}-[A-Za-z0-9_-]{40,}"),
    ("GitHub token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,}\b"),
    ("GitHub token", ("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{60,}\b"),
    ("Slack token", ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"), r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    (
        "Slack webhook",
        ("hooks.slack.com/services/",),
        r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
    ),
    ("Google API key", ("AIza",), r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("Stripe secret key", ("k_live_",), r"\b[sr]k_live_[0-9A-Za-z]{20,}\b"),
)
"""(what it is, literal needles, regex): the regex runs only where a needle occurs, which
keeps scanning at substring-search speed."""

_COMPILED = tuple((label, needles, re.compile(regex)) for label, needles, regex in _CONTENT_PATTERNS)


def secret_file_name(relative_path: str) -> str | None:
    """The credential-file rule a path matches, or None."""
    result = _NAME_SPEC.check_file(relative_path)
    if result.include and result.index is not None:
        return f"credential file ({SECRET_FILE_PATTERNS[result.index]})"
    return None


def secret_in_content(text: str) -> str | None:
    """What kind of secret the text contains (first found), or None."""
    for label, needles, regex in _COMPILED:
        if any(needle in text for needle in needles) and regex.search(text):
            return label
    return None
