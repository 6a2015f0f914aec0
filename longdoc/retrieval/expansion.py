"""BM25 with the query expanded by the model's own guess of the answer (query expansion by
a generated answer, as in Query2doc, Wang et al. 2023, and HyDE, Gao et al. 2022): the model
answers the question without any passage, and the guess's words join the question's. A
paraphrased question shares few words with the passage that answers it; a guess, right or
wrong, tends to use the words such a passage would. One call per question, whatever the
input's length."""

from __future__ import annotations

from collections.abc import Sequence

from ..documents import Chunk
from ..errors import EmptyResponse
from ..llm.base import Model, RunUsage
from ..prompts import load_prompt
from .lexical import bm25_scores, terms

GUESS_TOKENS = 32
"""Enough for a one-sentence guess."""


class ExpandedLexicalScorer:
    """BM25 of the question's terms plus the terms of the model's guessed answer."""

    name = "expanded"
    lower_is_better = False

    def __init__(self, model: Model, *, guess_tokens: int = GUESS_TOKENS, k1: float = 1.5, b: float = 0.75) -> None:
        self.model = model
        self.guess_tokens = guess_tokens
        self.k1, self.b = k1, b
        self.template = load_prompt("answer_guess")
        self.usage = RunUsage()
        self._guesses: dict[str, str] = {}

    async def guess(self, question: str) -> str:
        """The model's answer to `question` with no passage (kept per question)."""
        if question not in self._guesses:
            request = self.template.request(max_tokens=self.guess_tokens, question=question)
            try:
                completion = await self.model.acomplete(request)
            except EmptyResponse:
                self.usage.calls += 1
                self._guesses[question] = ""
            else:
                self.usage.add(completion)
                self._guesses[question] = completion.text
        return self._guesses[question]

    def query_terms(self, question: str, guess: str) -> list[str]:
        return terms(question) + terms(guess)

    async def score(self, segments: Sequence[Chunk], question: str) -> list[float]:
        guess = await self.guess(question) if segments else ""
        query = self.query_terms(question, guess)
        return bm25_scores([terms(s.text) for s in segments], query, k1=self.k1, b=self.b)
