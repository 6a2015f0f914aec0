"""FakeModel: scripted replies, the overlap rule, question-aware logprobs, history."""

import asyncio
import math

from longdoc.llm import Completion, CompletionRequest, FakeModel, TokenLogprob, Usage
from longdoc.llm.fake import overlap_logprobs

MATERIAL = "The lighthouse keeper painted the door blue. Bread rises in a warm kitchen."


def entropy(top):
    probs = [math.exp(lp) for _, lp in top]
    return -sum(p * math.log(p) for p in probs if p > 0)


def test_scripted_replies_then_rule():
    model = FakeModel(["first"])
    model.enqueue("second")
    request = CompletionRequest.from_text(f"{MATERIAL}\nQuestion: what colour is the door?\nAnswer:")
    assert model.complete(request).text == "first"
    assert model.complete(request).text == "second"
    assert model.complete(request).text == "The lighthouse keeper painted the door blue."
    assert len(model.history) == 3 and model.history[0] == request


def test_scripted_completion_keeps_its_logprobs():
    scripted = Completion(
        text="blue",
        model="whatever",
        usage=Usage(prompt_tokens=3, completion_tokens=1),
        logprobs=(TokenLogprob(token="blue", logprob=-0.01, top=(("blue", -0.01), ("red", -5.0))),),
    )
    model = FakeModel([scripted], name="scripted")
    result = asyncio.run(model.acomplete(CompletionRequest.from_text("x", logprobs=2)))
    assert result.text == "blue"
    assert result.model == "scripted"
    assert result.logprobs[0].top[1] == ("red", -5.0)


def test_stop_and_max_tokens_apply():
    model = FakeModel(["one two three\nfour five"])
    out = model.complete(CompletionRequest.from_text("x", stop=("\n",)))
    assert out.text == "one two three" and out.finish_reason == "stop"
    model.enqueue("a b c d e f")
    out = model.complete(CompletionRequest.from_text("x", max_tokens=2))
    assert out.text == "a b" and out.finish_reason == "length"


def test_logprobs_are_more_certain_on_relevant_material():
    relevant = CompletionRequest.from_text(
        f"{MATERIAL}\nQuestion: what colour did the lighthouse keeper paint the door?\nAnswer:",
        logprobs=5,
    )
    unrelated = CompletionRequest.from_text(
        "Bread rises in a warm kitchen.\nQuestion: what colour did the lighthouse keeper paint the door?\nAnswer:",
        logprobs=5,
    )
    sure = overlap_logprobs(relevant, "blue")
    unsure = overlap_logprobs(unrelated, "blue")
    assert len(sure[0].top) == 5
    assert entropy(sure[0].top) < entropy(unsure[0].top)
    # the alternatives are listed most likely first
    for entry in (*sure, *unsure):
        assert [lp for _, lp in entry.top] == sorted((lp for _, lp in entry.top), reverse=True)


def test_logprobs_exist_for_an_empty_reply():
    model = FakeModel([""])
    out = model.complete(CompletionRequest.from_text("nothing here", logprobs=3))
    assert out.text == "" and len(out.logprobs) == 1
