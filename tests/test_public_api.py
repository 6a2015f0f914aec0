"""The public API is pinned: nothing leaks, nothing goes missing."""

import longdoc


def test_all_is_pinned():
    assert sorted(longdoc.__all__) == sorted(
        [
            "AnswerResult",
            "Chunk",
            "Citation",
            "CodeSplitter",
            "Document",
            "LoadResult",
            "LongdocError",
            "Section",
            "SegmentScore",
            "Settings",
            "Skipped",
            "aask",
            "aselect_key_context",
            "ask",
            "asummarize",
            "awrite",
            "build_outline",
            "TokenSplitter",
            "WriteResult",
            "count_tokens",
            "get_encoding",
            "load",
            "load_model",
            "plan",
            "select_key_context",
            "split_document",
            "split_documents",
            "summarize",
            "token_counter",
            "write",
        ]
    )
    for name in longdoc.__all__:
        assert hasattr(longdoc, name)
    assert "not_a_name" not in dir(longdoc) and set(longdoc.__all__) <= set(dir(longdoc))


def test_an_unknown_name_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="not_a_name"):
        longdoc.not_a_name  # noqa: B018
