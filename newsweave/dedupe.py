"""The dedupe stage: near-duplicates and shared wire copy.

* :class:`MinHashDeduper` recognises an article that republishes an earlier one
  (MinHash LSH over word shingles, datasketch), streaming.
* :func:`shared_passages` finds the passages two or more articles share nearly
  word for word, with exact spans in each.
"""

from __future__ import annotations

import base64
import re
from collections import defaultdict, deque
from collections.abc import Sequence
from typing import Any

import numpy as np

from .models import Article, DuplicateInfo

DEDUPE_STATE_KIND = "minhash-v1"

_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str, k: int = 5) -> set[str]:
    """Lower-cased word k-shingles of a text."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + k]) for i in range(len(words) - k + 1)}


class MinHashDeduper:
    """Streaming near-duplicate detection with MinHash LSH.

    An article whose estimated Jaccard similarity to an earlier article is at
    least ``threshold`` is a copy of it (its ``copy_of`` is the earliest original).
    Texts too short to shingle (fewer than ``min_words`` words) are never called
    copies: two one-line briefs that agree are not the same report.

    Only the latest ``window`` texts are remembered (older ones are forgotten), so
    memory and the exported state (:meth:`export`, about 700 bytes a text) stay bounded.
    """

    def __init__(
        self, threshold: float = 0.8, num_perm: int = 128, shingle: int = 5, min_words: int = 20, window: int = 5000
    ) -> None:
        from datasketch import MinHashLSH

        self.threshold = threshold
        self.num_perm = num_perm
        self.shingle = shingle
        self.min_words = min_words
        self.window = window
        from datasketch import MinHash

        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        # Made once: datasketch would otherwise draw the permutations again for every article.
        template = MinHash(num_perm=num_perm)
        self._permutations, self._scheme = template.permutations, template.scheme
        self._hashes: dict[str, Any] = {}
        self._origin: dict[str, str] = {}
        self._order: deque[str] = deque()

    def _minhash(self, text: str) -> Any:
        from datasketch import MinHash

        m = MinHash(num_perm=self.num_perm, permutations=self._permutations, scheme=self._scheme)
        # One vectorised batch instead of a Python call per shingle (about 10x faster).
        m.update_batch([s.encode("utf-8") for s in shingles(text, self.shingle)])
        return m

    def check(self, article: Article) -> DuplicateInfo:
        if article.id in self._hashes:
            return DuplicateInfo(article.id, self._origin.get(article.id), 1.0 if article.id in self._origin else 0.0)
        if len(_WORD.findall(article.text[:2000])) < self.min_words:
            return DuplicateInfo(article.id)
        m = self._minhash(article.text)
        best: tuple[float, str] | None = None
        for other in self._lsh.query(m):
            sim = float(m.jaccard(self._hashes[other]))
            if sim >= self.threshold and (best is None or sim > best[0]):
                best = (sim, other)
        self._remember(article.id, m)
        if best is None:
            return DuplicateInfo(article.id)
        original = self._origin.get(best[1], best[1])
        self._origin[article.id] = original
        return DuplicateInfo(article.id, original, best[0])

    def _remember(self, article_id: str, m: Any) -> None:
        self._lsh.insert(article_id, m)
        self._hashes[article_id] = m
        self._order.append(article_id)
        while len(self._hashes) > self.window and self._order:
            self.forget(self._order.popleft())

    def forget(self, article_id: str) -> None:
        if article_id in self._hashes:
            self._lsh.remove(article_id)
            del self._hashes[article_id]
            self._origin.pop(article_id, None)

    # ---------------------------------------------------------------- state

    def export(self) -> dict[str, Any]:
        """JSON-compatible state: the remembered texts' MinHash signatures (oldest first) and copy origins.

        A signature is its ``num_perm`` 32-bit hash values, little-endian, base64-encoded.
        """
        items = []
        for aid in self._order:
            m = self._hashes.get(aid)
            if m is None:
                continue
            sig = base64.b64encode(np.asarray(m.hashvalues, dtype="<u4").tobytes()).decode("ascii")
            items.append([aid, self._origin.get(aid), sig])
        return {"kind": DEDUPE_STATE_KIND, "num_perm": self.num_perm, "shingle": self.shingle, "items": items}

    def restore(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`export`'s output (state of another kind or shape is ignored: a fresh start)."""
        if (
            state.get("kind") != DEDUPE_STATE_KIND
            or state.get("num_perm") != self.num_perm
            or state.get("shingle") != self.shingle
        ):
            return
        from datasketch import MinHash, MinHashLSH

        self._lsh = MinHashLSH(threshold=self.threshold, num_perm=self.num_perm)
        self._hashes, self._origin, self._order = {}, {}, deque()
        for aid, origin, sig in state["items"]:
            values = np.frombuffer(base64.b64decode(sig), dtype="<u4").astype(np.uint64)
            m = MinHash(num_perm=self.num_perm, hashvalues=values, permutations=self._permutations, scheme=self._scheme)
            if origin is not None:
                self._origin[aid] = origin
            self._remember(aid, m)


