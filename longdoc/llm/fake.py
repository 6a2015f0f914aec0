"""A deterministic model for tests: scripted replies, or a rule computed from the prompt.

Every request is recorded in `history`. With neither script nor rule, the default rule
answers with the sentences of the prompt that share content words with its question
(the text after the last `Question:`), which is enough for pipeline tests to check that
evidence really flows from chunks through notes to the answer.

Logprobs follow the same idea (`overlap_logprobs`): the more of the question's words the
material contains, the more certain the first token, so segment-relevance scorers see low
entropy on relevant segments. A test can also script whole `Completion`s, logprobs included.
"""

from __future__ import annotations

import math
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from ..config import FAKE_MODEL
from ..text import content_words
from .base import Completion, CompletionRequest, TokenLogprob, Usage
from .profiles import ModelProfile, default_profile, resolved_profile

if TYPE_CHECKING:
    from ..config import Settings
    from .registry import Register

FAKE_WINDOW = 8192
"""The window of `--model fake` unless `--window` says otherwise."""

Rule = Callable[[CompletionRequest], str]
LogprobsRule = Callable[[CompletionRequest, str], tuple[TokenLogprob, ...]]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")


def request_text(request: CompletionRequest) -> str:
    """The text a base model would read: the completion prompt, else the messages joined."""
    if request.prompt is not None:
        return request.prompt
    return "\n\n".join(m.content for m in request.messages)


def sent_text(request: CompletionRequest, completion_style: bool) -> str:
    """The text a backend of that style is sent: the completion prompt, or the messages."""
    if not completion_style and request.messages:
        return "\n\n".join(m.content for m in request.messages)
    return request_text(request)


def split_question(text: str) -> tuple[str, str]:
    """(material, question): the question is the line after the last `Question:`; the
    material is everything else (a chat prompt puts the question first)."""
    head, sep, tail = text.rpartition("Question:")
    if not sep:
        return text, ""
    question, _, rest = tail.partition("\n")
    return head + rest, question


def capped_reply(request: CompletionRequest, text: str) -> tuple[str, str]:
    """(`text` cut at the request's first stop sequence and at `max_tokens` words, the finish
    reason: `length` where the cap cut it, else `stop`), as a fake server answers."""
    for stop in request.stop:
        if stop and stop in text:
            text = text[: text.index(stop)]
    words = text.split()
    if len(words) > request.max_tokens:
        return " ".join(words[: request.max_tokens]), "length"
    return text, "stop"


def overlap_rule(
    request: CompletionRequest, *, max_sentences: int | None = 3, completion_style: bool = True
) -> str:
    """Sentences of the prompt sharing the most content words with its question (at most
    `max_sentences`; None: every one, in text order)."""
    text = sent_text(request, completion_style)
    if not completion_style and request.messages:  # the instructions are not material
        text = "\n\n".join(m.content for m in request.messages if m.role != "system")
    material, question = split_question(text)
    wanted = content_words(question)
    sentences = [s.strip() for s in _SENTENCE.findall(material) if s.strip()]
    if not wanted:
        return " ".join(sentences[:max_sentences])
    scored = [(len(content_words(s) & wanted), i, s) for i, s in enumerate(sentences)]
    best = sorted((item for item in scored if item[0] > 0), key=lambda t: (-t[0], t[1]))
    chosen = sorted(best if max_sentences is None else best[:max_sentences], key=lambda t: t[1])
    return " ".join(s for _, _, s in chosen)


def overlap_logprobs(request: CompletionRequest, text: str) -> tuple[TokenLogprob, ...]:
    """One entry per word of `text` (one empty token when `text` is empty), each with
    `request.logprobs` alternatives. The chosen token's probability grows with the share
    of question words found in the material: 0.25 for none, 0.95 for all (0.6 with no
    question), the rest spread evenly over the alternatives."""
    material, question = split_question(request_text(request))
    wanted = content_words(question)
    share = len(wanted & content_words(material)) / len(wanted) if wanted else 0.5
    top_p = 0.25 + 0.7 * share
    k = max(1, request.logprobs or 1)
    rest = (1.0 - top_p) / (k - 1) if k > 1 else 0.0
    entries = []
    for word in text.split() or [""]:
        alternatives = [(f"<alt{i}>", math.log(rest)) for i in range(1, k) if rest > 0]
        top = tuple(sorted([(word, math.log(top_p)), *alternatives], key=lambda t: -t[1]))
        entries.append(TokenLogprob(token=word, logprob=math.log(top_p), top=top))
    return tuple(entries)


class FakeModel:
    """Plays back `enqueue`d replies in order (text, or whole `Completion`s with their
    logprobs), then falls back to `rule`; logprobs for rule replies come from
    `logprobs_rule`."""

    completion_style = True

    def __init__(
        self,
        replies: Iterable[str | Completion] = (),
        *,
        rule: Rule | None = None,
        logprobs_rule: LogprobsRule | None = None,
        name: str = "fake",
        context_window: int = 8192,
        completion_style: bool = True,
        profile: ModelProfile | None = None,
        structured_output: bool = False,
    ) -> None:
        self.name = name
        self.structured_output = structured_output
        """Whether this fake claims to follow a request's JSON schema (its replies are
        whatever is scripted, or the rule's: a test scripts JSON when it sets this)."""
        self.context_window = context_window
        self.completion_style = completion_style
        self.profile = profile or default_profile(completion_style)
        self._queue: deque[str | Completion] = deque(replies)
        # A chat model stands in for a capable reader: it keeps every relevant sentence it
        # was given (the earlier notes carried forward); a base model quotes a few.
        self._rule: Rule = rule or self.default_rule
        self._logprobs_rule: LogprobsRule = logprobs_rule or overlap_logprobs
        self._lock = threading.Lock()
        self.history: list[CompletionRequest] = []

    def default_rule(self, request: CompletionRequest) -> str:
        """The reply with no script: `overlap_rule` over the text this model is sent. A chat
        model stands in for a capable reader and keeps every relevant sentence it was given
        (the earlier notes carried forward); a base model quotes three."""
        return overlap_rule(
            request, completion_style=self.completion_style, max_sentences=3 if self.completion_style else None
        )

    def sent(self, request: CompletionRequest) -> str:
        """The text of `request` as this model's rendering sends it (see `sent_text`)."""
        return sent_text(request, self.completion_style)

    def enqueue(self, *replies: str | Completion) -> None:
        with self._lock:
            self._queue.extend(replies)

    def complete(self, request: CompletionRequest) -> Completion:
        with self._lock:
            self.history.append(request)
            scripted = self._queue.popleft() if self._queue else None
        if isinstance(scripted, Completion):
            return scripted.model_copy(update={"model": self.name})
        text, finish = capped_reply(request, scripted if scripted is not None else self._rule(request))
        logprobs = None
        if request.logprobs is not None:
            logprobs = self._logprobs_rule(request, text)
        prompt_tokens = len(sent_text(request, self.completion_style).split())
        return Completion(
            text=text,
            model=self.name,
            finish_reason=finish,
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(text.split())),
            logprobs=logprobs,
        )

    async def acomplete(self, request: CompletionRequest) -> Completion:
        return self.complete(request)


def fake_from_settings(settings: Settings) -> FakeModel:
    """`--model fake`: the default rule, on the profile `settings` name (`base` by default)."""
    profile = resolved_profile(settings, completion_style=True)
    return FakeModel(
        context_window=settings.window or FAKE_WINDOW,
        completion_style=profile.completion_style,
        profile=profile,
    )


def register_backends(register: Register) -> None:
    register(FAKE_MODEL, fake_from_settings, description="deterministic replies from the prompt, for tests")
