"""The notes a Chain-of-Agents worker passes on: its model-written note plus verbatim evidence.

A 270M base model cannot be trusted to copy facts into free-form notes, so the pipeline
carries the evidence itself: every worker adds one `NoteEntry` holding the model's short
note and the sentences of its chunk that the note relied on, selected verbatim by
lexical overlap (see `select_evidence`), each with its character offsets so that
citations point at real spans. `Notes.render` turns the entries into the text the next
worker reads, never longer than the notes cap.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ..text import content_words
from ..tokens import TokenCounter
from .evidence import SIMILAR_ENOUGH, Evidence, Mode, supports
from .fitting import longest_fitting

RECENT_ENTRIES = 3
"""Entries a summary worker's view of the notes draws on: the last few parts read."""

CLOSEST_KEPT = 3
"""Evidence sentences closest in meaning to the question that the notes keep first, whatever
their shared words: a paraphrased answer scores low on words, and in a long document many
sentences sharing a common word of the question ("during", "kept") would push it out.
Three leave room for a two-part answer and a near miss."""


class NoteEntry(BaseModel):
    """What one worker added: its chunk, the model's note and the evidence it kept."""

    model_config = ConfigDict(frozen=True)

    chunk: int
    source: str
    position: int = 0
    """Which worker of the run wrote it (1-based reading order across all documents)."""
    section: str | None = None
    lines: tuple[int, int] = (1, 1)
    note: str = ""
    evidence: tuple[Evidence, ...] = ()
    relevance: float = 0.0
    """How much this entry matters for the task (question overlap); orders what survives the cap."""

    def label(self) -> str:
        where = f"{self.source}:{self.lines[0]}-{self.lines[1]}"
        return f"{where} ({self.section})" if self.section else where


class Notes(BaseModel):
    """The running notes: entries in reading order, rendered within `cap` tokens."""

    model_config = ConfigDict(frozen=True)

    entries: tuple[NoteEntry, ...] = ()
    text: str = ""
    """The rendering the next worker (or the manager) reads."""
    tokens: int = 0
    quotes: bool = True
    """Whether the rendering shows each entry's evidence sentences beside its note (a base
    model's notes are too thin to pass on alone); False: the model's notes as written,
    the evidence kept for citations only."""

    def add(
        self, *new: NoteEntry, cap: int, counter: TokenCounter, mode: Mode, quotes: bool | None = None
    ) -> Notes:
        """These notes with the `new` entries appended, re-rendered within `cap` tokens."""
        quotes = self.quotes if quotes is None else quotes
        entries = (*self.entries, *new)
        kept, text = render_entries(entries, cap=cap, counter=counter, mode=mode, quotes=quotes)
        return Notes(entries=kept, text=text, tokens=counter(text) if text else 0, quotes=quotes)

    def rewritten(self, *new: NoteEntry, cap: int, counter: TokenCounter) -> Notes:
        """Notes a worker wrote anew, carrying forward what still matters (the Chain-of-Agents
        paper's communication unit): the note of one of the `new` entries is the whole new
        text, cut at a line end to `cap` tokens. Earlier entries stay for their citations,
        each keeping only the evidence the new notes still draw on."""
        note = next((e.note for e in new if e.note), "")
        text = trim_lines(note, cap, counter)
        words = content_words(text)
        earlier = []
        for old in self.entries:
            kept = tuple(ev for ev in old.evidence if supports(ev.text, words))
            if kept:
                earlier.append(old.model_copy(update={"note": "", "evidence": kept}))
        latest = [e.model_copy(update={"note": text if e.note else ""}) for e in new]
        return Notes(
            entries=(*earlier, *latest), text=text, tokens=counter(text) if text else 0, quotes=False
        )

    def view(self, cap: int, counter: TokenCounter, mode: Mode) -> str:
        """What a worker reads of the notes within `cap` tokens: for a question the most
        relevant pieces (the manager still reads them all), for a summary the latest."""
        if mode != "question":
            return self.recent(cap, counter)
        if self.tokens <= cap:
            return self.text
        return render_entries(self.entries, cap=cap, counter=counter, mode=mode, quotes=self.quotes)[1]

    def recent(self, cap: int, counter: TokenCounter) -> str:
        """The latest entries rendered within `cap` tokens: what a summary worker reads to
        know where the text stands (the whole notes still travel on to the manager).
        The latest entry's pieces are chosen first, then the one before it, and so on;
        what is chosen is rendered in reading order."""
        if self.tokens <= cap:
            return self.text
        latest = self.entries[-RECENT_ENTRIES:]
        return render_entries(
            latest, cap=cap, counter=counter, mode="book", newest_first=True, quotes=self.quotes
        )[1]


