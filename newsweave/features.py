"""Article representations for streaming story clustering, as pure functions.

One article becomes an :class:`ArticleFeatures`: cheap to compute (no model
on the hot path, about a millisecond per article), JSON-compatible, and the
same on every machine, so a distributed job (Spark executors) that calls
:func:`featurize` and :func:`newsweave.cluster.score_pair` reproduces the
streaming clusterer's decisions exactly.

What an article is made of:

* ``terms``: hashed, IDF-weighted content words and word bigrams (title words
  count double), L2-normalised. The IDF is fixed: ``-log10`` of the word's
  general English frequency from ``wordfreq``, so it needs no corpus statistics
  and never drifts as articles stream in.
* ``names``: capitalised word sequences that are not sentence-initial (a
  model-free stand-in for named entities: people, places, organisations).
* ``numbers``: numbers with their next word ("6.1 magnitude", "13 dead"):
  event-specific figures.
* ``year`` and ``day``: when the event happened. ``day`` is the publication
  date when known, else the first full date in the text (the dateline);
  ``year`` is that date's year or, failing it, the most mentioned year.
* ``dense``: a random projection of ``terms`` (unit vector) for the ANN index.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np

from .models import Article

#: Hashed feature space of ``terms`` (2**20 buckets: collisions are rare at news vocabulary sizes).
N_FEATURES = 1 << 20
#: Width of the dense projection indexed by the ANN.
DENSE_DIM = 256
_PROJ_BUCKETS = 1 << 16
_PROJ_SEED = 20260
#: IDF of a word wordfreq has never seen (rare names, typos); also the cap.
MAX_IDF = 7.0
#: Scale of the name and figure features against the words. Both are off by default:
#: on ECB+ train they lowered B-cubed F1 (see docs/clustering.md, ablation).
NAMES_WEIGHT = 0.0
NUMBERS_WEIGHT = 0.0
#: Whether dates found in the text (datelines, mentioned years) stand in for a missing
#: publication date. Off by default for the same reason; publication dates always count.
TEXT_DATES = False
#: Whether an undated article's most mentioned year stands for its event year (with TEXT_DATES).
YEAR_MENTIONS = True
#: Only the first characters count: leads carry the event, long tails add noise and cost.
MAX_CHARS = 6000

_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")
_CAP = r"[A-Z][a-z]+(?:[A-Z][a-z]+)?"  # Smith, DeGeneres, McDonald
_NAME = re.compile(rf"(?<![.!?]\s)(?<![\n“\"])(?<!^)\b({_CAP}(?:[ \-]{_CAP})*)")
_NUMBER = re.compile(r"\b(\d+(?:[.,]\d+)?)\s+([a-z]+)")
_YEAR = re.compile(r"\b(19[0-9]{2}|20[0-9]{2})\b")
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ]
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_MDY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)\b", re.I)
_DATE_DMY = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\.?,?\s+((?:19|20)\d\d)\b", re.I)
_DATE_ISO = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")

_STOP: frozenset[str] = frozenset()


def _stop_words() -> frozenset[str]:
    global _STOP
    if not _STOP:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        _STOP = frozenset(ENGLISH_STOP_WORDS) | {"said", "says", "told", "according", "news", "reported"}
    return _STOP


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    try:
        from wordfreq import get_frequency_dict
    except ImportError as exc:  # pragma: no cover - a core dependency
        from .errors import NotInstalled

        raise NotInstalled("the clustering features (word frequencies)", "core") from exc
    return get_frequency_dict("en")


@lru_cache(maxsize=200_000)
def idf(word: str) -> float:
    """Inverse document frequency of a lower-cased word, from general English usage (capped)."""
    freq = _frequencies().get(word, 0.0)
    return MAX_IDF if freq <= 0 else min(MAX_IDF, -math.log10(freq))


def feature_hash(token: str) -> int:
    """A stable bucket for a token (crc32: identical on every machine and Python run)."""
    return zlib.crc32(token.encode("utf-8")) % N_FEATURES


@lru_cache(maxsize=1)
def _projection() -> np.ndarray:
    rng = np.random.default_rng(_PROJ_SEED)
    signs = rng.integers(0, 2, size=(_PROJ_BUCKETS, DENSE_DIM), dtype=np.int8) * 2 - 1
    return signs.astype(np.float32) / math.sqrt(DENSE_DIM)


@dataclass
class ArticleFeatures:
    """What the clusterer knows of one article (JSON-compatible via :meth:`to_dict`).

    Attributes:
        terms: bucket -> weight, L2-normalised (words, bigrams, names, figures).
        year: the event year found in the text, for articles without a publication date.
        day: the event date as a proleptic ordinal (``date.toordinal``), when known.
        published: whether ``day`` is the publication date (it then moves the stream's clock).
        names: the article's names, weighted by mentions and rarity (who and where the report is about).
        dense: unit vector for the ANN index (not serialised; recomputed from ``terms``).
    """

    terms: dict[int, float]
    year: int | None = None
    day: int | None = None
    published: bool = False
    names: dict[str, float] = field(default_factory=dict)
    dense: np.ndarray = field(default_factory=lambda: np.zeros(DENSE_DIM, dtype=np.float32), repr=False)
    semantic: list[float] | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (the dense vector is left out: :meth:`from_dict` recomputes it)."""
        out: dict[str, Any] = {
            "terms": [[k, round(v, 6)] for k, v in self.terms.items()],
            "year": self.year,
            "day": self.day,
            "published": self.published,
            "names": self.names,
        }
        if self.semantic is not None:
            out["semantic"] = list(self.semantic)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArticleFeatures:
        """The inverse of :meth:`to_dict`."""
        terms = {int(k): float(v) for k, v in data["terms"]}
        return cls(
            terms=terms,
            year=data.get("year"),
            day=data.get("day"),
            published=bool(data.get("published", False)),
            names={str(k): float(v) for k, v in data.get("names", {}).items()},
            dense=project(terms),
            semantic=[float(x) for x in data["semantic"]] if data.get("semantic") is not None else None,
        )


def project(terms: dict[int, float]) -> np.ndarray:
    """The unit dense vector of a sparse term vector (a fixed random ±1 projection)."""
    if not terms:
        return np.zeros(DENSE_DIM, dtype=np.float32)
    idx = np.fromiter((k % _PROJ_BUCKETS for k in terms), dtype=np.int64, count=len(terms))
    w = np.fromiter(terms.values(), dtype=np.float32, count=len(terms))
    v = w @ _projection()[idx]
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else v.astype(np.float32)


def term_weights(title: str, text: str) -> dict[int, float]:
    """Hashed IDF-weighted unigrams and bigrams of content words, title counted twice, L2-normalised."""
    stop = _stop_words()
    counts: Counter[str] = Counter()
    for part, times in ((title, 2), (text[:MAX_CHARS], 1)):
        words = [w.lower().replace("’", "'") for w in _WORD.findall(part)]
        content = [w for w in words if len(w) > 1 and w not in stop]
        grams = Counter(content)
        grams.update([a + " " + b for a, b in itertools.pairwise(content)])
        if times != 1:
            for tok in grams:
                grams[tok] *= times
        counts.update(grams)
    weights: dict[int, float] = {}
    for tok, n in counts.items():
        h, w = _token(tok)
        if w < 1.5:  # very common words: no evidence of a particular event
            continue
        weights[h] = weights.get(h, 0.0) + (1.0 + math.log(n)) * w
    values = list(weights.values())
    norm = math.sqrt(sum(map(operator.mul, values, values))) or 1.0
    return {k: v / norm for k, v in weights.items()}


_TOKENS: dict[str, tuple[int, float]] = {}


def _token(tok: str) -> tuple[int, float]:
    """(bucket, IDF) of a word or ``"a b"`` bigram (mean of its words' IDF), remembered."""
    found = _TOKENS.get(tok)
    if found is None:
        if " " in tok:
            a, b = tok.split(" ", 1)
            w = 0.5 * (idf(a) + idf(b))
        else:
            w = idf(tok)
        if len(_TOKENS) >= 500_000:  # bounded: a long stream meets ever more bigrams
            _TOKENS.clear()
        found = _TOKENS[tok] = (feature_hash(tok), w)
    return found


def names_in(text: str) -> dict[str, int]:
    """Capitalised word sequences that do not start a sentence (a cheap entity detector), counted."""
    stop = _stop_words()
    out: Counter[str] = Counter()
    for m in _NAME.finditer(text[:MAX_CHARS]):
        words = m.group(1).lower().split(" ")
        while words and words[0] in stop:  # "The Senate" -> "senate"
            words.pop(0)
        name = " ".join(words)
        if not name:
            continue
        if name in stop or name in _MONTHS or (idf(name) < 3.0 and " " not in name):
            continue
        out[name] += 1
    return dict(out)


def numbers_in(text: str) -> frozenset[str]:
    """Numbers followed by a word ("6.1 magnitude", "13 people"), years excluded."""
    out = set()
    for m in _NUMBER.finditer(text[:MAX_CHARS]):
        num, word = m.group(1).replace(",", ""), m.group(2)
        if _YEAR.fullmatch(num) or word in _stop_words():
            continue
        out.add(f"{num} {word}")
    return frozenset(out)


def parse_published(value: str | None) -> int | None:
    """The ordinal day of an ISO 8601 date or datetime, or None."""
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10]).toordinal()
    except ValueError:
        return None


