"""The cluster stage, second level: events within a theme.

Two events on one theme (two earthquakes in one region, a celebrity's two rehab
stays five years apart) share most of their words: "earthquake", "magnitude",
the region, the celebrity's name. What tells them apart is what only one of
them has -- the other victims, the other town, the other figures, the other
date -- and whether a word is telling depends on the theme: "Lohan" says
nothing inside a theme of Lohan reports, everything outside it.

So story clustering runs on two levels (:class:`EventClusterer`):

1. **Themes.** A :class:`~newsweave.cluster.StreamClusterer` with a low bar and
   generous merging places each article in a theme, from an ANN index of open
   themes (cost flat in the number of stories). It is tuned to keep every event
   whole (recall), not to tell events apart.
2. **Events.** Each time a theme gains an article, its latest ``window``
   members are partitioned again (:func:`partition`): TF-IDF vectors with a
   *theme-local* IDF (``log(N / df)`` over the theme's members, so words every
   member shares weigh nothing), on two views of the text -- names and figures
   (capitalised words and numbers) and content words --, mixed, then
   average-link clustering cut at ``threshold``; small leftover fragments join
   the event they are most similar to.

Story ids stay stable across re-partitions (:func:`carry_ids`): each new group
keeps the id most of its members already had. A re-partition can therefore
move an earlier article to another story (``StoryAssignment.moved``) or leave
a story empty, which is then recorded as merged into the story that took its
articles (``StoryAssignment.retired``), so links to it keep working.
"""

from __future__ import annotations

import heapq
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .cluster import ClusterParams, StreamClusterer, story_id_for
from .errors import ConfigError
from .features import _stop_words
from .models import Article, DuplicateInfo, StoryAssignment, follow_aliases

STATE_KIND = "events-v1"
#: Characters of title + text that the event views read.
EVENT_CHARS = 12_000

_NAME_OR_NUMBER = re.compile(r"\b[A-Z][A-Za-z'’\-]+\b|\b\d[\d,.]*\b")
_WORD_OR_NUMBER = re.compile(r"[a-z][a-z'’\-]+|\d[\d,.]*")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
#: Function words that are capitalised only at the start of a sentence.
_NAME_STOP_WORDS = """the a an and or of in on at to for with by from as is was were be been has have had it its
this that he she they his her their i we you said says say mr mrs ms but not no yes after before when while who
what which where there here up out over into about than then so if also more most one two new"""
_NAME_STOP = frozenset(_NAME_STOP_WORDS.split())


def theme_params() -> ClusterParams:
    """The theme level's settings: a low bar and generous merging, so that events stay whole."""
    return ClusterParams(threshold=0.12, merge_threshold=0.28, fragment_size=2)


@dataclass(frozen=True)
class EventParams:
    """The event level's settings (tuned on ECB+ train only; see docs/clustering.md).

    Attributes:
        theme: the theme level's :class:`~newsweave.cluster.ClusterParams`.
        threshold: average-link cut: least mean similarity of two groups for one event.
        names_share: weight of the names-and-figures view in the similarity (the rest: content words).
        min_df: a token counts only when at least this many members of the theme have it.
        idf_power: the theme-local IDF is ``log(N / df) ** idf_power`` (under 1: rarer tokens
            are not trusted much more than tokens a few members share).
        year_factor: the similarity of two members that both mention years, but none of each
            other's most mentioned ones, is multiplied by this (the same theme in another year).
        fragment_size: groups this small join the most similar larger event of their theme.
        min_theme: a theme with fewer members is one event (too few to weigh words by), unless
            its members name different years.
        window: the latest members of a theme that are partitioned again; older ones keep their story.
        max_tokens: tokens kept per article and view (the most frequent), so state stays compact.
    """

    theme: ClusterParams = field(default_factory=theme_params)
    threshold: float = 0.09
    names_share: float = 0.7
    min_df: int = 2
    idf_power: float = 0.75
    year_factor: float = 0.6
    fragment_size: int = 2
    min_theme: int = 5
    window: int = 120
    max_tokens: int = 256

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0 or not 0.0 <= self.names_share <= 1.0:
            raise ConfigError("event clustering needs 0 < threshold < 1 and 0 <= names_share <= 1; try 0.09 and 0.7")
        if self.idf_power <= 0.0 or not 0.0 < self.year_factor <= 1.0:
            raise ConfigError("event clustering needs idf_power > 0 and 0 < year_factor <= 1; try 0.75 and 0.6")
        if self.window < 2 or self.min_df < 1 or self.min_theme < 1 or self.max_tokens < 1:
            raise ConfigError("event clustering needs window >= 2, min_df >= 1, min_theme >= 1, max_tokens >= 1")


