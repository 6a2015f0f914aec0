"""Model-calling relevance (XL3M): score segments against a question and keep the best as a
key context. Segmenting itself is pure text and lives in `longdoc.splitters.segments`."""

from .calibrated import CalibratedScorer
from .certainty import CertaintyScorer
from .expansion import ExpandedLexicalScorer
from .fusion import FusionScorer
from .key_context import Selection, aselect_key_context, select_key_context
from .lexical import LexicalScorer
from .scorers import SCORERS, HybridScorer, SegmentScorer, make_scorer

__all__ = [
    "SCORERS",
    "CalibratedScorer",
    "CertaintyScorer",
    "ExpandedLexicalScorer",
    "FusionScorer",
    "HybridScorer",
    "LexicalScorer",
    "SegmentScorer",
    "Selection",
    "aselect_key_context",
    "make_scorer",
    "select_key_context",
]