def first_text_date(text: str, within: int = 600) -> int | None:
    """The first full date (``Aug. 2, 2013``, ``2 August 2013``, ``2013-08-02``) near the top of a text."""
    head = text[:within]
    found: list[tuple[int, int]] = []
    for m in _DATE_MDY.finditer(head):
        found.append((m.start(), _ordinal(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))))
    for m in _DATE_DMY.finditer(head):
        found.append((m.start(), _ordinal(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))))
    for m in _DATE_ISO.finditer(head):
        found.append((m.start(), _ordinal(int(m.group(1)), int(m.group(2)), int(m.group(3)))))
    found = [f for f in found if f[1] > 0]
    return min(found)[1] if found else None


def _ordinal(year: int, month: int, day: int) -> int:
    try:
        return date(year, month, day).toordinal()
    except ValueError:
        return 0


def event_time(article: Article, mentions: bool = True) -> tuple[int | None, int | None]:
    """(year, ordinal day) of the event: publication date, else the dateline, else the most mentioned year.

    ``mentions=False`` leaves out the last resort (years merely mentioned are often
    anniversaries and back-stories, not the event's year).
    """
    day = parse_published(article.published) or first_text_date(article.text)
    if day is not None:
        return date.fromordinal(day).year, day
    if not mentions:
        return None, None
    years = Counter(int(y) for y in _YEAR.findall(f"{article.title}\n{article.text[:MAX_CHARS]}"))
    if not years:
        return None, None
    (year, n), *rest = years.most_common(2)
    if rest and rest[0][1] == n:  # a tie says nothing about which year the event is in
        return None, None
    return year, None