def _entry_items(entry: NoteEntry, mode: Mode, quotes: bool = True) -> list[tuple[float, int, str]]:
    """(priority, order within entry, text) for each piece of an entry; higher priority first."""
    items: list[tuple[float, int, str]] = []
    if entry.note:
        items.append((entry.relevance + 0.5, 0, entry.note))
    if quotes:
        for i, ev in enumerate(entry.evidence, start=1):
            items.append((ev.score, i, ev.text))
    return items


def _render(entries: tuple[NoteEntry, ...], chosen: dict[int, dict[int, str]], quotes: bool = True) -> str:
    blocks = []
    for e, entry in enumerate(entries):
        pieces = chosen.get(e)
        if pieces:
            if quotes:
                body = "\n".join(f"- {pieces[o]}" for o in sorted(pieces))
            else:  # the model's own notes, in its own format
                body = "\n".join(pieces[o] for o in sorted(pieces))
            blocks.append(f"[{entry.label()}]\n{body}")
    return "\n".join(blocks)


def trim_lines(text: str, tokens: int, counter: TokenCounter) -> str:
    """The longest run of whole lines of `text` within `tokens` tokens; when not even the
    first line fits, its longest word-boundary prefix ('' if none)."""
    if counter(text) <= tokens:
        return text
    lines = text.splitlines()
    kept = longest_fitting(len(lines), lambda k: counter("\n".join(lines[:k])) <= tokens)
    if kept:
        return "\n".join(lines[:kept]).rstrip()
    return _trim_to(lines[0], tokens, counter) if lines else ""


def _trim_to(text: str, tokens: int, counter: TokenCounter) -> str:
    """The longest word-boundary prefix of `text` within `tokens` tokens ('' if none)."""
    if counter(text) <= tokens:
        return text
    words = text.split()
    kept = longest_fitting(len(words), lambda k: counter(" ".join(words[:k]) + " …") <= tokens)
    return " ".join(words[:kept]) + " …" if kept else ""


MIN_PIECE_TOKENS = 12
"""A piece shortened below this says nothing useful; it is dropped instead."""


def _spread(
    entries: tuple[NoteEntry, ...], cap: int, counter: TokenCounter, mode: Mode, quotes: bool = True
) -> set[int]:
    """Which entries a summary's notes keep when not even one piece of each fits `cap`.

    Entries go one at a time, always the one whose neighbours lie closest together in the
    text (the densest stretch gives way first; the first and the latest entries stay), so
    that, however often the notes are thinned, they cover the whole text evenly and never
    lose its ending, as first come, first kept would.
    """
    costs: dict[int, int] = {}
    for e, entry in enumerate(entries):
        items = _entry_items(entry, mode, quotes)
        if items:
            first = min(items, key=lambda item: item[1])[2]
            costs[e] = counter(f"[{entry.label()}]") + counter(f"- {first}") + 2
    kept = sorted(costs)
    total = sum(costs.values())
    while total > cap and len(kept) > 2:
        gaps = [entries[kept[k + 1]].position - entries[kept[k - 1]].position for k in range(1, len(kept) - 1)]
        drop = kept.pop(1 + min(range(len(gaps)), key=gaps.__getitem__))
        total -= costs[drop]
    if total > cap and len(kept) == 2:
        kept.pop(0)
    return set(kept)


