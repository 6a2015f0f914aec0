"""The AgentWrite writer: writes one planned section, bounded in context and checked in length.

Section i is written from the instruction, the whole plan (section i marked) and the text so
far. The text so far is bounded: verbatim while it fits the window, otherwise a rolling
summary of the earlier sections (their lead sentences, oldest dropped first) plus the last
sections verbatim. Every answer is repaired (repeated sentences and phrase loops cut) before
its length is counted the LongBench-Write way; a section under CONTINUE_BELOW of its budget is
continued (each call asks for enough tokens to reach AIM of it), up to a bounded number of
calls; a call that adds nothing is a stall, retried with a paragraph opener the section has not
used yet. One over TRIM_ABOVE is trimmed at a sentence boundary. Everything kept is the model's
own text that passed the repetition filter (an opener stays only when the model wrote on from
it). A section stops early when its prompt no longer fits the window or its text grows in
bytes rather than words. A section that stays empty raises PipelineError, or (required=False,
as the pipeline asks) comes back empty for its budget to be carried on: no error text or
placeholder ever becomes part of the piece.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from ..errors import ContextLengthExceeded, EmptyResponse, PipelineError
from ..llm.base import CompletionRequest, Model, RunUsage
from ..llm.profiles import ModelProfile, profile_of
from ..prompts import load_prompt
from ..tokens import count_tokens
from .cleaning import strip_reasoning
from .length import (
    count_words,
    drop_unfinished_sentence,
    ends_mid_sentence,
    trim_to_words,
)
from .plan import Plan
from .repetition import RepetitionFilter, sentence_keys
from .section_pieces import (
    ends_in_half_sentence,
    finished_piece,
    join_continuation,
    next_opener,
    strip_echoes,
)
from .writing_context import text_so_far

CONTINUE_BELOW = 0.95
"""A section shorter than this share of its budget is continued (LongWriter's models stop early).
Near the budget, not well under it: S_l punishes a shortfall harder than a surplus (0.83 of
the target and 1.3 of it both score 90), and sections that each stop short add up."""

AIM = 1.05
"""Each call asks for enough tokens to bring the section to this share of its budget."""

TRIM_ABOVE = 1.25
"""A section longer than this share of its budget is trimmed, at a sentence end, to TRIM_TO."""

TRIM_TO = 1.1

MAX_CONTINUATIONS = 8
"""Productive continuation calls per section at least; a longer budget allows more (one per
CONTINUATION_WORDS), so a model that will not write more cannot run on forever."""

CONTINUATION_WORDS = 25
"""Budget words per allowed continuation beyond MAX_CONTINUATIONS (a 270M base model often
adds one paragraph of ~25-50 words a call before it stops)."""

MAX_STALLS = 4
"""Calls in a row that add (almost) nothing before the writer gives up on lengthening a
section; each retry opens with another connective at a higher temperature (small base models
stall often). A productive call resets the count."""

MAX_BYTES_PER_WORD = 18
"""A section is no longer continued once its text passes this many bytes per budgeted word
(prose runs ~6): text that grows in digits and symbols rather than words would otherwise be
continued until its prompt overflows the window."""

MIN_GAIN = 3
"""Words a call must add, after repetition repair, to count as progress rather than a stall."""

TOKENS_PER_WORD = 1.4
"""Output tokens allowed per budgeted word: English runs ~1.3 tokens a word, plus headroom.
Not much more: a short section's first call otherwise overshoots by a third."""

TOKEN_HEADROOM = 24
"""Output tokens added to every call's limit (room to finish the last sentence)."""

WINDOW_MARGIN = 0.85
"""Share of the computed room actually used: our tokenizer is not the model's."""

HEADING_BYTES = 400
"""Bytes of one section heading in the text so far, at most (plan main points are capped)."""


class SectionDraft(BaseModel):
    """One written section and how it came to be."""

    model_config = ConfigDict(frozen=True)

    index: int
    text: str
    words: int
    budget: int
    calls: int
    continuations: int = 0
    trimmed: bool = False
    repaired: bool = False


class WriterAgent:
    """Writes section i of a plan with length control; holds no state between sections."""

    def __init__(
        self,
        model: Model,
        *,
        window: int | None = None,
        continue_below: float = CONTINUE_BELOW,
        trim_above: float = TRIM_ABOVE,
        max_continuations: int = MAX_CONTINUATIONS,
    ) -> None:
        self.model = model
        self.window = window or model.context_window
        self.continue_below = continue_below
        self.trim_above = trim_above
        self.max_continuations = max_continuations
        self.template = load_prompt("write_section")
        self.profile: ModelProfile = profile_of(model)
        self.usage = RunUsage()

    def _request(
        self,
        plan: Plan,
        index: int,
        budget: int,
        written: Sequence[str],
        partial: str,
        max_tokens: int,
    ) -> CompletionRequest:
        section = plan.sections[index]
        around = None
        values = {
            "instruction": plan.instruction.strip(),
            "count": len(plan.sections),
            "target": plan.target_words,
            "number": index + 1,
            "main_point": section.main_point,
            "words": budget,
            "partial": partial,
            "partial_note": (
                f"\nThe section so far (continue it from where it stops, do not repeat it):\n{partial}"
                if partial
                else ""
            ),
        }

        def render(context_text: str, context_plain: str, around: int | None) -> CompletionRequest:
            note = f"The text so far:\n{context_plain}\n" if context_plain else ""
            return self.template.request(
                max_tokens=max_tokens + self.profile.reasoning_tokens,
                base_stops=self.profile.base_stops,
                plan=plan.outline(None if around is None else index, around=around).replace("-> ", "   "),
                marked_plan=plan.outline(index, around=around),
                context_text=context_text,
                context_note=note,
                **values,
            )

        empty = render("", "", around)
        if self.profile.completion_style:
            empty_text = empty.prompt or ""
        else:
            empty_text = "\n".join(m.content for m in empty.messages)
        # A token is at least one byte: bytes bound tokens from above, so while the bytes fit
        # there is no need to count (the common case, and counting costs ~1 ms a call).
        room = int((self.window - len(empty_text.encode()) - max_tokens) * WINDOW_MARGIN)
        overhead = None
        if room < HEADING_BYTES * len(written) + sum(len(w.encode()) for w in written):
            overhead = count_tokens(empty_text)
            room = int((self.window - overhead - max_tokens) * WINDOW_MARGIN)
        if room < 64 and len(plan.sections) > 12:
            around = 5
            empty = render("", "", around)
            overhead = count_tokens(empty.prompt or "")
            room = int((self.window - overhead - max_tokens) * WINDOW_MARGIN)
        if room < 16:
            raise PipelineError(
                f"window of {self.window} tokens leaves no room for section {index + 1} "
                f"({overhead} prompt tokens, {max_tokens} reserved for output)",
                stage="write",
            )
        context_text, context_plain = text_so_far(plan, written, room)
        return render(context_text, context_plain, around)

    async def awrite(
        self,
        plan: Plan,
        index: int,
        written: Sequence[str],
        *,
        budget: int | None = None,
        required: bool = True,
    ) -> SectionDraft:
        """Section `index` (0-based) of `plan`, after the sections `written` so far.

        `budget` overrides the plan's word budget (the pipeline carries earlier sections'
        surplus or shortfall forward). A section the model leaves empty after all its retries
        raises PipelineError when `required`, else comes back empty (words 0), so the caller
        can hand its budget on to the next section instead of losing the whole piece."""
        budget = budget or plan.sections[index].words
        earlier = set().union(*(sentence_keys(t) for t in written)) if written else set()
        recent = sentence_keys(written[-1]) if written else frozenset()  # loops are local
        repetition = RepetitionFilter(earlier, recent)
        allowed = max(self.max_continuations, budget // CONTINUATION_WORDS)
        text = ""
        calls = continuations = stalls = 0
        last_finish: str | None = None
        repaired = trimmed = False
        while True:
            remaining = max(int(AIM * budget) - count_words(text), budget // 4, 16)
            max_tokens = int(remaining * TOKENS_PER_WORD) + TOKEN_HEADROOM
            # After a stall on a started section, open a new paragraph with a connective: a base
            # model that stopped at its paragraph's end (or wanted to start the next section)
            # carries on from "Moreover," where it would not from a bare full stop.
            # The same when the last call ended by choice (a stop sequence), not by its limit.
            # A section still empty after a stall is started with an opener too.
            # A chat model is asked to continue the section as it stands: no words are put
            # in its mouth (its profile has no openers).
            reopen = self.profile.writer_openers and (stalls > 0 or (bool(text) and last_finish != "length"))
            cue = ("\n\n" if text else "") + next_opener(text, calls) if reopen else ""
            request = self._request(plan, index, budget, written, text + cue, max_tokens)
            if stalls:  # sampled, with a seed per call so that a rerun writes the same words
                request = request.model_copy(update={"temperature": 0.8, "seed": calls})
            calls += 1
            try:
                completion = await self.model.acomplete(request)
            except ContextLengthExceeded:
                # Our token estimate is not the model's (digits, tables): the section so far
                # no longer fits. Keep what is written; later sections carry the rest.
                break
            except EmptyResponse:
                last_finish = "stop"
                stalls += 1
                if stalls > MAX_STALLS:
                    break
                continue
            self.usage.add(completion)
            last_finish = completion.finish_reason
            reply = strip_reasoning(completion.text)
            if self.profile.repair_output:
                reply = strip_echoes(reply)
            elif not text:
                reply = reply.lstrip()
            piece = finished_piece(cue, reply, completion.finish_reason)
            if piece and ends_mid_sentence(piece):
                last_finish = "length"  # one unfinished sentence: the next call finishes it
            joined = join_continuation(text, piece)
            # On every profile: a repeated sentence or a phrase loop is never the model's good
            # output, and counting it as progress would let a looping model fill its budget.
            combined = repetition.repair(joined)
            if len(combined) < len(joined.strip()):
                repaired = True
            # Progress is what the model wrote: the opener we cued with does not count.
            gained = count_words(combined) - count_words(text) - (count_words(cue) if piece else 0)
            if gained < MIN_GAIN:
                stalls += 1
            else:
                text = combined
                stalls = 0
            words = count_words(text)
            if words >= self.continue_below * budget:
                break
            if stalls > MAX_STALLS or continuations >= allowed:
                break
            if len(text.encode()) > MAX_BYTES_PER_WORD * budget:
                break  # growing in bytes, not words (numbers, tables): not prose to lengthen
            if gained >= MIN_GAIN:
                continuations += 1
        if count_words(text) > self.trim_above * budget:
            text = trim_to_words(text, int(TRIM_TO * budget))
            trimmed = True
        if ends_in_half_sentence(text) and count_words(drop_unfinished_sentence(text)):
            text = drop_unfinished_sentence(text)
        text = text.strip()
        words = count_words(text)
        if words == 0 and required:
            raise PipelineError(
                f"section {index + 1} of {len(plan.sections)} is still empty after {calls} calls",
                stage="write",
            )
        return SectionDraft(
            index=index,
            text=text,
            words=words,
            budget=budget,
            calls=calls,
            continuations=continuations,
            trimmed=trimmed,
            repaired=repaired,
        )
