"""Prompt templates, kept as text files beside this module, in two renderings.

A template file has sections headed by a line `## system`, `## user`, `## completion`
and optionally `## stop` (one stop sequence per line, written with escapes like `\\n`).
`system`/`user` form the chat rendering for instruction-tuned endpoints; `completion`
is the same request primed for a base model (the material, then a cue to continue).
Placeholders are `$name` or `${name}` (string.Template), so code and JSON in the
material never collide with the syntax.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources

from ..errors import ConfigError
from ..llm.base import CompletionRequest, Message

_SECTION = re.compile(r"^## (system|user|completion|stop)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str | None
    user: str
    completion: str | None
    stop: tuple[str, ...] = ()

    def placeholders(self) -> set[str]:
        found: set[str] = set()
        for part in (self.system, self.user, self.completion):
            if part:
                for match in string.Template.pattern.finditer(part):
                    name = match.group("named") or match.group("braced")
                    if name:
                        found.add(name)
        return found

    def _fill(self, part: str, values: dict[str, object]) -> str:
        try:
            return string.Template(part).substitute({k: str(v) for k, v in values.items()})
        except KeyError as exc:
            raise ConfigError(
                f"prompt {self.name!r} needs a value for {exc.args[0]!r}",
                setting=f"prompt {self.name}",
                value=exc.args[0],
            ) from None

    def render(self, **values: object) -> tuple[tuple[Message, ...], str | None]:
        """The chat messages and the completion prompt for these values."""
        messages: list[Message] = []
        if self.system:
            messages.append(Message(role="system", content=self._fill(self.system, values)))
        messages.append(Message(role="user", content=self._fill(self.user, values)))
        completion = self._fill(self.completion, values) if self.completion else None
        return tuple(messages), completion

    def request(
        self, *, max_tokens: int, stop: tuple[str, ...] = (), base_stops: bool = True, **values: object
    ) -> CompletionRequest:
        """A ready request: both renderings, this template's stop sequences plus `stop`.

        The template's stops are written for a base model running on past its answer;
        `base_stops=False` (a chat model's profile) leaves them out, so a list or a second
        paragraph is not cut at its first line."""
        messages, completion = self.render(**values)
        own = self.stop if base_stops else ()
        return CompletionRequest(
            messages=messages,
            prompt=completion,
            max_tokens=max_tokens,
            stop=tuple(dict.fromkeys(own + stop)),
        )


def parse_template(name: str, text: str) -> PromptTemplate:
    parts: dict[str, str] = {}
    matches = list(_SECTION.finditer(text))
    if not matches:
        raise ConfigError(f"prompt {name!r} has no '## user' section", setting=f"prompt {name}")
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        parts[match.group(1)] = text[match.end() + 1 : end].strip("\n")
    if "user" not in parts:
        raise ConfigError(f"prompt {name!r} has no '## user' section", setting=f"prompt {name}")
    stops = tuple(
        line.encode("latin-1", "backslashreplace").decode("unicode_escape")
        for line in parts.get("stop", "").splitlines()
        if line.strip()
    )
    return PromptTemplate(
        name=name,
        system=parts.get("system"),
        user=parts["user"],
        completion=parts.get("completion"),
        stop=stops,
    )


@cache
def load_prompt(name: str) -> PromptTemplate:
    """The template `longdoc/prompts/<name>.txt`."""
    text = resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8")
    return parse_template(name, text)