# --------------------------------------------------------------------------- pure functions


@dataclass
class EventTokens:
    """One article's two token views: hashed tokens (crc32, sorted) and their ``1 + log(count)``.

    Kept as arrays so that a theme's re-partition concatenates them rather than
    walking dictionaries (it runs on every arrival).
    """

    names: tuple[np.ndarray, np.ndarray]
    words: tuple[np.ndarray, np.ndarray]
    years: frozenset[int] = frozenset()  # the years it mentions most (all that tie)

    def to_list(self) -> list[Any]:
        return [[v[0].tolist(), v[1].tolist()] for v in (self.names, self.words)] + [sorted(self.years)]

    @classmethod
    def from_list(cls, data: Sequence[Any]) -> EventTokens:
        def view(pair: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
            return np.asarray(pair[0], dtype=np.int64), np.asarray(pair[1], dtype=np.float64)

        return cls(view(data[0]), view(data[1]), frozenset(int(y) for y in data[2]))


def _hashed(tokens: Iterable[str], keep: int) -> tuple[np.ndarray, np.ndarray]:
    counts = Counter(zlib.crc32(t.encode("utf-8")) for t in tokens)
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:keep] if len(counts) > keep else counts.items()
    pairs = sorted(items)
    keys = np.fromiter((k for k, _ in pairs), dtype=np.int64, count=len(pairs))
    tf = 1.0 + np.log(np.fromiter((c for _, c in pairs), dtype=np.float64, count=len(pairs)))
    return keys, tf


def event_tokens(article: Article, max_tokens: int = 256) -> EventTokens:
    """The article's names-and-figures view and content-word view. Pure: the same anywhere."""
    body = f"{article.title}\n{article.text}"[:EVENT_CHARS]
    names = []
    for m in _NAME_OR_NUMBER.finditer(body):
        w = m.group(0).lower().replace("’", "'").strip("'")
        if len(w) > 1 and w not in _NAME_STOP:
            names.append(w)
    stop = _stop_words()
    words = [w.replace("’", "'") for w in _WORD_OR_NUMBER.findall(body.lower())]
    years = Counter(_YEAR.findall(body))
    most = max(years.values(), default=0)
    return EventTokens(
        names=_hashed(names, max_tokens),
        words=_hashed((w for w in words if len(w) > 2 and w not in stop), max_tokens),
        years=frozenset(int(y) for y, n in years.items() if n == most),
    )


#: Above this many members the similarity product runs sparse: a dense BLAS product of a
#: few thousand columns starts threads that cost more than they save on a busy machine.
DENSE_MEMBERS = 64


def _local_similarity(views: Sequence[tuple[np.ndarray, np.ndarray]], min_df: int, power: float) -> np.ndarray:
    """Cosine similarities of TF-IDF vectors whose IDF is ``log(N / df) ** power`` over these documents only.

    Only tokens in at least ``min_df`` documents get a column.
    """
    n = len(views)
    lens = np.fromiter((len(k) for k, _ in views), dtype=np.int64, count=n)
    if not lens.sum():
        return np.zeros((n, n))
    keys = np.concatenate([k for k, _ in views])
    tf = np.concatenate([t for _, t in views])
    vocab, cols, df = np.unique(keys, return_inverse=True, return_counts=True)
    keep = df[cols] >= min_df
    kept = np.flatnonzero(df >= min_df)
    column = np.full(len(vocab), -1, dtype=np.int64)
    column[kept] = np.arange(len(kept))
    c = cols[keep]
    data = tf[keep] * np.log(n / df[c]) ** power
    rows = np.repeat(np.arange(n), lens)[keep]
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n))
    norms[norms == 0] = 1.0
    data /= norms[rows]
    if n <= DENSE_MEMBERS:
        x = np.zeros((n, len(kept)))
        x[rows, column[c]] = data
        return np.asarray(x @ x.T)
    from scipy import sparse

    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    m = sparse.csr_matrix((data, column[c], indptr), shape=(n, len(kept)))
    return np.asarray((m @ m.T).toarray())


