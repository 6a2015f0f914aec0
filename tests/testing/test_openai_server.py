"""The test server's reply hook: replies routed by what a request contains, and the text
served recorded beside each request."""

from __future__ import annotations

import pytest

from longdoc.errors import EmptyResponse, InvalidValue
from longdoc.llm import CompletionRequest, OpenAIModel
from longdoc.llm.base import Message
from longdoc.testing import Fault, OpenAITestServer


def by_content(request: CompletionRequest) -> str:
    """A worker (its request holds a chunk) answers in bullets; anyone else answers (B)."""
    text = request.prompt or ""
    if "Part 1 of 2" in text:
        return "- The ferry left at 6:40.\n- It was full."
    return "(B)"


@pytest.fixture
def server():
    with OpenAITestServer(reply=by_content, context_window=2048) as running:
        yield running


def chat(server: OpenAITestServer, user: str, **params: object) -> str:
    model = OpenAIModel(base_url=server.url, model=server.model, max_retries=0, timeout=5.0)
    request = CompletionRequest(messages=(Message(role="user", content=user),), **params)
    return model.complete(request).text


def test_replies_follow_the_request_content_not_the_call_order(server):
    assert chat(server, "Notes: ...\nQuestion: which?") == "(B)"
    assert chat(server, "Part 1 of 2 (book.txt):\nThe ferry left.") == "- The ferry left at 6:40.\n- It was full."
    assert chat(server, "Question: which?") == "(B)"
    served = [(r.path, r.reply) for r in server.requests if r.method == "POST"]
    assert served == [
        ("/v1/chat/completions", "(B)"),
        ("/v1/chat/completions", "- The ferry left at 6:40.\n- It was full."),
        ("/v1/chat/completions", "(B)"),
    ]


def test_the_recorded_reply_is_what_was_served_after_stops(server):
    assert chat(server, "Part 1 of 2: text", stop=("\n",)) == "- The ferry left at 6:40."
    (post,) = [r for r in server.requests if r.method == "POST"]
    assert post.body is not None and post.body["stop"] == ["\n"]
    assert post.reply == "- The ferry left at 6:40."


def test_error_responses_and_other_routes_record_no_reply(server):
    server.inject(Fault.SERVER_ERROR)
    server.inject(Fault.EMPTY)
    model = OpenAIModel(base_url=server.url, model=server.model, max_retries=1, timeout=5.0)
    with pytest.raises(EmptyResponse):
        model.complete(CompletionRequest.from_text("Question: which?"))
    replies = [r.reply for r in server.requests if r.method == "POST"]
    assert replies == [None, ""]
    assert all(r.reply is None for r in server.requests if r.method == "GET")


def test_a_host_off_loopback_or_an_unknown_fault_is_an_invalid_value():
    with pytest.raises(InvalidValue, match="loopback") as caught:
        OpenAITestServer(host="192.0.2.1")
    assert caught.value.value == "192.0.2.1"
    with pytest.raises(InvalidValue, match="unknown fault 'teapot'; choose one of 429, 500"):
        OpenAITestServer().inject("teapot")
