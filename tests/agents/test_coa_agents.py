"""Chain-of-Agents worker and manager on their own, with the fake model."""

from __future__ import annotations

import itertools

import pytest

from longdoc.agents.cleaning import clean_output
from longdoc.agents.evidence import Evidence, select_evidence
from longdoc.agents.manager import ManagerAgent
from longdoc.agents.notes import NoteEntry, Notes, render_entries
from longdoc.agents.repetition import repair_repetition, sentence_keys
from longdoc.agents.worker import WorkerAgent
from longdoc.documents import Chunk, Document, LineIndex
from longdoc.llm.fake import FakeModel
from longdoc.text import sentence_spans
from longdoc.tokens import token_counter

COUNT = token_counter()
TEXT = (
    "Mme. Vauquer keeps a boarding house in Paris.\n"
    "The passkey is 71432.\n"
    "Eugene studies law and writes to his mother. The weather is grey.\n"
)


def chunk_of(text: str = TEXT, path: str = "notes.txt", start: int = 0, **meta) -> tuple[Document, Chunk]:
    doc = Document.from_text(text, path=path)
    lines = LineIndex(text)
    return doc, Chunk(doc_id=doc.id, index=0, start=start, end=len(text), text=text[start:],
                      tokens=COUNT(text[start:]), lines=lines.span(start, len(text)), meta={"path": path, **meta})


def worker(model, mode="question", cap=300) -> WorkerAgent:
    return WorkerAgent(model, mode=mode, notes_cap=cap, max_tokens=64, counter=COUNT, window=4096)


def test_worker_keeps_verbatim_evidence_with_real_offsets():
    doc, chunk = chunk_of()
    result = worker(FakeModel(["The passkey is 71432."])).run(chunk, Notes(), question="What is the passkey?")
    evidence = [ev for entry in result.entries for ev in entry.evidence]
    assert [ev.text for ev in evidence] == ["The passkey is 71432."]
    assert doc.text[evidence[0].start : evidence[0].end] == "The passkey is 71432."
    assert evidence[0].lines == (2, 2)
    assert "71432" in result.notes.text


def test_an_invented_note_is_dropped_on_base_and_kept_as_written_on_instruct(rendering):
    _, chunk = chunk_of()
    invented = "The passkey is 99999, hidden under the mat."
    result = worker(FakeModel([invented])).run(chunk, Notes(), question="Where is the key hidden?")
    if rendering == "completion":  # a base model's invention is not passed on
        assert result.entries[0].note == ""
        assert "99999" not in result.notes.text
    else:  # a chat model's notes are its own: passed on whole, never rewritten
        assert result.notes.text == invented


def test_a_grounded_note_is_kept_and_prior_notes_are_not_repeated(rendering):
    _, chunk = chunk_of()
    agent = worker(FakeModel(["Eugene studies law in Paris.", "Eugene studies law in Paris."]))
    first = agent.run(chunk, Notes(), question="What does Eugene study?")
    assert first.entries[0].note == "Eugene studies law in Paris."
    second = agent.run(chunk, first.notes, question="What does Eugene study?")
    if rendering == "completion":
        assert second.entries[0].note == ""  # already in the notes
    else:  # the chat worker's notes replace the earlier ones: said once, as it wrote them
        assert second.notes.text == "Eugene studies law in Paris."
        # beside them, for citations: the sentence of the chunk they draw on
        evidence = [ev.text for entry in second.notes.entries for ev in entry.evidence]
        assert evidence and all("Eugene studies law" in text for text in evidence)


def test_the_notes_never_exceed_their_cap():
    notes = Notes()
    agent = worker(FakeModel(rule=lambda r: "Eugene writes to his mother in Paris."), cap=120)
    for i in range(12):
        _, chunk = chunk_of(TEXT.replace("71432", str(71432 + i)))
        notes = agent.run(chunk, notes, question="What is the passkey? What does Eugene write?").notes
        assert COUNT(notes.text) <= 120


def test_summary_caps_share_room_between_entries():
    entries = tuple(
        NoteEntry(chunk=i, source="book.txt", lines=(i, i), note=f"Chapter {i} tells how Eugene met person {i}.")
        for i in range(30)
    )
    kept, text = render_entries(entries, cap=200, counter=COUNT, mode="book")
    assert COUNT(text) <= 200
    assert kept[0].chunk == 0  # the first chapters are not pushed out by the last


