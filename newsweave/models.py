"""Plain typed data passed between pipeline stages.

Stages take and return these dataclasses (never library objects), so that any
stage can be swapped, serialised, or run on another machine (Spark).
Character offsets (``start``/``end``) always index ``Article.text``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FactStatus = Literal["corroborated", "single-source", "conflicting"]
FigureStatus = Literal["agree", "conflict", "single-source"]


@dataclass
class Article:
    """One news article, as ingested.

    Attributes:
        id: Stable id (file stem, JSONL ``id``, feed entry id or URL hash).
        title: Headline, possibly empty.
        text: Body text; every evidence span is a slice of it.
        source: Outlet name, detected from the text, metadata, file name or URL.
        published: ISO 8601 date or datetime, or None when unknown.
        url: Canonical URL, when known.
        byline: Author line, when known.
        origin: Where it came from (path, ``path:line``, URL) for error messages.
    """

    id: str
    title: str
    text: str
    source: str | None = None
    published: str | None = None
    url: str | None = None
    byline: str | None = None
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """sha256 of title and text: the same content is the same article."""
        h = hashlib.sha256()
        h.update(self.title.strip().encode("utf-8"))
        h.update(b"\x00")
        h.update(" ".join(self.text.split()).encode("utf-8"))
        return h.hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Span:
    """A character span of one article's text."""

    article: str
    start: int
    end: int
    text: str


@dataclass
class Sentence:
    """A sentence of an article, with its offsets."""

    article: str
    index: int
    start: int
    end: int
    text: str


@dataclass
class EntityMention:
    """One named-entity mention in one article."""

    article: str
    text: str
    label: str
    start: int
    end: int
    sentence: int


@dataclass
class Quote:
    """A direct quote in one article, with its attributed speaker (surface form)."""

    article: str
    text: str
    start: int
    end: int
    speaker: str | None
    sentence: int
    evidence: str = ""  # the span including the quote marks and attribution, when found


@dataclass
class Figure:
    """A number in one article: value, unit/scale, hedge, and what it counts."""

    article: str
    value: float
    unit: str | None
    hedge: str | None
    counted: str | None
    text: str
    start: int
    end: int
    sentence: int
    approximate: bool = False  # "thousands", "dozens": a magnitude, not a count


@dataclass
class DateMention:
    """A date found in an article, resolved against its publication date when possible."""

    article: str
    text: str
    start: int
    end: int
    sentence: int
    date: str | None  # ISO date, or None when it could not be resolved


@dataclass
class ArticleAnalysis:
    """What the extract stage found in one article."""

    article: str
    sentences: list[Sentence] = field(default_factory=list)
    entities: list[EntityMention] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    dates: list[DateMention] = field(default_factory=list)


@dataclass
class DuplicateInfo:
    """The dedupe stage's verdict on one article."""

    article: str
    copy_of: str | None = None
    similarity: float = 0.0


def follow_aliases(alias: Mapping[str, str], story: str) -> str:
    """The live story a story id stands for, following merges (``alias``: merged id -> the story it joined)."""
    while story in alias:
        story = alias[story]
    return story


@dataclass
class StoryAssignment:
    """The cluster stage's placement of one article."""

    article: str
    story: str
    copy_of: str | None = None
    merged: list[str] = field(default_factory=list)  # stories merged into `story` by this article
    moved: dict[str, str] = field(default_factory=dict)  # earlier articles that now belong to another story
    retired: dict[str, str] = field(default_factory=dict)  # stories left empty -> the story that took them

    def merges(self) -> dict[str, str]:
        """Every story merged away by this placement, and the story it became (an alias from now on)."""
        return {**{m: self.story for m in self.merged}, **self.retired}


@dataclass
class Placements:
    """Where a stream of placements leaves each article: later moves and merges followed.

    ``record`` each article's :class:`StoryAssignment` in arrival order; ``story`` then
    gives the article's story at the end of the stream (a merged story's id resolved to
    the story it joined).
    """

    story_of: dict[str, str] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)

    def record(self, article_id: str, placed: StoryAssignment) -> None:
        self.alias.update(placed.merges())
        self.story_of.update(placed.moved)
        self.story_of[article_id] = placed.story

    def story(self, article_id: str) -> str:
        return follow_aliases(self.alias, self.story_of[article_id])

    def final(self) -> dict[str, str]:
        """Every recorded article (and every article a placement moved) with its final story."""
        return {aid: self.story(aid) for aid in self.story_of}


@dataclass
class Story:
    """One story in the output contract (see docs/contract.md)."""

    id: str
    headline: str
    articles: list[dict[str, Any]] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)
    facts: list[dict[str, Any]] = field(default_factory=list)
    figures: list[dict[str, Any]] = field(default_factory=list)
    quotes: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    shared_passages: list[dict[str, Any]] = field(default_factory=list)
    single_source: list[dict[str, Any]] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # ids of stories merged into this one

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Story:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)
