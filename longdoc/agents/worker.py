"""The Chain-of-Agents worker: reads one chunk with the notes so far and passes on new notes.

A worker is a plain object (prompt template + model in, `WorkerResult` out); it knows
nothing of graphs. Its new notes are the previous notes plus one `NoteEntry`: the
model's cleaned note on this chunk, kept only when it sticks to its material, and the
chunk's sentences it relied on, selected verbatim by the pipeline (see agents.notes).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from ..aio import run_sync
from ..documents import Chunk
from ..errors import ContextLengthExceeded, EmptyResponse, InvalidValue, OutputLimitReached
from ..llm.base import Completion, CompletionRequest, Model
from ..llm.profiles import ModelProfile, profile_of
from ..prompts import PromptTemplate, load_prompt
from ..text import content_words
from ..tokens import TokenCounter
from .cleaning import clean_reply
from .evidence import (
    Mode,
    entry_relevance,
    evidence_for_note,
    is_code,
    is_grounded,
    select_evidence,
)
from .notes import NoteEntry, Notes
from .reflow import reflow_prose
from .repetition import repair_repetition, sentence_keys

WORKER_PROMPTS: dict[str, str] = {
    "question": "worker_question",
    "book": "worker_book",
    "repository": "worker_repository",
}


COMPLETION_SEEDS: dict[str, str] = {"repository": "This module"}
"""Words the completion rendering starts the worker's note with: a base model asked to
describe code writes nothing, or drifts, unless the sentence is already begun for it.
(Prose cues end in ": " instead: without the space the model tends to write a blank line,
which is our stop sequence, and nothing else.)"""


def with_seed(seed: str, text: str) -> str:
    """The note as the model meant it: its seed words, then what it wrote after them."""
    if not seed or not text:
        return text
    joiner = "" if text[:1] in {"'", ",", ".", ";", ":"} else " "
    return f"{seed}{joiner}{text.lstrip()}"


def as_bundle(chunks: Chunk | Sequence[Chunk]) -> list[Chunk]:
    bundle = [chunks] if isinstance(chunks, Chunk) else list(chunks)
    if not bundle:
        raise InvalidValue("a worker needs at least one chunk to read", setting="chunks", value=bundle)
    return bundle


def material_text(chunk: Chunk) -> str:
    """A chunk's text as a model reads it: prose with its hard line wraps joined (fewer
    tokens, same words; see agents.reflow), code exactly as written."""
    return chunk.text if is_code(chunk) else reflow_prose(chunk.text)


def bundle_text(bundle: Sequence[Chunk]) -> str:
    """The material a worker reads: the chunk's text, or each bundled chunk under its label."""
    if len(bundle) == 1:
        return material_text(bundle[0])
    return "\n\n".join(f"=== {chunk_label(c)} ===\n{material_text(c)}" for c in bundle)


def bundle_label(bundle: Sequence[Chunk]) -> str:
    if len(bundle) == 1:
        return chunk_label(bundle[0])
    return f"{len(bundle)} files, {bundle[0].source} to {bundle[-1].source}"


def chunk_label(chunk: Chunk) -> str:
    """How a chunk is named in prompts and notes: its source and lines, and its section."""
    label = f"{chunk.source}, lines {chunk.lines[0]}-{chunk.lines[1]}"
    section = chunk.meta.get("section") or chunk.meta.get("symbol")
    return f"{label} ({section})" if section else label


def focus_values(focus: str | None) -> dict[str, str]:
    """Template values that add an optional focus to the summary prompts."""
    if not focus:
        return {"focus_instruction": "", "focus_cue": ""}
    return {
        "focus_instruction": f" Pay most attention to: {focus}.",
        "focus_cue": f", focusing on {focus}",
    }


def _empty(model: Model, exc: EmptyResponse, request: CompletionRequest) -> Completion:
    """An empty completion for a model that wrote nothing; on a chat profile, a reply cut by
    its token limit before any text (a reasoning model still thinking) is an error."""
    if exc.finish_reason == "length" and not profile_of(model).repair_output:
        raise spent_error(model, request) from exc
    return Completion(text="", model=model.name, finish_reason="empty")


