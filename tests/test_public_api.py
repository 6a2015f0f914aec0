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
            "ask",
            "asummarize",
            "build_outline",
            "TokenSplitter",
            "WriteResult",
            "count_tokens",
            "get_encoding",
            "load",
            "load_model",
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