def similarity(members: Sequence[EventTokens], params: EventParams) -> np.ndarray:
    """The members' pairwise similarity: the two views' theme-local cosines mixed by ``names_share``,
    times ``year_factor`` for members that name different years."""
    a, df, power = params.names_share, params.min_df, params.idf_power
    sim = a * _local_similarity([m.names for m in members], df, power)
    sim += (1.0 - a) * _local_similarity([m.words for m in members], df, power)
    if params.year_factor != 1.0:
        sim *= _year_factors([m.years for m in members], params.year_factor)
    return sim


def _year_factors(years: Sequence[frozenset[int]], factor: float) -> np.ndarray | float:
    """``factor`` where both members name years and share none of their most mentioned ones, else 1."""
    known = sorted(set().union(*years))
    if not known:
        return 1.0
    column = {y: j for j, y in enumerate(known)}
    onehot = np.zeros((len(years), len(known)))
    for i, ys in enumerate(years):
        onehot[i, [column[y] for y in ys]] = 1.0
    has = onehot.sum(axis=1) > 0
    disjoint = np.outer(has, has) & ((onehot @ onehot.T) == 0)
    return np.where(disjoint, factor, 1.0)


def partition(members: Sequence[EventTokens], params: EventParams) -> list[int]:
    """Group one theme's members into events; labels numbered by each group's first member.

    Average-link clustering of :func:`similarity` cut at ``threshold``, then every
    group of at most ``fragment_size`` members joins the larger group it is most
    similar to on average (a report that names none of its event's particulars
    still belongs to one of the theme's events). Pure and deterministic.
    """
    n = len(members)
    if n < max(2, params.min_theme):
        return _by_years([m.years for m in members]) if params.year_factor < 1.0 else [0] * n
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    sim = similarity(members, params)
    dist = np.clip(1.0 - (sim + sim.T) / 2.0, 0.0, None)
    np.fill_diagonal(dist, 0.0)
    tree = linkage(squareform(dist, checks=False), "average")
    labels = _attach_fragments(sim, _cut(tree, n, 1.0 - params.threshold), params.fragment_size)
    first: dict[int, int] = {}
    for lab in labels:
        first.setdefault(lab, len(first))
    return [first[lab] for lab in labels]


def _by_years(years: Sequence[frozenset[int]]) -> list[int]:
    """A theme too small to weigh words by is one event, unless its members name different years."""
    firsts: list[frozenset[int]] = []
    labels = []
    for ys in years:
        for k, first in enumerate(firsts):
            if not ys or not first or ys & first:
                labels.append(k)
                break
        else:
            labels.append(len(firsts))
            firsts.append(ys)
    return labels


def _cut(tree: np.ndarray, n: int, height: float) -> list[int]:
    """Flat groups of a linkage tree: the merges at or under ``height`` (average-link heights never fall)."""
    parent = list(range(2 * n - 1))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for k, (a, b, h, _) in enumerate(tree.tolist()):
        if h > height:
            break
        parent[root(int(a))] = n + k
        parent[root(int(b))] = n + k
    return [root(i) for i in range(n)]


def _attach_fragments(sim: np.ndarray, labels: list[int], size: int) -> list[int]:
    groups: dict[int, list[int]] = {}
    for i, lab in enumerate(labels):
        groups.setdefault(lab, []).append(i)
    big = sorted((g for g, idx in groups.items() if len(idx) > size), key=lambda g: groups[g][0])
    if not big or size <= 0 or len(big) == len(groups):
        return labels
    # Mean similarity of every member to each larger group, in one product.
    member_of = np.zeros((len(labels), len(big)))
    for j, g in enumerate(big):
        member_of[groups[g], j] = 1.0 / len(groups[g])
    to_big = sim @ member_of
    out = list(labels)
    for idx in groups.values():
        if len(idx) > size:
            continue
        best = big[int(np.argmax(to_big[idx].mean(axis=0)))]  # first maximum: the earliest group wins a tie
        for i in idx:
            out[i] = best
    return out


