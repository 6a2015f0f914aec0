"""Chain-of-Agents with the fake model: notes flow in order, budgets hold, runs resume."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import longdoc
from longdoc.agents.worker import request_tokens
from longdoc.config import Settings
from longdoc.documents import Chunk, Document, LineIndex
from longdoc.errors import ModelError, PipelineError
from longdoc.llm.fake import FakeModel
from longdoc.pipelines import chain as coa
from longdoc.pipelines.chain.budget import plan_budget
from longdoc.pipelines.chain.prepare import make_groups
from longdoc.tokens import count_tokens, token_counter

FILLER = (
    "The river bends twice before it reaches the old mill. Farmers bring their grain in autumn. "
    "The miller keeps a ledger of every sack. Children play by the water in summer."
)
QUESTION = "Which colour is each lantern painted, and what is the passkey?"


def write_story(tmp_path: Path, parts: int = 8, fact_at: int | None = 5) -> Path:
    """`parts` paragraphs, each with its own fact (`lantern number k ... colourk`), and the
    passkey in paragraph `fact_at`."""
    paragraphs = []
    for k in range(parts):
        body = f"The lantern number {k} is painted colour{k}. {FILLER}"
        if k == fact_at:
            body += " The passkey is 71432."
        paragraphs.append(body)
    path = tmp_path / "story.txt"
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return path


def paragraph_chunks(path: Path) -> tuple[Document, list[Chunk]]:
    """The document of `path` and one chunk per paragraph, offsets exact."""
    text = path.read_text(encoding="utf-8")
    doc = Document.from_text(text, path=path.name)
    lines = LineIndex(text)
    chunks: list[Chunk] = []
    pos = 0
    for paragraph in text.split("\n\n"):
        start = text.index(paragraph, pos)
        end = start + len(paragraph)
        pos = end
        if paragraph.strip():
            chunks.append(Chunk(
                doc_id=doc.id, index=len(chunks), start=start, end=end, text=paragraph,
                tokens=count_tokens(paragraph), lines=lines.span(start, end), meta={"path": path.name},
            ))
    return doc, chunks


def settings_in(tmp_path: Path, **overrides) -> Settings:
    return Settings.from_env(model="fake", cache_dir=tmp_path / "cache", **overrides)


def test_each_worker_reads_the_previous_notes_and_the_manager_the_last(tmp_path):
    doc, chunks = paragraph_chunks(write_story(tmp_path))
    model = FakeModel()
    result = longdoc.ask(doc, QUESTION, model=model, chunks=chunks, settings=settings_in(tmp_path))

    assert result.chunks == len(chunks) == 8
    assert len(model.history) == result.usage.calls == len(chunks) + 1
    assert len(result.notes) == len(chunks)
    for i in range(1, len(chunks)):
        assert result.notes[i - 1] in model.sent(model.history[i])
        assert chunks[i].text in model.sent(model.history[i])
    manager_prompt = model.sent(model.history[-1])
    assert result.notes[-1] in manager_prompt
    assert not any(chunk.text in manager_prompt for chunk in chunks)
    # The facts pile up in reading order and reach the answer.
    final = result.notes[-1]
    positions = [final.index(f"colour{k}") for k in range(8)]
    assert positions == sorted(positions)
    assert "71432" in final
    assert "colour0" in result.answer  # the fake manager quotes the notes it was given


def notes_shown(prompt: str) -> str:
    """The notes block of a summary worker's prompt, in either rendering."""
    if "Notes from earlier parts:\n" in prompt:  # completion
        return prompt.split("Notes from earlier parts:\n", 1)[1].rsplit("\n\nstory.txt", 1)[0]
    return prompt.split("Notes so far:\n", 1)[1].split("\n\nPart ", 1)[0]  # chat


def latest_lantern(request) -> str:
    """A summary worker that notes the last lantern fact it was given (its own part's)."""
    sent = request.prompt if request.prompt is not None else request.messages[-1].content
    facts = re.findall(r"The lantern number \d+ is painted colour\d+\.", sent)
    return facts[-1] if facts else "Nothing new."


