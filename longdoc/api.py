"""The Python API of longdoc's main job: ask a question of, or summarize, long sources.

    import longdoc
    result = longdoc.ask("book.txt", "Who is Vautrin?")
    print(result.answer, result.citations)
    print(longdoc.summarize("path/to/repo", words=300).answer)

`source` is a path (str or Path), a list of paths, or `Document`s; to read a text you
hold in memory, pass `Document.from_text(text)`. A string is always a path, so a mistyped
file name is an error naming the file, never a "document" made of the file name. Strategies: `chain` (Chain-of-Agents, the
default), `hierarchical` (groups read concurrently, notes merged by the manager) and, for
questions, `xl3m` (segments scored for relevance by `scorer`, the best answered from).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from .aio import sync_entry
from .config import DEFAULT_SCORER, Settings
from .documents import Chunk, Document
from .errors import ConfigError, ModelUnavailable, SourceError
from .llm.base import Model
from .llm.profiles import profile_of
from .pipelines import chain as coa
from .results import AnswerResult

Source = str | Path | Document | Sequence[str | Path | Document]


def load_documents(source: Source) -> list[Document]:
    """The documents a source names: loaded paths and given documents."""
    if isinstance(source, Document):
        return [source]
    items = [source] if isinstance(source, str | Path) else list(source)
    documents = [item for item in items if isinstance(item, Document)]
    paths = [Path(item) for item in items if not isinstance(item, Document)]
    if paths:
        from .sources import load

        loaded = load(paths)
        documents.extend(loaded.documents)
    if not documents:
        raise SourceError("no readable document found", path=paths[0] if len(paths) == 1 else None)
    return documents


def _model_and_window(settings: Settings | None, model: Model | None) -> tuple[Settings, Model, int]:
    settings = settings or Settings.from_env()
    if model is None:
        from .llm import load_model

        model = load_model(settings)
    return settings, model, settings.window or model.context_window


def _task(mode: str, documents: Sequence[Document], *, question: str = "", words: int | None = None,
          focus: str | None = None) -> coa.ChainTask:
    if mode == "question":
        if not question.strip():
            raise ConfigError("the question is empty")
        return coa.ChainTask(mode="question", question=question.strip())
    if words is not None and words < 10:
        raise ConfigError(f"--words must be at least 10, got {words}")
    return coa.ChainTask(mode=coa.summary_mode(documents), words=words, focus=focus)


def _prepare(documents: list[Document], task: coa.ChainTask, strategy: str, window: int,
             chunks: Sequence[Chunk] | None, splitter: str, model: Model) -> coa.ChainRun:
    if strategy not in coa.STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; choose one of {', '.join(coa.STRATEGIES)}")
    return coa.prepare(
        documents, task, window=window, strategy=strategy, chunks=chunks, splitter=splitter,
        profile=profile_of(model),
    )


LOCAL_SUMMARY_BUDGET = 8_000
"""Document tokens a repository summary reads on an embedded model by default: three
calls and at most ~11k prompt tokens, about a minute of prompt reading on two free cores
for `local` (~280 prompt tokens/s), about 1.5 minutes for `local-instruct` (~120).
Larger repositories are condensed to their docs, outline and file heads (see
pipelines.condense); other models read everything."""


def _is_local(model: Model) -> bool:
    """`model` runs on this machine's CPU (an embedded model), so reading is slow and free."""
    from .llm.local import LOCAL_MODEL_NAME
    from .llm.local_instruct import INSTRUCT_MODEL_NAME

    return model.name in (LOCAL_MODEL_NAME, INSTRUCT_MODEL_NAME)


def _condensed(documents: list[Document], task: coa.ChainTask, model: Model, budget: int | None) -> list[Document]:
    """The documents a repository summary reads: all of them, or within `budget` tokens."""
    if task.mode != "repository":
        return documents
    if budget is None:
        budget = LOCAL_SUMMARY_BUDGET if _is_local(model) else 0
    if budget <= 0:
        return documents
    from .pipelines.condense import condense_repository

    return condense_repository(documents, budget)


async def _aread(
    source: Source, mode: str, *, question: str = "", words: int | None = None, focus: str | None = None,
    strategy: str, settings: Settings | None, model: Model | None, chunks: Sequence[Chunk] | None,
    splitter: str, progress: coa.ProgressCallback | None, budget: int | None = None,
) -> AnswerResult:
    documents = await asyncio.to_thread(load_documents, source)  # files are read off the loop
    task = _task(mode, documents, question=question, words=words, focus=focus)
    settings, model, window = _model_and_window(settings, model)
    if chunks is None:
        documents = _condensed(documents, task, model, budget)
    run = _prepare(documents, task, strategy, window, chunks, splitter, model)
    return await coa.aexecute(run, model, settings=settings, progress=progress)