def carry_ids(
    members: Sequence[str], labels: Sequence[int], previous: dict[str, str]
) -> tuple[dict[int, str], list[int]]:
    """Which existing story id each group keeps: the one most of its members had (each id once).

    Args:
        members: article ids, in arrival order.
        labels: their groups (:func:`partition`).
        previous: each member's current story, where it has one.

    Returns:
        ``group -> story id`` for the groups that keep one, and the groups left to name.
    """
    first: dict[int, int] = {}
    oldest: dict[str, int] = {}  # where each existing story first appears among the members
    overlap: dict[int, Counter[str]] = {}
    for i, (aid, lab) in enumerate(zip(members, labels, strict=True)):
        first.setdefault(lab, i)
        if aid in previous:
            oldest.setdefault(previous[aid], i)
            overlap.setdefault(lab, Counter())[previous[aid]] += 1
    # Most shared members first; on a tie the group that starts first, then the older story.
    pairs = sorted((-n, first[lab], oldest[sid], sid, lab) for lab, c in overlap.items() for sid, n in c.items())
    named: dict[int, str] = {}
    used: set[str] = set()
    for _, _, _, sid, lab in pairs:
        if lab not in named and sid not in used:
            named[lab] = sid
            used.add(sid)
    return named, sorted((lab for lab in first if lab not in named), key=first.__getitem__)


# --------------------------------------------------------------------------- the streaming engine


