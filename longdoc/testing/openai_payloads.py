"""The OpenAI wire format as the test server speaks it: a request body read as longdoc's
`CompletionRequest`, and the bodies it answers with (completions, chat or text, with token
logprobs in each one's shape; the models list; errors)."""

from __future__ import annotations

import json
import time
from typing import Any

from ..llm.base import CompletionRequest, Message, TokenLogprob


def as_request(chat: bool, body: dict[str, Any]) -> CompletionRequest:
    """The request as longdoc's protocol sees it: the text to answer in `prompt`."""
    if chat:
        messages = tuple(
            Message(role=m.get("role", "user"), content=str(m.get("content") or ""))
            for m in body.get("messages") or ()
            if m.get("role") in ("system", "user", "assistant")
        )
        prompt = "\n\n".join(m.content for m in messages)
        top = body.get("top_logprobs") if body.get("logprobs") else None
        logprobs = int(top or 0) if body.get("logprobs") else None
    else:
        messages = ()
        raw_prompt = body.get("prompt") or ""
        prompt = raw_prompt if isinstance(raw_prompt, str) else "\n".join(map(str, raw_prompt))
        logprobs = int(body["logprobs"]) if body.get("logprobs") is not None else None
    stop = body.get("stop") or ()
    if isinstance(stop, str):
        stop = (stop,)
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 512
    return CompletionRequest(
        messages=messages,
        prompt=prompt,
        max_tokens=int(max_tokens),
        temperature=float(body.get("temperature") or 0.0),
        stop=tuple(str(s) for s in stop),
        logprobs=min(logprobs, 20) if logprobs is not None else None,
    )


def completion_body(
    chat: bool,
    *,
    model: str,
    text: str,
    finish: str,
    logprobs: tuple[TokenLogprob, ...] | None,
    prompt_tokens: int,
) -> dict[str, Any]:
    """A chat completion (`chat`) or a text completion answering `text`, usage counted in words."""
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": len(text.split()),
        "total_tokens": prompt_tokens + len(text.split()),
    }
    created = int(time.time())
    if chat:
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish,
            "logprobs": None,
        }
        if logprobs is not None:
            choice["logprobs"] = {
                "content": [
                    {
                        "token": t.token,
                        "logprob": t.logprob,
                        "bytes": None,
                        "top_logprobs": [
                            {"token": tok, "logprob": lp, "bytes": None} for tok, lp in t.top
                        ],
                    }
                    for t in logprobs
                ]
            }
        payload = {
            "id": f"chatcmpl-{created}",
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [choice],
            "usage": usage,
        }
    else:
        choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
        if logprobs is not None:
            choice["logprobs"] = {
                "tokens": [t.token for t in logprobs],
                "token_logprobs": [t.logprob for t in logprobs],
                "top_logprobs": [dict(t.top) for t in logprobs],
                "text_offset": [0] * len(logprobs),
            }
        payload = {
            "id": f"cmpl-{created}",
            "object": "text_completion",
            "created": created,
            "model": model,
            "choices": [choice],
            "usage": usage,
        }
    return payload


def models_body(models: tuple[str, ...], context_window: int) -> dict[str, Any]:
    """`GET /v1/models`, each model with llama.cpp's `meta.n_ctx` and vLLM's `max_model_len`."""
    created = int(time.time())
    data = [
        {
            "id": name,
            "object": "model",
            "created": created,
            "owned_by": "longdoc-test",
            "max_model_len": context_window,
            "meta": {"n_ctx": context_window},
        }
        for name in models
    ]
    return {"object": "list", "data": data}


def error_body(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code or kind}}


def json_bytes(obj: object) -> bytes:
    return json.dumps(obj).encode("utf-8")
