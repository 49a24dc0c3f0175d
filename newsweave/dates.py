"""Dates: spaCy DATE/TIME spans resolved against the article's publication date.

Only the spans spaCy tags are parsed (never ``dateparser.search_dates``, which
reads dates into ordinary words). Weekdays and "yesterday"/"last night" are
resolved by hand, relative to the publication date; the rest goes to
``dateparser`` with the publication date as its base; a month and day without
a year is the occurrence nearest that date. Without a publication date, the
first full date at the top of the text (a dateline) is the base; without
either, a relative expression cannot be resolved: it keeps ``date=None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from .models import DateMention

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_SAME_DAY = {"today", "tonight", "this morning", "this afternoon", "this evening", "earlier today"}
_DAY_BEFORE = {"yesterday", "last night", "yesterday morning", "yesterday afternoon", "yesterday evening"}
#: Spans that name a period, not a day of the events ("each year", "for a long time").
_VAGUE = re.compile(r"\b(years?|decades?|centur(?:y|ies)|ages|long time|weeks|months|recent|\d{0,2}\d0'?s)\b", re.I)
_WEEKDAY_RE = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b", re.I)
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_MONTH = re.compile(rf"\b({_MONTHS})(?:[a-z]*\.?)(?=\W|$)", re.I)
_DAY_MONTH = re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTHS})", re.I)
_MONTH_DAY = re.compile(rf"\b({_MONTHS})[a-z]*\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.I)
#: Words that let dateparser place a span in time; a span with none of them ("the 3rd") is not resolved.
_TIME_WORDS = re.compile(
    r"\b(today|tonight|yesterday|tomorrow|morning|afternoon|evening|night|week|weekend|month|year|ago|"
    r"last|next|past|earlier|later|christmas|easter|new year)\b",
    re.I,
)
_NUMERIC_DATE = re.compile(r"\b\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*(?:19|20)\d\d\b")
_ABSOLUTE = re.compile(
    r"\b(1[89]\d\d|20\d\d)\b|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d", re.I
)


def find_dates(
    text: str, article_id: str, published: str | None, doc: Doc, sent_of: Callable[[int], int]
) -> list[DateMention]:
    """DATE spans of one article, each resolved to an ISO date where possible.

    Without a publication date, the first full date near the top of the text (a dateline,
    a "Posted" line) stands in for it (:func:`reference_date`)."""
    spans = [e for e in doc.ents if e.label_ == "DATE" or (e.label_ == "TIME" and _WEEKDAY_RE.search(e.text))]
    pub = publication_date(published) or reference_date(text)
    out = []
    for e in spans:
        before = text[max(0, e.start_char - 12) : e.start_char].lower().split()
        ahead = (bool(before) and before[-1] in {"until", "by", "next", "till", "before"}) or _in_future(e.root)
        iso = resolve_date(e.text, pub, ahead=ahead)
        out.append(DateMention(article_id, e.text, e.start_char, e.end_char, sent_of(e.start_char), iso))
    return out


#: Words that put the verb they govern in the future ("will be held Thursday", "is scheduled to
#: appear Friday", "is due in court Monday").
_FUTURE_AUX = frozenset({"will", "'ll", "\u2019ll", "shall"})
_FUTURE_WORDS = frozenset({"scheduled", "expected", "due", "planned", "set"})


def _in_future(token: Token) -> bool:
    """Whether the date at ``token`` belongs to a verb in the future: "a vigil will be held
    Thursday" is the coming Thursday, not the last one."""
    head = token
    for _ in range(4):
        if head.head is head:
            break
        head = head.head
        if head.lower_ in _FUTURE_WORDS or any(c.dep_ == "aux" and c.lower_ in _FUTURE_AUX for c in head.children):
            return True
        if head.pos_ in {"VERB", "AUX"} and head.dep_ not in {"xcomp", "acomp", "pcomp"}:
            break
    return False


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
    has_year = bool(_YEAR.search(low))
    if not (_MONTH.search(low) or _NUMERIC_DATE.search(low) or _WEEKDAY_RE.search(low) or _TIME_WORDS.search(low)):
        # Numbers alone ("94" of a Route 94, "02, 2009" cut from "Apr 02, 2009", "the 3rd"): a year at most.
        year = _YEAR.search(low)
        return year.group(0) if year else None
    if pub is None and not has_year:
        return None  # "Feb. 17" without a year: dateparser would read 17 as the year 2017
    try:
        dt = dateparser.parse(low, languages=["en"], settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input; an unparsed date is not fatal
        return None
    if dt is None:
        return None
    day = dt.date()
    if (_MONTH.search(low) and not (_MONTH_DAY.search(low) or _DAY_MONTH.search(low))) or re.search(r"\bmonth\b", low):
        return f"{day.year:04d}-{day.month:02d}"  # "in March", "March 2019": a month, not a day of it
    if pub is not None and not has_year and (_MONTH_DAY.search(low) or _DAY_MONTH.search(low)):
        day = _nearest_year(day, pub, ahead)
    return day.isoformat()


def _nearest_year(day: date, pub: date, ahead: bool) -> date:
    """A month and day without a year is the occurrence nearest the publication date ("due in
    court Feb. 17" in a report of Feb. 3 is two weeks ahead, not a year back); with ``ahead``,
    the first on or after it."""
    options = []
    for year in range(pub.year - 4, pub.year + 5):  # Feb. 29 needs a leap year: look four years out
        try:
            options.append(day.replace(year=year))
        except ValueError:  # Feb. 29 in a year without it
            continue
    if not options:
        return day
    if ahead:
        return min((d for d in options if d >= pub), default=day)
    return min(options, key=lambda d: (abs((d - pub).days), d > pub))


_FULL_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})[a-z]*\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})[a-z]*\.?,?\s+(?:19|20)\d\d"
    r"|\d{1,2}\s*/\s*\d{1,2}\s*/\s*(?:19|20)\d\d)\b",
    re.I,
)


