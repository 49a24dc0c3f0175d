"""The cluster stage: streaming story clustering.

First version: each article is embedded (title + lead) and compared with every
open story's centroid; it joins the most similar story above ``threshold`` or
starts a new one. Copies (from the dedupe stage) join their original's story.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from .embed import Embedder
from .models import Article, DuplicateInfo, StoryAssignment


def story_id_for(article_id: str) -> str:
    """A stable story id derived from the article that founded it."""
    return "s-" + hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:10]


class CentroidClusterer:
    """Single-pass clustering against story centroids (a scan; fine for small sets)."""

    def __init__(self, embedder: Embedder, threshold: float = 0.55, lead_chars: int = 1500) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.lead_chars = lead_chars
        self._ids: list[str] = []
        self._sums: list[np.ndarray] = []
        self._counts: list[int] = []
        self._assign: dict[str, str] = {}

    def _vector(self, article: Article) -> np.ndarray:
        text = f"{article.title}\n{article.text[: self.lead_chars]}"
        return self.embedder.embed([text])[0]

    def add(self, article: Article, duplicate: DuplicateInfo | None = None) -> StoryAssignment:
        if article.id in self._assign:
            return StoryAssignment(article.id, self._assign[article.id])
        copy_of = duplicate.copy_of if duplicate else None
        if copy_of and copy_of in self._assign:
            story = self._assign[copy_of]
            self._assign[article.id] = story
            return StoryAssignment(article.id, story, copy_of=copy_of)
        v = self._vector(article)
        best, best_sim = -1, -1.0
        if self._sums:
            cents = np.stack(self._sums)
            cents /= np.clip(np.linalg.norm(cents, axis=1, keepdims=True), 1e-9, None)
            sims = cents @ v
            best = int(np.argmax(sims))
            best_sim = float(sims[best])
        if best >= 0 and best_sim >= self.threshold:
            self._sums[best] = self._sums[best] + v
            self._counts[best] += 1
            story = self._ids[best]
        else:
            story = story_id_for(article.id)
            self._ids.append(story)
            self._sums.append(v.copy())
            self._counts.append(1)
        self._assign[article.id] = story
        return StoryAssignment(article.id, story, copy_of=copy_of)

    def export(self) -> dict[str, Any]:
        return {
            "kind": "centroid",
            "ids": self._ids,
            "sums": [s.tolist() for s in self._sums],
            "counts": self._counts,
            "assign": self._assign,
        }

    def restore(self, state: dict[str, Any]) -> None:
        if state.get("kind") != "centroid":
            return
        self._ids = list(state["ids"])
        self._sums = [np.asarray(s, dtype=np.float32) for s in state["sums"]]
        self._counts = list(state["counts"])
        self._assign = dict(state["assign"])