def test_summary_workers_read_the_latest_notes_and_the_manager_all_of_them(tmp_path):
    doc, chunks = paragraph_chunks(write_story(tmp_path, parts=12))
    model = FakeModel(context_window=2048, rule=latest_lantern)
    result = longdoc.summarize(doc, model=model, chunks=chunks, settings=settings_in(tmp_path, window=2048))
    assert result.chunks == 12
    counter = token_counter()
    run = coa.prepare([doc], coa.ChainTask(mode="book"), window=2048, chunks=chunks)
    assert run.budget.worker_notes < run.budget.notes_cap
    assert len(model.history) == len(chunks) + 1
    for i in range(1, len(chunks)):
        prompt = model.sent(model.history[i])
        assert chunks[i].text in prompt
        if i > 1:  # the last part read is always in view (its lantern fact, at least)
            assert f"colour{i - 1}" in prompt
        assert counter(notes_shown(prompt)) <= run.budget.worker_notes
    manager_prompt = model.sent(model.history[-1])
    assert "colour0" in manager_prompt and "colour11" in manager_prompt


def test_a_gutenberg_books_header_and_licence_are_not_read(tmp_path):
    body = "\n\n".join(f"CHAPTER {k}\n\nThe lantern number {k} is painted colour{k}. {FILLER}" for k in range(1, 80))
    licence = "\n\n".join(["Section 6. Donations to the Project Gutenberg Literary Archive Foundation."] * 40)
    text = (
        "The Project Gutenberg EBook of Lanterns\n\nTitle: Lanterns\n\n"
        "*** START OF THIS PROJECT GUTENBERG EBOOK LANTERNS ***\n\n"
        f"{body}\n\n*** END OF THIS PROJECT GUTENBERG EBOOK LANTERNS ***\n\nSTART: FULL LICENSE\n\n{licence}\n"
    )
    path = tmp_path / "lanterns.txt"
    path.write_text(text, encoding="utf-8")
    model = FakeModel(context_window=2048)
    result = longdoc.summarize(path, model=model, settings=settings_in(tmp_path, window=2048))
    assert result.chunks >= 2
    workers = model.history[:-1]
    assert all("Gutenberg" not in model.sent(r) for r in workers)
    assert "colour1." in model.sent(workers[0]) and "colour79." in model.sent(workers[-1])
    for citation in result.citations:
        assert text.index("CHAPTER 1") <= citation.start < citation.end <= text.index("*** END OF")


def test_citations_point_at_real_spans(tmp_path):
    path = write_story(tmp_path)
    doc, chunks = paragraph_chunks(path)
    result = longdoc.ask(doc, "What is the passkey?", model=FakeModel(), chunks=chunks,
                         settings=settings_in(tmp_path))
    text = path.read_text(encoding="utf-8")
    lines = LineIndex(text)
    assert result.citations
    for citation in result.citations:
        assert citation.source == "story.txt"
        assert 0 <= citation.start < citation.end <= len(text)
        assert citation.lines == lines.span(citation.start, citation.end)
    quoted = [text[c.start : c.end] for c in result.citations]
    assert "The passkey is 71432." in quoted


