"""The sentence encoder and the dense scorer: real vectors from the shipped encoder (no
language model, a fraction of a second), on fixtures written here."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from longdoc.documents import Document
from longdoc.embedding import SentenceEncoder, shared_encoder
from longdoc.embedding.encoder import _checked
from longdoc.errors import ConfigError
from longdoc.retrieval import aselect_key_context, make_scorer
from longdoc.retrieval.dense import DenseScorer, passages
from longdoc.retrieval.fusion import FusionScorer
from longdoc.retrieval.lexical import LexicalScorer
from longdoc.retrieval.scorers import selection_calls
from longdoc.splitters.segments import split_segments

FILLER = [
    "Startups often fail because the founders build something nobody wants.",
    "A good essay wanders a little before it finds its point.",
    "Investors look for determination more than for a clever idea.",
    "Most cities grew around a river or a harbour long before railways came.",
    "Programming languages shape the way their users think about problems.",
    "The best way to learn to write is to write a great deal.",
]
NEEDLE = "The violin that belonged to my grandmother sits wrapped in a wool blanket beneath the spare bed."
QUESTION = "Where is the fiddle inherited from a nan stored?"


def test_vectors_are_unit_length_cached_and_closer_for_a_paraphrase():
    encoder = shared_encoder()
    vectors = encoder.encode([QUESTION, NEEDLE, FILLER[0]])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(encoder.encode([NEEDLE])[0], vectors[1])  # the cache gives the same vector
    assert vectors[1] @ vectors[0] > vectors[2] @ vectors[0] + 0.2
    assert encoder.encode([]).shape == (0, 384)


def test_passages_are_sentences_with_short_ones_joined():
    text = "Why? Because the tide was out. The choir sang on the sand. It rained."
    units = passages(text)
    # "Why?" joins the sentence after it; "It rained." (too short, and last) the one before
    assert units == [
        "Why? Because the tide was out.",
        "The choir sang on the sand. It rained.",
    ]


def _segments(*texts: str):
    text = "\n\n".join(texts)
    return split_segments(Document(id="d", text=text), tokens=40, overlap=0)


def test_dense_ranks_the_paraphrased_needle_first_where_bm25_sees_nothing():
    segments = _segments(" ".join(FILLER[:3]), " ".join(FILLER[3:]) + " " + NEEDLE, " ".join(FILLER))
    holding = next(i for i, s in enumerate(segments) if "violin" in s.text)
    dense = asyncio.run(DenseScorer().score(segments, QUESTION))
    assert max(range(len(segments)), key=dense.__getitem__) == holding
    assert all(score == 0 for score in LexicalScorer().score_sync(segments, QUESTION))


def test_fusion_of_lexical_and_dense_keeps_the_needle_in_the_key_context():
    doc = Document(id="d", text="\n\n".join([*FILLER, NEEDLE, *FILLER] * 2))
    scorer = make_scorer("fusion=lexical+dense")
    assert isinstance(scorer, FusionScorer) and [m.name for m in scorer.members] == ["lexical", "dense"]
    selection = asyncio.run(aselect_key_context([doc], QUESTION, scorer, budget=60, segment_tokens=40))
    assert "violin" in selection.context
    assert selection.usage.calls == 0


def test_dense_needs_no_model_and_makes_no_calls():
    assert make_scorer("dense").name == "dense"
    assert selection_calls("dense", 50) == 0
    assert selection_calls("fusion=lexical+dense", 50) == 0
    assert asyncio.run(DenseScorer().score([], QUESTION)) == []


def test_an_encoder_file_that_is_not_the_measured_one_is_refused_by_name(tmp_path):
    wrong = tmp_path / "model.onnx"
    wrong.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match=r"model\.onnx.*sha256"):
        _checked(wrong)


def test_the_cache_is_bounded():
    encoder = SentenceEncoder(cache_size=2)
    encoder.encode(["one sentence here", "two sentences here", "three sentences here"])
    assert len(encoder._cache) == 2