def _closest_evidence(entries: tuple[NoteEntry, ...], cap: int, counter: TokenCounter) -> set[tuple[int, int]]:
    """(entry, piece order) of the evidence sentences most similar in meaning to the
    question, among those similar enough to count (see `select_evidence`): at most
    CLOSEST_KEPT, within half the cap (the rest of it goes by score)."""
    similar = sorted(
        (
            (ev.similarity, e, i, ev.text)
            for e, entry in enumerate(entries)
            for i, ev in enumerate(entry.evidence, start=1)
            if ev.similarity >= SIMILAR_ENOUGH
        ),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    closest: set[tuple[int, int]] = set()
    room = cap // 2
    for _, e, i, text in similar[:CLOSEST_KEPT]:
        room -= counter(f"- {text}") + 1
        if room < 0:
            break
        closest.add((e, i))
    return closest


def render_entries(
    entries: tuple[NoteEntry, ...], *, cap: int, counter: TokenCounter, mode: Mode,
    newest_first: bool = False, quotes: bool = True,
) -> tuple[tuple[NoteEntry, ...], str]:
    """Choose what of `entries` fits `cap` tokens and render it in reading order.

    Question mode keeps the CLOSEST_KEPT sentences most similar in meaning to the question
    (within half the cap), then the pieces most relevant to it by score; summary modes share
    the cap fairly between entries (round robin: every entry's note, then every entry's first
    evidence, ...), so that the first chapters are not pushed out by the last ones. Piece
    costs are counted once each (linear in the notes, not quadratic); the final text is
    counted again and the least important piece dropped until it fits. Entries that keep
    no piece are dropped, so citations only name what the notes still hold.
    `newest_first` ranks by recency instead: the last entry's pieces in order, then the
    one before it (a summary worker's view of the latest notes).
    `quotes=False` renders the notes alone, as the model wrote them (a piece over the cap
    is cut at a line end), and leaves every kept entry's evidence as it was, for citations.
    """
    if cap <= 0 or not entries:
        return (), ""
    everyone = mode == "question" or newest_first
    spread = set(range(len(entries))) if everyone else _spread(entries, cap, counter, mode, quotes)
    ranked = mode == "question" and quotes and not newest_first
    closest = _closest_evidence(entries, cap, counter) if ranked else set()
    candidates: list[tuple[tuple, int, int, str]] = []
    for e, entry in enumerate(entries):
        if e not in spread:
            continue
        for rank, (priority, order, piece) in enumerate(_entry_items(entry, mode, quotes)):
            if newest_first:
                key: tuple = (-e, order)
            else:
                key = ((e, order) not in closest, -priority, e, order) if mode == "question" else (rank, e)
            candidates.append((key, e, order, piece))
    candidates.sort(key=lambda c: c[0])
    chosen: dict[int, dict[int, str]] = {}
    picked: list[tuple[int, int]] = []
    used = 0
    for _, e, order, piece in candidates:
        header = 0 if e in chosen else counter(f"[{entries[e].label()}]") + 1
        cost = counter(f"- {piece}") + 1
        if used + header + cost > cap:
            room = cap - used - header - 3
            trim = _trim_to if quotes else trim_lines
            piece = trim(piece, room, counter) if room >= MIN_PIECE_TOKENS else ""
            if not piece:
                continue
            cost = counter(f"- {piece}") + 1
        chosen.setdefault(e, {})[order] = piece
        picked.append((e, order))
        used += header + cost
    text = _render(entries, chosen, quotes)
    while picked and counter(text) > cap:
        e, order = picked.pop()
        del chosen[e][order]
        if not chosen[e]:
            del chosen[e]
        text = _render(entries, chosen, quotes)
    kept_entries = tuple(
        entry.model_copy(
            update={
                "note": chosen[e].get(0, ""),
                "evidence": entry.evidence if not quotes else tuple(
                    ev.model_copy(update={"text": chosen[e][i]})
                    for i, ev in enumerate(entry.evidence, start=1)
                    if i in chosen[e]
                ),
            }
        )
        for e, entry in enumerate(entries)
        if e in chosen
    )
    return kept_entries, text


def notes_from_dict(value: dict | None) -> Notes:
    return Notes.model_validate(value) if value else Notes()


__all__ = ["NoteEntry", "Notes", "notes_from_dict", "render_entries"]
