"""`longdoc write` (AgentWrite: a long piece from one instruction) and `longdoc eval length`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..agents.plan import SECTION_WORDS
from ..errors import SourceError
from .eval import eval_app

if TYPE_CHECKING:
    from ..agents.plan import Plan
    from ..agents.writer import SectionDraft


def _read_instruction(instruction: str | None, instruction_file: Path | None) -> str:
    if (instruction is None) == (instruction_file is None):
        raise typer.BadParameter("give either INSTRUCTION or --instruction-file, not both or neither")
    if instruction_file is not None:
        try:
            instruction = instruction_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise SourceError(f"cannot read instruction: {exc.strerror or exc}", path=instruction_file) from exc
    assert instruction is not None
    if not instruction.strip():
        raise typer.BadParameter("the instruction is empty")
    return instruction.strip()


def register(app: typer.Typer) -> None:
    @app.command("write")
    def write_command(
        ctx: typer.Context,
        words: Annotated[int, typer.Option("--words", min=1, help="Target length in words.")],
        instruction: Annotated[str | None, typer.Argument(help="What to write.")] = None,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Write the text to FILE, each section as soon as it is finished."),
        ] = None,
        stream: Annotated[
            bool, typer.Option("--stream", help="Print each section on stdout as soon as it is finished.")
        ] = False,
        instruction_file: Annotated[
            Path | None, typer.Option("--instruction-file", help="Read the instruction from F.")
        ] = None,
        section_words: Annotated[
            int, typer.Option("--section-words", min=50, help="Words per planned section, roughly.")
        ] = SECTION_WORDS,
        checkpoint: Annotated[
            Path | None,
            typer.Option("--checkpoint", help="Checkpoint database (default: in the cache folder)."),
        ] = None,
    ) -> None:
        """Write a long piece with AgentWrite: plan sections, write them in turn, control length.

        An interrupted write resumes from its last finished section when run again; with -o,
        FILE holds every finished section at any moment and the rerun continues it."""
        from ..aio import run_sync
        from ..cli import cli_context
        from ..pipelines.agent_write import awrite
        from ..pipelines.section_file import SECTION_SEPARATOR, SectionFile

        c = cli_context(ctx)
        if stream and c.json:
            raise typer.BadParameter("--stream prints the text on stdout; it cannot be combined with --json")
        text = _read_instruction(instruction, instruction_file)
        err = c.err
        section_file = SectionFile(output) if output is not None else None
        streamed: list[str] = []

        def on_text(index: int, section: str) -> None:
            if section_file is not None:
                piece = section_file.add(section)
            else:
                piece = (SECTION_SEPARATOR if streamed else "") + section if section else ""
            if stream and piece:
                streamed.append(piece)
                sys.stdout.write(piece)
                sys.stdout.flush()

        def on_plan(plan: Plan) -> None:
            err.print(
                f"plan: {len(plan.sections)} sections, {plan.total_words} words ({plan.source})",
                highlight=False,
                soft_wrap=True,
            )
            for note in plan.notes:
                err.print(f"  note: {note}", markup=False, highlight=False, soft_wrap=True)

        def on_section(draft: SectionDraft, count: int) -> None:
            extra = []
            if draft.continuations:
                extra.append(f"continued x{draft.continuations}")
            if draft.trimmed:
                extra.append("trimmed")
            if draft.repaired:
                extra.append("repetition cut")
            suffix = f" ({', '.join(extra)})" if extra else ""
            err.print(
                f"section {draft.index + 1}/{count}: {draft.words}/{draft.budget} words, "
                f"{draft.calls} calls{suffix}",
                highlight=False,
                soft_wrap=True,
            )

        result = run_sync(
            awrite(
                text,
                words,
                settings=c.settings,
                checkpoint=checkpoint,
                section_words=section_words,
                on_plan=on_plan,
                on_section=on_section,
                on_text=on_text if (section_file is not None or stream) else None,
            )
        )
        if result.resumed_sections:
            err.print(f"resumed: {result.resumed_sections} sections came from the checkpoint")
        err.print(
            f"done: {result.words} words for a target of {result.target_words} "
            f"(S_l {result.length_score:.1f}), {result.usage.calls} calls, {result.seconds:.1f}s",
            highlight=False,
                soft_wrap=True,
        )
        if section_file is not None:
            section_file.finish(result.text)
            err.print(f"wrote {output}", highlight=False, soft_wrap=True)
        if c.json:
            c.emit_json(result.to_json())
        elif stream:
            sys.stdout.write("\n")
        elif output is None:
            sys.stdout.write(result.text + "\n")

    @eval_app.command("length")
    def eval_length_command(
        ctx: typer.Context,
        prompts: Annotated[Path, typer.Argument(help="LongBench-Write JSONL: prompt, type, length.")],
        max_length: Annotated[
            int | None, typer.Option("--max-length", help="Only prompts requiring at most N words.")
        ] = None,
        limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N prompts.")] = None,
        section_words: Annotated[
            int, typer.Option("--section-words", min=50, help="Words per planned section, roughly.")
        ] = SECTION_WORDS,
    ) -> None:
        """Length control: write every prompt and score its length (S_l, 0..100) and the mean."""
        from ..aio import run_sync
        from ..cli import cli_context
        from ..llm import load_model
        from ..pipelines.agent_write import AgentWrite, default_checkpoint_path, open_checkpointer
        from ..pipelines.length_eval import LengthRow, evaluate_length, read_length_prompts

        c = cli_context(ctx)
        items = read_length_prompts(prompts)
        if max_length is not None:
            items = [p for p in items if p.length <= max_length]
        if limit is not None:
            items = items[:limit]
        if not items:
            raise typer.BadParameter("no prompts left to evaluate")
        model = load_model(c.settings)

        def on_row(row: LengthRow, done: int, total: int) -> None:
            c.err.print(
                f"[{done}/{total}] {row.words}/{row.target_words} words, S_l {row.length_score:.1f}",
                highlight=False,
                soft_wrap=True,
            )

        async def run():
            async with open_checkpointer(default_checkpoint_path(c.settings)) as saver:
                pipeline = AgentWrite(model, saver, window=c.settings.window, section_words=section_words)
                return await evaluate_length(items, pipeline, concurrency=c.settings.concurrency, on_row=on_row)

        report = run_sync(run())
        if c.json:
            c.emit_json(report.to_json())
            return
        for row in report.rows:
            c.out.print(
                f"{row.length_score:6.1f}  {row.words:>6}/{row.target_words:<6} {row.prompt[:70]}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        c.out.print(f"mean S_l: {report.mean_length_score:.1f} over {len(report.rows)} prompts")
