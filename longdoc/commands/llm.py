"""`longdoc llm PROMPT`: one call to the configured model, to check a setup in one line."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("llm")
    def llm_command(
        ctx: typer.Context,
        prompt: Annotated[str, typer.Argument(help="The prompt, sent as it is.")],
        max_tokens: Annotated[
            int, typer.Option("--max-tokens", min=1, help="Most tokens to generate.")
        ] = 128,
        temperature: Annotated[float, typer.Option("--temperature", min=0.0, max=2.0)] = 0.0,
        stop: Annotated[
            list[str] | None,
            typer.Option("--stop", help="Stop sequence (repeatable; \\n for a newline)."),
        ] = None,
        logprobs: Annotated[
            int | None,
            typer.Option("--logprobs", min=0, max=20, help="Top-k token logprobs to return."),
        ] = None,
    ) -> None:
        """Send PROMPT to the configured model and print its reply."""
        from ..cli import cli_context
        from ..console import status
        from ..llm import load_model
        from ..llm.base import CompletionRequest
        from ..llm.profiles import profile_of

        c = cli_context(ctx)
        stops = tuple(s.replace("\\n", "\n") for s in stop or ())
        request = CompletionRequest.from_text(
            prompt, max_tokens=max_tokens, temperature=temperature, stop=stops, logprobs=logprobs
        )
        model = load_model(c.settings)
        with status(c.err, f"calling {c.settings.model or 'the endpoint'}…"):
            completion = model.complete(request)
        if c.json:
            c.emit_json(
                {
                    "text": completion.text,
                    "model": completion.model,
                    "cached": completion.cached,
                    "finish_reason": completion.finish_reason,
                    "usage": completion.usage.model_dump(),
                    "latency_s": round(completion.latency_s, 4),
                    "cost_usd": completion.cost_usd,
                    "context_window": model.context_window,
                    "profile": profile_of(model).name,
                    "rendering": "completion" if model.completion_style else "chat",
                    "logprobs": [
                        {"token": t.token, "logprob": t.logprob, "top": [list(p) for p in t.top]}
                        for t in completion.logprobs
                    ]
                    if completion.logprobs is not None
                    else None,
                }
            )
            return
        c.out.print(completion.text, markup=False, highlight=False)
        usage = completion.usage
        c.err.print(
            f"[dim]{completion.model}{' (cached)' if completion.cached else ''}: "
            f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens, "
            f"{completion.latency_s:.2f}s[/]"
        )
