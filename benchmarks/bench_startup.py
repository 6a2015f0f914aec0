"""Benchmark: how fast the `longdoc` command starts, and what a CLI split costs over tiktoken.

Each command runs as a fresh process (`python -m longdoc.cli ...` on this checkout), the
median wall time of `--repeats` runs, after one warm-up run (which also leaves the parsed
tokenizer ranks in the benchmark's own cache folder). Alongside:

- `python -c pass`: the interpreter's own start on this machine, the floor;
- the raw tiktoken encode of the book (`encode_ordinary`, in process, encoding loaded),
  the issue's yardstick: `longdoc split BOOK --tokens 512 --json` minus `longdoc --help`
  should stay within 3 times it;
- loading the o200k_base encoding in a fresh process (minus the interpreter's start): the
  fixed cost any tiktoken user pays once per process, most of it tiktoken building its
  Rust encoder;
- `python -X importtime` of `longdoc --help` and of `import longdoc`: the largest imports.

With `--baseline DIR` (an older checkout) the same commands run on it too, for a before
and after.

    python benchmarks/bench_startup.py [--repeats 5] [--baseline ../main]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import markdown_table, write_section  # noqa: E402

BOOK = ROOT / ".." / "shared" / "data" / "books" / "gutenberg_1237_father_goriot.txt"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(argv: list[str], env: dict[str, str], cwd: Path, repeats: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of `repeats` runs of `argv` in `cwd` (output discarded),
    after a warm-up. `cwd` is the checkout: `-c` and `-m` put it first on sys.path. CPU time
    (user + system of the child) hardly moves when other jobs share the cores; wall does."""
    walls, cpus = [], []
    for attempt in range(repeats + 1):
        started, cpu_before = time.perf_counter(), children_cpu()
        subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        if attempt:
            walls.append(time.perf_counter() - started)
            cpus.append(children_cpu() - cpu_before)
    return statistics.median(walls), statistics.median(cpus)


ENCODING_LOAD = (
    "import time, longdoc.config, longdoc.tokens as t\n"
    "started, cpu = time.perf_counter(), time.process_time(); t.get_encoding()\n"
    "print(time.perf_counter() - started, time.process_time() - cpu)"
)
"""Loading o200k_base in a fresh process, timed inside it (what `tokens` and `split` pay once)."""


def encoding_load_seconds(env: dict[str, str], cwd: Path, repeats: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", ENCODING_LOAD], env=env, cwd=cwd, capture_output=True, text=True, check=True)
        wall, cpu = done.stdout.split()[-2:]
        walls.append(float(wall))
        cpus.append(float(cpu))
    return statistics.median(walls), statistics.median(cpus)


def environment(checkout: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LONGDOC_", "OPENAI_", "COLUMNS"))}
    env.update(PYTHONPATH=str(checkout), LONGDOC_CACHE_DIR=str(cache), LONGDOC_MODEL="fake")
    return env


def commands(book: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "longdoc.cli"]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python -c 'import longdoc'": [sys.executable, "-c", "import longdoc"],
        "longdoc --help": [*cli, "--help"],
        "longdoc tokens README.md": [*cli, "tokens", str(ROOT / "README.md")],
        "longdoc tokens BOOK": [*cli, "tokens", str(book)],
        "longdoc split BOOK --tokens 512 --json": [*cli, "split", str(book), "--tokens", "512", "--json"],
    }


def raw_encode_seconds(book: Path, repeats: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """In process, (wall, CPU) medians of: `encode_ordinary` of the book; TokenSplitter at 512."""
    from longdoc.documents import Document
    from longdoc.splitters.token import TokenSplitter
    from longdoc.tokens import get_encoding

    text = book.read_text(encoding="utf-8")
    encoding = get_encoding()
    encodes, splits = [], []
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        encoding.encode_ordinary(text)
        encodes.append((time.perf_counter() - started, time.process_time() - cpu))
        started, cpu = time.perf_counter(), time.process_time()
        TokenSplitter(512).split(Document.from_text(text))
        splits.append((time.perf_counter() - started, time.process_time() - cpu))

    def medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
        return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)

    return medians(encodes), medians(splits)


def largest_imports(argv: list[str], checkout: Path, top: int = 8) -> list[str]:
    """`python -X importtime` of `argv`: the `top` imports with the largest cumulative time."""
    with tempfile.TemporaryDirectory() as cache:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *argv[1:]], env=environment(checkout, Path(cache)), cwd=checkout,
            capture_output=True, text=True, check=True,
        )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        rows.append((int(cumulative), name))
    rows.sort(reverse=True)
    return [f"{us / 1000:8.1f} ms  {name}" for us, name in rows[:top]]