def test_summary_notes_thinned_step_by_step_still_cover_the_whole_text():
    notes = Notes()
    for i in range(1, 61):  # sixty parts of a long book, each adding a note
        entry = NoteEntry(chunk=i, source="book.txt", position=i, lines=(i, i),
                          note=f"Part {i} tells how Eugene met person {i}.")
        notes = notes.add(entry, cap=200, counter=COUNT, mode="book")
        assert COUNT(notes.text) <= 200
    kept = [e.position for e in notes.entries]
    assert kept[0] == 1 and kept[-1] == 60  # the opening and the ending both stay
    gaps = [b - a for a, b in itertools.pairwise(kept)]
    assert max(gaps) <= 3 * 59 / (len(kept) - 1)  # no stretch of the book is lost


def test_a_summary_worker_reads_the_latest_entries_within_its_view():
    entries = tuple(
        NoteEntry(chunk=i, source="book.txt", lines=(i, i), note=f"Chapter {i} tells how Eugene met person {i}.")
        for i in range(12)
    )
    kept, text = render_entries(entries, cap=400, counter=COUNT, mode="book")
    notes = Notes(entries=kept, text=text, tokens=COUNT(text))
    assert notes.recent(400, COUNT) == text  # the whole notes when they fit
    view = notes.recent(45, COUNT)
    assert COUNT(view) <= 45
    assert "person 11" in view and "person 0." not in view
    if "person 10" in view:  # older entries, when they fit, come first, in reading order
        assert view.index("person 10") < view.index("person 11")


def test_a_summary_worker_reads_less_but_passes_on_all_its_notes():
    _, chunk = chunk_of()
    agent = WorkerAgent(FakeModel(rule=lambda r: "Eugene writes to his mother."), mode="book",
                        notes_cap=400, max_tokens=64, counter=COUNT, window=4096, view_cap=40)
    notes = Notes()
    for i in range(6):
        _, chunk = chunk_of(TEXT.replace("71432", str(71432 + i)))
        result = agent.run(chunk, notes)
        notes = result.notes
    shown = agent.model.history[-1].prompt.split("Notes from earlier parts:\n", 1)[1].split("\n\n", 1)[0]
    assert COUNT(shown) <= 40
    assert COUNT(notes.text) > 40 and len(notes.entries) == 6


def test_sentence_numbers_a_base_model_adds_are_dropped():
    raw = "The house is a place where the poor sleep. 2. It was built for it; 3) it stands. He paid 12. 5 francs."
    assert clean_output(raw) == "The house is a place where the poor sleep. It was built for it; it stands. He paid 12. 5 francs."


def test_repeated_sentences_after_an_abbreviation_leave_no_fragment():
    earlier = sentence_keys("Mme. Vauquer keeps a lodging house in Paris.")
    assert repair_repetition("Mme. Vauquer keeps a lodging house in Paris. Goriot pays.", earlier=earlier) == "Goriot pays."
    assert clean_output("The blinds are drawn awry. Its walls are yellow. Mme.", truncated=True) == (
        "The blinds are drawn awry. Its walls are yellow."
    )


def test_bundled_chunks_each_get_their_entry():
    _, first = chunk_of("def add(a, b):\n    return a + b\n", path="a.py", language="python")
    _, second = chunk_of('"""Subtraction."""\ndef sub(a, b):\n    return a - b\n', path="b.py", language="python")
    second = second.model_copy(update={"index": 0, "doc_id": "b.py"})
    model = FakeModel(["It adds and subtracts."])
    result = worker(model, mode="repository").run([first, second], Notes())
    assert [e.source for e in result.entries] == ["a.py", "b.py"]
    assert "=== a.py, lines 1-2 ===" in model.sent(model.history[0])
    if model.completion_style:  # the pipeline's own quotes carry a base model's notes
        assert "def sub(a, b):" in result.notes.text
    else:  # a chat model's note is passed on as it wrote it
        assert "It adds and subtracts." in result.notes.text


def test_repository_evidence_is_the_public_surface():
    code = '"""Cache of responses."""\nimport os\n\nclass Cache:\n    def get(self):\n        pass\n    def _hidden(self):\n        pass\n'
    _, chunk = chunk_of(code, path="cache.py", language="python")
    texts = [ev.text for ev in select_evidence(chunk, mode="repository")]
    assert texts == ['"""Cache of responses."""', "class Cache:", "def get(self):"]


def test_sentences_do_not_break_after_abbreviations():
    text = "Mme. Vauquer was born a de Conflans. Mr. Goriot came in 1813. He paid well."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Mme. Vauquer was born a de Conflans.", "Mr. Goriot came in 1813.", "He paid well.",
    ]


