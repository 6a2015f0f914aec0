"""The scorers added for the needle suite: answer-token certainty, the calibrated scorer,
reciprocal rank fusion and BM25 with a guessed answer; and `make_scorer`'s names."""

from __future__ import annotations

import asyncio
import math

import pytest

from longdoc.documents import Chunk
from longdoc.errors import ConfigError
from longdoc.llm.base import Completion, CompletionRequest, TokenLogprob
from longdoc.llm.fake import FakeModel, request_text
from longdoc.retrieval.calibrated import CalibratedScorer
from longdoc.retrieval.certainty import ANSWER_ENDS, CertaintyScorer, answer_tokens
from longdoc.retrieval.expansion import ExpandedLexicalScorer
from longdoc.retrieval.fusion import FusionScorer, ranks_of, reciprocal_rank_fusion
from longdoc.retrieval.lexical import LexicalScorer
from longdoc.retrieval.scorers import SCORERS, make_scorer, parse_scorer


def segment(i: int, text: str) -> Chunk:
    return Chunk(doc_id="d", index=i, start=i * 100, end=i * 100 + len(text), text=text, tokens=10, lines=(1, 1))


def tokens(*texts: str, n: int = 2) -> tuple[TokenLogprob, ...]:
    """Tokens with `n` equally likely alternatives each (entropy log n)."""
    top = tuple((f"a{j}", math.log(1 / n)) for j in range(n))
    return tuple(TokenLogprob(token=t, logprob=math.log(1 / n), top=top) for t in texts)


# --------------------------------------------------------------------------- answer tokens


def test_answer_tokens_stop_at_the_first_line_or_sentence_end():
    names = lambda *ts: [t.token for t in answer_tokens(tokens(*ts))]  # noqa: E731
    assert names("  ", "It", "'s", " teal", ".", "  ", "It", "'s") == ["It", "'s", " teal", "."]
    assert names(" Fig", "s", ".\n", "Question") == [" Fig", "s", ".\n"]
    assert names(" 6", "0", "9", "3", "\n", "Q") == [" 6", "0", "9", "3"]
    assert names(" The", " key", " is", " under") == [" The", " key", " is", " under"]
    assert names("\n", "x") == []


def test_answer_span_scores_only_the_answer_and_asks_the_server_to_stop_there():
    sure = TokenLogprob(token=" teal", logprob=0.0, top=((" teal", 0.0),))
    ramble = tokens(".", "  ", " It", " is", " nice", n=8)
    completion = Completion(text=" teal. It is nice", model="m", logprobs=(sure, *ramble))
    model = FakeModel([completion, completion])
    whole = CertaintyScorer(model, top_k=10)
    answer = CertaintyScorer(model, top_k=10, span="answer")
    assert answer.name == "answer" and whole.name == "certainty"
    assert answer.request("seg", "q?").stop == ANSWER_ENDS
    assert whole.request("seg", "q?").stop == ()
    full = asyncio.run(whole.score([segment(0, "seg")], "q?"))[0]
    short = asyncio.run(answer.score([segment(0, "seg")], "q?"))[0]
    assert short == pytest.approx(math.log(8) / 2)  # " teal" (0) and "." (log 8)
    assert full > short
    with pytest.raises(ConfigError):
        CertaintyScorer(model, span="middle")


# --------------------------------------------------------------------------- calibrated


class BaselineModel:
    """Entropy log(n) where n comes from the prompt: `n_q` when it holds a question, else
    `n_base` (the segment read alone); both chosen by a word of the segment."""

    name = "baseline"
    context_window = 8192
    completion_style = True

    def __init__(self, with_question: dict[str, int], alone: dict[str, int]) -> None:
        self.with_question, self.alone = with_question, alone
        self.prompts: list[str] = []

    def complete(self, request: CompletionRequest) -> Completion:
        text = request_text(request)
        self.prompts.append(text)
        table = self.with_question if "Question:" in text else self.alone
        n = next(k for word, k in table.items() if word in text)
        return Completion(text=" x", model=self.name, logprobs=tokens(" x", n=n))

    async def acomplete(self, request: CompletionRequest) -> Completion:
        return self.complete(request)


