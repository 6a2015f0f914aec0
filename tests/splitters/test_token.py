"""The token splitter: limits, exact offsets and counts, boundary preference, fill."""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from longdoc.documents import Document, Section
from longdoc.errors import ConfigError, SplitError
from longdoc.sources import load
from longdoc.splitters import split_document, split_documents
from longdoc.splitters.token import TokenSplitter
from longdoc.tokens import count_tokens, token_counter

BOOK = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "books" / "gutenberg_1237_father_goriot.txt"

FRAGMENT = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(list("abc xyz.,!?\n\t ")),
    st.sampled_from(list("中文日本語한국어。！？")),
    st.sampled_from(["😀", "👍🏽", "👨\u200d👩\u200d👧", "\u0301", "\u00a0", "\u3000", "\r\n", "/", "\n\n", ". "]),
)
WORD = st.one_of(
    st.lists(FRAGMENT, max_size=12).map("".join),
    st.text(st.sampled_from("abcdefgh"), min_size=200, max_size=3000),  # giant words
    st.text(st.sampled_from(" \n\t"), min_size=1, max_size=30),  # whitespace runs
)
TEXTS = st.one_of(
    st.lists(FRAGMENT, max_size=600).map("".join),
    st.lists(WORD, max_size=60).map(" ".join),
    st.just(""),
    st.text(st.sampled_from(" \n\t\u3000"), max_size=50),
)
LIMITS = st.sampled_from([4, 5, 8, 16, 33, 100, 512])

PROPERTY_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def assert_valid(text: str, chunks, limit: int, counter=count_tokens, contiguous: bool = True) -> None:
    for index, chunk in enumerate(chunks):
        assert chunk.index == index
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text, "no empty chunks"
        assert chunk.tokens == counter(chunk.text)
        assert chunk.tokens <= limit
        assert chunk.lines == (text.count("\n", 0, chunk.start) + 1, text.count("\n", 0, max(chunk.start, chunk.end - 1)) + 1)
    if contiguous:
        assert "".join(c.text for c in chunks) == text
        assert all(a.end == b.start for a, b in pairwise(chunks))


@PROPERTY_SETTINGS
@given(text=TEXTS, limit=LIMITS, kind=st.sampled_from(["text", "code"]))
def test_chunks_fit_and_reconstruct_the_text(text, limit, kind):
    chunks = TokenSplitter(limit).split(Document.from_text(text, kind=kind))
    assert_valid(text, chunks, limit)
    assert (chunks == []) == (text == "")


@PROPERTY_SETTINGS
@given(text=TEXTS, limit=st.sampled_from([4, 9, 40, 200]))
def test_custom_counters_work_too(text, limit):
    characters = len
    chunks = TokenSplitter(limit, counter=characters).split(text)
    assert_valid(text, chunks, limit, counter=characters)
    tiktoken_counter = token_counter("cl100k_base")
    chunks = TokenSplitter(limit, counter=tiktoken_counter).split(text)
    assert_valid(text, chunks, limit, counter=tiktoken_counter)


@PROPERTY_SETTINGS
@given(text=TEXTS, limit=st.sampled_from([8, 30, 200]), data=st.data())
def test_overlap_repeats_text_but_never_exceeds_the_limit(text, limit, data):
    overlap = data.draw(st.integers(min_value=1, max_value=limit - 1))
    chunks = TokenSplitter(limit, overlap=overlap).split(text)
    assert_valid(text, chunks, limit, contiguous=False)
    if chunks:
        assert chunks[0].start == 0 and chunks[-1].end == len(text)
    for previous, current in pairwise(chunks):
        assert previous.start < current.start <= previous.end


def test_encoding_by_name_counts_with_that_encoding():
    text = "Some ordinary words, repeated. " * 200
    chunks = TokenSplitter(50, counter="cl100k_base").split(text)
    assert_valid(text, chunks, 50, counter=token_counter("cl100k_base"))


