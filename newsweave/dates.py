"""Dates: spaCy DATE/TIME spans resolved against the article's publication date.

Only the spans spaCy tags are parsed (never ``dateparser.search_dates``, which
reads dates into ordinary words). Weekdays and "yesterday"/"last night" are
resolved by hand, relative to the publication date; the rest goes to
``dateparser`` with the publication date as its base. Without a publication
date, a relative expression cannot be resolved: it keeps ``date=None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from .models import DateMention

if TYPE_CHECKING:
    from spacy.tokens import Doc

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_SAME_DAY = {"today", "tonight", "this morning", "this afternoon", "this evening", "earlier today"}
_DAY_BEFORE = {"yesterday", "last night", "yesterday morning", "yesterday afternoon", "yesterday evening"}
#: Spans that name a period, not a day of the events ("each year", "for a long time").
_VAGUE = re.compile(r"\b(years?|decades?|centur(?:y|ies)|ages|long time|weeks|months|recent)\b", re.I)
_WEEKDAY_RE = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b", re.I)
_ABSOLUTE = re.compile(
    r"\b(1[89]\d\d|20\d\d)\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d", re.I
)


def find_dates(
    text: str, article_id: str, published: str | None, doc: Doc, sent_of: Callable[[int], int]
) -> list[DateMention]:
    """DATE spans of one article, each resolved to an ISO date where possible."""
    pub = publication_date(published)
    out = []
    for e in doc.ents:
        if e.label_ != "DATE" and not (e.label_ == "TIME" and _WEEKDAY_RE.search(e.text)):
            continue
        before = text[max(0, e.start_char - 12) : e.start_char].lower().split()
        ahead = bool(before) and before[-1] in {"until", "by", "next", "till", "before"}
        iso = resolve_date(e.text, pub, ahead=ahead)
        out.append(DateMention(article_id, e.text, e.start_char, e.end_char, sent_of(e.start_char), iso))
    return out


def publication_date(published: str | None) -> date | None:
    """The date part of an ISO publication timestamp, or None."""
    if not published:
        return None
    try:
        return datetime.fromisoformat(published.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def resolve_date(expr: str, pub: date | None, ahead: bool = False) -> str | None:
    """An ISO date for a date expression, relative to ``pub``.

    "on Friday" is the Friday on or before the publication date ("until
    Friday", ``ahead=True``, the one on or after it); a bare year stays a
    year ("2019"); "last week"
    and other spans that name a period rather than a day stay unresolved.
    """
    low = re.sub(r"\s*\([^)]*\)", "", expr.lower()).strip()
    low = re.sub(r"^(on|by|since|until|from|last|this|early|late)\s+", "", low).strip()
    if pub is not None:
        if low in _SAME_DAY:
            return pub.isoformat()
        if low in _DAY_BEFORE:
            return (pub - timedelta(days=1)).isoformat()
        for i, wd in enumerate(WEEKDAYS):
            if re.fullmatch(rf"{wd}(?: (?:morning|afternoon|evening|night))?", low):
                if ahead:
                    return (pub + timedelta(days=(i - pub.weekday()) % 7)).isoformat()
                return (pub - timedelta(days=(pub.weekday() - i) % 7)).isoformat()
    if re.fullmatch(r"(?:in )?(1[89]\d\d|20\d\d)", low):
        return low[-4:]
    if not _ABSOLUTE.search(low) and (pub is None or _VAGUE.search(low)):
        return None
    if _VAGUE.search(low) and not _ABSOLUTE.search(low):
        return None
    import dateparser

    settings: dict[str, object] = {"PREFER_DATES_FROM": "past", "REQUIRE_PARTS": ["year"] if pub is None else []}
    if pub is not None:
        settings["RELATIVE_BASE"] = datetime(pub.year, pub.month, pub.day)
    try:
        dt = dateparser.parse(low, languages=["en"], settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input; an unparsed date is not fatal
        return None
    return dt.date().isoformat() if dt else None


_EVENT_DATE = re.compile(
    r"\b(" + "|".join(WEEKDAYS) + r"|today|tonight|yesterday|last night|this morning|"
    r"jan(?:uary)?|feb(?:ruary)?|march|april|may|june|july|aug(?:ust)?|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|"
    r"dec(?:ember)?)\b|\b\d{4}-\d\d-\d\d\b",
    re.I,
)


def is_event_date(expr: str) -> bool:
    """Whether an expression names a day or month of the events (not "many years ago", "ninety years")."""
    return bool(_EVENT_DATE.search(expr)) and not _VAGUE.search(expr)
