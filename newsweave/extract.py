"""The extract stage: sentences, entities, quotes, figures and dates of one article.

First version: spaCy (en_core_web_sm) for sentences and named entities,
regular expressions over the text for quotes and figures, spaCy DATE spans
resolved against the publication date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from .models import Article, ArticleAnalysis, DateMention, EntityMention, Figure, Quote, Sentence
from .nlp import parse_many

if TYPE_CHECKING:
    from spacy.tokens import Doc

ENTITY_LABELS = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT"}

HEDGES = [
    "more than",
    "less than",
    "fewer than",
    "at least",
    "at most",
    "up to",
    "as many as",
    "nearly",
    "almost",
    "roughly",
    "about",
    "around",
    "approximately",
    "some",
    "over",
    "under",
    "close to",
]
_HEDGE_RE = re.compile(r"\b(" + "|".join(re.escape(h) for h in HEDGES) + r")\s+$", re.I)
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "hundred": 100,
    "a hundred": 100,
}
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "m": 1e6, "k": 1e3}
_VAGUE = {"dozens": 24, "scores": 40, "hundreds": 200, "thousands": 2000, "millions": 2e6}
_FIGURE_RE = re.compile(
    r"(?P<cur>[$£€])?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\b(?:"
    + "|".join(sorted((re.escape(w) for w in _NUMBER_WORDS), key=len, reverse=True))
    + r")\b)(?:\s*(?P<scale>thousand|million|billion|trillion|bn|m|k)\b)?(?P<pct>\s?%|\s+per ?cent)?"
    r"|\b(?P<vague>dozens|scores|hundreds|thousands|millions)\b",
    re.I,
)
_CURRENCY = {"$": "USD", "£": "GBP", "€": "EUR"}
_QUOTE_RE = re.compile(r"“([^”]{3,2000})”|\"([^\"\n]{3,2000})\"")
_SAID = r"(?:said|says|added|told|stated|warned|declared|wrote|tweeted|explained)"


class SpacyExtractor:
    """Extracts with spaCy plus rules; see the module docstring."""

    def __init__(self, batch_size: int = 16) -> None:
        self.batch_size = batch_size

    def extract(self, article: Article) -> ArticleAnalysis:
        return self.extract_many([article])[0]

    def extract_many(self, articles: Sequence[Article]) -> list[ArticleAnalysis]:
        docs = parse_many((a.text for a in articles), batch_size=self.batch_size)
        return [analyse_doc(a, doc) for a, doc in zip(articles, docs, strict=True)]


def analyse_doc(article: Article, doc: Doc) -> ArticleAnalysis:
    """Turn a parsed document into an ArticleAnalysis."""
    sentences = [
        Sentence(article.id, i, s.start_char, s.end_char, s.text)
        for i, s in enumerate(s for s in doc.sents if s.text.strip())
    ]
    starts = [s.start for s in sentences]

    def sent_of(offset: int) -> int:
        import bisect

        return max(0, bisect.bisect_right(starts, offset) - 1)

    entities = [
        EntityMention(article.id, e.text, e.label_, e.start_char, e.end_char, sent_of(e.start_char))
        for e in doc.ents
        if e.label_ in ENTITY_LABELS
    ]
    return ArticleAnalysis(
        article=article.id,
        sentences=sentences,
        entities=entities,
        quotes=find_quotes(article, sentences, entities),
        figures=find_figures(article, doc, sent_of),
        dates=find_dates(article, doc, sent_of),
    )


def find_quotes(article: Article, sentences: list[Sentence], entities: list[EntityMention]) -> list[Quote]:
    """Direct quotes with a speaker from 'X said' / 'said X' or the nearest person named."""
    quotes: list[Quote] = []
    text = article.text
    persons = [e for e in entities if e.label == "PERSON"]
    for m in _QUOTE_RE.finditer(text):
        group = 1 if m.group(1) is not None else 2
        inner = m.group(group).strip()
        if len(inner.split()) < 2:
            continue
        start, end = m.start(group), m.end(group)
        sent = next((s.index for s in sentences if s.start <= start < s.end), 0)
        speaker = _speaker_near(text, m.start(), m.end(), persons, sent)
        quotes.append(Quote(article.id, text[start:end], start, end, speaker, sent))
    return quotes


def _speaker_near(text: str, qs: int, qe: int, persons: list[EntityMention], sent: int) -> str | None:
    after = text[qe : qe + 80]
    m = re.match(r"[,.]?\s*(?:" + _SAID + r")\s+([A-Z][\w.'-]+(?:\s+[A-Z][\w'-]+){0,3})", after)
    if m:
        return m.group(1)
    m = re.match(r"[,.]?\s*([A-Z][\w.'-]+(?:\s+[A-Z][\w'-]+){0,3})\s+" + _SAID, after)
    if m and m.group(1) not in {"He", "She", "They", "It"}:
        return m.group(1)
    before = text[max(0, qs - 120) : qs]
    m = re.search(r"([A-Z][\w.'-]+(?:\s+[A-Z][\w'-]+){0,3})\s+(?:" + _SAID + r")[^.\"“]{0,40}$", before)
    if m and m.group(1) not in {"He", "She", "They", "It"}:
        return m.group(1)
    near = [p for p in persons if p.sentence in (sent, sent - 1) and p.end <= qs]
    return near[-1].text if near else None


def find_figures(article: Article, doc: Doc, sent_of: object) -> list[Figure]:
    """Numbers with hedge, scale/unit and the noun they count; years and dates are skipped."""
    assert callable(sent_of)
    text = article.text
    skip = [(e.start_char, e.end_char) for e in doc.ents if e.label_ in {"DATE", "TIME", "ORDINAL"}]
    out: list[Figure] = []
    for m in _FIGURE_RE.finditer(text):
        s, e = m.start(), m.end()
        if any(a <= s < b for a, b in skip):
            continue
        if s > 0 and (text[s - 1].isalnum() or text[s - 1] in "-./"):
            continue
        if m.group("vague"):
            value, unit, approx = float(_VAGUE[m.group("vague").lower()]), None, True
        else:
            raw = m.group("num").lower().replace(",", "")
            value = float(_NUMBER_WORDS[raw]) if raw in _NUMBER_WORDS else float(raw)
            approx = False
            scale = (m.group("scale") or "").lower()
            if scale == "m" and not m.group("cur"):
                scale = ""
                e = m.start("scale") if m.group("scale") else e
            if scale:
                value *= _SCALE[scale]
            unit = _CURRENCY.get(m.group("cur") or "") or ("percent" if m.group("pct") else None)
        hm = _HEDGE_RE.search(text[max(0, s - 20) : s])
        hedge = hm.group(1).lower() if hm else None
        span_start = s - len(hm.group(0)) if hm else s
        counted, end = _counted_noun(doc, e)
        out.append(
            Figure(article.id, value, unit, hedge, counted, text[span_start:end], span_start, end, sent_of(s), approx)
        )
    return out


def _counted_noun(doc: Doc, end_char: int) -> tuple[str | None, int]:
    span = doc.char_span(end_char, min(len(doc.text), end_char + 60), alignment_mode="expand")
    if span is None:
        return None, end_char
    for tok in span[:4]:
        if tok.pos_ in {"NOUN", "PROPN"} and tok.is_alpha:
            return tok.text.lower(), tok.idx + len(tok.text)
        if tok.pos_ not in {"ADJ", "NUM", "ADV", "PROPN"} and tok.text not in {"additional", "more", "extra"}:
            break
    return None, end_char


_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def find_dates(article: Article, doc: Doc, sent_of: object) -> list[DateMention]:
    """spaCy DATE spans, resolved against the publication date where one is known."""
    assert callable(sent_of)
    pub = _pub_date(article.published)
    out = []
    for e in doc.ents:
        if e.label_ != "DATE":
            continue
        out.append(
            DateMention(article.id, e.text, e.start_char, e.end_char, sent_of(e.start_char), resolve_date(e.text, pub))
        )
    return out


def _pub_date(published: str | None) -> date | None:
    if not published:
        return None
    try:
        return datetime.fromisoformat(published.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def resolve_date(expr: str, pub: date | None) -> str | None:
    """An ISO date for a date expression, relative to ``pub`` ("on Friday" -> the Friday before)."""
    low = expr.lower().strip()
    if pub is not None:
        if low in {"today", "tonight", "this morning", "this afternoon", "this evening"}:
            return pub.isoformat()
        if low in {"yesterday", "last night"}:
            return (pub - timedelta(days=1)).isoformat()
        for i, wd in enumerate(_WEEKDAYS):
            if re.fullmatch(rf"(?:on |last |this )?{wd}", low):
                delta = (pub.weekday() - i) % 7
                return (pub - timedelta(days=delta)).isoformat()
    if not re.search(r"\d", low) and not pub:
        return None
    import dateparser

    settings: dict[str, object] = {"PREFER_DATES_FROM": "past", "STRICT_PARSING": False}
    if pub is not None:
        settings["RELATIVE_BASE"] = datetime(pub.year, pub.month, pub.day)
    try:
        dt = dateparser.parse(expr, languages=["en"], settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input
        return None
    return dt.date().isoformat() if dt else None