# --------------------------------------------------------------------------- shared passages


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0).lower(), m.start(), m.end()) for m in _WORD.finditer(text)]


def shared_passages(articles: Sequence[Article], min_words: int = 12, k: int = 6) -> list[dict[str, Any]]:
    """Passages of at least ``min_words`` words that two or more articles share word for word.

    Each passage gives the articles that carry it and, per article, the exact span.
    Matching is on lower-cased word k-grams, so punctuation and spacing may differ.
    """
    toks = {a.id: _tokens(a.text) for a in articles}
    index: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
    for aid, ts in toks.items():
        words = [t[0] for t in ts]
        for i in range(len(words) - k + 1):
            index[tuple(words[i : i + k])].append((aid, i))
    # For each article, mark k-gram starts shared with each other article.
    shared: dict[tuple[str, str], set[int]] = defaultdict(set)
    for hits in index.values():
        ids = {aid for aid, _ in hits}
        if len(ids) < 2:
            continue
        for aid, i in hits:
            for other in ids - {aid}:
                shared[(aid, other)].add(i)
    texts = {a.id: a.text for a in articles}
    passages: dict[str, dict[str, Any]] = {}
    for (aid, other), starts in shared.items():
        if aid > other:
            continue
        for run_start, run_end in _runs(sorted(starts)):
            n_words = run_end - run_start + k
            if n_words < min_words:
                continue
            ts = toks[aid]
            s, e = ts[run_start][1], ts[run_end + k - 1][2]
            key = " ".join(t[0] for t in ts[run_start : run_end + k])
            entry = passages.setdefault(key, {"articles": [], "text": texts[aid][s:e], "spans": []})
            for art, (ss, ee) in ((aid, (s, e)), (other, _find_span(toks[other], key, texts[other]))):
                if art not in entry["articles"] and ss >= 0:
                    entry["articles"].append(art)
                    entry["spans"].append({"article": art, "start": ss, "end": ee, "text": texts[art][ss:ee]})
    out = sorted(passages.values(), key=lambda p: (-len(p["articles"]), -len(p["text"])))
    return _drop_contained(out)


def _runs(starts: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in starts:
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _find_span(toks: list[tuple[str, int, int]], key: str, text: str) -> tuple[int, int]:
    words = key.split(" ")
    n = len(words)
    seq = [t[0] for t in toks]
    for i in range(len(seq) - n + 1):
        if seq[i : i + n] == words:
            return toks[i][1], toks[i + n - 1][2]
    return -1, -1


def _drop_contained(passages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for p in passages:
        if any(p["text"] in q["text"] and set(p["articles"]) <= set(q["articles"]) for q in kept):
            continue
        kept.append(p)
    return kept
