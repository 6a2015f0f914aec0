"""XL3M segment relevance: segments, entropy, scorers and selection."""

from __future__ import annotations

import asyncio
import itertools
import math

import pytest

from longdoc.documents import Chunk, Document
from longdoc.errors import ConfigError, LogprobsUnsupported
from longdoc.llm.base import Completion, CompletionRequest, TokenLogprob, Usage
from longdoc.llm.fake import request_text
from longdoc.retrieval.certainty import CertaintyScorer, mean_entropy, token_entropy
from longdoc.retrieval.key_context import (
    CONTEXT_SEPARATOR,
    select_key_context,
    select_segments,
    splice,
)
from longdoc.retrieval.lexical import LexicalScorer, bm25_scores
from longdoc.retrieval.scorers import HybridScorer, make_scorer
from longdoc.splitters.segments import split_segments, trailing_question
from longdoc.tokens import count_tokens

FILLER = (
    "The committee met on a grey morning to discuss the budget for the coming year. "
    "Several members raised concerns about the cost of maintaining the old bridge. "
    "Others wanted more money spent on the library and its reading rooms. "
    "After a long debate the chair asked for a vote and the motion was carried. "
)
NEEDLE = "The secret passcode for the vault is 7341-orchid. "


def haystack(paragraphs: int = 30, needle_at: int | None = None) -> Document:
    parts = [FILLER.replace("committee", f"committee {i}") for i in range(paragraphs)]
    if needle_at is not None:
        parts.insert(needle_at, NEEDLE)
    return Document.from_text("\n\n".join(parts), path="hay.txt")


def segment(i: int, tokens: int, text: str = "x") -> Chunk:
    return Chunk(doc_id="d", index=i, start=i * 10, end=i * 10 + 5, text=text, tokens=tokens, lines=(1, 1))


# --------------------------------------------------------------------------- entropy


def test_entropy_of_uniform_top_k_is_log_k():
    top = [(t, math.log(0.25)) for t in "abcd"]
    assert token_entropy(top) == pytest.approx(math.log(4))


def test_entropy_renormalises_over_the_top_k():
    # p = 0.5 and 0.25, renormalised to 2/3 and 1/3
    expected = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert token_entropy([("a", math.log(0.5)), ("b", math.log(0.25))]) == pytest.approx(expected)
    assert expected == pytest.approx(0.636514, abs=1e-6)


def test_entropy_of_a_single_alternative_is_zero():
    assert token_entropy([("a", -3.0)]) == 0.0


def test_mean_entropy_averages_generated_tokens_and_handles_no_tokens():
    sure = TokenLogprob(token="a", logprob=0.0, top=(("a", 0.0),))
    even = TokenLogprob(token="a", logprob=math.log(0.5), top=(("a", math.log(0.5)), ("b", math.log(0.5))))
    assert mean_entropy([sure, even], top_k=5) == pytest.approx(math.log(2) / 2)
    assert mean_entropy([], top_k=5) == pytest.approx(math.log(5))


# --------------------------------------------------------------------------- segments


def test_segments_keep_offsets_fit_the_size_and_cover_the_text():
    doc = haystack(40)
    segments = split_segments(doc, tokens=120, overlap=20)
    assert len(segments) > 5
    for s in segments:
        assert doc.text[s.start : s.end] == s.text
        assert s.tokens == count_tokens(s.text) <= 120
        assert s.source == "hay.txt"
    assert segments[0].start == 0
    assert doc.text[segments[-1].end :].strip() == ""
    for a, b in itertools.pairwise(segments):
        assert b.start > a.start
        assert b.start <= a.end or doc.text[a.end : b.start].strip() == ""
    overlapping = sum(b.start < a.end for a, b in itertools.pairwise(segments))
    assert overlapping == len(segments) - 1  # every sentence here is shorter than the overlap


def test_segments_end_at_sentence_boundaries():
    doc = haystack(20)
    for s in split_segments(doc, tokens=100, overlap=10):
        assert s.text.rstrip().endswith(".")


def test_a_sentence_longer_than_the_segment_is_cut_at_spaces():
    doc = Document.from_text(" ".join(f"word{i}" for i in range(400)) + ".")
    segments = split_segments(doc, tokens=50, overlap=0)
    assert all(s.tokens <= 50 for s in segments)
    assert "".join(doc.text[s.start : s.end] + " " for s in segments).split() == doc.text.split()


def test_segment_options_are_checked():
    with pytest.raises(ConfigError):
        split_segments(haystack(2), tokens=100, overlap=60)


def test_trailing_question_takes_the_last_tokens():
    text = "Alpha beta gamma. " * 50 + "Where is the key hidden?"
    start, question = trailing_question(text, tokens=6)
    assert text[start:] == question
    assert question.endswith("Where is the key hidden?")
    assert count_tokens(question) <= 7
    assert trailing_question("short", tokens=6) == (0, "short")


# --------------------------------------------------------------------------- selection