def featurize(
    article: Article,
    *,
    names_weight: float = NAMES_WEIGHT,
    numbers_weight: float = NUMBERS_WEIGHT,
    text_dates: bool = TEXT_DATES,
    year_mentions: bool = YEAR_MENTIONS,
    keep_names: bool = False,
    embedder: Any = None,
) -> ArticleFeatures:
    """Everything the clusterer uses of one article. Pure: same article, same features, anywhere.

    Names and figures are folded into the term vector as their own features
    (``n:tara reid``, ``#:13 people``) scaled by ``names_weight`` and
    ``numbers_weight``. The publication date always dates an article; with
    ``text_dates`` an undated one is dated by its dateline or most mentioned year.
    ``keep_names`` keeps the names for the clusterer's name similarity even when
    they are not folded into the terms; ``embedder`` (anything with ``embed(texts)``,
    e.g. MiniLM) adds a ``semantic`` unit vector of the title and lead
    (:data:`SEMANTIC_CHARS` characters).
    """
    body = f"{article.title}\n{article.text}"
    terms = term_weights(article.title, article.text)
    extra: dict[int, float] = {}
    names = {name: round((1.0 + math.log(n)) * idf_of_name(name), 4) for name, n in names_in(body).items()}
    if names_weight > 0:
        for name, w in names.items():
            extra[feature_hash("n:" + name)] = names_weight * w
    if numbers_weight > 0:
        for fig in numbers_in(body):
            extra[feature_hash("#:" + fig)] = numbers_weight * MAX_IDF
    if extra:
        norm = math.sqrt(sum(v * v for v in extra.values()))
        for k, v in extra.items():
            terms[k] = terms.get(k, 0.0) + v / norm
        total = math.sqrt(sum(v * v for v in terms.values())) or 1.0
        terms = {k: v / total for k, v in terms.items()}
    published = parse_published(article.published)
    if published is None and not text_dates:
        year, day = None, None
    else:
        year, day = event_time(article, year_mentions)
    if published is not None:
        # A dated article is compared by day (the window); its year would only say
        # "same year" of every article in a live stream, which is no evidence.
        year = None
    return ArticleFeatures(
        terms=terms,
        year=year,
        day=day,
        published=published is not None,
        names=names if names_weight > 0 or keep_names else {},
        dense=project(terms),
        semantic=semantic_vector(article, embedder) if embedder is not None else None,
    )


#: Characters of the text after the title that the semantic embedding sees (the lead).
SEMANTIC_CHARS = 600


def semantic_vector(article: Article, embedder: Any) -> list[float]:
    """The embedder's unit vector of the title and lead, as plain floats."""
    vec = embedder.embed([f"{article.title}\n{article.text[:SEMANTIC_CHARS]}"])[0]
    return [float(x) for x in vec]


def top_names(names: dict[str, float], k: int) -> list[str]:
    """The ``k`` heaviest names (ties broken by the name, so every runner agrees)."""
    return [n for n, _ in sorted(names.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


def idf_of_name(name: str) -> float:
    """A name's weight: its rarest word's IDF (``john smith`` is as telling as ``smith``)."""
    return min(MAX_IDF, max(idf(w) for w in name.replace("-", " ").split()))