def test_prefers_blank_lines_then_sentences_over_line_breaks():
    paragraph = ("The quick brown fox jumps over the lazy dog near the river bank\n" * 6).strip() + ".\n\n"
    text = paragraph * 12
    chunks = TokenSplitter(200).split(Document.from_text(text))
    assert all(c.text.endswith("\n\n") for c in chunks[:-1])
    hard_wrapped = ("It rained all day. The road\nwent on and on, and we walked\nuntil the evening came. " * 40).strip()
    chunks = TokenSplitter(100).split(Document.from_text(hard_wrapped))
    assert all(re.search(r"[.]\n*$", c.text) for c in chunks[:-1])


def test_code_prefers_line_ends():
    code = "".join(f"value_{i} = compute(alpha, beta)  # note. See here\n" for i in range(300))
    chunks = TokenSplitter(120).split(Document.from_text(code, kind="code"))
    assert all(c.text.endswith("\n") for c in chunks[:-1])


def test_cuts_at_a_section_start_within_reach():
    intro = "Opening words of the book. " * 30
    chapter = "CHAPTER II\n\nA new chapter starts here. " + "More of the story goes on. " * 40
    text = intro + "\n\n" + chapter
    doc = Document(
        id="book",
        text=text,
        path="book.txt",
        kind="book",
        sections=(Section(title="Opening", start=0), Section(title="CHAPTER II", start=len(intro) + 2)),
    )
    limit = count_tokens(intro) + 60  # the chapter start is in reach; a full chunk would pass it
    chunks = TokenSplitter(limit).split(doc)
    assert chunks[1].start == len(intro) + 2
    assert chunks[0].meta == {"path": "book.txt", "section": "Opening"}
    assert chunks[1].meta["section"] == "CHAPTER II"


def test_giant_word_is_cut_by_tokens():
    text = "x" * 20_000
    chunks = TokenSplitter(100).split(text)
    assert_valid(text, chunks, 100)
    assert all(c.tokens >= 90 for c in chunks[:-1])


def test_empty_and_whitespace_only():
    assert TokenSplitter(10).split("") == []
    [chunk] = TokenSplitter(10).split("  \n\n\t ")
    assert chunk.text == "  \n\n\t " and chunk.lines == (1, 3)


def test_bad_limits_are_split_errors():
    with pytest.raises(SplitError):
        TokenSplitter(0)
    with pytest.raises(SplitError):
        TokenSplitter(10, overlap=10)
    with pytest.raises(SplitError) as error:
        TokenSplitter(1).split("\U0001f9d1")  # one character, more than one token
    assert error.value.limit == 1 and error.value.tokens > 1


def test_dispatcher_splits_documents_in_order():
    docs = [Document.from_text("alpha beta. " * 100, path="a.txt"), Document.from_text("gamma. " * 50, path="b.txt")]
    chunks = split_documents(docs, 64)
    assert [c.doc_id for c in chunks] == sorted(c.doc_id for c in chunks)
    assert {c.meta["path"] for c in chunks} == {"a.txt", "b.txt"}
    assert split_document(docs[0], 64, splitter="token") == split_document(docs[0], 64)
    with pytest.raises(ConfigError):
        split_document(docs[0], 64, splitter="semantic")


@pytest.mark.skipif(not BOOK.exists(), reason="shared data is not checked out beside the repository")
@pytest.mark.parametrize("limit", [512, 2048])
def test_real_book_fill_and_cut_quality(limit):
    [doc] = load(BOOK).documents
    chunks = TokenSplitter(limit).split(doc)
    assert_valid(doc.text, chunks, limit)
    full = chunks[:-1]
    assert sum(c.tokens for c in full) / (limit * len(full)) >= 0.85
    at_paragraph_or_sentence = sum(
        1 for c in full if re.search(r"(\n\s*\n|[.!?][\"')\]_*]*\n*)$", c.text)
    )
    assert at_paragraph_or_sentence / len(full) >= 0.95