def test_selection_takes_best_scores_within_budget_in_original_order():
    segments = [segment(i, 100) for i in range(6)]
    scores = [0.9, 0.1, 0.5, 0.05, 0.7, 0.3]  # entropies: lower is better
    chosen = select_segments(segments, scores, budget=300, lower_is_better=True)
    assert chosen == [False, True, False, True, False, True]
    chosen = select_segments(segments, scores, budget=300, lower_is_better=False)
    assert chosen == [True, False, True, False, True, False]


def test_selection_skips_a_segment_too_big_for_what_is_left():
    segments = [segment(0, 250), segment(1, 200), segment(2, 90)]
    chosen = select_segments(segments, [0.1, 0.2, 0.3], budget=350, lower_is_better=True)
    assert chosen == [True, False, True]
    assert sum(s.tokens for s, c in zip(segments, chosen, strict=True) if c) <= 350


def test_splice_merges_overlaps_and_marks_gaps():
    doc = Document.from_text("0123456789abcdefghij", path="t")
    segs = [
        Chunk(doc_id=doc.id, index=i, start=s, end=e, text=doc.text[s:e], tokens=1, lines=(1, 1))
        for i, (s, e) in enumerate([(0, 5), (3, 8), (12, 15), (17, 20)])
    ]
    assert splice([doc], segs, [True, True, False, True]) == "01234567" + CONTEXT_SEPARATOR + "hij"


# --------------------------------------------------------------------------- scorers


def test_bm25_matches_a_hand_computed_case():
    docs = [["apple", "pie"], ["banana"], ["apple", "apple", "tart", "crust"]]
    scores = bm25_scores(docs, ["apple"], k1=1.5, b=0.75)
    idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
    avg = 7 / 3
    assert scores[0] == pytest.approx(idf * 1 * 2.5 / (1 + 1.5 * (0.25 + 0.75 * 2 / avg)))
    assert scores[1] == 0.0
    assert scores[2] == pytest.approx(idf * 2 * 2.5 / (2 + 1.5 * (0.25 + 0.75 * 4 / avg)))


def test_lexical_scorer_finds_a_literal_needle():
    for depth in (0, 11, 29):
        doc = haystack(30, needle_at=depth)
        selection = select_key_context(
            [doc], "What is the secret passcode for the vault?", LexicalScorer(), budget=150, segment_tokens=120
        )
        assert "7341-orchid" in selection.context
        assert selection.selected_tokens <= 150
        best = min(range(len(selection.scores)), key=lambda i: -selection.scores[i])
        assert "7341-orchid" in selection.segments[best].text


class ScriptedLogprobModel:
    """Returns, for each prompt, logprobs whose entropy is scripted by a word in it."""

    name = "scripted"
    context_window = 8192
    completion_style = True

    def __init__(self, entropy_by_word: dict[str, float], *, with_logprobs: bool = True) -> None:
        self.entropy_by_word = entropy_by_word
        self.with_logprobs = with_logprobs
        self.in_flight = 0
        self.max_in_flight = 0
        self.requests: list[CompletionRequest] = []

    def complete(self, request: CompletionRequest) -> Completion:
        self.requests.append(request)
        text = request_text(request)
        # two equally likely tokens out of n gives entropy log(n); pick n from the word
        n = next((k for w, k in self.entropy_by_word.items() if w in text.split("Question:")[0]), 8)
        top = tuple((f"t{j}", math.log(1 / n)) for j in range(int(n)))
        logprobs = (TokenLogprob(token="t0", logprob=top[0][1], top=top),) * 3
        return Completion(
            text="t0 t0 t0",
            model=self.name,
            usage=Usage(prompt_tokens=len(text.split()), completion_tokens=3),
            logprobs=logprobs if self.with_logprobs else None,
        )

    async def acomplete(self, request: CompletionRequest) -> Completion:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.001)
            return self.complete(request)
        finally:
            self.in_flight -= 1


def test_certainty_scorer_ranks_as_scripted_and_stays_within_concurrency():
    words = ["amber", "birch", "cedar", "dahlia", "elm", "fern"]
    segs = [segment(i, 10, f"A note about {w}.") for i, w in enumerate(words)]
    model = ScriptedLogprobModel({"cedar": 1, "fern": 2, "amber": 4, "birch": 6, "dahlia": 8, "elm": 8})
    scorer = CertaintyScorer(model, concurrency=2, top_k=10)
    scores = asyncio.run(scorer.score(segs, "Which tree?"))
    assert scores == pytest.approx([math.log(4), math.log(6), 0.0, math.log(8), math.log(8), math.log(2)])
    assert select_segments(segs, scores, budget=20, lower_is_better=True) == [False, False, True, False, False, True]
    assert model.max_in_flight <= 2
    assert scorer.usage.calls == 6
    request = model.requests[0]
    assert request.logprobs == 10
    assert request.prompt is not None and request.prompt.rstrip().endswith("Answer:")
    assert request.prompt.index("A note about") < request.prompt.index("Question: Which tree?")


def test_certainty_without_logprobs_suggests_lexical():
    scorer = CertaintyScorer(ScriptedLogprobModel({}, with_logprobs=False))
    with pytest.raises(LogprobsUnsupported, match="lexical"):
        asyncio.run(scorer.score([segment(0, 10, "text")], "q?"))


