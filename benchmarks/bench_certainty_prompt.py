"""Which certainty prompt and how many generated tokens make low entropy mean "this segment
holds the answer" on the embedded model? Ranks the needle's segment among all segments of a
haystack for each prompt layout and token count.

    .venv/bin/python benchmarks/bench_certainty_prompt.py [--prompts A,D,E] [--tokens 1,4,8]
        [--length 4000] [--depths 10,50,90]

Prompt A (the one `longdoc/prompts/relevance.txt` uses): segment, question, `Answer:`.
D: the same with the cue `Answer (in the words of the passage above):`. E: the question
before the segment as well as after it. Rank 1 = the needle's segment had the lowest mean
entropy. The response cache is off.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _results import markdown_table, write_section

from longdoc.config import Settings
from longdoc.documents import Document
from longdoc.evals.needle import build_haystack, load_essays, load_needle
from longdoc.llm import load_model
from longdoc.prompts import parse_template
from longdoc.retrieval.certainty import CertaintyScorer
from longdoc.splitters.segments import split_segments

PROMPTS = {
    "A": "$segment\n\nQuestion: $question\nAnswer:",
    "D": "$segment\n\nQuestion: $question\nAnswer (in the words of the passage above):",
    "E": "Question: $question\n\n$segment\n\nQuestion: $question\nAnswer:",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", default="A,D,E")
    parser.add_argument("--tokens", default="1,4,8")
    parser.add_argument("--length", type=int, default=4000)
    parser.add_argument("--depths", default="10,50,90")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    settings = Settings(model="local", concurrency=2, cache=False, cache_dir=Path(tempfile.mkdtemp()))
    model = load_model(settings)
    needle, essays = load_needle(), load_essays()
    depths = [int(d) for d in args.depths.split(",")]
    rows = []
    for name in args.prompts.split(","):
        template = parse_template(name, f"## user\n{PROMPTS[name]}\n## completion\n{PROMPTS[name]}")
        for n in (int(t) for t in args.tokens.split(",")):
            ranks, margins = [], []
            started = time.perf_counter()
            for depth in depths:
                stack = build_haystack(essays, needle.text, tokens=args.length, depth=depth)
                segments = split_segments(Document.from_text(stack.text, path="haystack.txt"))
                holding = [i for i, s in enumerate(segments) if s.start <= stack.needle_start + 1 and s.end >= stack.needle_end - 1]
                scorer = CertaintyScorer(model, concurrency=2, top_k=10, tokens=n, prompt=template)
                scores = asyncio.run(scorer.score(segments, needle.question))
                order = sorted(range(len(segments)), key=lambda i: scores[i])
                ranks.append(min(order.index(i) for i in holding) + 1)
                best_other = min(scores[i] for i in range(len(segments)) if i not in holding)
                margins.append(f"{min(scores[i] for i in holding):.2f} vs {best_other:.2f}")
                print(name, n, depth, ranks[-1], margins[-1], flush=True)
            rows.append([name, n, ", ".join(map(str, ranks)), "; ".join(margins), round(time.perf_counter() - started)])
    body = (
        f"Needle in {args.length} tokens of essays, {len(segments)} segments of up to 384 tokens, depths "
        f"{args.depths} %; top 10 logprobs per generated token. `rank` of the needle's segment by mean "
        "entropy (1 = chosen first) per depth; `entropy` = the needle segment's mean entropy vs the "
        "lowest of the other segments (nats).\n\n"
        + markdown_table(["prompt", "tokens", "rank per depth", "entropy (needle vs best other)", "seconds"], rows)
        + "\n\nA = segment, question, `Answer:` (what `relevance.txt` uses); D = cue `Answer (in the words "
        "of the passage above):`; E = question before and after the segment.\n\nCommand: "
        f"`.venv/bin/python benchmarks/bench_certainty_prompt.py --prompts {args.prompts} --tokens {args.tokens} "
        f"--length {args.length} --depths {args.depths}`"
    )
    print(body)
    if not args.no_write:
        write_section("certainty-prompt", body)


if __name__ == "__main__":
    main()
