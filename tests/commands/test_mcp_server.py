"""`longdoc mcp` through the MCP SDK's own stdio client, on the fake model."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import mcp
import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSCODE = "The passcode of the old lighthouse is 7341-orchid."
SECRET = "sk-live-DO-NOT-LEAK-4f9a2b7c1e"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("mcp")
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "README.md").write_text("# Harbour\n\nA small library about harbours and lighthouses.\n", encoding="utf-8")
    filler = "The harbour master walked the pier at dawn and counted the boats. " * 30
    (folder / "notes.txt").write_text(f"{filler}\n\n{PASSCODE}\n\n{filler}\n", encoding="utf-8")
    (folder / "main.py").write_text('def main():\n    """Start the harbour."""\n    return 42\n', encoding="utf-8")
    (folder / ".env").write_text(f"API_KEY={SECRET}\n", encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "private.txt").write_text(f"private {SECRET}\n", encoding="utf-8")
    (folder / "link.txt").symlink_to(outside / "private.txt")
    return folder


def server_parameters(project: Path, cache: Path) -> mcp.StdioServerParameters:
    env = {"PYTHONPATH": str(ROOT), "LONGDOC_CACHE_DIR": str(cache), "PATH": os.environ.get("PATH", "")}
    return mcp.StdioServerParameters(
        command=sys.executable,
        args=["-m", "longdoc.cli", "--model", "fake", "mcp", "--root", str(project)],
        env=env,
        cwd=str(ROOT),
    )


def text_of(result) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def session_checks(project: Path, cache: Path) -> dict:
    seen: dict = {"progress": []}

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen["progress"].append((progress, total, message))

    async with mcp.Client(server_parameters(project, cache)) as client:
        listed = await client.list_tools()
        seen["tools"] = {tool.name: tool for tool in listed.tools}
        seen["tokens"] = await client.call_tool("tokens", {"path": "."})
        seen["outline"] = await client.call_tool("outline", {"path": "main.py", "budget": 200})
        pages, cursor = [], 0
        while cursor is not None:
            page = await client.call_tool("split", {"path": "notes.txt", "tokens": 64, "cursor": cursor, "page_size": 2})
            pages.append(page)
            cursor = page.structured_content["next_cursor"]
        seen["pages"] = pages
        seen["ask"] = await client.call_tool(
            "ask", {"path": "notes.txt", "question": "What is the passcode of the old lighthouse?"},
            progress_callback=on_progress,
        )
        seen["summarize"] = await client.call_tool("summarize", {"path": ".", "words": 40})
        seen["refused"] = {
            name: await client.call_tool("tokens", {"path": path})
            for name, path in {
                "dotdot": "../outside/private.txt",
                "absolute": str(project.parent / "outside" / "private.txt"),
                "link": "link.txt",
            }.items()
        }
        seen["secret_ask"] = await client.call_tool("ask", {"path": ".env", "question": "What is the API key?"})
        seen["secret_split"] = await client.call_tool("split", {"path": ".env"})
    return seen


@pytest.fixture(scope="module")
def seen(project: Path) -> dict:
    """One server session for the whole module: every call the tests look at."""
    return asyncio.run(asyncio.wait_for(session_checks(project, project.parent / "cache"), timeout=120))


def test_tools_are_listed_with_input_and_output_schemas(seen):
    tools = seen["tools"]
    assert set(tools) == {"ask", "summarize", "tokens", "outline", "split"}
    for tool in tools.values():
        assert tool.description and tool.input_schema["properties"]["path"]
        assert tool.output_schema and tool.output_schema.get("properties")
    assert {"answer", "citations", "usage"} <= set(tools["ask"].output_schema["properties"])
    assert {"files", "skipped", "total_tokens"} <= set(tools["tokens"].output_schema["properties"])


def test_tokens_outline_and_split_pages(seen, project: Path):
    report = seen["tokens"].structured_content
    assert not seen["tokens"].is_error
    read = {f["path"] for f in report["files"]}
    assert {"README.md", "notes.txt", "main.py"} <= read and ".env" not in read and "link.txt" not in read
    reasons = {s["path"]: s["reason"] for s in report["skipped"]}
    assert reasons[".env"] == "secret" and reasons["link.txt"] == "outside-root"
    assert "def main" in seen["outline"].structured_content["text"]
    chunks = [c for page in seen["pages"] for c in page.structured_content["chunks"]]
    assert len(seen["pages"]) > 1 and all(len(p.structured_content["chunks"]) <= 2 for p in seen["pages"])
    assert [c["index"] for c in chunks] == list(range(len(chunks))) == list(range(seen["pages"][0].structured_content["total_chunks"]))
    assert "".join(c["text"] for c in chunks) == (project / "notes.txt").read_text(encoding="utf-8")


def test_ask_and_summarize_answer_with_progress(seen):
    answer = seen["ask"].structured_content
    assert not seen["ask"].is_error and "7341-orchid" in answer["answer"]
    assert answer["citations"] and answer["usage"]["calls"] >= 1
    assert seen["progress"] and seen["progress"][-1][0] == seen["progress"][-1][1]
    assert not seen["summarize"].is_error and seen["summarize"].structured_content["answer"].strip()


def test_paths_outside_the_root_are_refused_and_secrets_never_returned(seen):
    refused = seen["refused"]
    assert all(result.is_error for result in refused.values())
    assert "'..' is not allowed" in text_of(refused["dotdot"])
    assert "outside the roots" in text_of(refused["absolute"])
    assert "links to a place outside the roots" in text_of(refused["link"])
    assert seen["secret_ask"].is_error and seen["secret_split"].is_error
    everything = json.dumps(
        [text_of(r) for r in (seen["tokens"], seen["ask"], seen["summarize"], seen["secret_ask"], seen["secret_split"], *refused.values())]
        + [seen["tokens"].structured_content, seen["summarize"].structured_content]
    )
    assert SECRET not in everything
