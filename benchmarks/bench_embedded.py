"""Speed of the two embedded models (`local`, `local-instruct`) on this machine's cores.

In one process, both models' servers running:

1. First start: assemble the GGUF into an empty model directory (parts -> verified file),
   then start the llama.cpp server (model load); then a later start, whose stamp skips the
   rehash. Seconds for each step.
2. Reading and writing speed on the same text (~2,000 tokens by each model's tokenizer):
   the server's own timings (`timings.prompt_per_second`, `predicted_per_second`) for
   `--repeats` calls with no prompt cache and a fixed number of generated tokens (EOS
   ignored), medians reported; with `--full-chunk`, also one call on a ~7,000-token
   prompt (what the default 8,192-token window lets a worker read): the seconds a full
   chunk costs, the measure behind the default window.

The rendering is each model's own: the completion prompt for `local`, a chat message with
the model's template for `local-instruct`. The load average is recorded before and after
the run: on a shared machine other jobs' work shows in the numbers, alike for both models
since their calls take turns.

    flock /tmp/longdoc-model.lock python benchmarks/bench_embedded.py [--repeats 3] [--full-chunk]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import markdown_table, write_section

MODELS = ("local", "local-instruct")

TEXT_SOURCE = Path(__file__).resolve().parents[1] / "README.md"

GENERATED_TOKENS = 64
"""Tokens generated per call (EOS ignored), the same for both models."""


def spec_of(name: str):
    from longdoc.llm.local import LOCAL_SPEC
    from longdoc.llm.local_instruct import INSTRUCT_SPEC

    return {"local": LOCAL_SPEC, "local-instruct": INSTRUCT_SPEC}[name]


def text_of_tokens(url: str, tokens: int) -> str:
    """A prefix of the README about `tokens` long by the served model's tokenizer."""
    text = TEXT_SOURCE.read_text(encoding="utf-8")
    while len(text) < tokens * 8:
        text += "\n\n" + text
    low, high = 0, len(text)
    while high - low > 200:  # bisect the character count with the server's tokenizer
        middle = (low + high) // 2
        count = len(httpx.post(url.removesuffix("/v1") + "/tokenize", json={"content": text[:middle]}).json()["tokens"])
        low, high = (middle, high) if count < tokens else (low, middle)
    return text[:low]


def timed_call(url: str, alias: str, chat: bool, text: str) -> dict[str, float]:
    body: dict[str, object] = {
        "model": alias,
        "max_tokens": GENERATED_TOKENS,
        "temperature": 0.0,
        "cache_prompt": False,
        "ignore_eos": True,
    }
    if chat:
        body["messages"] = [{"role": "user", "content": "Summarise this text.\n\n" + text}]
    else:
        body["prompt"] = "Summary of the text below.\n\n" + text + "\n\nSummary:"
    started = time.perf_counter()
    reply = httpx.post(f"{url}/{'chat/completions' if chat else 'completions'}", json=body, timeout=600).json()
    seconds = time.perf_counter() - started
    timings = reply["timings"]
    return {
        "prompt_tokens": reply["usage"]["prompt_tokens"],
        "completion_tokens": reply["usage"]["completion_tokens"],
        "prompt_per_s": timings["prompt_per_second"],
        "generated_per_s": timings["predicted_per_second"],
        "seconds": seconds,
    }


def start(name: str, directory: Path) -> dict[str, object]:
    """Assemble `name` into the empty `directory` and start its server, timing each step."""
    from longdoc.llm.embedded import EmbeddedServer, assemble_model

    spec = spec_of(name)
    started = time.perf_counter()
    assemble_model(spec, directory)
    assemble_s = time.perf_counter() - started
    started = time.perf_counter()
    assemble_model(spec, directory)
    stamped_s = time.perf_counter() - started
    started = time.perf_counter()
    url = EmbeddedServer.for_spec(spec).url(directory, spec.window)
    load_s = time.perf_counter() - started
    return {"model": name, "alias": spec.alias, "url": url, "chat": not spec.completion_style,
            "assemble_s": assemble_s, "stamped_s": stamped_s, "load_s": load_s}


def measure(names: list[str], repeats: int, full_chunk: bool) -> list[dict[str, object]]:
    """Every model's numbers, in this (fresh) process, the models' calls taking turns so
    that whatever else loads the machine weighs on each alike."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        runs = [start(name, Path(scratch) / name) for name in names]
        texts = [text_of_tokens(str(run["url"]), 2000) for run in runs]
        calls: list[list[dict[str, float]]] = [[] for _ in runs]
        for _ in range(repeats):
            for run, text, made in zip(runs, texts, calls, strict=True):
                made.append(timed_call(str(run["url"]), str(run["alias"]), bool(run["chat"]), text))
        fulls = [
            timed_call(str(run["url"]), str(run["alias"]), bool(run["chat"]), text_of_tokens(str(run["url"]), 7000))
            if full_chunk else None
            for run in runs
        ]
    load_after = os.getloadavg()[0]
    return [
        run | {
            "prompt_tokens": made[0]["prompt_tokens"],
            "prompt_per_s": statistics.median(c["prompt_per_s"] for c in made),
            "generated_per_s": statistics.median(c["generated_per_s"] for c in made),
            "call_s": statistics.median(c["seconds"] for c in made),
            "full_prompt_tokens": full["prompt_tokens"] if full else None,
            "full_prompt_s": full["prompt_tokens"] / full["prompt_per_s"] if full else None,
            "load_before": load_before,
            "load_after": load_after,
        }
        for run, made, full in zip(runs, calls, fulls, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--full-chunk", action="store_true", help="also time one ~7,000-token prompt")
    args = parser.parse_args()
    results = measure(args.models, args.repeats, args.full_chunk)
    for result in results:
        print(json.dumps({k: v for k, v in result.items() if k != "url"}))
    cores = len(os.sched_getaffinity(0))
    rows = [
        [
            r["model"], r["alias"], round(r["prompt_per_s"]), round(r["generated_per_s"], 1), r["prompt_tokens"],
            round(r["call_s"], 1),
            f"{r['full_prompt_s']:.0f} ({r['full_prompt_tokens']})" if r["full_prompt_s"] else "not run",
            round(r["assemble_s"], 1), round(r["load_s"], 1), round(r["stamped_s"], 4),
        ]
        for r in results
    ]
    headers = [
        "model", "served as", "prompt tok/s", "generated tok/s", "prompt tokens", "s per call",
        "s to read a full chunk (tokens)", "first start: assemble s", "server load s",
        "later start: stamp check s",
    ]
    body = (
        f"Same README text for both (~2,000 tokens by each model's tokenizer), each model's own "
        f"rendering, {GENERATED_TOKENS} generated tokens (EOS ignored), no prompt cache; medians "
        f"of {args.repeats} calls per model, the models taking turns, from llama.cpp's own "
        f"timings. {cores} cores, two request slots, 8,192 tokens per slot. A full chunk: one "
        f"~7,000-token prompt (what the default window lets a worker read). First start: the "
        f"GGUF assembled from the installed parts into an empty folder and hashed (part files "
        f"probably in the page cache), then the server started; a later start only checks the "
        f"stamp. The machine is shared: load average {results[0]['load_before']:.1f} before, "
        f"{results[0]['load_after']:.1f} after.\n\n"
        + markdown_table(headers, rows)
    )
    write_section("embedded models", body)


if __name__ == "__main__":
    main()