def test_clean_output_strips_cues_echoes_loops_and_wrapping():
    raw = (
        "Answer: The house is\nin Paris. Its walls are very old. Its walls are very old. "
        "Its walls are very old.\nQuestion: What else?"
    )
    assert clean_output(raw) == "The house is in Paris. Its walls are very old."


def test_clean_output_drops_echoed_scaffolding_but_keeps_a_quoted_sentence():
    prompt = (
        "Text: The vault code is 4417. It was set in May.\n"
        "The secret passcode for the vault is 4417.\n"
        "Question: What is the secret passcode for the vault?\n"
        "Answer:"
    )
    raw = "Question: What is the secret passcode for the vault?\nThe secret passcode for the vault is 4417."
    assert clean_output(raw, prompt=prompt) == "The secret passcode for the vault is 4417."


def test_manager_answers_from_notes_and_falls_back_to_evidence_on_base_only(rendering):
    _, chunk = chunk_of()
    note = "" if rendering == "completion" else "- The passkey is 71432."
    notes = worker(FakeModel([note])).run(chunk, Notes(), question="What is the passkey?").notes
    unsupported = "A passkey opens cars and trucks everywhere."
    manager = ManagerAgent(FakeModel([unsupported]), mode="question",
                           max_tokens=64, counter=COUNT, notes_cap=1000, window=4096)
    result = manager.run([notes], question="What is the passkey?")
    assert result.grounded is False and result.raw == unsupported
    if rendering == "completion":
        assert result.fallback and result.answer == "The passkey is 71432."
    else:  # reported, never imposed
        assert not result.fallback and result.answer == unsupported
    good = ManagerAgent(FakeModel(["The passkey is 71432."]), mode="question", max_tokens=64,
                        counter=COUNT, notes_cap=1000, window=4096).run([notes], question="What is the passkey?")
    assert not good.fallback and good.grounded and good.answer == "The passkey is 71432."


def test_manager_merges_group_notes_within_its_cap():
    groups = []
    for g in range(3):
        entry = NoteEntry(chunk=g, source="book.txt", lines=(g, g), note=f"Part {g}: Eugene meets friend {g}.")
        groups.append(Notes().add(entry, cap=100, counter=COUNT, mode="book"))
    model = FakeModel(["Eugene meets three friends."])
    manager = ManagerAgent(model, mode="book", max_tokens=64, counter=COUNT, notes_cap=90, window=4096)
    result = manager.run(groups)
    assert "Part 1 of 3" in model.sent(model.history[0]) and "Part 3 of 3" in model.sent(model.history[0])
    assert COUNT(result.notes_text) <= 90


def test_a_reply_spent_on_thinking_is_an_error_with_its_hint_on_chat_and_never_evidence(rendering):
    from longdoc.errors import OutputLimitReached
    from longdoc.llm.base import Completion

    _, chunk = chunk_of()
    notes = worker(FakeModel(["The passkey is 71432."])).run(chunk, Notes(), question="What is the passkey?").notes
    thinking = Completion(text="<think>The user asks for the passkey. Let me look", model="m", finish_reason="length")
    manager = ManagerAgent(FakeModel([thinking]), mode="question", max_tokens=64, counter=COUNT,
                           notes_cap=1000, window=4096)
    if rendering == "chat":
        with pytest.raises(OutputLimitReached, match="--max-output"):
            manager.run([notes], question="What is the passkey?")
    else:  # a base model's empty answer is replaced, and says so
        result = manager.run([notes], question="What is the passkey?")
        assert result.fallback and result.answer == "The passkey is 71432."


def test_a_think_block_is_not_part_of_a_chat_answer(rendering):
    _, chunk = chunk_of()
    notes = worker(FakeModel(["The passkey is 71432."])).run(chunk, Notes(), question="What is the passkey?").notes
    reply = "<think>It is in the notes.</think>\n\nThe passkey is **71432**.\n- found in notes.txt"
    result = ManagerAgent(FakeModel([reply]), mode="question", max_tokens=64, counter=COUNT,
                          notes_cap=1000, window=4096).run([notes], question="What is the passkey?")
    if rendering == "chat":
        assert result.answer == "The passkey is **71432**.\n- found in notes.txt"
    assert "<think>" not in result.answer


