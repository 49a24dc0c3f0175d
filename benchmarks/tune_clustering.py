"""Fast tuning harness for the story-clustering score mix (ECB+; tune on train, check on dev).

::

    python benchmarks/tune_clustering.py [--cache DIR]

Caches, once, per article of ECB+ train and dev (in ``--cache``, outside the
repository; default ``$TMPDIR/newsweave-tune``): the hashed IDF terms and names
of :func:`newsweave.features.featurize`, the dateline year, and the MiniLM ONNX
vector of title + lead (``newsweave.embed.default_embedder()``). Then it
replays the stream exactly (single pass, file order, every article compared
with every story so far: the ANN's best case, no merges) from Gram matrices,
so one run over 575 articles takes tens of milliseconds, and prints, for each
representation, the threshold re-tuned on *train* with train and dev B-cubed F1
at that threshold. Score of an article against a story::

    (1 - w_dense) * cos(terms, centroid) + w_dense * cos(MiniLM, MiniLM sum)
    + w_names * cos(names, summed names) - year_penalty * [dateline years differ]

``url``, ``id`` and ``topic`` are never read. Dev is printed as a check only.
"""

from __future__ import annotations

import argparse
import math
import os
import pickle
import sys
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newsweave.evaluate import bcubed, load_labelled
from newsweave.features import featurize, first_text_date

ECBPLUS = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "ecbplus"
SPLITS = ("train", "dev")
THRESHOLDS = np.arange(0.10, 0.80, 0.02)


def build_cache(cache: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(features, MiniLM vectors) per split, computed once and pickled under ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    feats_path, vec_path = cache / "feats.pkl", cache / "minilm.pkl"
    if not feats_path.exists():
        feats: dict[str, Any] = {}
        for s in SPLITS:
            arts, gold = load_labelled(ECBPLUS / f"{s}.jsonl")
            rows = []
            for a in arts:
                f = featurize(a, keep_names=True)
                rows.append({"id": a.id, "terms": f.terms, "names": f.names, "dateline": first_text_date(a.text)})
            feats[s] = (rows, gold)
        feats_path.write_bytes(pickle.dumps(feats))
    if not vec_path.exists():
        from newsweave.embed import default_embedder

        emb = default_embedder()
        vecs: dict[str, Any] = {}
        for s in SPLITS:
            arts, _ = load_labelled(ECBPLUS / f"{s}.jsonl")
            v = emb.embed([f"{a.title}\n{a.text[:600]}" for a in arts])
            vecs[s] = {a.id: v[i] for i, a in enumerate(arts)}
        vec_path.write_bytes(pickle.dumps(vecs))
    return pickle.loads(feats_path.read_bytes()), pickle.loads(vec_path.read_bytes())


def _gram(dicts: list[dict[Any, float]]) -> np.ndarray:
    from scipy import sparse

    keys: dict[Any, int] = {}
    r, c, v = [], [], []
    for i, d in enumerate(dicts):
        for k, x in d.items():
            r.append(i)
            c.append(keys.setdefault(k, len(keys)))
            v.append(x)
    m = sparse.csr_matrix((v, (r, c)), shape=(len(dicts), max(1, len(keys))))
    return np.asarray((m @ m.T).toarray())


def prepare(feats: dict[str, Any], vecs: dict[str, Any], split: str) -> dict[str, Any]:
    rows, gold = feats[split]
    names = []
    for r in rows:
        z = math.sqrt(sum(x * x for x in r["names"].values())) or 1.0
        names.append({k: x / z for k, x in r["names"].items()})
    v = np.stack([vecs[split][r["id"]] for r in rows])
    return {
        "n": len(rows),
        "ids": [r["id"] for r in rows],
        "gold": gold,
        "Gt": _gram([r["terms"] for r in rows]),
        "Gd": v @ v.T,
        "Gn": _gram(names),
        "years": [None if r["dateline"] is None else date.fromordinal(r["dateline"]).year for r in rows],
    }


def stream(
    p: dict[str, Any], threshold: float, w_dense: float = 0.0, w_names: float = 0.0, year_penalty: float = 0.0
) -> float:
    """B-cubed F1 of one single-pass run (centroid sums kept as rows of Gram sums)."""
    n = p["n"]
    sums = {k: np.zeros((n, n)) for k in ("Gt", "Gd", "Gn")}
    norms = {k: np.zeros(n) for k in ("Gt", "Gd", "Gn")}
    years: list[dict[int, int]] = []
    assign = np.zeros(n, dtype=int)
    ns = 0
    for i in range(n):
        best, j = -9.0, -1
        if ns:

            def cos(k: str, ns: int = ns, i: int = i) -> np.ndarray:
                return np.asarray(sums[k][:ns, i] / np.sqrt(np.maximum(norms[k][:ns], 1e-12)))

            sc = (1 - w_dense) * cos("Gt")
            if w_dense:
                sc = sc + w_dense * cos("Gd")
            if w_names:
                sc = sc + w_names * cos("Gn")
            y = p["years"][i]
            if y is not None and year_penalty:
                sc = sc - year_penalty * np.array(
                    [bool(yc) and max(yc, key=lambda k: (yc[k], -k)) != y for yc in years], dtype=float
                )
            j = int(np.argmax(sc))
            best = float(sc[j])
        if best < threshold:
            j, ns = ns, ns + 1
            years.append({})
        for k in sums:
            norms[k][j] += 2 * sums[k][j, i] + p[k][i, i]
            sums[k][j] += p[k][i]
        if p["years"][i] is not None:
            years[j][p["years"][i]] = years[j].get(p["years"][i], 0) + 1
        assign[i] = j
    return bcubed(p["gold"], {p["ids"][i]: str(assign[i]) for i in range(n)})["f1"]


ROWS: list[tuple[str, dict[str, float]]] = [
    ("TF-IDF terms", {}),
    ("+ MiniLM (w 0.3)", {"w_dense": 0.3}),
    ("+ MiniLM (w 0.5)", {"w_dense": 0.5}),
    ("MiniLM only", {"w_dense": 1.0}),
    ("terms + names (0.15)", {"w_names": 0.15}),
    ("+ MiniLM (0.3) + names (0.15)", {"w_dense": 0.3, "w_names": 0.15}),
    ("terms + dateline years (penalty 0.1)", {"year_penalty": 0.1}),
    ("+ MiniLM + names + dateline years", {"w_dense": 0.3, "w_names": 0.15, "year_penalty": 0.1}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "newsweave-tune"))
    args = parser.parse_args()
    feats, vecs = build_cache(Path(args.cache))
    train, dev = prepare(feats, vecs, "train"), prepare(feats, vecs, "dev")
    print("| representation | threshold (tuned on train) | train B3 F1 | dev B3 F1 |")
    print("|---|---:|---:|---:|")
    for name, kw in ROWS:
        f, t = max((stream(train, float(t), **kw), float(t)) for t in THRESHOLDS)
        print(f"| {name} | {t:.2f} | {f:.3f} | {stream(dev, t, **kw):.3f} |", flush=True)


if __name__ == "__main__":
    main()
