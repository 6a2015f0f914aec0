"""The one text toolkit: words, stopwords, content words and sentences."""

from hypothesis import given, settings
from hypothesis import strategies as st

from longdoc.text import (
    STOPWORDS,
    content_words,
    is_abbreviation,
    last_sentence_end,
    line_spans,
    sentence_ends,
    sentence_spans,
    sentences,
    terms,
    words,
)


def spans_text(text, spans):
    return [text[a:b] for a, b in spans]


def test_words_terms_and_content_words():
    text = "The vault's code is 7341, said Dr. Orchid to me."
    assert words(text) == [
        "the",
        "vault",
        "s",
        "code",
        "is",
        "7341",
        "said",
        "dr",
        "orchid",
        "to",
        "me",
    ]
    assert terms(text) == ["vault", "s", "code", "7341", "said", "dr", "orchid"]
    assert content_words(text) == {"vault", "code", "7341", "said", "dr", "orchid"}
    assert {"the", "what", "which", "one"} <= STOPWORDS


def test_abbreviations_and_initials_do_not_end_a_sentence():
    text = "Mme. Vauquer met Mr. J. Smith at St. Paul's. They spoke, e.g. Of rent. It rained!"
    assert spans_text(text, sentence_spans(text)) == [
        "Mme. Vauquer met Mr. J. Smith at St. Paul's.",
        "They spoke, e.g. Of rent.",
        "It rained!",
    ]
    assert is_abbreviation(text, text.index("Mme.") + 3)
    assert is_abbreviation(text, text.index("J.") + 1)
    assert not is_abbreviation(text, text.index("Paul's.") + 6)


def test_a_sentence_end_never_depends_on_the_text_after_it():
    text = "Version 3. it was fine. Then it broke."
    assert spans_text(text, sentence_spans(text)) == ["Version 3.", "it was fine.", "Then it broke."]
    prefix = text[: text.index(" it")]
    assert sentence_ends(prefix) == [e for e in sentence_ends(text) if e <= len(prefix)]


def test_quotes_cjk_and_blank_lines_end_sentences():
    text = '"Go now." She went.\n\nA heading\n今天很好。明天也好！'
    assert spans_text(text, sentence_spans(text)) == [
        '"Go now."',
        "She went.",
        "A heading\n今天很好。",
        "明天也好！",
    ]


def test_lines_end_sentences_on_request():
    text = "- first item\n- second item. More\n"
    assert spans_text(text, sentence_spans(text, lines=True)) == [
        "- first item",
        "- second item.",
        "More",
    ]
    assert spans_text(text, line_spans(text)) == ["- first item", "- second item. More"]


def test_last_sentence_end_ignores_a_trailing_half_sentence():
    text = "One whole sentence. And half of"
    assert text[: last_sentence_end(text)] == "One whole sentence."
    assert last_sentence_end("no end at all") is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["Word", "word", " ", "\n", "\n\n", ". ", "Mr.", "! ", "?", "。", '"', "e.g."]
        ),
        max_size=40,
    ).map("".join)
)
def test_sentences_rejoin_to_the_text_and_spans_are_trimmed(text):
    assert "".join(sentences(text)) == text
    assert "".join(sentences(text, lines=False)) == text
    for a, b in sentence_spans(text):
        assert text[a:b] == text[a:b].strip() and a < b
    ends = sentence_ends(text)
    assert ends == sorted(set(ends)) and all(0 < e <= len(text) for e in ends)


def test_a_lone_capital_after_a_lower_case_word_ends_the_sentence():
    text = "You can write it in B.  The violin sits under the bed. A book by J. Smith sold. George W. Bush spoke."
    assert spans_text(text, sentence_spans(text)) == [
        "You can write it in B.",
        "The violin sits under the bed.",
        "A book by J. Smith sold.",
        "George W. Bush spoke.",
    ]
    prefix = text[: text.index("The violin")]
    assert sentence_ends(prefix) == [e for e in sentence_ends(text) if e <= len(prefix)]
