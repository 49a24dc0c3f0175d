"""The cluster stage: streaming story clustering.

Each article arrives once and is placed at once (:class:`StreamClusterer`):

1. It becomes an :class:`~newsweave.features.ArticleFeatures` (hashed IDF terms,
   names, figures, event year/date; no model on this path).
2. Candidate stories come from an HNSW index (hnswlib) over the dense
   projections of open stories' centroids -- ``candidates`` nearest, never a
   scan -- and are kept only when their dates are within ``window_days``.
3. :func:`score_pair` compares the article with each candidate's centroid:
   term cosine, less a penalty when the event years differ. The article joins
   the best story scoring at least ``threshold``, else founds a new one.
4. Stories evolve: after the article joins, the story is compared (centroid to
   centroid, :func:`score_stories`) with its nearest neighbours; one scoring at
   least ``merge_threshold`` is merged into it, and the assignment lists the
   merged ids so the store keeps them as aliases.
5. A story with no new article for ``quiet_days`` (publication dates) or
   ``quiet_articles`` (arrivals) is closed: it leaves the index, and later
   articles cannot join it.

Copies found by the dedupe stage join their original's story and are marked
``copy_of``; they do not move the centroid, so wire copy republished twenty
times does not outweigh the reports that add something.

The scoring functions are pure and documented so that another runner (Spark)
can reproduce the same decisions: :func:`newsweave.features.featurize`,
:func:`score_pair`, :func:`score_stories` and :func:`joins`.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
import operator
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ConfigError
from .features import DENSE_DIM, ArticleFeatures, featurize, project, top_names
from .models import Article, DuplicateInfo, StoryAssignment, follow_aliases

STATE_KIND = "stream-v1"
#: Candidates whose projected cosine is this far under ``threshold`` are not scored exactly.
PREFILTER_MARGIN = 0.15


def story_id_for(article_id: str) -> str:
    """A stable story id derived from the article that founded it."""
    return "s-" + hashlib.sha1(article_id.encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class ClusterParams:
    """The clustering decision's settings (defaults tuned on ECB+ train only).

    Attributes:
        threshold: least :func:`score_pair` for an article to join a story.
        merge_threshold: least :func:`score_stories` for two stories to merge.
        fragment_size: a story this small merges into a neighbour at ``threshold``: an early
            article that founded a story before its event had taken shape is placed again,
            as if it arrived now.
        year_penalty: subtracted when article and story name different event years.
        year_bonus: added when they name the same event year (two reports dated alike).
        name_penalty: subtracted when neither side mentions the other's ``top_names`` heaviest
            names: two reports on one theme about different people or places.
        max_names: names kept in a story summary (the heaviest).
        window_days: an article dated more than this from a story's dated span cannot join it.
        candidates: stories fetched from the ANN index per article.
        max_terms: terms kept in a story centroid (the heaviest), so state stays compact.
        quiet_days: close a story after this many days without a new article (publication dates).
        quiet_articles: close a story after this many arrivals without a new article of its own.
        semantic_weight: share of the semantic (MiniLM) cosine in the score, when both sides have
            a semantic vector: ``(1 - w) * term cosine + w * semantic cosine`` (0: terms only).
        name_weight: added times the cosine of the article's and the story's name weights (0: off).
    """

    threshold: float = 0.18
    merge_threshold: float = 0.7
    fragment_size: int = 0
    year_penalty: float = 0.2
    year_bonus: float = 0.1
    name_penalty: float = 0.1
    top_names: int = 2
    max_names: int = 64
    window_days: int = 30
    candidates: int = 10
    max_terms: int = 1500
    quiet_days: int = 14
    quiet_articles: int = 50_000
    semantic_weight: float = 0.0
    name_weight: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0 or not 0.0 < self.merge_threshold <= 1.0:
            raise ConfigError("clustering thresholds must be in (0, 1]; try threshold=0.18, merge_threshold=0.7")
        if self.candidates < 1 or self.max_terms < 1:
            raise ConfigError("clustering needs candidates >= 1 and max_terms >= 1")
        if not 0.0 <= self.semantic_weight < 1.0 or self.name_weight < 0.0:
            raise ConfigError("clustering needs 0 <= semantic_weight < 1 and name_weight >= 0")

    @property
    def prefilter_floor(self) -> float:
        """Least projected term cosine worth an exact score (the semantic and name parts can add the rest)."""
        w = self.semantic_weight
        return (self.threshold - w - self.name_weight) / (1.0 - w) - PREFILTER_MARGIN


@dataclass
class StorySummary:
    """What a story is, for placement: a term centroid, its years, its dated span.

    Attributes:
        id: the story id.
        centroid: sum of its original (non-copy) articles' term vectors, trimmed to the heaviest terms.
        names: summed name weights of those articles, trimmed to the heaviest.
        size: original articles summed into ``centroid``.
        years: event years of its articles, counted.
        first_day, last_day: the dated span (ordinal days), when any article is dated.
        last_seen: arrival number of its latest article (for ``quiet_articles``).
        last_published: latest publication day of its articles (for ``quiet_days``).
    """

    id: str
    centroid: dict[int, float] = field(default_factory=dict)
    names: dict[str, float] = field(default_factory=dict)
    size: int = 0
    years: dict[int, int] = field(default_factory=dict)
    first_day: int | None = None
    last_day: int | None = None
    last_seen: int = 0
    last_published: int | None = None
    semantic: np.ndarray | None = None
    _norm: float | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def norm(self) -> float:
        """Euclidean norm of the centroid (cached until the centroid changes)."""
        if self._norm is None:
            self._norm = math.sqrt(_sumsq(self.centroid.values()))
        return self._norm

    @property
    def year(self) -> int | None:
        """The story's event year: the most common year among its articles."""
        if not self.years:
            return None
        return max(self.years.items(), key=lambda kv: (kv[1], -kv[0]))[0]

    def add(self, feats: ArticleFeatures, params: ClusterParams) -> None:
        """Fold an original article into the centroid, names, years and dated span."""
        self.centroid = _summed(self.centroid, feats.terms, params.max_terms)
        self.names = _summed(self.names, feats.names, params.max_names)
        self._norm = None
        self.size += 1
        if feats.semantic is not None:
            vec = np.asarray(feats.semantic, dtype=np.float64)
            self.semantic = vec if self.semantic is None else self.semantic + vec
        if feats.year is not None:
            self.years[feats.year] = self.years.get(feats.year, 0) + 1
        self.note_day(feats.day)

    def note_day(self, day: int | None) -> None:
        if day is None:
            return
        self.first_day = day if self.first_day is None else min(self.first_day, day)
        self.last_day = day if self.last_day is None else max(self.last_day, day)

    def absorb(self, other: StorySummary, params: ClusterParams) -> None:
        """Merge another story's summary into this one."""
        self.centroid = _summed(self.centroid, other.centroid, params.max_terms)
        self.names = _summed(self.names, other.names, params.max_names)
        self._norm = None
        self.size += other.size
        if other.semantic is not None:
            self.semantic = other.semantic.copy() if self.semantic is None else self.semantic + other.semantic
        for y, n in other.years.items():
            self.years[y] = self.years.get(y, 0) + n
        self.note_day(other.first_day)
        self.note_day(other.last_day)
        self.last_seen = max(self.last_seen, other.last_seen)
        if other.last_published is not None:
            self.last_published = max(self.last_published or other.last_published, other.last_published)

    def dense(self) -> np.ndarray:
        return project(self.centroid)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            # Unrounded: a restored clusterer must decide exactly as the one that exported it.
            "centroid": [[k, v] for k, v in self.centroid.items()],
            "names": dict(self.names),
            "size": self.size,
            "years": [[y, n] for y, n in self.years.items()],
            "first_day": self.first_day,
            "last_day": self.last_day,
            "last_seen": self.last_seen,
            "last_published": self.last_published,
            "semantic": None if self.semantic is None else [float(x) for x in self.semantic],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StorySummary:
        return cls(
            id=data["id"],
            centroid={int(k): float(v) for k, v in data["centroid"]},
            names={str(k): float(v) for k, v in data.get("names", {}).items()},
            size=int(data["size"]),
            years={int(y): int(n) for y, n in data["years"]},
            first_day=data["first_day"],
            last_day=data["last_day"],
            last_seen=int(data["last_seen"]),
            last_published=data["last_published"],
            semantic=None if data.get("semantic") is None else np.asarray(data["semantic"], dtype=np.float64),
        )


