"""Chain-of-Agents benchmark.

(a) Fake model: prompt tokens sent per document token at 10k, 100k and 1M document tokens
    (target <= 1.3 and flat), and the framework's overhead per worker step (LangGraph plus
    the SQLite checkpoint written after every step; target < 5 ms), against an in-memory
    checkpointer.
(b) Embedded model (Gemma 3 270M via llama.cpp): summarize the opening of the book in
    ../shared/data/books/ with our chain and with LangChain's refine summarization
    (`load_summarize_chain(chain_type="refine")`), on the same chunks and the same model
    (LangChain calls our model object through a small adapter, so both reach the same
    embedded server with the same sampling settings), with response caches off.

    .venv/bin/python benchmarks/bench_chain.py [--skip-model] [--book-tokens N] [--window W]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import markdown_table, write_section  # noqa: E402

import longdoc  # noqa: E402
from longdoc.agents.worker import request_tokens  # noqa: E402
from longdoc.config import Settings  # noqa: E402
from longdoc.documents import Document  # noqa: E402
from longdoc.llm.base import CompletionRequest  # noqa: E402
from longdoc.llm.fake import FakeModel  # noqa: E402
from longdoc.pipelines import chain as coa  # noqa: E402
from longdoc.tokens import get_encoding, token_counter  # noqa: E402

BOOK = ROOT / ".." / "shared" / "data" / "books" / "gutenberg_1237_father_goriot.txt"
SIZES = (10_000, 100_000, 1_000_000)
QUESTION = "What does Eugene de Rastignac learn about Father Goriot's daughters?"


def book_document() -> Document:
    result = longdoc.load([str(BOOK)])
    return result.documents[0]


def text_of_tokens(base: str, tokens: int) -> str:
    """The first `tokens` tokens of `base` repeated as often as needed."""
    encoding = get_encoding()
    ids = encoding.encode_ordinary(base)
    repeats = tokens // len(ids) + 1
    return encoding.decode((ids * repeats)[:tokens])


def fake_scale(base: str) -> tuple[str, list[dict[str, Any]]]:
    counter = token_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:  # warm-up: imports and one-time caches
        warm = Document.from_text(text_of_tokens(base, 2000), path="warm.txt")
        longdoc.ask(warm, QUESTION, model=FakeModel(), settings=Settings.from_env(model="fake", cache_dir=Path(tmp)))
    for size in SIZES:
        text = text_of_tokens(base, size)
        doc = Document.from_text(text, path=f"book-{size // 1000}k.txt")
        row: dict[str, Any] = {"document_tokens": counter(text)}
        for label, cache in (("sqlite", True), ("memory", False)):
            with tempfile.TemporaryDirectory() as tmp:
                settings = Settings.from_env(model="fake", cache=cache, cache_dir=Path(tmp))
                model = FakeModel(context_window=8192)
                started = time.perf_counter()
                result = longdoc.ask(doc, QUESTION, model=model, settings=settings)
                wall = time.perf_counter() - started
            workers = result.usage.calls - 1
            inside = result.timings.get("workers_s", 0.0) + result.timings.get("manager_s", 0.0)
            overhead_ms = (result.timings["total_s"] - inside) / max(1, workers + 1) * 1000
            row[f"overhead_ms_{label}"] = overhead_ms
            if label == "sqlite":
                sent = sum(request_tokens(r, counter) for r in model.history)
                row.update(
                    chunks=result.chunks, calls=result.usage.calls, prompt_tokens_sent=sent,
                    ratio=sent / row["document_tokens"], wall_s=wall,
                )
        rows.append(row)
        print(f"fake {size}: {row}", file=sys.stderr)
    table = markdown_table(
        ["document tokens", "chunks", "calls", "prompt tokens sent", "sent / document",
         "overhead per step, SQLite checkpoints (ms)", "same, in-memory (ms)", "wall (s)"],
        [[r["document_tokens"], r["chunks"], r["calls"], r["prompt_tokens_sent"], round(r["ratio"], 3),
          round(r["overhead_ms_sqlite"], 2), round(r["overhead_ms_memory"], 2), round(r["wall_s"], 1)]
         for r in rows],
    )
    return table, rows


class _Meter:
    """Counts what a model object was asked: calls, server-reported and tiktoken tokens."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.counted_prompt_tokens = 0
        self.model_s = 0.0
        """Wall time spent inside model calls (the rest is the pipeline's own)."""
        self.load_avg = 0.0
        """The machine's 1-minute load average when this side finished."""
        self.counter = token_counter()
        self.name = model.name
        self.context_window = model.context_window
        self.completion_style = model.completion_style

    def sent_tokens(self, request: CompletionRequest) -> int:
        """Tokens of the rendering the backend sends: the completion prompt to a base model
        (the embedded one), the chat messages otherwise."""
        if self.completion_style and request.prompt is not None:
            return self.counter(request.prompt)
        return request_tokens(request, self.counter)

    def complete(self, request: CompletionRequest):
        # Counted before the call: a call that ends in EmptyResponse still read its prompt.
        self.calls += 1
        self.counted_prompt_tokens += self.sent_tokens(request)
        started = time.perf_counter()
        try:
            completion = self.model.complete(request)
        finally:
            self.model_s += time.perf_counter() - started
        self.prompt_tokens += completion.usage.prompt_tokens
        self.completion_tokens += completion.usage.completion_tokens
        return completion

    async def acomplete(self, request: CompletionRequest):
        return self.complete(request)


