"""A sound generic plan built from the instruction alone, for when the model gives nothing
usable (a 270M base model may not): its topic, and points that cover it in order."""

from __future__ import annotations

import re

_LEADING_REQUEST = re.compile(
    r"^\s*(?:please\s*,?\s*|can you\s+|could you\s+|i need you to\s+|help me\s+)*"
    r"(?:write|compose|draft|create|produce|generate|give|prepare|introduce|describe|explain|tell)\b\s*",
    re.IGNORECASE,
)
_FORM_PHRASE = re.compile(
    r"^(?:me\s+)?(?:an?\s+|the\s+)?(?:[\w-]*\s*){0,6}?"
    r"(?:article|essay|story|post|report|letter|email|speech|guide|review|description|paper|novel|"
    r"piece|introduction|overview|summary|outline|blog|proposal|script|poem|chapter|text)s?\s+"
    r"(?:about|on|of|for|regarding|describing|explaining|introducing|that)\s+",
    re.IGNORECASE,
)
_LENGTH_PHRASE = re.compile(
    r"[,(]?\s*(?:in\s+)?(?:about|around|approximately|at least|no less than|no more than)?\s*"
    r"\d[\d,]*\s*-?\s*(?:words?|characters?|字)\b\)?",
    re.IGNORECASE,
)

_DERIVED_POINTS = (
    "Introduce {topic} and set out what this piece will cover",
    "Give the background and context needed to understand {topic}",
    "Explain the central ideas of {topic} in detail",
    "Work through concrete examples that show {topic} in practice",
    "Discuss the difficulties, limits and opposing views around {topic}",
    "Describe what {topic} means for the people it affects",
    "Consider how {topic} may develop in the future",
)
_DERIVED_CONCLUSION = "Conclude by drawing together the main points about {topic}"


def topic_of(instruction: str) -> str:
    """The subject of a writing instruction, best effort: the request and length phrases cut."""
    first = re.split(r"(?<=[.!?])\s+|\n", instruction.strip(), maxsplit=1)[0]
    topic = _LENGTH_PHRASE.sub("", first)
    topic = _LEADING_REQUEST.sub("", topic)
    topic = _FORM_PHRASE.sub("", topic)
    topic = re.sub(r"^(?:about|on|regarding)\s+", "", topic, flags=re.IGNORECASE)
    topic = topic.strip(" .,:;!?\"'")
    words = topic.split()
    if not words:
        words = instruction.split()
    if len(words) > 20:
        words = words[:20]
    return " ".join(words) or "the subject"


def derive_points(topic: str, count: int, *, part: str | None = None) -> list[str]:
    """`count` generic but ordered main points for `topic` (or for one part of it)."""
    if part is not None:
        if count == 1:
            return [part]
        points = [f"Open this part: {part}"]
        points += [
            f"Develop this part further ({k} of {count - 2}): {part}" for k in range(1, count - 1)
        ]
        points.append(f"Close this part and lead on from it: {part}")
        return points
    if count == 1:
        return [f"Cover the whole task on {topic}"]
    middle_templates = _DERIVED_POINTS[1:]
    points = [_DERIVED_POINTS[0].format(topic=topic)]
    for k in range(count - 2):
        template = middle_templates[k % len(middle_templates)]
        rounds = k // len(middle_templates)
        point = template.format(topic=topic)
        points.append(point if rounds == 0 else f"{point} (continued, part {rounds + 1})")
    points.append(_DERIVED_CONCLUSION.format(topic=topic))
    return points