class EventClusterer:
    """Two-level streaming story clustering: themes from an ANN index, events within a theme.

    Each article is placed at once; its theme's latest members are partitioned
    again, which may move earlier articles between the theme's stories
    (``StoryAssignment.moved``) or retire a story into another
    (``StoryAssignment.retired``; the store keeps the id as an alias).

    Args:
        params: the settings (:class:`EventParams`).
    """

    def __init__(self, params: EventParams | None = None) -> None:
        self.params = params or EventParams()
        self.themes = StreamClusterer(self.params.theme)
        self.themes.on_close = self._theme_closed
        self._members: dict[str, list[tuple[int, str]]] = {}  # open theme -> (arrival, article), latest window
        self._tokens: dict[str, EventTokens] = {}  # article -> views, for members of open themes
        self._copies: dict[str, list[str]] = {}  # original -> its copies, for members of open themes
        self._story: dict[str, str] = {}  # article -> story id (aliases resolved on read)
        self._size: Counter[str] = Counter()  # story -> articles
        self._alias: dict[str, str] = {}
        self._seen = 0

    # ---------------------------------------------------------------- placement

    def story_of(self, article_id: str) -> str | None:
        """The current story of a placed article."""
        sid = self._story.get(article_id)
        return self._resolve(sid) if sid else None

    def _resolve(self, sid: str) -> str:
        return follow_aliases(self._alias, sid)

    def add(self, article: Article, duplicate: DuplicateInfo | None = None) -> StoryAssignment:
        """Place one article in its theme and re-partition the theme's latest members into stories."""
        if article.id in self._story:
            return StoryAssignment(article.id, self._resolve(self._story[article.id]))
        self._seen += 1
        placed = self.themes.add(article, duplicate)
        theme = placed.story
        for merged in placed.merged:
            self._join_members(theme, merged)
        copy_of = placed.copy_of
        if copy_of and copy_of in self._story:
            sid = self._resolve(self._story[copy_of])
            self._story[article.id] = sid
            self._size[sid] += 1
            if copy_of in self._tokens:
                self._copies.setdefault(copy_of, []).append(article.id)
            return StoryAssignment(article.id, sid, copy_of=copy_of)
        self._tokens[article.id] = event_tokens(article, self.params.max_tokens)
        self._keep_window(theme, [*self._members.get(theme, []), (self._seen, article.id)])
        return self._repartition([aid for _, aid in self._members[theme]], copy_of)

    def _repartition(self, ids: list[str], copy_of: str | None) -> StoryAssignment:
        """Partition a theme's members (the article just placed is the last) and report what changed."""
        labels = partition([self._tokens[a] for a in ids], self.params)
        previous = {a: self._resolve(self._story[a]) for a in ids if a in self._story}
        named, unnamed = carry_ids(ids, labels, previous)
        for lab in unnamed:
            founder = ids[labels.index(lab)]
            sid = story_id_for(founder)
            if sid in self._size or sid in self._alias:  # the founder's id is taken (by its earlier story)
                sid = story_id_for(f"{founder}#{self._seen}")
            named[lab] = sid
        moved: dict[str, str] = {}
        went: dict[str, Counter[str]] = {}
        for aid, lab in zip(ids, labels, strict=True):
            new = named[lab]
            old = previous.get(aid)
            if old == new:
                continue
            self._story[aid] = new
            self._size[new] += 1
            if old is None:
                continue
            moved[aid] = new
            self._size[old] -= 1
            went.setdefault(old, Counter())[new] += 1
            for copy in self._copies.get(aid, []):
                if self._resolve(self._story[copy]) == old:
                    self._story[copy] = new
                    self._size[old] -= 1
                    self._size[new] += 1
                    moved[copy] = new
        retired: dict[str, str] = {}
        for old, targets in sorted(went.items()):
            if self._size[old] <= 0:
                target = min(targets.items(), key=lambda kv: (-kv[1], kv[0]))[0]
                del self._size[old]
                self._alias[old] = target
                retired[old] = target
        story = named[labels[-1]]
        return StoryAssignment(
            ids[-1],
            story,
            copy_of=copy_of,
            merged=[old for old, target in retired.items() if target == story],
            moved=moved,
            retired=retired,
        )

    def _join_members(self, theme: str, merged: str) -> None:
        """Two themes became one: their member lists are merged by arrival, then trimmed to the window."""
        extra = self._members.pop(merged, [])
        if extra:
            self._keep_window(theme, list(heapq.merge(self._members.get(theme, []), extra)))

    def _keep_window(self, theme: str, members: list[tuple[int, str]]) -> None:
        """Keep a theme's latest ``window`` members (by arrival); forget what was kept for older ones."""
        self._forget(members[: -self.params.window])
        self._members[theme] = members[-self.params.window :]

    def _theme_closed(self, theme: str) -> None:
        self._forget(self._members.pop(theme, []))

    def _forget(self, members: Iterable[tuple[int, str]]) -> None:
        """Drop the tokens and copy lists of members that will not be partitioned again."""
        for _, aid in members:
            self._tokens.pop(aid, None)
            self._copies.pop(aid, None)

    @property
    def open_stories(self) -> int:
        """Open themes (each holds one or more stories)."""
        return self.themes.open_stories

    # ---------------------------------------------------------------- state

    def export(self) -> dict[str, Any]:
        """JSON-compatible state: the theme level's, open themes' members and their tokens, placements, merges."""
        return {
            "kind": STATE_KIND,
            "params": {**asdict(self.params), "theme": self.params.theme.__dict__},
            "themes": self.themes.export(),
            "members": {t: [[seq, aid] for seq, aid in m] for t, m in self._members.items()},
            "tokens": {aid: t.to_list() for aid, t in self._tokens.items()},
            "copies": self._copies,
            "assign": self._story,
            "alias": self._alias,
            "seen": self._seen,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`export`'s output (state of another kind is ignored: a fresh start)."""
        if state.get("kind") != STATE_KIND:
            return
        self.themes.restore(state["themes"])
        self._members = {t: [(int(seq), str(aid)) for seq, aid in m] for t, m in state["members"].items()}
        self._tokens = {aid: EventTokens.from_list(t) for aid, t in state["tokens"].items()}
        self._copies = {k: list(v) for k, v in state["copies"].items()}
        self._story = dict(state["assign"])
        self._alias = dict(state["alias"])
        self._size = Counter(self._resolve(s) for s in self._story.values())
        self._seen = int(state["seen"])