@pytest.mark.parametrize("window", [2048, 4096, 8192, 32768, 131072])
def test_no_prompt_exceeds_the_window(tmp_path, window):
    counter = token_counter()
    sentence = "Lantern facts: the lantern number {k} is painted colour{k} near the mill. "
    needed = int(window * 2.5)
    per_sentence = counter(sentence.format(k=1000))
    body = "".join(sentence.format(k=k) for k in range(needed // per_sentence + 1))
    path = tmp_path / "long.txt"
    path.write_text(body, encoding="utf-8")

    def wordy(request):  # a worker that always writes as much as it may
        return " ".join(["colour lantern painted"] * request.max_tokens)

    model = FakeModel(rule=wordy, context_window=window)
    result = longdoc.ask(path, "Which colour is each lantern painted?", model=model,
                         settings=settings_in(tmp_path))
    assert result.chunks >= 2
    for request in model.history:
        assert request_tokens(request, counter) + request.max_tokens <= window


def test_budget_reserves_notes_and_output():
    budget = plan_budget(8192, instruction_tokens=150, query_tokens=20, manager_instruction_tokens=120)
    assert budget.chunk_tokens == 8192 - budget.safety - 150 - 20 - budget.worker_notes - budget.worker_output
    assert budget.worker_prompt_max + budget.worker_output + budget.safety == 8192
    # quoted question notes: workers read the most relevant share, the manager reads them all
    assert budget.notes_cap > budget.worker_notes
    rewritten = plan_budget(8192, instruction_tokens=150, query_tokens=20, manager_instruction_tokens=120,
                            rewrite_notes=True)
    assert rewritten.notes_cap == rewritten.worker_notes == budget.worker_notes  # a chat model's own notes
    summary = plan_budget(8192, instruction_tokens=150, query_tokens=20, manager_instruction_tokens=120,
                          summary=True)
    assert summary.notes_cap > rewritten.notes_cap > summary.worker_notes  # the manager reads more, workers less
    assert summary.chunk_tokens == 8192 - summary.safety - 150 - 20 - summary.worker_notes - summary.worker_output
    assert summary.worker_prompt_max + summary.worker_output + summary.safety == 8192


@pytest.mark.parametrize("window", [2048, 8192, 131072])
def test_no_summary_prompt_exceeds_the_window(tmp_path, window):
    counter = token_counter()
    paragraph = ("Eugene walks along the wrapped lines of the long book and meets Goriot on the stair\n"
                 "again, who tells him about his daughters and the balls they go to every week. ")
    path = tmp_path / "book.txt"
    path.write_text("\n\n".join([paragraph] * (window // 10)), encoding="utf-8")
    model = FakeModel(rule=lambda r: " ".join(["Eugene meets Goriot."] * r.max_tokens), context_window=window)
    result = longdoc.summarize(path, model=model, settings=settings_in(tmp_path))
    assert result.chunks >= 2
    for request in model.history:
        assert request_tokens(request, counter) + request.max_tokens <= window


@pytest.mark.parametrize("strategy", ["chain", "hierarchical"])
def test_a_crashed_run_resumes_without_repeating_completed_calls(tmp_path, strategy):
    doc, chunks = paragraph_chunks(write_story(tmp_path, parts=9))
    settings = settings_in(tmp_path, concurrency=2)
    crash_at = 5

    def crashing(request):
        if len(crashing_model.history) == crash_at:
            raise ModelError("injected failure", model="fake")
        return crashing_model.default_rule(request)

    crashing_model = FakeModel(rule=crashing)
    sent = crashing_model.sent
    with pytest.raises(ModelError):
        longdoc.ask(doc, QUESTION, strategy=strategy, model=crashing_model, chunks=chunks, settings=settings)
    crashed = sent(crashing_model.history[crash_at - 1])
    # Every other call of the crashed run completed (in `hierarchical`, calls of the same
    # round run concurrently with the one that failed).
    completed = [sent(r) for r in crashing_model.history if sent(r) != crashed]

    resumed_model = FakeModel()
    resumed = longdoc.ask(doc, QUESTION, strategy=strategy, model=resumed_model, chunks=chunks, settings=settings)
    again = [sent(r) for r in resumed_model.history]
    assert not set(completed) & set(again)
    assert crashed in again

    fresh_model = FakeModel()
    fresh = longdoc.ask(doc, QUESTION, strategy=strategy, model=fresh_model, chunks=chunks,
                        settings=settings_in(tmp_path / "other"))
    assert resumed.answer == fresh.answer
    assert resumed.notes == fresh.notes
    assert sorted(completed + again) == sorted(sent(r) for r in fresh_model.history)

    # A finished run, asked again, is answered from its checkpoint with no call at all.
    idle_model = FakeModel()
    assert longdoc.ask(doc, QUESTION, strategy=strategy, model=idle_model, chunks=chunks,
                       settings=settings).answer == fresh.answer
    assert idle_model.history == []


def test_hierarchical_reads_every_chunk_exactly_once(tmp_path):
    doc, chunks = paragraph_chunks(write_story(tmp_path, parts=10))
    model = FakeModel()
    result = longdoc.ask(doc, QUESTION, strategy="hierarchical", model=model, chunks=chunks,
                         settings=settings_in(tmp_path, concurrency=3))
    assert result.strategy == "hierarchical"
    workers, manager = model.history[:-1], model.history[-1]
    assert len(workers) == len(chunks) and result.usage.calls == len(chunks) + 1
    for chunk in chunks:
        assert sum(chunk.text in model.sent(request) for request in workers) == 1
    assert "Part 1 of" in model.sent(manager) and "Part 2 of" in model.sent(manager)
    assert "71432" in model.sent(manager)
    for k in range(10):  # every group's facts reach the manager
        assert f"colour{k}" in model.sent(manager)


def test_make_groups_partitions_in_order():
    for n in range(1, 60):
        groups = make_groups(n, "hierarchical", max_groups=6)
        assert [p for g in groups for p in g] == list(range(n))
        assert len(groups) <= 6
    assert make_groups(7, "chain", max_groups=6) == [list(range(7))]


def test_summary_mode_reads_in_order_and_summarizes(tmp_path, rendering):
    doc, chunks = paragraph_chunks(write_story(tmp_path, parts=5, fact_at=None))
    model = FakeModel()
    result = longdoc.summarize(doc, words=80, model=model, chunks=chunks, settings=settings_in(tmp_path))
    assert len(model.history) == len(chunks) + 1
    cue = "three sentences" if rendering == "completion" else "Write the notes on this part."
    assert cue in model.sent(model.history[0])  # the book worker's cue
    assert "about 80 words" in model.sent(model.history[-1])
    assert result.answer
    final = result.notes[-1]
    assert all(f"story.txt:{c.lines[0]}-{c.lines[1]}" in final for c in chunks)


def test_dry_run_plans_without_calling(tmp_path):
    path = write_story(tmp_path, parts=30)
    model = FakeModel(context_window=2048)
    plan = longdoc.api.plan(path, question="What is the passkey?", model=model,
                            settings=settings_in(tmp_path))
    assert model.history == []
    assert plan.calls == plan.chunks + 1 and plan.chunks >= 2
    assert plan.prompt_tokens >= plan.document_tokens


def test_a_chunk_over_the_budget_is_refused(tmp_path):
    doc, chunks = paragraph_chunks(write_story(tmp_path, parts=2))
    big = chunks[0].model_copy(update={"text": chunks[0].text * 200})
    with pytest.raises(PipelineError):
        coa.prepare([doc], coa.ChainTask(mode="question", question="q"), window=2048, chunks=[big])


def test_a_missing_path_is_an_error_naming_it_not_a_text(tmp_path):
    missing = tmp_path / "book.txt"
    with pytest.raises(longdoc.LongdocError, match=r"book\.txt"):
        longdoc.ask(str(missing), "Who is it?", model=FakeModel(), settings=settings_in(tmp_path))


def test_a_cancelled_run_starts_no_further_call_and_resumes_later(tmp_path):
    import asyncio
    import threading

    doc, chunks = paragraph_chunks(write_story(tmp_path, parts=6))
    settings = settings_in(tmp_path)
    run = coa.prepare([doc], coa.ChainTask(mode="question", question=QUESTION), window=2048, chunks=chunks)
    second_call, release = threading.Event(), threading.Event()

    def held_at_the_second_call(request):
        if len(model.history) == 2:
            second_call.set()
            release.wait(timeout=30)
        return model.default_rule(request)

    model = FakeModel(rule=held_at_the_second_call)

    async def cancel_during_the_second_call() -> None:
        task = asyncio.create_task(coa.aexecute(run, model, settings=settings))
        await asyncio.to_thread(second_call.wait, 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()  # the call in flight finishes; the graph must start no other

    asyncio.run(cancel_during_the_second_call())  # returns once the graph's thread has ended
    assert len(model.history) == 2

    resumed_model = FakeModel()
    resumed = coa.execute(run, resumed_model, settings=settings)
    assert len(resumed_model.history) == len(run.units) + 1 - 2  # the two finished calls are kept
    assert resumed.answer == coa.execute(run, FakeModel(), settings=settings_in(tmp_path / "fresh")).answer


def test_question_notes_reach_the_manager_whole_while_workers_read_the_most_relevant(tmp_path, rendering):
    """On a base model the quoted notes may outgrow what one worker reads: the workers read
    the most relevant share within their budget, the manager all of it. A chat model's
    notes are its own, rewritten within the workers' share."""
    doc, chunks = paragraph_chunks(write_story(tmp_path, parts=20, fact_at=2))
    model = FakeModel(context_window=2048)
    result = longdoc.ask(doc, QUESTION, model=model, chunks=chunks, settings=settings_in(tmp_path, window=2048))
    run = coa.prepare([doc], coa.ChainTask(mode="question", question=QUESTION), window=2048, chunks=chunks,
                      profile=model.profile)
    counter = token_counter()
    for request in model.history:
        assert request_tokens(request, counter) + request.max_tokens <= 2048
    if rendering == "chat":
        assert run.budget.notes_cap == run.budget.worker_notes
        return
    assert run.budget.worker_notes < run.budget.notes_cap
    final = result.notes[-1]
    assert counter(final) > run.budget.worker_notes  # more than any worker reads...
    manager_prompt = model.sent(model.history[-1])
    assert all(f"colour{k}" in manager_prompt for k in range(20)) and "71432" in manager_prompt  # ...all to the manager
    last_worker = model.sent(model.history[-2])
    assert "71432" in last_worker  # the answer found early stays in every worker's view
    assert not all(f"colour{k}" in last_worker for k in range(19))