async def aask(
    source: Source,
    question: str,
    *,
    strategy: str = "chain",
    settings: Settings | None = None,
    model: Model | None = None,
    chunks: Sequence[Chunk] | None = None,
    splitter: str = "auto",
    progress: coa.ProgressCallback | None = None,
    scorer: str = DEFAULT_SCORER,
) -> AnswerResult:
    """Answer `question` about `source` with Chain-of-Agents (or XL3M selection).

    `settings` default to the environment (the embedded model with no endpoint set);
    `model` overrides the one the settings name. `chunks` skips splitting (they must fit
    the budget). `progress` is called after every model call. `scorer` (xl3m only): a
    name `longdoc.retrieval.make_scorer` knows; the default fuses BM25 and the sentence
    encoder and calls no model. Cancelled, the run starts no further model call.
    """
    if strategy == "xl3m":
        return await _aask_xl3m(source, question, scorer=scorer, settings=settings, model=model)
    return await _aread(
        source, "question", question=question, strategy=strategy, settings=settings, model=model,
        chunks=chunks, splitter=splitter, progress=progress,
    )


async def asummarize(
    source: Source,
    *,
    words: int | None = None,
    focus: str | None = None,
    strategy: str = "chain",
    settings: Settings | None = None,
    model: Model | None = None,
    chunks: Sequence[Chunk] | None = None,
    splitter: str = "auto",
    progress: coa.ProgressCallback | None = None,
    budget: int | None = None,
) -> AnswerResult:
    """Summarize `source` in about `words` words (200 by default), optionally on a `focus`.

    A source with code is summarized as a repository (modules, responsibilities, public
    APIs, how parts connect); anything else as prose (events, characters, arguments,
    structure). `budget` caps the document tokens a repository summary reads (its docs,
    outline and file heads first); None means 8,000 on the embedded model and no cap
    elsewhere, 0 means no cap.
    """
    return await _aread(
        source, "summary", words=words, focus=focus, strategy=strategy, settings=settings,
        model=model, chunks=chunks, splitter=splitter, progress=progress, budget=budget,
    )


@sync_entry(aask)
def ask() -> AnswerResult:
    """Synchronous `aask` (see `longdoc.aio.run_sync`: a running event loop is fine)."""


@sync_entry(asummarize)
def summarize() -> AnswerResult:
    """Synchronous `asummarize` (see `longdoc.aio.run_sync`: a running event loop is fine)."""


async def _aask_xl3m(
    source: Source, question: str, *, scorer: str, settings: Settings | None, model: Model | None
) -> AnswerResult:
    from .pipelines.xl3m import axl3m
    from .retrieval.scorers import make_scorer

    documents = await asyncio.to_thread(load_documents, source)
    task = _task("question", documents, question=question)
    settings, model, window = _model_and_window(settings, model)
    chosen = make_scorer(scorer, model, concurrency=settings.concurrency)
    return await axl3m(documents, task.question, model, chosen, window=window)


def _plan_xl3m(documents: list[Document], question: str, scorer: str, settings: Settings | None,
               model: Model | None) -> coa.ChainPlan:
    from .pipelines.xl3m import plan_xl3m

    settings = settings or Settings.from_env()
    window = settings.window or _model_and_window(settings, model)[2]
    return plan_xl3m(documents, question, scorer, window=window)


def plan(
    source: Source,
    *,
    question: str | None = None,
    words: int | None = None,
    focus: str | None = None,
    strategy: str = "chain",
    settings: Settings | None = None,
    model: Model | None = None,
    splitter: str = "auto",
    budget: int | None = None,
    scorer: str = DEFAULT_SCORER,
) -> coa.ChainPlan:
    """What `ask` (with a question) or `summarize` would do: chunks, calls, prompt tokens.
    No model call is made (the model object is only asked its name and context window;
    the embedded model's server starts on the first call, not before)."""
    documents = load_documents(source)
    mode = "question" if question is not None else "summary"
    task = _task(mode, documents, question=question or "", words=words, focus=focus)
    if strategy == "xl3m" and mode == "question":
        return _plan_xl3m(documents, task.question, scorer, settings, model)
    try:
        settings, model, window = _model_and_window(settings, model)
    except ModelUnavailable as exc:
        raise ConfigError(
            f"a dry run needs the model's context window and could not ask the endpoint for it "
            f"({exc}); give it with --window N (Settings.window) to plan offline"
        ) from exc
    if mode == "summary":
        documents = _condensed(documents, task, model, budget)
    planned = _prepare(documents, task, strategy, window, None, splitter, model).plan()
    from .llm.catalog import known_price

    price = known_price(model.name) if not _is_local(model) else None
    if price is not None and planned.completion_tokens is not None:
        cost = (planned.prompt_tokens * price[0] + planned.completion_tokens * price[1]) / 1e6
        planned = planned.model_copy(update={"cost_usd": round(cost, 4)})
    return planned