PARAPHRASE_CHUNK = (
    "The shop kept long hours in winter. Its owner kept a ledger of every sale. "
    "Customers kept coming back for the bread. The violin that belonged to my grandmother "
    "sits wrapped in a wool blanket beneath the spare bed. A storm kept the ferries in port. "
    "The baker kept the ovens warm all night."
)


def test_question_evidence_keeps_a_paraphrased_answer_that_shares_no_words():
    _, chunk = chunk_of(PARAPHRASE_CHUNK)
    question = "Where is the fiddle inherited from a nan kept?"
    texts = [ev.text for ev in select_evidence(chunk, mode="question", query=question)]
    # four sentences share "kept" with the question; the one that answers it shares nothing
    assert any("violin" in t for t in texts) and len(texts) == 3


def test_question_evidence_without_a_question_or_relevance_keeps_nothing():
    _, chunk = chunk_of("The weather was mild. Nothing happened that week.")
    assert select_evidence(chunk, mode="question", query="") == []
    assert select_evidence(chunk, mode="question", query="What is the code of the tool locker?") == []


SHARED_WORD_CHUNKS = [
    f"In winter {i} the shop kept long hours. Its owner kept a ledger of sales {i}. The baker kept the ovens warm."
    for i in range(8)
]


def test_question_notes_keep_the_closest_answer_when_shared_words_fill_the_cap(rendering):
    """Eight chunks of sentences sharing "kept" with the question, and one paraphrased
    answer sharing nothing: the base path's notes keep the answer under a tight cap (the
    model's ungrounded note is dropped); a chat model's notes stay its own, whatever the
    evidence."""
    question = "Where is the fiddle inherited from a nan kept?"
    answer = "The violin that belonged to my grandmother sits wrapped in a wool blanket beneath the spare bed."
    texts = [*SHARED_WORD_CHUNKS[:3], f"The weather was mild. {answer} Nothing else happened.", *SHARED_WORD_CHUNKS[3:]]
    model = FakeModel(rule=lambda r: "No fiddle is mentioned.")
    agent = worker(model, cap=150)
    notes = Notes()
    for text in texts:
        _, chunk = chunk_of(text)
        notes = agent.run(chunk, notes, question=question).notes
        assert COUNT(notes.text) <= 150
    if rendering == "completion":
        assert answer in notes.text
        assert "kept" in notes.text  # the rest of the cap still goes to shared words
    else:  # a chat model's notes are its own, passed on as written
        assert notes.text == "No fiddle is mentioned." and not notes.quotes


def test_the_closest_sentences_go_first_only_in_quoted_question_notes():
    close = Evidence(text="The violin sits beneath the spare bed.", start=0, end=38, lines=(1, 1), score=0.5, similarity=0.45)
    shared = [
        Evidence(text=f"The shop kept its ledger number {i} open.", start=0, end=36, lines=(1, 1), score=3.0, similarity=0.1)
        for i in range(6)
    ]
    entries = (
        NoteEntry(chunk=0, source="a.txt", evidence=tuple(shared[:3]), relevance=3.0),
        NoteEntry(chunk=1, source="a.txt", evidence=(close,), relevance=0.5),
        NoteEntry(chunk=2, source="a.txt", evidence=tuple(shared[3:]), relevance=3.0),
    )
    cap = COUNT("[a.txt:1-1]\n- " + shared[0].text) * 2 + 4  # room for two pieces and a header
    _, text = render_entries(entries, cap=cap, counter=COUNT, mode="question")
    assert close.text in text
    _, text = render_entries(entries, cap=cap, counter=COUNT, mode="book")
    assert close.text not in text  # summaries share the cap by position, not by the question


def test_the_fallback_answer_quotes_the_closest_sentence_beside_the_best_scored():
    from longdoc.agents.extractive import question_answer

    close = Evidence(text="The violin sits beneath the spare bed.", start=0, end=38, lines=(1, 1), score=0.8, similarity=0.45)
    shared = [
        Evidence(text=f"The shop kept its ledger number {i} open.", start=0, end=36, lines=(1, 1), score=3.0 - i / 10, similarity=0.1)
        for i in range(3)
    ]
    entries = [NoteEntry(chunk=0, source="a.txt", evidence=(*shared, close))]
    assert question_answer(entries) == f"{shared[0].text} {close.text}"
    unrelated = close.model_copy(update={"similarity": 0.2})
    assert question_answer([NoteEntry(chunk=0, source="a.txt", evidence=(*shared, unrelated))]) == (
        f"{shared[0].text} {shared[1].text}"  # no sentence close in meaning: the two best by score
    )
