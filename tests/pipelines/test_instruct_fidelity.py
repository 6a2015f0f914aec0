"""Issue 20's regressions on the `instruct` profile, end to end over HTTP: a capable chat
model's text is the answer.

Every test serves a scripted chat model with `OpenAITestServer` and reaches it the way a
user does (`Settings(model=..., base_url=...)`, or the CLI with `--base-url`). Replies are
routed by what a request contains, never by call order: a request that holds a part of the
document (its paragraphs all end with SENTINEL, a sentence no note or evidence ever
copies: too few content words to be picked, none shared with a question) is a worker's;
any other is the answerer's (manager, xl3m, truncate baseline). Each test then checks that
the reply comes back as the model wrote it (after stripping surrounding whitespace), with
`fallback` and `grounded` reported, and what the server received (stop sequences, the
notes a manager was given). The last two tests are the `base` counterpart (a completions
endpoint, and FakeModel in the completion style): the fallback stays, marked and shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

import longdoc
from longdoc.agents.section_pieces import CONTINUATION_OPENERS
from longdoc.cli import main
from longdoc.config import Settings
from longdoc.errors import LongdocError
from longdoc.llm.base import CompletionRequest
from longdoc.llm.fake import request_text
from longdoc.testing import OpenAITestServer, RecordedRequest
from longdoc.testing.writing import author_reply, prose

SENTINEL = "So it went, as ever."
"""Ends every paragraph: marks a request that holds document text (a worker's)."""

FILLER = (
    "The harbour office opened early and the clerks sorted the morning post.",
    "Carts rolled along the quay past the fish market and the chandlers' shops.",
    "Rain drummed on the slate roofs of the warehouses by the old customs house.",
    "Fishermen mended their nets on the breakwater while gulls circled overhead.",
    "A pilot boat idled near the channel buoy, waiting for the evening tide.",
    "Sailmakers stretched canvas across the loft floor and argued about the weather.",
)

FERRY = "The ferry Merrow left the harbour at 6:40, an hour before dawn."
KEEPER = "The lighthouse on the point was kept by Oswin Tarrant for thirty years."
TRAIN = "The night train from Oslo to Bergen took fourteen hours."
COAT = "Mara Quill wore a long woollen coat to the station."
SHIPS = "Two ships lay in the harbour that week, the Albatross and the Merrow."

NOTES: dict[str, str] = {
    "6:40": "- The ferry Merrow sailed at 6:40, before sunrise.",
    "Oswin Tarrant": "- Oswin Tarrant kept the lighthouse (thirty years).",
    "fourteen hours": "- Night train Oslo to Bergen: fourteen hours.",
    "Albatross": "- Ships in port: the Albatross and the Merrow.",
    "Mara Quill": "- Mara Quill wore a long woollen coat to the station.",
}
"""What the scripted worker writes, in its own words and bullet format, for each fact it
sees in its request (in its part of the document or in the earlier notes)."""

NOTHING = "- Nothing in this part bears on the question."

WINDOW = 1024
"""Small enough that the test document takes several workers."""

MULTIPLE_CHOICE = (
    "Who kept the lighthouse on the point?\n\n (A) The harbour master. \n (B) Oswin Tarrant. \n"
    " (C) Mara Quill. \n (D) Nobody kept it. "
)


def bullet_notes(text: str) -> str:
    """The scripted worker: one bullet per fact its request holds, earlier notes included."""
    found = [note for key, note in NOTES.items() if key in text]
    return "\n".join(found) or NOTHING


@dataclass
class Reader:
    """A scripted capable chat model: `answer` to the answerer, `notes(request text)` to a
    worker; with `notes=None` every request gets `answer` (single-call strategies)."""

    answer: str
    notes: Callable[[str], str] | None = bullet_notes

    def __call__(self, request: CompletionRequest) -> str:
        text = request_text(request)
        if self.notes is not None and SENTINEL in text:
            return self.notes(text)
        return self.answer


def document_text(needles: dict[int, str], paragraphs: int = 24) -> str:
    """`paragraphs` paragraphs of harbour filler, each ending with SENTINEL; `needles` maps
    a paragraph index to the sentence that opens it."""
    blocks = []
    for i in range(paragraphs):
        sentences = [FILLER[(i + k) % len(FILLER)] for k in range(3)]
        if i in needles:
            sentences.insert(0, needles[i])
        blocks.append(" ".join([*sentences, SENTINEL]))
    return "\n\n".join(blocks) + "\n"


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A short book with its facts spread over several chunks."""
    path = tmp_path / "harbour.txt"
    path.write_text(document_text({1: FERRY, 3: SHIPS, 8: COAT, 14: TRAIN, 20: KEEPER}), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def rendering() -> str:
    """These tests pick their rendering by the endpoint they call (chat, or completions for
    `base`), so they run once, not once per FakeModel rendering (overrides the parametrized
    fixture of tests/pipelines/conftest.py where there is one)."""
    return "http"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAITestServer]:
    monkeypatch.delenv("LONGDOC_PROFILE", raising=False)
    with OpenAITestServer(model="capable-chat", context_window=100_000) as running:
        yield running


def settings_for(server: OpenAITestServer, tmp_path: Path, **options: object) -> Settings:
    values: dict[str, object] = {
        "model": server.model, "base_url": server.url, "window": WINDOW, "cache": False,
        "cache_dir": tmp_path / "cache", "max_retries": 0, "timeout": 10.0, "concurrency": 2,
    }
    return Settings(**{**values, **options})


def completions(server: OpenAITestServer) -> list[RecordedRequest]:
    return [r for r in server.requests if r.method == "POST" and r.body is not None]


def worker_requests(server: OpenAITestServer) -> list[RecordedRequest]:
    return [r for r in completions(server) if SENTINEL in body_text(r)]


def answer_requests(server: OpenAITestServer) -> list[RecordedRequest]:
    return [r for r in completions(server) if SENTINEL not in body_text(r)]


def body_text(recorded: RecordedRequest) -> str:
    body = recorded.body or {}
    if "messages" in body:
        return "\n\n".join(str(m.get("content") or "") for m in body["messages"])
    return str(body.get("prompt") or "")


def stops_of(recorded: RecordedRequest) -> list[str]:
    stop = (recorded.body or {}).get("stop") or []
    return [stop] if isinstance(stop, str) else list(stop)


def assert_chat_without_base_stops(server: OpenAITestServer) -> None:
    """Every call went to the chat endpoint, and none carried a base-model stop sequence
    (a blank line, a newline, or a newline-led prompt cue such as "\\nQuestion:")."""
    calls = completions(server)
    assert calls, "no completion request reached the server"
    assert {r.path.split("?")[0] for r in calls} == {"/v1/chat/completions"}
    carrying = [(r.path, stops_of(r)) for r in calls if any("\n" in s for s in stops_of(r))]
    assert carrying == [], f"base-model stop sequences sent to a chat endpoint: {carrying}"


def assert_reported_as_written(result: longdoc.AnswerResult, reply: str) -> None:
    assert result.answer == reply.strip()
    assert result.raw_answer is not None and result.raw_answer.strip() == reply.strip()
    assert result.fallback is False
    assert isinstance(result.grounded, bool)
    assert result.profile == "instruct"


# ---------------------------------------------------------------- manager rows of the table


@pytest.mark.parametrize("strategy", ["chain", "hierarchical", "xl3m"])
def test_a_multiple_choice_letter_comes_back_as_written(server, book, tmp_path, strategy):
    server.reply = Reader("(B)", notes=None if strategy == "xl3m" else bullet_notes)
    result = longdoc.ask(book, MULTIPLE_CHOICE, strategy=strategy, scorer="lexical",
                         settings=settings_for(server, tmp_path))
    assert_reported_as_written(result, "(B)")
    assert_chat_without_base_stops(server)


def test_yes_comes_back_as_written(server, book, tmp_path):
    server.reply = Reader("Yes.")
    result = longdoc.ask(book, "Did the ferry sail in the dark?", settings=settings_for(server, tmp_path))
    assert result.chunks >= 2
    assert_reported_as_written(result, "Yes.")


def test_a_refusal_comes_back_as_written_not_replaced_by_evidence(server, book, tmp_path):
    refusal = "The document does not say what colour her coat was."
    server.reply = Reader(refusal)
    result = longdoc.ask(book, "What colour was Mara Quill's coat?", settings=settings_for(server, tmp_path))
    assert_reported_as_written(result, refusal)
    assert COAT not in result.answer


def test_an_answer_with_digits_over_a_text_with_words_comes_back_as_written(server, book, tmp_path):
    reply = "About 14 hours, on the night train."
    server.reply = Reader(reply)
    result = longdoc.ask(book, "How long was the journey from Oslo to Bergen?",
                         settings=settings_for(server, tmp_path))
    assert "14" not in book.read_text(encoding="utf-8")  # the text spells it "fourteen"
    assert_reported_as_written(result, reply)


def test_a_bulleted_list_comes_back_whole_and_no_chat_request_carries_base_stops(server, book, tmp_path):
    reply = "- The Albatross\n- The Merrow"
    server.reply = Reader(f"\n{reply}\n")  # surrounding whitespace is all that is stripped
    result = longdoc.ask(book, "Which ships lay in the harbour that week?", settings=settings_for(server, tmp_path))
    assert_reported_as_written(result, reply)
    assert result.answer.splitlines() == ["- The Albatross", "- The Merrow"]
    assert_chat_without_base_stops(server)


def test_a_markdown_summary_comes_back_with_its_headings(server, book, tmp_path):
    summary = (
        "## The harbour\n\nA working port: clerks, carts, fishermen and sailmakers; the ferry "
        "Merrow sails before dawn.\n\n## The people\n\n- Oswin Tarrant keeps the lighthouse.\n"
        "- Mara Quill takes the night train to Bergen."
    )
    server.reply = Reader(summary)
    result = longdoc.summarize(book, words=80, settings=settings_for(server, tmp_path))
    assert result.answer == summary
    assert result.answer.count("## ") == 2
    assert result.fallback is False
    assert_chat_without_base_stops(server)


def test_a_think_block_is_the_only_thing_cleaned_off(server, book, tmp_path):
    reply = "- The Albatross\n- The Merrow"
    server.reply = Reader(f"<think>Ships... the harbour paragraph names two.</think>\n\n{reply}")
    result = longdoc.ask(book, "Which ships lay in the harbour that week?", settings=settings_for(server, tmp_path))
    assert result.answer == reply
    assert result.fallback is False


def test_a_reply_spent_thinking_is_an_error_with_a_hint_not_evidence(server, book, tmp_path):
    """A reasoning model cut by the token limit before it answered: an error that says to
    raise --max-output, never an answer made of evidence."""
    server.reply = Reader("<think>" + "Let me weigh every paragraph again. " * 2000)
    with pytest.raises(LongdocError) as raised:
        longdoc.ask(book, "Who kept the lighthouse on the point?", settings=settings_for(server, tmp_path))
    assert "--max-output" in str(raised.value)


# ---------------------------------------------------------------- workers and the manager


def test_worker_bullet_notes_reach_the_manager_whole(server, book, tmp_path):
    server.reply = Reader("Oswin Tarrant.")
    question = "Who kept the lighthouse, and when did the ferry sail?"
    result = longdoc.ask(book, question, settings=settings_for(server, tmp_path))
    assert result.answer == "Oswin Tarrant."
    workers = worker_requests(server)
    managers = answer_requests(server)
    assert len(workers) >= 2 and len(managers) == 1
    # Each worker is given the notes before it as the model wrote them (the prompt asks it
    # to carry them forward; nothing strips them on the way).
    for earlier, later in pairwise(workers):
        if earlier.reply != NOTHING:
            assert earlier.reply is not None and earlier.reply in body_text(later)
    # The last worker's notes, several bullet lines, reach the manager whole.
    last = workers[-1].reply
    assert last is not None
    assert {NOTES["6:40"], NOTES["Oswin Tarrant"]} <= set(last.splitlines())
    assert last in body_text(managers[0])
    # Citations still point at real spans: the sentences the notes rest on.
    text = book.read_text(encoding="utf-8")
    cited = [text[c.start : c.end] for c in result.citations if Path(c.source).name == book.name]
    assert any("6:40" in span for span in cited)
    assert any("Oswin Tarrant" in span for span in cited)
    assert_chat_without_base_stops(server)


# ---------------------------------------------------------------- the writer


FIRST_PART = prose(165, "first part")
CONTINUATION = prose(165, "continuation")


def section_author(request: CompletionRequest) -> str:
    """Plans one section; writes about half of it, then, asked to go on, the other half."""
    text = request_text(request)
    if "Main Point" in text:
        return author_reply(request)
    if '"paragraphs"' in text:  # a plan asked for as JSON (structured output)
        return json.dumps({"paragraphs": [{"main_point": "Describe the harbour town.", "words": 300}]})
    if CONTINUATION.split(".")[0] in text:
        return ""
    if FIRST_PART.split(".")[0] in text:
        return CONTINUATION
    return FIRST_PART


def test_a_writer_continuation_is_joined_with_one_space_and_no_connective(server, tmp_path):
    server.reply = section_author
    settings = settings_for(server, tmp_path, window=4096)
    result = longdoc.write("Write about a harbour town.", 300, settings=settings, checkpoint=tmp_path / "w.db")
    assert len(result.plan.sections) == 1
    end = result.text.index(FIRST_PART) + len(FIRST_PART)
    joiner = result.text[end : result.text.index(CONTINUATION)]
    # The model opened no new paragraph (its reply has no leading whitespace): one space.
    assert joiner == " ", f"continuation joined with {joiner!r}"
    injected = [o for o in CONTINUATION_OPENERS if o.rstrip(",") in result.text]
    assert injected == []
    for recorded in completions(server):
        for opener in CONTINUATION_OPENERS:
            assert not body_text(recorded).rstrip().endswith(opener)
    assert_chat_without_base_stops(server)


# ---------------------------------------------------------------- eval qa and the CLI


def test_eval_qa_truncate_baseline_returns_the_letter(server, book, tmp_path, capsys):
    server.reply = Reader("(B)", notes=None)
    data_file = tmp_path / "qa.jsonl"
    record = {"input": book.read_text(encoding="utf-8"), "instructions": [MULTIPLE_CHOICE],
              "outputs": ["(B) Oswin Tarrant."], "evaluation": "exam"}
    data_file.write_text(json.dumps(record) + "\n", encoding="utf-8")
    code = main(["eval", "qa", str(data_file), "--strategy", "truncate", "--json", "--model", server.model,
                 "--base-url", server.url, "--window", str(WINDOW), "--no-cache",
                 "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    (row,) = data["questions"]
    assert row["status"] == "ok"
    assert row["answer"] == "(B)"
    assert row["accuracy"] == 1.0
    assert_chat_without_base_stops(server)


def test_ask_json_reports_grounded_fallback_and_raw_answer(server, book, tmp_path, capsys):
    server.reply = Reader("Yes.")
    code = main(["ask", str(book), "Did the ferry sail in the dark?", "--json", "--model", server.model,
                 "--base-url", server.url, "--window", str(WINDOW), "--no-cache",
                 "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["answer"] == "Yes."
    assert data["raw_answer"] == "Yes."
    assert data["fallback"] is False
    assert isinstance(data["grounded"], bool)
    assert data["profile"] == "instruct"
    assert isinstance(data["evidence"], list)


def test_base_profile_replaces_an_unsupported_answer_and_says_so(server, book, tmp_path, capsys, monkeypatch):
    """On `base` (a completions endpoint) the fallback stays, but is never silent."""
    invented = "Captain Nemo sailed the Nautilus to Atlantis."
    server.reply = Reader(invented, notes=lambda text: "The keeper was Oswin Tarrant.")
    monkeypatch.setenv("LONGDOC_COMPLETION_STYLE", "1")
    code = main(["ask", str(book), "Who kept the lighthouse on the point?", "--json", "--model", server.model,
                 "--base-url", server.url, "--window", str(WINDOW), "--no-cache",
                 "--cache-dir", str(tmp_path / "cache")])
    assert code == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert {r.path.split("?")[0] for r in completions(server)} == {"/v1/completions"}
    assert data["profile"] == "base"
    assert data["fallback"] is True
    assert data["grounded"] is False
    assert data["raw_answer"].strip() == invented
    assert "Nemo" not in data["answer"]
    text = book.read_text(encoding="utf-8")
    assert data["evidence"], "a base answer shows the evidence it found"
    for quote in data["evidence"]:
        assert set(quote) >= {"text", "source", "start", "end", "lines"}
        assert text[quote["start"] : quote["end"]] == quote["text"]
    assert any("Oswin Tarrant" in q["text"] for q in data["evidence"])
    assert re.search(r"fallback|replaced|not supported|unsupported", captured.err, re.IGNORECASE)


def test_base_profile_fake_model_marks_the_fallback(tmp_path):
    """The same through the Python API with FakeModel in the completion style."""
    from longdoc.llm.fake import FakeModel

    path = tmp_path / "harbour.txt"
    path.write_text(document_text({2: KEEPER}, paragraphs=6), encoding="utf-8")
    invented = "Captain Nemo sailed the Nautilus to Atlantis."
    model = FakeModel(rule=Reader(invented, notes=lambda text: "The keeper was Oswin Tarrant."),
                      completion_style=True, context_window=WINDOW)
    result = longdoc.ask(path, "Who kept the lighthouse on the point?", model=model,
                         settings=Settings(model="fake", cache=False, cache_dir=tmp_path / "cache"))
    assert result.profile == "base"
    assert result.fallback is True
    assert result.raw_answer is not None and result.raw_answer.strip() == invented
    assert "Nemo" not in result.answer
    assert "Oswin Tarrant" in result.answer