def measure(checkout: Path, book: Path, repeats: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as cache:
        env = environment(checkout, Path(cache))
        times = {label: timed(argv, env, checkout, repeats) for label, argv in commands(book).items()}
        times["encoding load (in a fresh process)"] = encoding_load_seconds(env, checkout, repeats)
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="an older checkout to compare with")
    parser.add_argument("--book", type=Path, default=BOOK)
    args = parser.parse_args()
    book = args.book.resolve()

    now = measure(ROOT, book, args.repeats)
    before = measure(args.baseline.resolve(), book, args.repeats) if args.baseline else None
    encode, split = raw_encode_seconds(book, args.repeats)
    load_avg = os.getloadavg()[0]

    headers = ["command", "wall s", "CPU s"] + (["baseline wall s", "baseline CPU s"] if before else [])
    rows = [[label, *now[label]] + ([*before[label]] if before else []) for label in now]
    rows.append(["raw tiktoken encode_ordinary of BOOK (in process)", *encode] + (["-", "-"] if before else []))
    rows.append(["TokenSplitter(512).split(BOOK) (in process)", *split] + (["-", "-"] if before else []))

    def summary(k: int, kind: str) -> list[str]:
        floor, help_, tokens_, split_ = (now[label][k] for label in (
            "python -c pass", "longdoc --help", "longdoc tokens BOOK", "longdoc split BOOK --tokens 512 --json"))
        encoding = now["encoding load (in a fresh process)"][k]
        ratio = (split_ - help_) / encode[k]
        line = [
            f"- {kind}: `longdoc --help` {help_:.3f} s ({help_ - floor:.3f} s above `python -c pass`, "
            f"{floor:.3f} s); `longdoc tokens BOOK` {tokens_:.3f} s, of which {encoding:.3f} s load the "
            f"encoding; `split BOOK --tokens 512 --json` minus `--help` is {ratio:.1f}x the raw encode "
            f"({(split_ - help_ - encoding) / encode[k]:.1f}x leaving out the encoding load)",
        ]
        if before:
            b_help, b_split = before["longdoc --help"][k], before["longdoc split BOOK --tokens 512 --json"][k]
            line[0] += f"; baseline: `--help` {b_help:.3f} s, split {(b_split - b_help) / encode[k]:.1f}x"
        line[0] += "."
        return line

    lines = [
        f"Book: `{book.name}` ({book.stat().st_size:,} bytes). Median of {args.repeats} runs after a "
        "warm-up; each command is a fresh `python -m longdoc.cli` process with its own cache folder. "
        f"Load average when the run ended: {load_avg:.1f} on {os.cpu_count()} cores (other jobs share "
        "them: wall times grow with the load, CPU times much less).",
        "",
        markdown_table(headers, rows),
        "",
        *summary(0, "Wall"),
        *summary(1, "CPU"),
        "",
        "`python -X importtime -m longdoc.cli --help`, largest cumulative imports:",
        "",
        "```",
        *largest_imports(commands(book)["longdoc --help"], ROOT),
        "```",
        "",
        "`python -X importtime -c 'import longdoc'`:",
        "",
        "```",
        *largest_imports(commands(book)["python -c 'import longdoc'"], ROOT),
        "```",
    ]
    if args.baseline:
        lines += [
            "",
            "Baseline, `python -X importtime -m longdoc.cli --help`:",
            "",
            "```",
            *largest_imports(commands(book)["longdoc --help"], args.baseline.resolve()),
            "```",
        ]
    body = "\n".join(lines)
    print(body)
    write_section("bench_startup", body)


if __name__ == "__main__":
    main()