def spent_error(model: Model, request: CompletionRequest) -> OutputLimitReached:
    return OutputLimitReached(
        f"{model.name} spent all {request.max_tokens} output tokens before writing an answer "
        "(a reasoning model thinking past its limit?); raise --max-output",
        model=model.name,
        max_tokens=request.max_tokens,
    )


def check_answered(model: Model, completion: Completion, text: str, request: CompletionRequest) -> None:
    """On a chat profile, a cleaned reply left empty by the token limit (all of it was
    `<think>`) is an error with its hint, never an empty answer to replace."""
    if not text and completion.finish_reason == "length" and not profile_of(model).repair_output:
        raise spent_error(model, request)


async def acomplete_or_empty(model: Model, request: CompletionRequest) -> Completion:
    """The model's completion; an empty one when the model wrote nothing at all (a base
    model may stop at once), which for an agent just means it added nothing."""
    try:
        return await model.acomplete(request)
    except EmptyResponse as exc:
        return _empty(model, exc, request)


def _same_words(text: str) -> str:
    return " ".join(text.lower().split()).strip(" .-")


def request_tokens(request: CompletionRequest, counter: TokenCounter) -> int:
    """Tokens of the longer of the request's two renderings (the one a backend may send)."""
    chat = sum(counter(m.content) + 4 for m in request.messages)
    completion = counter(request.prompt) if request.prompt is not None else 0
    return max(chat, completion)


def checked_request_tokens(
    request: CompletionRequest, counter: TokenCounter, window: int | None, *, agent: str, model: str
) -> int:
    """The request's prompt tokens; ContextLengthExceeded if prompt plus output exceed `window`."""
    tokens = request_tokens(request, counter)
    if window is not None and tokens + request.max_tokens > window:
        raise ContextLengthExceeded(
            f"{agent} prompt of {tokens} tokens plus {request.max_tokens} output tokens "
            f"exceeds the {window}-token window",
            model=model,
            prompt_tokens=tokens,
            window=window,
        )
    return tokens


class WorkerResult(BaseModel):
    """What one worker did: its new notes, the entry it added, and its model call."""

    model_config = ConfigDict(frozen=True)

    notes: Notes
    entries: tuple[NoteEntry, ...]
    """What this worker added: one entry per chunk it read."""
    raw: str
    """The model's text before cleaning (kept for --trace and debugging)."""
    completion: Completion
    prompt_tokens: int
    """The prompt's size by longdoc's own counter (the budget's unit)."""