def _summed(a: dict[Any, float], b: dict[Any, float], keep: int) -> dict[Any, float]:
    """``a + b``; past ``1.5 * keep`` keys, trimmed to the ``keep`` heaviest (ties by key: deterministic).

    Trimming only past the slack keeps the cost of a sort off most additions.
    """
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + v
    if len(out) > keep + keep // 2:
        out = dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:keep])
    return out


# --------------------------------------------------------------------------- pure decisions


def names_conflict(a: dict[str, float], b: dict[str, float], k: int) -> bool:
    """True when both sides name someone and neither side's ``k`` heaviest names are among the other's ``4k``.

    Looking only at the heaviest names keeps a big story's long tail of passing
    mentions from excusing a report about someone else.
    """
    if not a or not b:
        return False
    ta, tb = top_names(a, 4 * k), top_names(b, 4 * k)
    return not set(ta[:k]) & set(tb) and not set(tb[:k]) & set(ta)


def _dot(a: dict[Any, float], b: dict[Any, float]) -> float:
    """Dot product of two sparse vectors (the loop runs in C: map over the smaller one's keys)."""
    if len(a) > len(b):
        a, b = b, a
    return sum(map(operator.mul, a.values(), map(b.get, a, itertools.repeat(0.0))))


def _sumsq(values: Iterable[float]) -> float:
    values = list(values)
    return sum(map(operator.mul, values, values))


