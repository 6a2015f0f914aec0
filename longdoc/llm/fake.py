"""A deterministic model for tests: scripted replies, or a rule computed from the prompt.

Every request is recorded in `history`. With neither script nor rule, the default rule
answers with the sentences of the prompt that share content words with its question
(the text after the last `Question:`), which is enough for pipeline tests to check that
evidence really flows from chunks through notes to the answer.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterable

from .base import Completion, CompletionRequest, TokenLogprob, Usage

Rule = Callable[[CompletionRequest], str]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_STOPWORDS = frozenset(
    "a an the of to in on at for and or but is are was were be been it its this that what "
    "which who whom whose when where why how do does did with by from as about into than "
    "then so not no yes i you he she we they them his her our their".split()
)


def request_text(request: CompletionRequest) -> str:
    """The text a base model would read: the completion prompt, else the messages joined."""
    if request.prompt is not None:
        return request.prompt
    return "\n\n".join(m.content for m in request.messages)


def content_words(text: str) -> set[str]:
    return {w for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in _STOPWORDS}


def overlap_rule(request: CompletionRequest, *, max_sentences: int = 3) -> str:
    """Sentences of the prompt sharing the most content words with its question."""
    text = request_text(request)
    head, sep, tail = text.rpartition("Question:")
    question = tail.split("\n", 1)[0] if sep else ""
    material = head if sep else text
    wanted = content_words(question)
    sentences = [s.strip() for s in _SENTENCE.findall(material) if s.strip()]
    if not wanted:
        return " ".join(sentences[:max_sentences])
    scored = [(len(content_words(s) & wanted), i, s) for i, s in enumerate(sentences)]
    best = sorted((item for item in scored if item[0] > 0), key=lambda t: (-t[0], t[1]))
    chosen = sorted(best[:max_sentences], key=lambda t: t[1])
    return " ".join(s for _, _, s in chosen)


class FakeModel:
    """Plays back `enqueue`d replies in order, then falls back to `rule`."""

    completion_style = True

    def __init__(
        self,
        replies: Iterable[str] = (),
        *,
        rule: Rule | None = None,
        name: str = "fake",
        context_window: int = 8192,
        completion_style: bool = True,
    ) -> None:
        self.name = name
        self.context_window = context_window
        self.completion_style = completion_style
        self._queue: deque[str] = deque(replies)
        self._rule: Rule = rule or overlap_rule
        self._lock = threading.Lock()
        self.history: list[CompletionRequest] = []

    def enqueue(self, *replies: str) -> None:
        with self._lock:
            self._queue.extend(replies)

    def complete(self, request: CompletionRequest) -> Completion:
        with self._lock:
            self.history.append(request)
            scripted = self._queue.popleft() if self._queue else None
        text = scripted if scripted is not None else self._rule(request)
        for stop in request.stop:
            if stop and stop in text:
                text = text[: text.index(stop)]
        words = text.split()
        finish = "stop"
        if len(words) > request.max_tokens:
            text, finish = " ".join(words[: request.max_tokens]), "length"
        logprobs = None
        if request.logprobs is not None:
            logprobs = tuple(
                TokenLogprob(token=w, logprob=-0.1, top=((w, -0.1),) * max(1, request.logprobs))
                for w in text.split()
            )
        prompt_tokens = len(request_text(request).split())
        return Completion(
            text=text,
            model=self.name,
            finish_reason=finish,
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(text.split())),
            logprobs=logprobs,
        )

    async def acomplete(self, request: CompletionRequest) -> Completion:
        return self.complete(request)