class WorkerAgent:
    """One link of the chain. `notes_cap` bounds the notes it passes on, `view_cap` (when
    given) the part of them it reads itself (see `Notes.view`), `max_tokens` its own
    output; `window` (when given) is checked before every call."""

    def __init__(
        self,
        model: Model,
        *,
        mode: Mode,
        notes_cap: int,
        max_tokens: int,
        counter: TokenCounter,
        window: int | None = None,
        focus: str | None = None,
        template: PromptTemplate | None = None,
        view_cap: int | None = None,
    ) -> None:
        self.model = model
        self.mode: Mode = mode
        self.notes_cap = notes_cap
        self.view_cap = view_cap
        self.max_tokens = max_tokens
        self.counter = counter
        self.window = window
        self.focus = focus
        self.template = template or load_prompt(WORKER_PROMPTS[mode])
        self.profile: ModelProfile = profile_of(model)
        self.seed = COMPLETION_SEEDS.get(mode, "") if self.profile.completion_style else ""
        self.rewrites = mode == "question" and not self.profile.repair_output
        """Whether the worker writes the whole notes anew (a chat model, asked to carry the
        earlier notes forward), rather than adding an entry to them."""

    def request(
        self, chunks: Chunk | Sequence[Chunk], previous: Notes, *, question: str = "",
        position: int = 1, total: int = 1,
    ) -> CompletionRequest:
        bundle = as_bundle(chunks)
        shown = previous.text if self.view_cap is None else previous.view(self.view_cap, self.counter, self.mode)
        notes_block = f"Notes from earlier parts:\n{shown}\n\n" if shown else ""
        request = self.template.request(
            max_tokens=self.max_tokens + self.profile.reasoning_tokens,
            base_stops=self.profile.base_stops,
            question=question,
            notes=shown or "(none yet)",
            notes_block=notes_block,
            chunk=bundle_text(bundle),
            source=bundle_label(bundle),
            position=position,
            total=total,
            seed=self.seed,
            **focus_values(self.focus),
        )
        return request

    def _check_window(self, request: CompletionRequest) -> int:
        return checked_request_tokens(
            request, self.counter, self.window, agent="worker", model=self.model.name
        )

    def _finish(
        self, bundle: list[Chunk], previous: Notes, question: str, request: CompletionRequest,
        completion: Completion, prompt_tokens: int, position: int,
    ) -> WorkerResult:
        note = clean_reply(
            completion.text.rstrip() and with_seed(self.seed, completion.text),
            self.profile,
            prompt=request.prompt,
            max_tokens=self.notes_cap if self.rewrites else self.max_tokens,
            counter=self.counter,
            truncated=completion.finish_reason == "length",
        )
        check_answered(self.model, completion, note, request)
        query = question if self.mode == "question" else (self.focus or "")
        if self.profile.repair_output:
            note, found = self._base_note(bundle, previous, note, query)
        else:
            # The model's notes as written; the sentences they draw on are found in the
            # chunk, for citations, and never stand in for the notes.
            found = [evidence_for_note(c, note, query=query) for c in bundle]
        # The note goes with the chunk it draws on most (the only chunk, unless bundled).
        note_words = content_words(note)
        home = max(range(len(bundle)), key=lambda i: (len(content_words(bundle[i].text) & note_words), -i))
        entries = tuple(
            NoteEntry(
                chunk=chunk.index,
                source=chunk.source,
                position=position,
                section=chunk.meta.get("section") or chunk.meta.get("symbol"),
                lines=chunk.lines,
                note=note if i == home else "",
                evidence=tuple(evidence),
                relevance=entry_relevance(note if i == home else "", evidence, query),
            )
            for i, (chunk, evidence) in enumerate(zip(bundle, found, strict=True))
        )
        if self.profile.repair_output:
            notes = previous.add(*entries, cap=self.notes_cap, counter=self.counter, mode=self.mode)
        elif self.rewrites:
            # A worker that wrote nothing leaves the notes as they were: an empty rewrite
            # would erase what the workers before it found.
            notes = previous.rewritten(*entries, cap=self.notes_cap, counter=self.counter) if note else previous
        else:
            notes = previous.add(*entries, cap=self.notes_cap, counter=self.counter, mode=self.mode, quotes=False)
        return WorkerResult(
            notes=notes, entries=entries, raw=completion.text, completion=completion,
            prompt_tokens=prompt_tokens,
        )

    def _base_note(
        self, bundle: list[Chunk], previous: Notes, note: str, query: str
    ) -> tuple[str, list[list]]:
        """A base model's note, kept only when it sticks to its material and adds to the
        notes, and the evidence the pipeline selects itself (see agents.notes)."""
        if note and previous.text:
            # What the notes already say is not news: keep only the note's new sentences.
            note = repair_repetition(note, earlier=sentence_keys(previous.text))
        if note and not is_grounded(note, sources=[*(c.text for c in bundle), previous.text]):
            note = ""
        found = [select_evidence(c, mode=self.mode, query=query, note=note) for c in bundle]
        if note and any(_same_words(note) in _same_words(ev.text) for evs in found for ev in evs):
            note = ""  # the note only repeats a sentence the evidence already quotes
        return note, found

    def run(
        self, chunks: Chunk | Sequence[Chunk], previous: Notes, *, question: str = "",
        position: int = 1, total: int = 1,
    ) -> WorkerResult:
        """Synchronous `arun` (through `longdoc.aio.run_sync`: a running loop is fine)."""
        return run_sync(self.arun(chunks, previous, question=question, position=position, total=total))

    async def arun(
        self, chunks: Chunk | Sequence[Chunk], previous: Notes, *, question: str = "",
        position: int = 1, total: int = 1,
    ) -> WorkerResult:
        """Read `chunks` (one chunk, or a bundle of small ones) with the `previous` notes;
        return the new notes."""
        bundle = as_bundle(chunks)
        request = self.request(bundle, previous, question=question, position=position, total=total)
        tokens = self._check_window(request)
        completion = await acomplete_or_empty(self.model, request)
        return self._finish(bundle, previous, question, request, completion, tokens, position)