def test_hybrid_scores_only_bm25_candidates_with_the_model():
    doc = haystack(30, needle_at=20)
    model = ScriptedLogprobModel({"7341-orchid": 1})
    scorer = make_scorer("hybrid", model, candidates=3, top_k=10)
    assert isinstance(scorer, HybridScorer)
    question = "What is the secret passcode for the vault of the committee?"  # every segment matches
    selection = select_key_context([doc], question, scorer, budget=120, segment_tokens=120)
    assert len(model.requests) == 3
    assert "7341-orchid" in selection.context
    assert sum(s < math.log(10) for s in selection.scores) == 3
    assert selection.usage.calls == 3


def test_selection_without_question_uses_the_input_tail():
    doc = Document.from_text(FILLER * 20 + NEEDLE + FILLER * 20 + "What is the passcode for the vault?")
    selection = select_key_context([doc], None, LexicalScorer(), budget=100, segment_tokens=90, question_tokens=10)
    assert selection.question.endswith("What is the passcode for the vault?")
    assert all(s.end <= len(doc.text) - len("What is the passcode for the vault?") for s in selection.segments)
    assert "7341-orchid" in selection.context


def test_unknown_scorer_is_a_config_error():
    with pytest.raises(ConfigError):
        make_scorer("psychic")
    with pytest.raises(ConfigError):
        make_scorer("certainty", None)


def test_segment_scores_report_every_segment():
    doc = haystack(10, needle_at=5)
    selection = select_key_context([doc], "secret passcode vault", LexicalScorer(), budget=100, segment_tokens=90)
    reported = selection.segment_scores()
    assert len(reported) == len(selection.segments)
    assert [r.selected for r in reported] == selection.selected
    assert all(r.source == "hay.txt" for r in reported)


def test_a_reused_scorer_reports_each_selection_its_own_calls():
    model = ScriptedLogprobModel({"7341-orchid": 1})
    scorer = CertaintyScorer(model, top_k=10)
    first = select_key_context([haystack(10, needle_at=3)], "passcode?", scorer, budget=100, segment_tokens=90)
    second = select_key_context([haystack(12, needle_at=3)], "passcode?", scorer, budget=100, segment_tokens=90)
    assert first.usage.calls == len(first.segments)
    assert second.usage.calls == len(second.segments)
    assert scorer.usage.calls == len(first.segments) + len(second.segments)


class ReplyScriptModel:
    """Replies with a scripted sequence of per-token entropies (as two-way or n-way even
    splits), cut to the request's max_tokens as a real server would."""

    name = "replies"
    context_window = 8192
    completion_style = True

    def __init__(self, entropies_by_word: dict[str, list[int]]) -> None:
        self.entropies_by_word = entropies_by_word

    async def acomplete(self, request: CompletionRequest) -> Completion:
        text = request_text(request)
        ways = next(v for w, v in self.entropies_by_word.items() if w in text.split("Question:")[0])
        tokens = [
            TokenLogprob(token=f"t{j}", logprob=math.log(1 / n), top=tuple((f"a{k}", math.log(1 / n)) for k in range(n)))
            for j, n in enumerate(ways[: request.max_tokens])
        ]
        return Completion(text=" ".join(t.token for t in tokens), model=self.name, logprobs=tuple(tokens))

    def complete(self, request: CompletionRequest) -> Completion:
        return asyncio.run(self.acomplete(request))


def test_certainty_over_the_whole_reply_outranks_a_reply_that_only_restates_the_question():
    # the echo: an uncertain start, then 8 tokens copied from the question at zero entropy,
    # then a guess; the needle: an uncertain start, then a sure answer
    echo = [6, 1, 1, 1, 1, 1, 1, 1, 1, 6, 6, 6, 6, 6, 6, 6]
    needle = [6, 6, 6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    model = ReplyScriptModel({"restates": echo, "orchid": needle})
    segs = [segment(0, 10, "A text that restates."), segment(1, 10, "The passcode is 7341-orchid.")]
    short = asyncio.run(CertaintyScorer(model, tokens=8).score(segs, "What is the passcode?"))
    full = asyncio.run(CertaintyScorer(model).score(segs, "What is the passcode?"))
    assert short[0] < short[1]  # 8 tokens see only the echo: the wrong segment wins
    assert full[1] < full[0]
    assert full == pytest.approx([math.log(6) * 8 / 16, math.log(6) * 3 / 16])


def test_segments_leave_out_the_framing_the_loader_marked():
    header = "The Project Gutenberg EBook of Lanterns. Title: Lanterns.\n\n"
    body = " ".join(f"The lantern number {k} is painted colour{k}." for k in range(200))
    licence = "\n\n" + " ".join(["Donations to the Project Gutenberg Literary Archive Foundation."] * 50)
    text = header + body + licence
    doc = Document.from_text(text, path="lanterns.txt",
                             meta={"body_start": len(header), "body_end": len(header) + len(body)})
    segments = split_segments(doc, tokens=128)
    assert segments[0].start == len(header) and segments[-1].end == len(header) + len(body)
    assert not any("Gutenberg" in s.text for s in segments)
    assert all(text[s.start : s.end] == s.text for s in segments)
