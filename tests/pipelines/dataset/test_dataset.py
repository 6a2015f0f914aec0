"""Dataset generation: rows, filters, duplicates, resume, torn lines, bad input lines."""

import json
import re

import pytest
from langgraph.checkpoint.base import empty_checkpoint

from longdoc.agents.length import count_words
from longdoc.errors import ModelError
from longdoc.llm.fake import FakeModel, request_text
from longdoc.pipelines.checkpoints import batched_sqlite_checkpointer
from longdoc.pipelines.dataset.generate import checkpoint_path_for, generate_dataset
from longdoc.pipelines.dataset.input import read_prompts
from longdoc.pipelines.dataset.options import DatasetOptions
from longdoc.pipelines.dataset.output import JsonlAppender, repair_torn_tail
from longdoc.testing.writing import author_reply, is_plan_request, prose


def lines_of(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def prompts_file(tmp_path, rows, name="prompts.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def run(items, model, out, **options):
    return generate_dataset(items, model, out, options=DatasetOptions(**options))


def test_rows_are_chat_messages_with_optional_meta(tmp_path):
    path = prompts_file(tmp_path, [{"prompt": "Write about rivers.", "length": 700}, {"prompt": "Write about bridges."}])
    items, bad = read_prompts(path, 400)
    assert not bad
    report = run(items, FakeModel(rule=author_reply), tmp_path / "out.jsonl", with_meta=True, concurrency=2)
    assert report.written == 2 and report.rejected == 0
    rows = {r["messages"][0]["content"]: r for r in lines_of(tmp_path / "out.jsonl")}
    river = rows["Write about rivers."]
    assert [m["role"] for m in river["messages"]] == ["user", "assistant"]
    assert river["meta"]["target_words"] == 700
    assert river["meta"]["words"] == count_words(river["messages"][1]["content"])
    assert {"plan", "length_score", "model", "calls", "prompt_tokens", "completion_tokens", "seconds"} <= set(river["meta"])
    assert rows["Write about bridges."]["meta"]["target_words"] == 400  # --words default


def test_plain_text_input_and_bad_jsonl_lines(tmp_path):
    plain = tmp_path / "prompts.txt"
    plain.write_text("Write about rivers.\n\nWrite about bridges.\n", encoding="utf-8")
    items, bad = read_prompts(plain, 300)
    assert [(i.line, i.prompt, i.words) for i in items] == [(1, "Write about rivers.", 300), (3, "Write about bridges.", 300)]
    assert not bad

    path = prompts_file(
        tmp_path,
        [
            {"prompt": "Fine one.", "length": 300},
            "{not json",
            {"text": "no prompt key"},
            {"prompt": "Bad length.", "length": "many"},
            "[1, 2]",
            {"prompt": "Fine two."},
        ],
    )
    items, bad = read_prompts(path, 500)
    assert [i.prompt for i in items] == ["Fine one.", "Fine two."]
    assert [e.line for e in bad] == [2, 3, 4, 5]
    assert "line 2" in str(bad[0]) and "not valid JSON" in str(bad[0])
    assert "`prompt`" in str(bad[1])


def test_rerun_skips_done_prompts_and_duplicates_are_written_once(tmp_path):
    rows = [{"prompt": f"Write about topic {i}.", "length": 300} for i in range(4)]
    path = prompts_file(tmp_path, [*rows, rows[1]])
    items, _ = read_prompts(path, 300)
    out = tmp_path / "out.jsonl"
    first = run(items[:2], FakeModel(rule=author_reply), out)
    assert first.written == 2
    model = FakeModel(rule=author_reply)
    second = run(items, model, out)
    assert second.skipped_done == 2 and second.duplicates == 1 and second.written == 2
    prompts = [r["messages"][0]["content"] for r in lines_of(out)]
    assert sorted(prompts) == sorted(r["prompt"] for r in rows)
    # Nothing was asked about the prompts already done.
    assert not any("topic 0" in request_text(r) or "topic 1" in request_text(r) for r in model.history)


def test_quality_filters_send_rows_to_rejects_with_reasons(tmp_path):
    def author(request):
        text = request_text(request)
        if "Write nothing" in text and not is_plan_request(request):
            return ""
        if "Write tersely" in text and not is_plan_request(request):
            return prose(6, str(len(request_text(request))))  # a few fresh words, every call
        return author_reply(request)

    path = prompts_file(
        tmp_path,
        [
            {"prompt": "Write about rivers.", "length": 300},
            {"prompt": "Write nothing about lakes.", "length": 300},
            {"prompt": "Write tersely about seas.", "length": 300},
        ],
    )
    items, _ = read_prompts(path, 300)
    out = tmp_path / "out.jsonl"
    report = run(items, FakeModel(rule=author), out, min_length_score=50)
    assert report.written == 1 and report.rejected == 2
    rejects = {r["prompt"]: r["reason"] for r in lines_of(tmp_path / "out.rejects.jsonl")}
    assert "no usable text" in rejects["Write nothing about lakes."]
    assert "length score" in rejects["Write tersely about seas."]
    assert [r["messages"][0]["content"] for r in lines_of(out)] == ["Write about rivers."]
    # Rejected prompts count as done: a rerun does not write them again.
    again = run(items, FakeModel(rule=author), out, min_length_score=50)
    assert again.skipped_done == 3 and again.written == 0


def test_repetitive_rows_are_rejected(tmp_path):
    # Sentences the writer's loop repair keeps (each differs), but most 4-grams repeat.
    def formulaic(request):
        if is_plan_request(request):
            return author_reply(request)
        return " ".join(f"The river runs down to the {prose(2, str(i)).rstrip('.').lower()} sea." for i in range(60))

    items, _ = read_prompts(prompts_file(tmp_path, [{"prompt": "Write about rivers.", "length": 300}]), 300)
    report = run(items, FakeModel(rule=formulaic), tmp_path / "out.jsonl", max_repetition=0.2)
    assert report.written == 0 and report.rejected == 1
    assert not (tmp_path / "out.jsonl").read_text()
    (reject,) = lines_of(tmp_path / "out.rejects.jsonl")
    assert reject["reason"].startswith("repetitive")
    assert reject["meta"]["words"] > 0


def test_model_failures_are_reported_not_written_and_retried_on_rerun(tmp_path):
    def flaky(request):
        if "topic 1" in request_text(request):
            raise ModelError("upstream 503", status=503, attempts=5)
        return author_reply(request)

    items, _ = read_prompts(prompts_file(tmp_path, [{"prompt": f"Write about topic {i}.", "length": 300} for i in range(3)]), 300)
    out = tmp_path / "out.jsonl"
    report = run(items, FakeModel(rule=flaky), out, concurrency=3)
    assert report.written == 2 and len(report.failed) == 1 and "line 2" in report.failed[0]
    assert "503" not in out.read_text()
    assert not (tmp_path / "out.rejects.jsonl").read_text()
    again = run(items, FakeModel(rule=author_reply), out)
    assert again.written == 1 and again.skipped_done == 2
    assert len(lines_of(out)) == 3


def test_a_torn_last_line_is_cut_and_its_prompt_written_again(tmp_path):
    items, _ = read_prompts(prompts_file(tmp_path, [{"prompt": f"Write about topic {i}.", "length": 300} for i in range(2)]), 300)
    out = tmp_path / "out.jsonl"
    run(items[:1], FakeModel(rule=author_reply), out)
    good = out.read_text(encoding="utf-8")
    with out.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "abc", "messages": [{"role": "user", "content": "Write about top')
    report = run(items, FakeModel(rule=author_reply), out)
    assert report.torn_bytes_repaired > 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith(good)
    assert len(lines_of(out)) == 2


def test_appender_writes_whole_lines_and_reads_ids(tmp_path):
    path = tmp_path / "rows.jsonl"
    with JsonlAppender(path) as appender:
        appender.append({"id": "a", "x": "é" * 10})
        appender.append({"id": "b"})
    assert repair_torn_tail(path) == 0
    reopened = JsonlAppender(path)
    reopened.open()
    assert reopened.ids == {"a", "b"}
    reopened.close()


def _section_of(request) -> int | None:
    found = re.findall(r"Section (\d+) of \d+ - ", request_text(request))
    return int(found[-1]) if found else None


def test_a_prompt_that_failed_mid_write_resumes_from_its_checkpoint(tmp_path):
    def fails_at_third_section(request):
        if "topic 1" in request_text(request) and not is_plan_request(request) and _section_of(request) == 3:
            raise ModelError("upstream 503", status=503, attempts=5)
        return author_reply(request)

    items, _ = read_prompts(prompts_file(tmp_path, [{"prompt": f"Write about topic {i}.", "length": 900} for i in range(2)]), 900)
    out = tmp_path / "out.jsonl"
    first = run(items, FakeModel(rule=fails_at_third_section), out, concurrency=2)
    assert first.written == 1 and len(first.failed) == 1
    again = FakeModel(rule=author_reply)
    second = run(items, again, out, with_meta=True)
    assert second.written == 1 and second.skipped_done == 1
    assert not any(is_plan_request(r) for r in again.history)  # the plan came from the checkpoint
    assert min(_section_of(r) for r in again.history) == 3  # and so did sections 1 and 2
    assert lines_of(out)[-1]["meta"]["resumed_sections"] == 2
    with batched_sqlite_checkpointer(checkpoint_path_for(out)) as saver:
        assert saver.thread_ids() == set()  # finished prompts leave no checkpoint


def test_a_run_stopped_before_a_finished_row_reached_disk_writes_it_from_the_checkpoint(tmp_path, monkeypatch):
    items, _ = read_prompts(prompts_file(tmp_path, [{"prompt": "Write about topic 0.", "length": 600}]), 600)
    out = tmp_path / "out.jsonl"

    def crash(self, row):  # the process dies after the write finished, before its row is on disk
        raise OSError("killed")

    with monkeypatch.context() as patched, pytest.raises(OSError):
        patched.setattr(JsonlAppender, "append", crash)
        run(items, FakeModel(rule=author_reply), out)
    again = FakeModel(rule=author_reply)
    report = run(items, again, out)
    assert report.written == 1 and again.history == []  # no model call: all of it was checkpointed
    assert lines_of(out)[0]["messages"][0]["content"] == "Write about topic 0."


def test_checkpoints_of_rows_already_written_are_cleared_on_the_next_run(tmp_path):
    items, _ = read_prompts(prompts_file(tmp_path, [{"prompt": "Write about topic 0.", "length": 300}]), 300)
    out = tmp_path / "out.jsonl"
    run(items, FakeModel(rule=author_reply), out)
    key = lines_of(out)[0]["id"]
    with batched_sqlite_checkpointer(checkpoint_path_for(out)) as saver:  # a leftover, as after a kill
        saver.put(
            {"configurable": {"thread_id": key, "checkpoint_ns": ""}},
            empty_checkpoint(),
            {"source": "input", "step": -1},
            {},
        )
        saver.flush()
        assert saver.thread_ids() == {key}
    report = run(items, FakeModel(rule=author_reply), out)
    assert report.skipped_done == 1
    with batched_sqlite_checkpointer(checkpoint_path_for(out)) as saver:
        assert saver.thread_ids() == set()
