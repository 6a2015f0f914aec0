"""Answer-quality metrics for long-document QA: exact match, token F1, multiple-choice
accuracy and evidence recall, after the usual SQuAD answer normalisation."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans(dict.fromkeys(string.punctuation + "‘’“”–—", " "))
_OPTION = re.compile(r"^\s*\(([A-Z])\)\s*(.*?)\s*$", re.MULTILINE)
_LEADING_LETTER = re.compile(r"^[^\w(]*(?:\(([A-Z])\)|([A-Z])(?:[.:)\]]|\s*$))")
"""`(B)`, `B.`, `B)`, `B:` or a lone `B`; not `A` the article starting a sentence."""
_ANSWER_LETTER = re.compile(r"\b(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-Z])\)?(?![A-Za-z])", re.IGNORECASE)


def normalize_answer(text: str) -> str:
    """Lower case, punctuation and the articles a/an/the removed, whitespace collapsed."""
    text = text.lower().translate(_PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 if the normalised prediction equals any normalised gold answer."""
    guess = normalize_answer(prediction)
    return float(any(guess == normalize_answer(g) for g in golds))


def token_f1(prediction: str, gold: str) -> float:
    """Harmonic mean of token precision and recall between normalised answers."""
    guess, truth = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not guess or not truth:
        return float(guess == truth)
    common = sum((Counter(guess) & Counter(truth)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(guess), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def f1(prediction: str, golds: Sequence[str]) -> float:
    """The best token F1 against any gold answer."""
    return max((token_f1(prediction, g) for g in golds), default=0.0)


def parse_options(question: str) -> dict[str, str]:
    """Options written one per line as `(A) text`, as in L-Eval's QuALITY questions."""
    return {m.group(1): m.group(2) for m in _OPTION.finditer(question)}


def option_letter(text: str, options: dict[str, str]) -> str | None:
    """Which option `text` names: a leading letter (`B`, `(B)`, `B.`), `answer is B`, or
    else the option whose text it matches best (token F1 of at least 0.5)."""
    for pattern in (_LEADING_LETTER, _ANSWER_LETTER):
        match = pattern.search(text.strip())
        letter = next((g for g in match.groups() if g), None) if match else None
        if letter and letter.upper() in options:
            return letter.upper()
    best, best_score = None, 0.0
    for letter, option in options.items():
        score = token_f1(text, option)
        if score > best_score:
            best, best_score = letter, score
    return best if best_score >= 0.5 else None


def choice_accuracy(prediction: str, gold: str, question: str) -> float | None:
    """1.0 if the prediction names the gold option; None when the question has no options."""
    options = parse_options(question)
    if not options:
        return None
    wanted = option_letter(gold, options)
    if wanted is None:
        return None
    return float(option_letter(prediction, options) == wanted)


def evidence_recall(golds: Sequence[str], document: str, evidence: str | None) -> float | None:
    """Of the gold answers that occur in the document (normalised), the share that also occur
    in the evidence a strategy kept (final notes, selected or truncated context); None when
    no gold answer occurs in the document or the strategy keeps no evidence."""
    if evidence is None:
        return None
    doc = f" {normalize_answer(document)} "
    present = [n for n in (normalize_answer(g) for g in golds) if n and f" {n} " in doc]
    if not present:
        return None
    kept = f" {normalize_answer(evidence)} "
    return sum(f" {n} " in kept for n in present) / len(present)


def holds_gold(texts: Sequence[str], golds: Sequence[str], question: str = "") -> float:
    """1.0 when any of `texts` (an answer, the evidence shown under it) holds a gold answer:
    names the gold option of a multiple-choice question, or contains a gold answer
    (normalised, whole words)."""
    if parse_options(question):
        return float(any(choice_accuracy(t, golds[0], question) for t in texts if t))
    wanted = [n for n in (normalize_answer(g) for g in golds) if n]
    return float(any(f" {n} " in f" {normalize_answer(t)} " for t in texts if t for n in wanted))


def mean(values: Sequence[float | None]) -> float | None:
    """The mean of the values that apply; None when none does."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
