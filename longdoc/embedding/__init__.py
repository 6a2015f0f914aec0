"""Sentence vectors without a language model (`SentenceEncoder`): the semantic signal the
dense scorer and the chain's evidence selection share."""

from .encoder import SentenceEncoder, shared_encoder

__all__ = ["SentenceEncoder", "shared_encoder"]