def langchain_adapter(model: Any, max_tokens: int):
    """A LangChain LLM that calls a longdoc model object with the completion rendering."""
    from langchain_core.language_models.llms import LLM

    class LongdocLLM(LLM):
        @property
        def _llm_type(self) -> str:
            return "longdoc"

        def _call(self, prompt: str, stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any) -> str:
            request = CompletionRequest(prompt=prompt, max_tokens=max_tokens, stop=tuple(stop or ()))
            try:
                return model.complete(request).text
            except longdoc.errors.EmptyResponse:
                return ""

    return LongdocLLM()


def embedded_side_by_side(
    book: Document, tokens: int, window: int, words: int, *, refine_first: bool = False
) -> tuple[str, dict]:
    from langchain_classic.chains.summarize import load_summarize_chain
    from langchain_core.documents import Document as LCDocument

    from longdoc.llm import load_model

    start = book.sections[3].start if len(book.sections) > 3 else 0  # the novel's first page
    encoding = get_encoding()
    if tokens:
        opening = encoding.decode(encoding.encode_ordinary(book.text[start:start + tokens * 8])[:tokens])
        doc = Document.from_text(opening, path="father_goriot_opening.txt")
    else:
        doc = Document.from_text(book.text[start:], path="father_goriot.txt")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(model="local", window=window, cache=False, cache_dir=Path(tmp))
        base = load_model(settings)
        run = coa.prepare([doc], coa.ChainTask(mode="book", words=words), window=window)
        chunks = run.chunks
        # Warm the server (model load) so neither side pays for it.
        base.complete(CompletionRequest(prompt="Hello", max_tokens=1))

        ours_model = _Meter(base)
        theirs_model = _Meter(base)

        def run_ours() -> tuple[str, float]:
            started = time.perf_counter()
            result = longdoc.summarize(
                doc, words=words, model=ours_model, settings=settings, chunks=chunks,
                progress=lambda e: print(f"ours: {e.stage} {e.done}/{e.total} {e.elapsed_s:.0f}s", file=sys.stderr),
            )
            seconds = time.perf_counter() - started
            ours_model.load_avg = os.getloadavg()[0]
            print(f"ours: {seconds:.0f}s {ours_model.calls} calls", file=sys.stderr)
            return result.answer, seconds

        def run_refine() -> tuple[str, float]:
            chain = load_summarize_chain(langchain_adapter(theirs_model, run.budget.manager_output), chain_type="refine")
            started = time.perf_counter()
            result = chain.invoke({"input_documents": [LCDocument(page_content=c.text) for c in chunks]})
            seconds = time.perf_counter() - started
            theirs_model.load_avg = os.getloadavg()[0]
            print(f"refine: {seconds:.0f}s {theirs_model.calls} calls", file=sys.stderr)
            return result["output_text"].strip(), seconds

        if refine_first:
            theirs, theirs_s = run_refine()
            ours, ours_s = run_ours()
        else:
            ours, ours_s = run_ours()
            theirs, theirs_s = run_refine()

    def row(name: str, meter: _Meter, seconds: float) -> list[object]:
        return [name, meter.calls, meter.prompt_tokens, meter.counted_prompt_tokens,
                meter.completion_tokens, round(seconds, 1), round(meter.model_s, 1), round(meter.load_avg, 2)]

    table = markdown_table(
        ["system", "calls", "prompt tokens (server)", "prompt tokens (tiktoken)", "completion tokens", "wall (s)",
         "in model calls (s)", "load avg after"],
        [row("longdoc chain (Chain-of-Agents)", ours_model, ours_s),
         row("LangChain refine (load_summarize_chain)", theirs_model, theirs_s)],
    )
    info = {
        "document_tokens": sum(c.tokens for c in chunks),
        "chunks": len(chunks),
        "chunk_tokens": run.budget.chunk_tokens,
        "ours": ours,
        "theirs": theirs,
    }
    return table, info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-model", action="store_true", help="only the fake-model part")
    parser.add_argument("--skip-fake", action="store_true", help="only the embedded-model part")
    parser.add_argument("--book-tokens", type=int, default=12_000,
                        help="tokens of the book's opening to summarize on the embedded model (0: the whole book)")
    parser.add_argument("--window", type=int, default=4096, help="agent window for part (b)")
    parser.add_argument("--words", type=int, default=150)
    parser.add_argument("--refine-first", action="store_true",
                        help="run LangChain's refine before our chain (to check the order does not decide)")
    args = parser.parse_args()
    if not BOOK.exists():
        print(f"no book at {BOOK}; nothing to measure", file=sys.stderr)
        return 1
    book = book_document()
    if not args.skip_fake:
        table, _ = fake_scale(book.text)
        report(
            "bench_chain_fake",
            "Chain-of-Agents (a), fake model: prompt-token overhead and framework overhead.\n\n"
            f"Question mode, 8,192-token window, the book's text repeated to size. Prompt tokens "
            f"counted with tiktoken o200k on the longer rendering of every request. Overhead per "
            f"step = wall time of the graph minus time inside the agents, per model call; it "
            f"includes each run's fixed cost (opening the SQLite file, compiling the graph, "
            f"reading the checkpoint), which dominates at 10k tokens (3 calls).\n\n{table}"
        )
    if not args.skip_model:
        table, info = embedded_side_by_side(book, args.book_tokens, args.window, args.words,
                                            refine_first=args.refine_first)
        scope = ("the opening of *Father Goriot*" if args.book_tokens
                 else "the whole of *Father Goriot*, from its first page to its last")
        order = "refine first" if args.refine_first else "ours first"
        report(
            "bench_chain_embedded",
            "Chain-of-Agents (b), embedded model: summarizing the book, side by side "
            "with LangChain's refine summarization.\n\n"
            f"Scope: {scope} ({info['document_tokens']:,} tokens), in {info['chunks']} chunks of at most {info['chunk_tokens']:,} "
            f"tokens ({args.window:,}-token agent window), the same chunks for both, response cache "
            f"off, one after the other on the same warm server ({order}). \"In model calls\" is the "
            f"wall time spent waiting for the model, the rest is each pipeline's own; the load "
            f"average shows whether other jobs shared the two cores.\n\n{table}\n\n"
            f"Our summary: {info['ours'][:600]}\n\nRefine summary: {info['theirs'][:600]}",
        )
    return 0


def report(name: str, body: str) -> None:
    """Each part owns its own section, so the two can be rerun separately."""
    write_section(name, body)
    print(body)


if __name__ == "__main__":
    sys.exit(main())