def test_calibrated_subtracts_the_segments_own_baseline_and_reuses_it():
    # "easy" prose is as predictable with or without the question; "needle" only with it
    model = BaselineModel(with_question={"easy": 2, "needle": 3}, alone={"easy": 2, "needle": 9})
    segs = [segment(0, "easy prose that flows"), segment(1, "the needle sentence")]
    plain = asyncio.run(CertaintyScorer(model, span="answer").score(segs, "Where?"))
    assert plain[0] < plain[1]  # uncalibrated, the easy prose looks more relevant
    scorer = CalibratedScorer(CertaintyScorer(model, span="answer"))
    scores = asyncio.run(scorer.score(segs, "Where?"))
    assert scores == pytest.approx([0.0, math.log(3) - math.log(9)])
    assert scores[1] < scores[0]
    baseline = scorer.baseline_request(segs[0].text)
    assert baseline.prompt == segs[0].text and baseline.stop == ANSWER_ENDS
    scored = scorer.certainty.request(segs[0].text, "Where?")
    assert scored.prompt is not None and scored.prompt.startswith(baseline.prompt)  # one shared prefix
    asked = len(model.prompts)
    asyncio.run(scorer.score(segs, "Another question?"))
    assert len(model.prompts) == asked + 2  # the baselines came from the cache
    assert scorer.usage.calls == 6


def test_calibrated_baseline_cache_is_bounded():
    model = BaselineModel(with_question={"s": 2}, alone={"s": 4})
    scorer = CalibratedScorer(CertaintyScorer(model), cache_size=2)
    asyncio.run(scorer.score([segment(i, f"s{i}") for i in range(3)], "q?"))
    assert len(scorer._baselines) == 2


# --------------------------------------------------------------------------- fusion


def test_ranks_share_ties_and_follow_the_direction():
    assert ranks_of([3.0, 0.0, 5.0, 0.0], lower_is_better=False) == [2, 3, 1, 3]
    assert ranks_of([0.2, 0.1, 0.3], lower_is_better=True) == [2, 1, 3]


def test_reciprocal_rank_fusion_lifts_what_both_rank_well():
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1, 2]], k=60)
    assert fused == pytest.approx([1 / 61 + 1 / 63, 1 / 62 + 1 / 61, 1 / 63 + 1 / 62])
    assert max(range(3), key=fused.__getitem__) == 1


def test_fusion_keeps_a_segment_bm25_misses():
    # segment 2 shares no word with the question, but the model is sure of it
    segs = [segment(0, "the violin case"), segment(1, "violin strings and violin bows"), segment(2, "fiddle under the bed")]
    model = BaselineModel(with_question={"case": 8, "strings": 8, "fiddle": 1}, alone={"x": 1})
    fused = FusionScorer([LexicalScorer(), CertaintyScorer(model)])
    scores = asyncio.run(fused.score(segs, "Where is the violin?"))
    lexical = asyncio.run(LexicalScorer().score(segs, "Where is the violin?"))
    assert lexical[2] == 0.0
    assert fused.lower_is_better is False
    assert scores[2] > scores[0]
    assert fused.usage.calls == 3
    with pytest.raises(ConfigError):
        FusionScorer([LexicalScorer()])


# --------------------------------------------------------------------------- expansion


def test_expanded_query_adds_the_guess_and_asks_once_per_question():
    model = FakeModel(["It is kept in the attic beside the trunk."])
    scorer = ExpandedLexicalScorer(model)
    segs = [segment(0, "The attic holds a trunk."), segment(1, "Cities and taste."), segment(2, "More on startups.")]
    scores = asyncio.run(scorer.score(segs, "Where is the heirloom?"))
    assert scores[0] > 0 and scores[0] == max(scores)
    asyncio.run(scorer.score(segs, "Where is the heirloom?"))
    assert len(model.history) == 1 and scorer.usage.calls == 1
    assert "Where is the heirloom?" in request_text(model.history[0])
    assert asyncio.run(LexicalScorer().score(segs, "Where is the heirloom?")) == [0.0, 0.0, 0.0]


# --------------------------------------------------------------------------- names


def test_make_scorer_builds_every_name_and_fusions_of_them():
    model = FakeModel()
    for name in SCORERS:
        assert make_scorer(name, model).name == name
    custom = make_scorer("fusion=expanded+calibrated", model)
    assert isinstance(custom, FusionScorer) and custom.name == "fusion=expanded+calibrated"
    assert [m.name for m in custom.members] == ["expanded", "calibrated"]
    assert [m.name for m in make_scorer("fusion", model).members] == ["lexical", "answer"]


@pytest.mark.parametrize("name", ["bm26", "lexical=answer", "fusion=lexical", "fusion=lexical+fusion", "fusion=lexical+nope"])
def test_unknown_scorer_names_are_refused(name):
    with pytest.raises(ConfigError):
        parse_scorer(name)


def test_model_scorers_need_a_model():
    for name in ("answer", "calibrated", "expanded", "fusion"):
        with pytest.raises(ConfigError, match="needs a model"):
            make_scorer(name)