#: Words a date stamp line may carry besides the date ("Posted: Apr 02, 2009 11:06 PM CEST").
#: Time zones written after a clock time ("11:18 PM EDT"); spaCy tags some of them as names.
TIME_ZONES = ("est", "edt", "cst", "cdt", "pst", "pdt", "gmt", "bst", "utc", "cet", "cest")
_STAMP_WORDS = frozenset(
    "on posted updated published release released last modified at am pm by et ct mt pt ist".split()  # noqa: SIM905
) | frozenset(TIME_ZONES)


def is_stamp(rest: str) -> bool:
    """Whether what is left of a line or sentence once its date is taken out says nothing
    happened: only stamp words, weekdays and times ("Posted", "Updated 1:32 PM PDT")."""
    words = [w for w in re.findall(r"[A-Za-z]{2,}", rest) if w.lower() not in _STAMP_WORDS]
    return all(w.lower() in WEEKDAYS for w in words) and len(words) < 2


def is_date_line(text: str) -> bool:
    """Whether a line or sentence only says when the report was filed ("Friday, Sep 10, 2010 |
    Updated 8:52 PM EDT", "9 / 10 / 2010 @ 1: 19PM", "Dec. 24 4:33 AM EST"): a date or a number,
    and besides it only stamp words, months, weekdays and times. Not news: no fact, no summary line."""
    rest = _FULL_DATE.sub(" ", text)
    if rest == text and not re.search(r"\d", text):
        return False
    words = [w for w in re.findall(r"[A-Za-z]{2,}", rest) if not _MONTH.fullmatch(w)]
    return is_stamp(" ".join(words))


#: What may stand before a dated dateline on its line: a place in capitals, a region, an outlet.
_DATELINE_PLACE = re.compile(r"\s*(?:[A-Z][A-Za-z.'-]*(?:,?\s+[A-Z][A-Za-z.'-]*)*,?\s*(?:\([^)]*\)\s*)?,?\s*)?")


def reference_date(text: str, head_chars: int = 300) -> date | None:
    """A stand-in for a missing publication date: the first full date (day, month and year)
    in the first ``head_chars`` characters that is a dateline or a date stamp: alone on its
    line but for stamp words ("on Feb. 04, 2009", "Posted 2 / 3 / 2009 11:11 PM", "10:55 P. M.
    FEB. 2, 2009"), or followed by a dash ("WASHINGTON, Feb. 3, 2009 — "). A date inside a
    sentence ("sentenced Saturday for the crimes he committed on March 11, 2005") is an event
    of the story, not when it was written."""
    head = text[:head_chars]
    for m in _FULL_DATE.finditer(head):
        start = head.rfind("\n", 0, m.start()) + 1
        end = head.find("\n", m.end())
        line_rest = head[start : m.start()] + " " + head[m.end() : end if end >= 0 else len(head)]
        dashed = re.match(r"\s*(?:\([^)]*\)\s*)?(?:—|–|--?)\s", head[m.end() :]) is not None and bool(
            _DATELINE_PLACE.fullmatch(head[start : m.start()])
        )
        if not (dashed or (end >= 0 and is_stamp(line_rest))):
            continue
        iso = resolve_date(re.sub(r"\s*/\s*", "/", m.group(0)), None)
        if iso and len(iso) == 10:
            return date.fromisoformat(iso)
    return None


_EVENT_DATE = re.compile(
    r"\b(" + "|".join(WEEKDAYS) + r"|today|tonight|yesterday|last night|this morning|"
    r"jan(?:uary)?|feb(?:ruary)?|march|april|may|june|july|aug(?:ust)?|sep(?:tember)?|oct(?:ober)?|nov(?:ember)?|"
    r"dec(?:ember)?)\b|\b\d{4}-\d\d-\d\d\b",
    re.I,
)


def day_named(expr: str) -> str | None:
    """The day an expression names, as written: a weekday, or a month and day ("feb 17")."""
    weekday = _WEEKDAY_RE.search(expr)
    if weekday:
        return weekday.group(1).lower()
    md = _MONTH_DAY.search(expr)
    return f"{md.group(1).lower()} {int(md.group(2))}" if md else None


def is_event_date(expr: str) -> bool:
    """Whether an expression names a day or month of the events (not "many years ago", "ninety years")."""
    return bool(_EVENT_DATE.search(expr)) and not _VAGUE.search(expr)