def _cosine(a: np.ndarray | list[float] | None, b: np.ndarray | list[float] | None) -> float | None:
    """Cosine of two dense vectors, or None when either is missing (or zero)."""
    if a is None or b is None:
        return None
    va, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    n = float(np.linalg.norm(va) * np.linalg.norm(vb))
    return float(va @ vb) / n if n > 0 else None


def names_cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine of two name-weight maps (0 when either is empty)."""
    if not a or not b:
        return 0.0
    dot = _dot(a, b)
    na = math.sqrt(_sumsq(a.values()))
    nb = math.sqrt(_sumsq(b.values()))
    return dot / (na * nb) if na > 0 and nb > 0 else 0.0


def mixed(
    term_cos: float,
    sem_a: np.ndarray | list[float] | None,
    sem_b: np.ndarray | list[float] | None,
    names_a: dict[str, float],
    names_b: dict[str, float],
    params: ClusterParams,
) -> float:
    """The similarity mix: terms with the semantic cosine (when both sides have one) plus the name cosine."""
    score = term_cos
    if params.semantic_weight > 0:
        sem = _cosine(sem_a, sem_b)
        if sem is not None:
            score = (1.0 - params.semantic_weight) * term_cos + params.semantic_weight * sem
    if params.name_weight > 0:
        score += params.name_weight * names_cosine(names_a, names_b)
    return score


def within_window(day: int | None, first: int | None, last: int | None, window_days: int) -> bool:
    """Whether a dated article may join a story with this dated span (undated: always)."""
    if day is None or first is None or last is None:
        return True
    return first - window_days <= day <= last + window_days


def score_pair(feats: ArticleFeatures, story: StorySummary, params: ClusterParams) -> float:
    """How well an article fits a story: centroid cosine, less ``year_penalty`` if event years differ.

    Returns ``-1`` when the dates rule the story out (``window_days``).
    """
    if not within_window(feats.day, story.first_day, story.last_day, params.window_days):
        return -1.0
    norm = story.norm
    score = _dot(feats.terms, story.centroid) / norm if norm > 0 else 0.0
    score = mixed(score, feats.semantic, story.semantic, feats.names, story.names, params)
    if names_conflict(feats.names, story.names, params.top_names):
        score -= params.name_penalty
    return score + year_adjustment(feats.year, story.year, params)


def year_adjustment(a: int | None, b: int | None, params: ClusterParams) -> float:
    """``+year_bonus`` for the same event year, ``-year_penalty`` for different ones, 0 when either is unknown."""
    if a is None or b is None:
        return 0.0
    return params.year_bonus if a == b else -params.year_penalty


def score_stories(a: StorySummary, b: StorySummary, params: ClusterParams) -> float:
    """How likely two stories are one event: centroid cosine, less the year penalty, -1 if dates rule it out."""
    if a.first_day is not None and b.first_day is not None:
        assert a.last_day is not None and b.last_day is not None
        if a.first_day - params.window_days > b.last_day or b.first_day - params.window_days > a.last_day:
            return -1.0
    na, nb = a.norm, b.norm
    score = _dot(a.centroid, b.centroid) / (na * nb) if na > 0 and nb > 0 else 0.0
    score = mixed(score, a.semantic, b.semantic, a.names, b.names, params)
    if names_conflict(a.names, b.names, params.top_names):
        score -= params.name_penalty
    return score + year_adjustment(a.year, b.year, params)


def merges(a: StorySummary, b: StorySummary, params: ClusterParams) -> bool:
    """Whether two open stories are one event (:func:`score_stories` against the size-dependent bar)."""
    bar = params.threshold if min(a.size, b.size) <= params.fragment_size else params.merge_threshold
    return score_stories(a, b, params) >= bar


def joins(scores: Iterable[tuple[str, float]], params: ClusterParams) -> str | None:
    """The story an article joins, given its candidate scores: the best at or above ``threshold``.

    Ties go to the smaller story id, so every runner picks the same one.
    """
    best: tuple[float, str] | None = None
    for sid, s in scores:
        if s >= params.threshold and (best is None or s > best[0] or (s == best[0] and sid < best[1])):
            best = (s, sid)
    return best[1] if best else None


# --------------------------------------------------------------------------- the streaming engine


class _StoryIndex:
    """An HNSW index of open stories' centroid projections (labels are integers).

    A story whose centroid moved is deleted and added again under a fresh label:
    hnswlib's in-place update (and its reuse of a deleted slot) repairs the graph
    around the old point, about 30 times the cost of an insertion. Deleted points
    are dropped by rebuilding the index once they are half of it, so the cost of a
    rebuild is spread over the insertions that made it due.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = max(1024, capacity)
        self._index = self._new_index(self._capacity)
        self._label: dict[str, int] = {}
        self._story: dict[int, str] = {}
        self._next = 0

    @staticmethod
    def _new_index(capacity: int) -> Any:
        import hnswlib

        index = hnswlib.Index(space="ip", dim=DENSE_DIM)
        index.init_index(max_elements=capacity, ef_construction=100, M=16)
        index.set_ef(64)
        return index

    def __len__(self) -> int:
        return len(self._label)

    def put(self, sid: str, vector: np.ndarray) -> None:
        old = self._label.pop(sid, None)
        if old is not None:
            self._index.mark_deleted(old)
            del self._story[old]
        if self._next >= self._capacity:
            self._make_room()
        label = self._next
        self._next += 1
        self._label[sid] = label
        self._story[label] = sid
        self._index.add_items(vector[None, :], [label], num_threads=1)

    def _make_room(self) -> None:
        """Rebuild without the deleted points (relabelled 0..n-1), at twice the live size or more."""
        live = sorted(self._label.items(), key=lambda kv: kv[1])
        vectors = self._index.get_items([label for _, label in live], return_type="numpy") if live else None
        self._capacity = max(1024, 2 * len(live))
        self._index = self._new_index(self._capacity)
        self._label, self._story = {}, {}
        for i, (sid, _) in enumerate(live):
            self._label[sid] = i
            self._story[i] = sid
        self._next = len(live)
        if vectors is not None:
            self._index.add_items(np.asarray(vectors, dtype=np.float32), list(range(len(live))), num_threads=1)

    def remove(self, sid: str) -> None:
        label = self._label.pop(sid, None)
        if label is not None:
            self._index.mark_deleted(label)
            del self._story[label]

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` open stories nearest to ``vector``, with their approximate cosine."""
        n = len(self._label)
        if n == 0:
            return []
        labels, dist = self._index.knn_query(vector[None, :], k=min(k, n))
        return [(self._story[int(i)], 1.0 - float(d)) for i, d in zip(labels[0], dist[0], strict=True)]


class StreamClusterer:
    """Streaming story clustering over an ANN index of story centroids (see the module docstring).

    Args:
        params: the decision's settings (:class:`ClusterParams`).
        featurizer: article -> :class:`ArticleFeatures`; :func:`featurize` by default
            (a partial of it with other weights for ablations).
    """

    def __init__(
        self, params: ClusterParams | None = None, featurizer: Callable[[Article], ArticleFeatures] | None = None
    ) -> None:
        self.params = params or ClusterParams()
        self.featurizer = featurizer or featurize
        self._stories: dict[str, StorySummary] = {}
        self._index = _StoryIndex()
        self._assign: dict[str, str] = {}
        self._alias: dict[str, str] = {}
        self._closed: set[str] = set()
        self._seen = 0
        self._clock: int | None = None
        self._by_seen: list[tuple[int, str]] = []
        self._by_day: list[tuple[int, str]] = []
        #: Called with a story's id when it closes (a second level drops what it kept for it).
        self.on_close: Callable[[str], None] | None = None

    # ---------------------------------------------------------------- placement

    def story_of(self, article_id: str) -> str | None:
        """The current story of a placed article (following merges)."""
        sid = self._assign.get(article_id)
        return self._resolve(sid) if sid else None

    def _resolve(self, sid: str) -> str:
        return follow_aliases(self._alias, sid)

    def add(self, article: Article, duplicate: DuplicateInfo | None = None) -> StoryAssignment:
        """Place one article: join a story, found one, or follow its original (copies)."""
        if article.id in self._assign:
            return StoryAssignment(article.id, self._resolve(self._assign[article.id]))
        self._seen += 1
        copy_of = duplicate.copy_of if duplicate else None
        feats = self.featurizer(article)
        self._tick(feats)
        if copy_of and copy_of in self._assign:
            sid = self._resolve(self._assign[copy_of])
            if sid in self._stories:  # an open story: copies keep it alive but leave the centroid alone
                self._touch(self._stories[sid], feats)
            self._assign[article.id] = sid
            return StoryAssignment(article.id, sid, copy_of=copy_of)
        scored = [(sid, score_pair(feats, self._stories[sid], self.params)) for sid in self._candidates(feats.dense)]
        chosen = joins(scored, self.params)
        if chosen is None:
            sid = story_id_for(article.id)
            self._stories[sid] = StorySummary(sid)
        else:
            sid = chosen
        story = self._stories[sid]
        story.add(feats, self.params)
        self._touch(story, feats)
        merged: list[str] = []
        if chosen is None or _reindex_due(story.size):
            merged, dense = self._merge_into(story)
            self._index.put(sid, dense)
        self._assign[article.id] = sid
        self._close_quiet()
        return StoryAssignment(article.id, sid, copy_of=copy_of, merged=merged)

    def _candidates(self, vector: np.ndarray) -> list[str]:
        # The projection's cosine is within about 0.1 of the exact one (256 dimensions):
        # neighbours far under the bar are dropped before the exact, costlier, score.
        floor = self.params.prefilter_floor
        return [sid for sid, approx in self._index.nearest(vector, self.params.candidates) if approx >= floor]

    def _tick(self, feats: ArticleFeatures) -> None:
        # The stream's clock is the latest publication day; text dates do not move it
        # (an article can recall an event from years ago).
        if feats.day is not None and feats.published:
            self._clock = feats.day if self._clock is None else max(self._clock, feats.day)

    def _touch(self, story: StorySummary, feats: ArticleFeatures) -> None:
        story.last_seen = self._seen
        heapq.heappush(self._by_seen, (story.last_seen, story.id))
        if feats.published and feats.day is not None:
            story.last_published = max(story.last_published or feats.day, feats.day)
            heapq.heappush(self._by_day, (story.last_published, story.id))

    def _merge_into(self, story: StorySummary) -> tuple[list[str], np.ndarray]:
        merged: list[str] = []
        dense = story.dense()
        floor = self.params.prefilter_floor
        for other_id, approx in self._index.nearest(dense, self.params.candidates):
            if other_id == story.id or other_id not in self._stories or approx < floor:
                continue
            other = self._stories[other_id]
            if merges(story, other, self.params):
                story.absorb(other, self.params)
                self._drop(other_id)
                self._alias[other_id] = story.id
                merged.append(other_id)
        return merged, story.dense() if merged else dense

    def _drop(self, sid: str) -> None:
        self._index.remove(sid)
        self._stories.pop(sid, None)

    def _close_quiet(self) -> None:
        # Heaps of (last activity, story) with lazy deletion: only stories whose quiet
        # time has run out are touched, so closing costs nothing per open story.
        p = self.params
        while self._by_seen and self._seen - self._by_seen[0][0] > p.quiet_articles:
            seen, sid = heapq.heappop(self._by_seen)
            s = self._stories.get(sid)
            if s is not None and s.last_seen == seen:
                self._close(sid)
        while self._clock is not None and self._by_day and self._clock - self._by_day[0][0] > p.quiet_days:
            day, sid = heapq.heappop(self._by_day)
            s = self._stories.get(sid)
            if s is not None and s.last_published == day:
                self._close(sid)

    def _close(self, sid: str) -> None:
        self._drop(sid)
        self._closed.add(sid)
        if self.on_close is not None:
            self.on_close(sid)

    @property
    def open_stories(self) -> int:
        return len(self._stories)

    # ---------------------------------------------------------------- state

    def export(self) -> dict[str, Any]:
        """JSON-compatible state: open stories' summaries, placements and merges (closed stories are ids only)."""
        return {
            "kind": STATE_KIND,
            "params": self.params.__dict__,
            "stories": [s.to_dict() for s in self._stories.values()],
            "assign": self._assign,
            "alias": self._alias,
            "closed": sorted(self._closed),
            "seen": self._seen,
            "clock": self._clock,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`export`'s output (state of another kind is ignored: a fresh start)."""
        if state.get("kind") != STATE_KIND:
            return
        self._stories = {}
        self._by_seen, self._by_day = [], []
        self._index = _StoryIndex(max(1024, len(state["stories"]) * 2))
        for data in state["stories"]:
            s = StorySummary.from_dict(data)
            self._stories[s.id] = s
            self._index.put(s.id, s.dense())
            self._by_seen.append((s.last_seen, s.id))
            if s.last_published is not None:
                self._by_day.append((s.last_published, s.id))
        heapq.heapify(self._by_seen)
        heapq.heapify(self._by_day)
        self._assign = dict(state["assign"])
        self._alias = dict(state["alias"])
        self._closed = set(state["closed"])
        self._seen = int(state["seen"])
        self._clock = state["clock"]


def _reindex_due(size: int) -> bool:
    """Whether a story of this size gets its index vector refreshed (and merges checked) now.

    Small stories move a lot with each article, big ones hardly: refreshing at
    sizes 1-4 and then every 4th article keeps the index close to the centroids
    at a quarter of the cost (an HNSW update costs about a millisecond).
    """
    return size <= 4 or size % 4 == 0


def story_counts(assign: dict[str, str]) -> Counter[str]:
    """Articles per story in an ``article -> story`` map."""
    return Counter(assign.values())
