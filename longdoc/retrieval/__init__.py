"""Model-calling relevance (XL3M): score segments against a question and keep the best as a
key context. Segmenting itself is pure text and lives in `longdoc.splitters.segments`."""

from .certainty import CertaintyScorer
from .key_context import Selection, aselect_key_context, select_key_context
from .lexical import LexicalScorer
from .scorers import SCORERS, HybridScorer, SegmentScorer, make_scorer

__all__ = [
    "SCORERS",
    "CertaintyScorer",
    "HybridScorer",
    "LexicalScorer",
    "SegmentScorer",
    "Selection",
    "aselect_key_context",
    "make_scorer",
    "select_key_context",
]
