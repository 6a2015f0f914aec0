"""Cleaning what a model writes, as its profile says (see llm.profiles).

A base model continues text rather than following instructions: it may restate the cue
("Answer: Answer: ..."), start the next block of the prompt ("Question: ..."), fall into a
repetition loop, or run to its token limit mid-sentence. `clean_output` removes all of
that and cuts the result to a token cap, so only the model's actual contribution is kept.

A chat model's reply is its answer: `clean_reply` on the `instruct` profile only strips
surrounding whitespace and a reasoning model's `<think>` block, and cuts a reply over the
token cap (or cut off by it) at a sentence end. Lists, Markdown and line breaks stay.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypedDict, Unpack

from ..llm.profiles import ModelProfile
from ..text import last_sentence_end
from .fitting import longest_fitting
from .repetition import repair_repetition

ECHO_MARKERS = (
    "Question:",
    "Q:",
    "Text:",
    "Notes:",
    "Notes so far:",
    "Notes from earlier parts:",
    "Part ",
    "Summary so far:",
    "###",
    "<end_of_turn>",
    "<start_of_turn>",
    "<eos>",
)
"""Line starts that mean the model began to write the next block of a prompt, not an answer."""

_LEADING_CUE = re.compile(
    r"^\s*(?:(?:answer|a|notes?(?: so far| from earlier parts)?|summary|overview|response)\s*:\s*"
    r"|[-*•]\s+|\(?1[.)]\s+)+",
    re.IGNORECASE,
)


_NOTE_LABEL = re.compile(r"\[[^\[\]\n]{1,200}?:\s?\d+-\d+(?: \([^()\n]*\))?\]\s*")
"""The "[book.txt:12-40 (Chapter II)]" labels of our own notes, copied back by the model."""

_INLINE_ENUMERATION = re.compile(r"(?<=[;,.])\s+(?:\(?\d{1,2}\)|\d{1,2}\.(?=\s+[A-Z]))\s+")
"""The "; 2) ...; 3) ..." or ". 2. The ..." a base model numbers its sentences with."""


def _cut_at_echo(text: str, markers: Iterable[str]) -> str:
    lines = text.splitlines()
    kept = []
    for i, line in enumerate(lines):
        if i > 0 and any(line.lstrip().startswith(m) for m in markers):
            break
        kept.append(line)
    return "\n".join(kept)


def _is_scaffolding(line: str, markers: Iterable[str]) -> bool:
    """A prompt line that frames the material rather than belongs to it: a question, a cue."""
    return bool(line) and (line.endswith((":", "?")) or any(line.startswith(m) for m in markers))


def _cut_unfinished(text: str) -> str:
    """Drop a trailing half sentence when at least one whole sentence precedes it."""
    end = last_sentence_end(text)
    if end is not None and end < len(text.rstrip()) and end > len(text) // 3:
        return text[:end]
    return text


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"<think>.*\Z", re.DOTALL | re.IGNORECASE)


def strip_reasoning(text: str) -> str:
    """`text` without `<think>...</think>` blocks; a block never closed (the reply was cut
    while still thinking) leaves nothing after its opening tag. A reply whose thinking
    started before the visible text (a server that strips the opening tag) is cut after
    the last closing tag."""
    text = _THINK.sub("", text)
    text = _OPEN_THINK.sub("", text)
    if "</think>" in text.lower():
        text = text[text.lower().rindex("</think>") + len("</think>") :]
    return text


def cap_reply(
    text: str, *, max_tokens: int | None, counter: Callable[[str], int] | None, truncated: bool
) -> str:
    """A chat reply within `max_tokens` by `counter`, cut at a sentence end (a line end
    when no sentence ends in reach); a reply the token limit cut off loses its half
    sentence when a whole sentence precedes it. Line breaks and Markdown are kept."""
    if truncated:
        text = _cut_unfinished(text)
    if max_tokens is None or counter is None or counter(text) <= max_tokens:
        return text
    head = text[: longest_fitting(len(text), lambda k: counter(text[:k]) <= max_tokens)]
    cut = _cut_unfinished(head)
    if cut == head and "\n" in head.rstrip():
        cut = head[: head.rstrip().rindex("\n")]
    return cut.rstrip()


class CleanOptions(TypedDict, total=False):
    """What cleaning may know of the call: its prompt (echoes of it are cut), the token cap
    and the counter to hold it with, whether the reply hit the limit, the echo markers."""

    prompt: str | None
    max_tokens: int | None
    counter: Callable[[str], int] | None
    truncated: bool
    markers: Iterable[str]


def clean_reply(text: str, profile: ModelProfile, **options: Unpack[CleanOptions]) -> str:
    """A model's reply cleaned as its profile says: `clean_output` for a base model, only
    whitespace, reasoning and the token cap for a chat model."""
    if profile.repair_output:
        return clean_output(strip_reasoning(text), **options)
    reply = strip_reasoning(text.replace("\r\n", "\n")).strip()
    return cap_reply(
        reply,
        max_tokens=options.get("max_tokens"),
        counter=options.get("counter"),
        truncated=options.get("truncated", False),
    ).strip()


def clean_output(
    text: str,
    *,
    prompt: str | None = None,
    max_tokens: int | None = None,
    counter: Callable[[str], int] | None = None,
    truncated: bool = False,
    markers: Iterable[str] = ECHO_MARKERS,
) -> str:
    """The model's contribution in `text`, tidied: no echoed prompt lines, no cue words, no
    repeated sentences or phrase loops, and at most `max_tokens` tokens by `counter`.

    `truncated` (finish reason "length") also drops a trailing half sentence.
    """
    out = text.replace("\r\n", "\n").strip()
    if prompt:
        # The prompt's scaffolding copied back (the cue, the question) goes; a sentence of
        # the material quoted as the answer stays, even when it stood near the prompt's end.
        prompt_lines = {
            line.strip() for line in prompt.splitlines()[-6:] if _is_scaffolding(line.strip(), markers)
        }
        out = "\n".join(line for line in out.splitlines() if line.strip() not in prompt_lines)
    out = _NOTE_LABEL.sub("", out)
    out = _LEADING_CUE.sub("", out)
    out = _cut_at_echo(out, markers)
    out = repair_repetition(out)
    # Base models copy the hard line wrapping of their material: rejoin wrapped lines,
    # keep paragraph breaks.
    out = "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", out) if p.strip())
    out = _INLINE_ENUMERATION.sub(" ", out)
    if truncated:
        out = _cut_unfinished(out)
    if max_tokens is not None and counter is not None and counter(out) > max_tokens:
        words = out.split()
        kept = longest_fitting(len(words), lambda k: counter(" ".join(words[:k])) <= max_tokens)
        out = _cut_unfinished(" ".join(words[:kept]))
    return out.strip()
