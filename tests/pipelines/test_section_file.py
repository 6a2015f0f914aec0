"""Streaming writes: FILE grows by whole sections, a rerun continues it without duplicates."""

from __future__ import annotations

import itertools
import re

import pytest

from longdoc.errors import ModelError
from longdoc.llm.fake import FakeModel, request_text
from longdoc.pipelines.agent_write import write
from longdoc.pipelines.section_file import SectionFile
from longdoc.testing.writing import prose


def section_number(request) -> int | None:
    found = re.findall(r"Section (\d+) of \d+ - ", request_text(request))
    return int(found[-1]) if found else None


class Author:
    """Plans 300-word sections and writes them; fails at `fail_at_section`; records
    what FILE held when each section was first asked for."""

    def __init__(self, out=None, fail_at_section: int | None = None, seed: int = 100):
        self.out = out
        self.fail_at_section = fail_at_section
        self.seeds = itertools.count(seed)
        self.file_when_asked: dict[int, str] = {}

    def __call__(self, request) -> str:
        text = request_text(request)
        if text.rstrip().endswith("Main Point:"):
            first = int(text.rsplit("Paragraph ", 1)[1].split()[0])
            count = int(text.rsplit("Plan (", 1)[1].split()[0])
            return "".join(
                f"{'' if n == first else f'Paragraph {n} - Main Point:'} Describe aspect {n} of the harbour. "
                f"- Word Count: 300 words\n"
                for n in range(first, count + 1)
            )
        number = section_number(request)
        if self.out is not None and number not in self.file_when_asked:
            self.file_when_asked[number] = self.out.read_text(encoding="utf-8") if self.out.exists() else ""
        if number == self.fail_at_section:
            raise ModelError("server error 500 after retries", status=500, attempts=5)
        budget = int(re.findall(r"about (\d+) words\):", text)[-1])
        return " " + prose(max(1, int(budget * 0.95)), str(next(self.seeds)))


def streamed_write(out, model, checkpoint, seen=None):
    sections = SectionFile(out)
    seen = [] if seen is None else seen

    def on_text(index: int, text: str) -> None:
        seen.append(text)
        sections.add(text)

    result = write("Write about a harbour.", 1200, model=model, checkpoint=checkpoint, on_text=on_text)
    sections.finish(result.text)
    return result, sections, seen


def test_each_section_is_on_disk_before_the_next_is_written(tmp_path):
    out = tmp_path / "piece.md"
    author = Author(out)
    result, sections, texts = streamed_write(out, FakeModel(rule=author), tmp_path / "c.db")
    assert len(texts) == len(result.sections) >= 3 and "\n\n".join(texts) == result.text
    for number in range(1, len(texts) + 1):
        assert author.file_when_asked[number] == "\n\n".join(texts[: number - 1])
    assert out.read_text(encoding="utf-8") == result.text + "\n"
    assert sections.appended == len(texts)


def test_a_crash_leaves_whole_sections_and_the_rerun_continues_the_file(tmp_path):
    out, checkpoint = tmp_path / "piece.md", tmp_path / "c.db"
    first_run: list[str] = []
    with pytest.raises(ModelError):
        streamed_write(out, FakeModel(rule=Author(fail_at_section=3)), checkpoint, first_run)
    after_crash = out.read_text(encoding="utf-8")
    assert len(first_run) == 2 and after_crash == "\n\n".join(first_run)  # two whole sections

    result, sections, texts = streamed_write(out, FakeModel(rule=Author(seed=500)), checkpoint)
    final = out.read_text(encoding="utf-8")
    assert final == result.text + "\n" and final.startswith(after_crash + "\n\n")
    assert result.resumed_sections == 2 and sections.appended == len(result.sections) - 2
    assert texts[:2] == first_run
    for section in texts:
        assert final.count(section) == 1


def test_a_stale_or_torn_tail_is_cut_before_the_run_goes_on(tmp_path):
    out = tmp_path / "piece.md"
    out.write_text("First section.\n\nA section the checkpoint never saw.\n\nTorn hal", encoding="utf-8")
    sections = SectionFile(out)
    sections.add("First section.")
    assert sections.appended == 0
    sections.add("Second section, as this run wrote it.")
    assert out.read_text(encoding="utf-8") == "First section.\n\nSecond section, as this run wrote it."
    sections.finish("First section.\n\nSecond section, as this run wrote it.")
    assert out.read_text(encoding="utf-8") == "First section.\n\nSecond section, as this run wrote it.\n"


def test_a_finished_file_rerun_is_left_as_it_is(tmp_path):
    out = tmp_path / "piece.md"
    out.write_text("One.\n\nTwo.\n", encoding="utf-8")
    sections = SectionFile(out)
    for text in ("One.", "", "Two."):
        sections.add(text)
    sections.finish("One.\n\nTwo.")
    assert sections.appended == 0 and out.read_text(encoding="utf-8") == "One.\n\nTwo.\n"
