"""GPU embedding throughput: all-MiniLM-L6-v2, sentences per second, end to end.

Run on a machine with a CUDA GPU and torch::

    python benchmarks/bench_gpu_embed.py --sentences FILE [--n 1000000] [--weights DIR] [--st-model DIR]

``FILE`` holds one sentence a line (e.g. news sentences); it is repeated up to
``--n`` sentences. Prints, each as sentences/s:

* ``tokenizer 1 thread`` and ``tokenizer parallel``: the ``tokenizers`` encoder alone;
* ``model fp16 only``: the GPU forward pass on pre-tokenized, length-bucketed batches;
* ``end to end``: :meth:`GpuMiniLMEmbedder.embed` on raw strings (tokenize + pad + GPU + copy back);
* ``sentence-transformers``: its default ``encode`` on the same sentences (when ``--st-model`` names
  a local model folder), with the cosine agreement between its vectors and ours.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:>12,.0f} sentences/s  ({n:,} in {seconds:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", required=True, type=Path, help="One sentence a line.")
    parser.add_argument("--n", type=int, default=1_000_000, help="Sentences to embed (the file is repeated).")
    parser.add_argument("--weights", default=None, help="model.safetensors or its folder.")
    parser.add_argument("--st-model", default=None, help="A local sentence-transformers folder for the baseline.")
    parser.add_argument("--st-n", type=int, default=100_000, help="Sentences for the baseline.")
    parser.add_argument("--tokens-per-batch", type=int, default=131072)
    args = parser.parse_args()

    import torch
    from tokenizers import Tokenizer

    from newsweave.embed_gpu import RESOURCES, GpuMiniLMEmbedder

    base = [s for s in args.sentences.read_text(encoding="utf-8").splitlines() if s.strip()]
    texts = (base * (args.n // len(base) + 1))[: args.n]
    lengths = [len(s) for s in base]
    print(f"device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; CPU cores {os.cpu_count()}")
    print(f"sentences: {len(texts):,} ({len(base):,} distinct, mean {np.mean(lengths):.0f} chars)")

    one = Tokenizer.from_file(str(RESOURCES / "minilm-tokenizer.json"))
    one.enable_truncation(max_length=128)
    sample = texts[:50_000]
    t = time.perf_counter()
    for s in sample:
        one.encode(s)
    print("tokenizer 1 thread     ", _rate(len(sample), time.perf_counter() - t))
    t = time.perf_counter()
    one.encode_batch(texts[:200_000])
    print(
        "tokenizer encode_batch ", _rate(min(len(texts), 200_000), time.perf_counter() - t), "(Rust threads, 1 process)"
    )

    emb = GpuMiniLMEmbedder(args.weights, tokens_per_batch=args.tokens_per_batch)
    emb.embed(texts[:50_000])  # warm-up: worker processes, kernels, allocator
    torch.cuda.synchronize()

    t = time.perf_counter()
    chunks = list(emb._tokenized(texts[:500_000]))
    n_tok = sum(len(c[1]) for c in chunks)
    print("tokenizer processes    ", _rate(n_tok, time.perf_counter() - t), f"({emb._pool._max_workers} workers)")
    batches = [(torch.from_numpy(m).to("cuda").long(), len(p)) for p, m in emb.buckets(iter(chunks))]
    for attempt in ("cold", "warm"):  # the first pass meets each batch shape for the first time
        torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.inference_mode():
            for m, _ in batches:
                emb.forward(m)
        torch.cuda.synchronize()
        print(f"model fp16 only ({attempt})", _rate(n_tok, time.perf_counter() - t), f"({len(batches)} batches)")

    for run in (1, 2):
        t = time.perf_counter()
        ours = emb.embed(texts)
        torch.cuda.synchronize()
        print(f"end to end, run {run}     ", _rate(len(texts), time.perf_counter() - t))
    norms = np.linalg.norm(ours, axis=1)
    print(f"vectors: {ours.shape}, norms {norms.min():.4f}..{norms.max():.4f}")

    if args.st_model:
        from sentence_transformers import SentenceTransformer

        st = SentenceTransformer(args.st_model, device="cuda")
        st.max_seq_length = 128
        st_texts = texts[: args.st_n]
        st.encode(st_texts[:2000])
        t = time.perf_counter()
        ref = st.encode(st_texts, normalize_embeddings=True)
        torch.cuda.synchronize()
        print(
            "sentence-transformers  ", _rate(len(st_texts), time.perf_counter() - t), f"dtype {st[0].auto_model.dtype}"
        )
        k = min(len(base), 5000)
        cos = np.sum(ref[:k] * ours[:k], axis=1)
        print(f"cosine(ours, sentence-transformers) over {k} sentences: mean {cos.mean():.5f}, min {cos.min():.5f}")
    emb.close()


if __name__ == "__main__":
    main()
