"""Figures: numbers with what they count, their hedge and unit, and their alignment across articles.

Parsing is our own (regular expressions over the text, spaCy tokens for the
counted noun): "almost 3,000 US troops", "$2bn", "1.2 million", "fifteen
thousand", "thousands of soldiers". Ordinals ("82nd Airborne"), years and
spaCy DATE/TIME spans are not figures, and "U.S." is never a unit.

Alignment groups figures about the same thing across articles: the counted
nouns must mean the same (embedding similarity of the nouns, so "troops" and
"soldiers" meet without a hand-made synonym list) and the sentences around
them must say the same kind of thing. Within a group, hedged ranges decide
``agree`` or ``conflict``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .models import Figure, Sentence

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

    from .embed import Embedder

#: Hedge words, longest first so "more than" wins over "more".
HEDGES = sorted(
    [
        "more than",
        "less than",
        "fewer than",
        "at least",
        "at most",
        "up to",
        "as many as",
        "as much as",
        "as few as",
        "nearly",
        "almost",
        "roughly",
        "about",
        "around",
        "approximately",
        "an estimated",
        "estimated",
        "some",
        "over",
        "under",
        "close to",
        "upwards of",
        "just over",
        "just under",
    ],
    key=len,
    reverse=True,
)
# The hedge must touch the number: "more than the 870,000 economists expected" compares, it does not hedge.
_HEDGE_RE = re.compile(r"\b(" + "|".join(re.escape(h) for h in HEDGES) + r")\s+(?:US\s+)?$", re.I)
#: Hedges too loose to make a number with no counted noun a figure ("people over 65", "some 40");
#: the others are firm enough ("more than 175 million have been vaccinated", "killing at least 12").
_LOOSE_HEDGES = {"some", "over", "under", "just over", "just under", "estimated"}
_STRONG_HEDGES = set(HEDGES) - _LOOSE_HEDGES

_UNITS = {
    "zero": 0,
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
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALE = {
    "hundred": 1e2,
    "thousand": 1e3,
    "million": 1e6,
    "billion": 1e9,
    "trillion": 1e12,
    "bn": 1e9,
    "b": 1e9,
    "m": 1e6,
    "mn": 1e6,
    "k": 1e3,
    "tn": 1e12,
}
#: Plural magnitudes ("thousands of"): a rough central value, flagged approximate.
_VAGUE = {"dozens": 36, "scores": 60, "hundreds": 300, "thousands": 3000, "millions": 3e6, "billions": 3e9}
_CURRENCY = {"$": "USD", "us$": "USD", "£": "GBP", "€": "EUR", "¥": "JPY"}

_WORD_NUM = (
    r"(?:(?:"
    + "|".join(_TENS)
    + r")(?:[- ](?:"
    + "|".join(_UNITS)
    + r"))?|"
    + "|".join(_UNITS)
    + r"|a dozen|a hundred)"
)
_FIGURE_RE = re.compile(
    r"(?P<cur>US\s?\$|\$|£|€|¥)?\s?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\b" + _WORD_NUM + r"\b)"
    r"(?:(?:\s*|-)(?P<scale>hundred|thousand|million|billion|trillion|bn|mn|tn|m|b|k)\b)?"
    r"(?P<pct>\s?%|\s+per ?cent\b|\s+percent\b)?"
    r"|\b(?P<vague>dozens|scores|hundreds|thousands|millions|billions)\s+of\b",
    re.I,
)
_ORDINAL_TAIL = re.compile(r"(?:st|nd|rd|th)\b", re.I)
#: Units of measure glued to the number ("48km", "80m", "193km/h"): the counted noun, spelled out as
#: "48 kilometres" would give it, so both wordings align. ("$5m" is money: only without a currency.)
_MEASURES = {
    "km/h": "km/h",
    "km / h": "km/h",
    "kph": "km/h",
    "mph": "mph",
    "km": "kilometre",
    "kg": "kilogram",
    "cm": "centimetre",
    "mm": "millimetre",
    "m": "metre",
    "ft": "feet",
    "lb": "pound",
    "lbs": "pound",
}
_MEASURE_RE = re.compile(r"(" + "|".join(sorted(map(re.escape, _MEASURES), key=len, reverse=True)) + r")\b", re.I)
#: After a number: an address, a block or a road, not a count.
_ADDRESS_RE = re.compile(
    r"\s+(?:[A-Z][a-z]+\s+){1,2}(?:Street|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Drive|"
    r"Highway|Hwy\.?|Parkway)\b(?!\s+[A-Z])|\s+block\s+of\b"
)
#: "one" in set phrases that count nothing ("at one point", "one another", "on the one hand").
_ONE_IDIOM = re.compile(r"\s+(?:point|another|hand|way|thing|day|time|side|moment|reason|factor|question)\b", re.I)
#: "about two-thirds" is a fraction, not two of anything.
_FRACTION_RE = re.compile(r"-(?:half|halves|thirds?|quarters?|fifths?|sixths?|eighths?|tenths?)\b", re.I)
#: Currency spelled out after the number ("two million dollars"), as a sign would be before it.
_CURRENCY_WORD_RE = re.compile(r"\s+(?:US\s+)?(dollars|euros)\b", re.I)
_CURRENCY_WORDS = {"dollars": "USD", "euros": "EUR"}
#: A rate between a number and its noun ("$300 a week supplement"): skipped, it is not what is counted.
_RATE_WORDS = {"hour", "day", "week", "month", "year"}
_CLOCK_RE = re.compile(r"\s?[ap]\.?\s?m\b\.?", re.I)
#: "Ninety to 95 percent": the first number of a percent range is a percent too.
_PCT_RANGE_RE = re.compile(r"\s*(?:to|-|–)\s*\d[\d.,]*(?:\s?%|\s+per ?cent\b|\s+percent\b)", re.I)
#: The first number of a range takes the scale of the second ("$140-150 million", "between
#: $140 and $150 million"); bare letter scales only after a currency sign, as in ``_value``.
_SCALE_RANGE_RE = re.compile(
    r"\s*(?P<link>-|–|to|and)\s*(?P<cur>US\$|\$|£|€)?\d[\d.,]*(?:\s*|-)"
    r"(?P<scale>hundred|thousand|million|billion|trillion|(?<=\d)(?:bn|mn|tn|m|b|k)|(?<=\s)(?:bn|mn|tn))\b",
    re.I,
)
_BETWEEN = re.compile(r"\bbetween\s+$", re.I)
#: Scale words that make a number a figure even when nothing counted follows ("claims rose to 6.8 million").
_SCALED_RE = re.compile(r"\b(?:thousand|million|billion|trillion|bn|mn|tn)\b|\d,\d{3}", re.I)
#: Words between a number and its noun that qualify rather than name what is counted.
_SKIP_WORDS = {"additional", "more", "extra", "other", "new", "further", "u.s.", "us", "american", "of"}


def word_number(text: str) -> float | None:
    """The value of a spelled-out number ("twenty-five", "a dozen"), or None."""
    low = text.lower().replace("-", " ").strip()
    if low == "a dozen":
        return 12.0
    if low == "a hundred":
        return 100.0
    total = 0.0
    for w in low.split():
        if w in _UNITS:
            total += _UNITS[w]
        elif w in _TENS:
            total += _TENS[w]
        else:
            return None
    return total


def find_figures(text: str, article_id: str, doc: Doc, sent_of: Callable[[int], int]) -> list[Figure]:
    """Every figure of one article: value (scale applied), unit, hedge and counted noun.

    Args:
        text: The article text (``doc`` was parsed from it).
        article_id: Id stamped on each figure.
        doc: The spaCy parse, for DATE/TIME/ORDINAL spans and the counted noun.
        sent_of: Maps a character offset to its sentence index.
    """
    skip = [(e.start_char, e.end_char) for e in doc.ents if e.label_ in {"DATE", "TIME", "ORDINAL"}]
    out: list[Figure] = []
    for m in _FIGURE_RE.finditer(text):
        s, e = m.start(), m.end()
        meas: re.Match[str] | None = None
        if m.group("vague"):
            value, unit, approx = float(_VAGUE[m.group("vague").lower()]), None, True
            e = m.start() + len(m.group("vague"))
        else:
            s = m.start("cur") if m.group("cur") else m.start("num")
            parsed = _value(m)
            if parsed is None:
                continue
            value, unit, e = parsed
            approx = False
            meas = None if unit or m.group("cur") else _MEASURE_RE.match(text, e)
            if meas:
                e = meas.end()
            if _not_a_figure(text, m, s, e, skip) or _in_name(doc, m.start("num"), unit):
                continue
            if unit is None and not meas and _PCT_RANGE_RE.match(text, e):
                unit = "percent"
            scaled = None if m.group("scale") or meas or value >= 1000 else _SCALE_RANGE_RE.match(text, e)
            if scaled and scaled.group("link").lower() == "and" and not _BETWEEN.search(text[max(0, s - 12) : s]):
                scaled = None  # "at least 40 and 1.5 million were left homeless": two figures
            if scaled and (m.group("cur") or not scaled.group("cur")):
                value *= _SCALE[scaled.group("scale").lower()]  # "$140-150 million": $140 million
            cw = None if unit or meas else _CURRENCY_WORD_RE.match(text, e)
            if cw:
                unit, e = _CURRENCY_WORDS[cw.group(1).lower()], cw.end()
        hm = _HEDGE_RE.search(text[max(0, s - 24) : s])
        hedge = hm.group(1).lower() if hm else None
        span_start = s - len(hm.group(0)) if hm else s
        counted: str | None
        if meas:
            counted, end = _MEASURES[meas.group(1).lower()], e
        else:
            counted, end = counted_noun(doc, e)
        # A bare number ("the 1979 revolution" missed by NER, a score) says too little, unless it is
        # scaled or grouped ("a revised 6.9 million", "938,000") or firmly hedged ("at least 12").
        bare = counted is None and unit is None and not approx
        if bare and not (_SCALED_RE.search(text[s:e]) or hedge in _STRONG_HEDGES):
            continue
        if counted and not meas and unit is None and not approx and value != 1 and _singular(doc, end):
            continue  # a name or a rank, not a count: "a .357 Magnum handgun", "the five seed", "a 747 jet"
        out.append(
            Figure(article_id, value, unit, hedge, counted, text[span_start:end], span_start, end, sent_of(s), approx)
        )
    return out


def _value(m: re.Match[str]) -> tuple[float, str | None, int] | None:
    raw = m.group("num")
    num = word_number(raw) if raw[0].isalpha() else float(raw.replace(",", ""))
    if num is None:
        return None
    e = m.end()
    scale = (m.group("scale") or "").lower()
    cur = (m.group("cur") or "").lower().replace(" ", "")
    if scale in {"m", "b", "k", "bn", "mn", "tn"} and not cur:
        # "5m" is a length, "82b" a code: bare letter scales only count after a currency sign.
        scale = ""
        e = m.end("num")
    if scale:
        num *= _SCALE[scale]
    unit = _CURRENCY.get(cur) if cur else None
    if m.group("pct"):
        unit = "percent"
        e = m.end("pct")
    elif scale:
        e = m.end("scale")
    else:
        e = m.end("num")
    return num, unit, e


def _not_a_figure(text: str, m: re.Match[str], s: int, e: int, skip: list[tuple[int, int]]) -> bool:
    raw = m.group("num")
    ns = m.start("num")
    if s > 0 and (text[s - 1].isalnum() or text[s - 1] in "-/.:"):
        return True  # part of a code or identifier ("F-35", "COVID-19", "v2.1")
    if _ORDINAL_TAIL.match(text, m.end("num")):
        return True  # "82nd Airborne"
    if e < len(text) and text[e : e + 1].isalnum() and not m.group("pct"):
        return True
    if text[e : e + 1] in "/:" and text[e + 1 : e + 2].isdigit():
        return True  # a date, fraction, score or clock time ("9/11", "19.2/40", "11:06 PM")
    if _FRACTION_RE.match(text, e):
        return True  # "about two-thirds of the ground"
    if _CLOCK_RE.match(text, e):
        return True  # a clock time NER missed ("approximately 7 p. m.")
    if raw.lower() == "one" and (text[e : e + 4] == " of " or _ONE_IDIOM.match(text, e)):
        return True  # "one of the top officials", "at one point", "one another"
    if not m.group("cur") and _ADDRESS_RE.match(text, e):
        return True  # a street address, a block or a road ("24 Independent Street", "the 2500 block of")
    if raw == "911":
        return True  # the emergency number
    if re.search(r"(?:\bNo\.?|#)\s*$", text[max(0, s - 4) : s]):
        return True  # a rank or an ID ("the No. 5 seed", "#3")
    if raw.isdigit() and len(raw) == 4 and 1800 <= int(raw) <= 2100 and not m.group("cur"):
        return True  # a year
    return any(a <= ns < b for a, b in skip)


def _in_name(doc: Doc, num_start: int, unit: str | None) -> bool:
    """Whether the number is part of a name ("Interstate 75 highway", "Boeing 737 jets"), not a count."""
    if unit is not None:
        return False
    span = doc.char_span(num_start, num_start + 1, alignment_mode="expand")
    if span is None or span.start == 0:
        return False
    tok, prev = span[0], doc[span.start - 1]
    # A capitalised proper noun right before the number, both modifying the same head (or it the name).
    return (
        prev.pos_ == "PROPN"
        and prev.text[:1].isupper()
        and prev.text not in {"U.S.", "US", "UK"}
        and prev.dep_ in {"compound", "nmod"}
        and (prev.head == tok.head != tok or tok.head == prev)
    )


def _joins_names(doc: Doc, hyphen: Token) -> bool:
    """Whether a hyphen glues two proper nouns ("Miami-Dade"), not a number to a word ("four-time")."""
    i = hyphen.i
    if i == 0 or i + 1 >= len(doc) or hyphen.whitespace_ or doc[i - 1].whitespace_:
        return False
    return bool(doc[i - 1].pos_ == "PROPN" and doc[i + 1].pos_ == "PROPN")


def counted_noun(doc: Doc, end_char: int) -> tuple[str | None, int]:
    """The noun a number counts ("3,000 additional Army troops" -> troops) and where it ends."""
    # The text's end from its last token: ``doc.text`` is rebuilt on every read (once per figure).
    text_end = doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0
    span = doc.char_span(end_char, min(text_end, end_char + 80), alignment_mode="expand")
    if span is None:
        return None, end_char
    best: tuple[str, int] | None = None
    after_of = False
    for tok in span[:6]:
        low = tok.text.lower()
        if low == "-" and _joins_names(doc, tok):
            continue  # inside a hyphenated name ("500 likely Miami-Dade voters")
        if tok.is_punct and low not in {"-"}:
            break
        if low == "worth" and tok.i + 1 < len(doc) and doc[tok.i + 1].lower_ == "of":
            continue  # "$100 million worth of crude oil" counts the oil
        if tok.pos_ in {"NOUN", "PROPN"} and not tok.is_alpha and any(c.isalpha() for c in low) and "-" in low:
            continue  # a coded modifier ("$1.9 trillion COVID-19 relief bill")
        nxt_low = doc[tok.i + 1].lower_ if tok.i + 1 < len(doc) else ""
        if low in {"a", "an", "per"} and nxt_low in _RATE_WORDS:
            continue  # "$300 a week supplement": the rate is skipped (its noun below too)
        if low in _RATE_WORDS and tok.i > 0 and doc[tok.i - 1].lower_ in {"a", "an", "per"}:
            continue
        if tok.pos_ == "DET" or tok.tag_ == "PRP$":
            # A determiner starts a new phrase ("3.3 million the week before") unless after "of"
            # ("10 of the 12 terrorists", "two of her mentors").
            if after_of and best is None:
                continue
            break
        if tok.pos_ == "NOUN" and tok.is_alpha:
            best = (normalise_noun(tok.text), tok.idx + len(tok.text))
            glued = _hyphen_tail(doc, tok)
            if glued is not None:  # "seven run-ins": the whole hyphenated noun
                return normalise_noun(f"{tok.text}-{glued.text}"), glued.idx + len(glued.text)
            nxt = tok.nbor(1) if tok.i + 1 < len(doc) else None
            if not (nxt is not None and nxt.pos_ == "NOUN" and nxt.is_alpha):
                return best
            continue  # a compound ("Army troops"): the head comes last
        if tok.pos_ == "PROPN" and tok.is_alpha and tok.ent_type_ in {"NORP", ""} and low not in _SKIP_WORDS:
            nxt = tok.nbor(1) if tok.i + 1 < len(doc) else None
            if nxt is None or nxt.pos_ not in {"NOUN", "PROPN"}:
                return normalise_noun(tok.text), tok.idx + len(tok.text)
            continue
        if best is not None:
            return best
        after_of = after_of or low == "of"
        if tok.pos_ in {"ADJ", "NUM", "ADV", "PROPN"} or low in _SKIP_WORDS or tok.text in {"U.S.", "US"}:
            continue
        break
    return best if best else (None, end_char)


#: Nouns that stay singular after a number: invariant plurals ("200 head of cattle", "40 staff"), a
#: crowd's size ("a 22,000 crowd"), and measures written as modifiers ("a 32 yard field goal").
_INVARIANT_WORDS = """head staff personnel aircraft crew deer sheep fish cattle livestock police crowd
yard mile foot inch meter metre kilometer kilometre pound ton acre degree point"""
_INVARIANT_NOUNS = frozenset(_INVARIANT_WORDS.split())
_MEN_SINGULARS = frozenset({"specimen", "regimen", "abdomen", "acumen", "omen", "stamen", "hymen"})


def _singular(doc: Doc, end_char: int) -> bool:
    """Whether the counted noun ending at ``end_char`` is written in the singular."""
    span = doc.char_span(max(0, end_char - 1), end_char, alignment_mode="expand")
    if span is None or not len(span):
        return False
    tok = span[-1]
    if tok.lower_.endswith("men") and tok.lower_ not in _MEN_SINGULARS:
        return False  # "600 servicemen", which the tagger calls singular
    return tok.tag_ in {"NN", "NNP"} and tok.lower_ not in _INVARIANT_NOUNS and "-" not in tok.text


def _hyphen_tail(doc: Doc, tok: Token) -> Token | None:
    """The word glued to ``tok`` by a hyphen ("run" + "-" + "ins"), or None."""
    if tok.whitespace_ or tok.i + 2 >= len(doc):
        return None
    dash, tail = doc[tok.i + 1], doc[tok.i + 2]
    # Only a noun completes the word ("run-ins"); "deputies-many" is a dash lost between words.
    return tail if dash.text == "-" and not dash.whitespace_ and tail.is_alpha and tail.pos_ == "NOUN" else None


def normalise_noun(word: str) -> str:
    """A light singular form, so "troops"/"troop" and "people"/"persons" compare."""
    w = word.lower()
    irregular = {"people": "people", "persons": "people", "person": "people", "men": "man", "women": "woman"}
    if w in irregular:
        return irregular[w]
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        return w[:-1]
    return w


def bounds(f: Figure) -> tuple[float, float]:
    """The range of true values a figure allows, given its hedge ("almost 3,000" -> 2,700..3,000)."""
    v = f.value
    if f.approximate:
        return v / 3, v * 3
    h = f.hedge or ""
    if h in {"more than", "over", "at least", "upwards of", "just over"}:
        return v, v * 1.5
    if h in {"less than", "fewer than", "under", "at most", "up to", "just under", "as many as"}:
        return v * 0.5, v
    if h in {"almost", "nearly", "close to"}:
        return v * 0.9, v
    if h:
        return v * 0.85, v * 1.15
    # Round numbers are themselves approximate ("3,000 troops" and "roughly 3000" agree).
    return v * 0.97, v * 1.03


def compatible(figs: Sequence[Figure]) -> bool:
    """Whether all the figures' hedged ranges share a value."""
    exact = [bounds(f) for f in figs if not f.approximate] or [bounds(f) for f in figs]
    return max(r[0] for r in exact) <= min(r[1] for r in exact) and all(
        _overlap(bounds(f), exact) for f in figs if f.approximate
    )


def _overlap(r: tuple[float, float], others: list[tuple[float, float]]) -> bool:
    return all(r[0] <= o[1] and o[0] <= r[1] for o in others)


def mention(f: Figure) -> dict[str, Any]:
    """The contract's ``figures[].mentions[]`` entry."""
    return {
        "article": f.article,
        "value": f.value,
        "unit": f.unit,
        "hedge": f.hedge,
        "text": f.text,
        "start": f.start,
        "end": f.end,
        "counted": f.counted,
        "approximate": f.approximate,
    }


#: Two figures of one article are one thing restated when their sentences are this alike.
RESTATED_CONTEXT = 0.75


def align_figures(
    figures: Sequence[Figure],
    sentences: dict[tuple[str, int], Sentence],
    embedder: Embedder,
    noun_threshold: float = 0.55,
    context_threshold: float = 0.45,
    context_vectors: dict[tuple[str, int], np.ndarray] | None = None,
    people: dict[tuple[str, int], set[str]] | None = None,
) -> list[dict[str, Any]]:
    """Group figures about the same thing across articles and judge each group.

    Two figures from different articles are about the same thing when their
    counted nouns mean the same (MiniLM cosine ``>= noun_threshold``, or the
    same lemma, or the same unit) and their sentences are alike (cosine of
    the sentence vectors in ``context_vectors``, else of the sentences with
    numbers masked, ``>= context_threshold``). A group takes
    at most one figure per article (the closest), with the figures by which that article
    restates it (same noun, compatible value, sentences alike at ``RESTATED_CONTEXT``). Far-apart values need
    closer contexts to be called the same thing, so "1,200 people left" and
    "four people were hospitalised" stay apart. Nor are two figures one thing when their
    sentences are about different people (``people``: (article, sentence) -> the persons
    it is about, not those it cites): "Bush's two touchdowns" are not Thomas's.
    """
    figs = [f for f in figures if f.counted or f.unit]
    if not figs:
        return []
    nouns = sorted({_noun(f) for f in figs})
    nvec = dict(zip(nouns, embedder.embed(nouns), strict=True))
    known = context_vectors or {}
    missing = [k for k, f in enumerate(figs) if (f.article, f.sentence) not in known]
    extra = dict(zip(missing, embedder.embed([_masked_context(figs[k], sentences) for k in missing]), strict=True))
    cvec = np.stack([extra[k] if k in extra else known[(f.article, f.sentence)] for k, f in enumerate(figs)])
    n = len(figs)
    about = people or {}
    pairs: list[tuple[float, int, int]] = []
    restated: list[tuple[float, int, int]] = []
    doubtful: list[tuple[float, int, int]] = []
    conflicting: set[tuple[int, int]] = set()
    for i in range(n):
        for j in range(i + 1, n):
            a, b = figs[i], figs[j]
            if a.unit != b.unit:
                continue
            ka, kb = _noun(a), _noun(b)
            nsim = 1.0 if ka == kb else float(nvec[ka] @ nvec[kb])
            csim = float(cvec[i] @ cvec[j])
            if a.article == b.article:
                if a.sentence == b.sentence:
                    continue  # one sentence lists two things ("X was suspended four games, and Y …")
                # One article restating its own figure ("roughly 3000 additional soldiers" …
                # "thousands of additional soldiers"): one thing, so another article's figure
                # cannot pair with the restatement as if it were a second thing.
                if nsim >= noun_threshold and csim >= RESTATED_CONTEXT and compatible([a, b]):
                    restated.append((nsim + csim, i, j))
                continue
            who_a, who_b = about.get((a.article, a.sentence)), about.get((b.article, b.sentence))
            if who_a and who_b and not who_a & who_b:
                continue  # two people's numbers: "Bush's two touchdowns" / "Thomas has two touchdowns"
            if compatible([a, b]):
                # Compatible values: alike nouns in alike sentences, or any count of about the same
                # value in near-identical ones ("1,200 residents were evacuated" / "1,200 people have
                # left their homes"; not "at least 105 runs" / "157 games", compatible by the hedge alone).
                if (nsim >= noun_threshold - 0.15 and csim >= context_threshold) or (
                    nsim >= 0.25 and csim >= 0.6 and max(a.value, b.value) <= 1.1 * min(a.value, b.value)
                ):
                    pairs.append((nsim + csim + 0.3, i, j))
            elif nsim >= noun_threshold and csim >= context_threshold:
                doubtful.append((nsim, i, j))
    if doubtful:
        # Different values must be about the very same thing to be called a conflict: compare the
        # sentences around them with the numbers masked, so "two" and "four" do not decide it.
        idx = sorted({k for _, i, j in doubtful for k in (i, j)})
        masked = dict(zip(idx, embedder.embed([_masked_context(figs[k], sentences) for k in idx]), strict=True))
        both = _stated_together(figs)
        for nsim, i, j in doubtful:
            csim = float(masked[i] @ masked[j])
            if _key(figs[i], figs[j]) in both:
                continue  # an article that gives both values tells us they count different things
            if _aggregate(figs[i], sentences) != _aggregate(figs[j], sentences):
                continue  # "a combined 157 games" is not the "54 games with the Angels" of another
            if csim >= context_threshold + 0.17:
                pairs.append((nsim + csim, i, j))
                conflicting.add((i, j))
    group_of = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    ordered = [(True, i, j) for _, i, j in sorted(restated, reverse=True)]
    ordered += [(False, i, j) for _, i, j in sorted(pairs, reverse=True)]
    for own, i, j in ordered:
        gi, gj = group_of[i], group_of[j]
        if gi == gj:
            continue
        if not own and {figs[k].article for k in members[gi]} & {figs[k].article for k in members[gj]}:
            continue  # one thing per article per group (its restatements included)
        if (i, j) not in conflicting and _chains_a_conflict(
            [figs[k] for k in members[gi]], [figs[k] for k in members[gj]]
        ):
            continue  # only a pair that passed the conflict bar may make a group disagree
        for k in members[gj]:
            group_of[k] = gi
        members[gi].extend(members.pop(gj))
    out: list[dict[str, Any]] = []
    for idx in members.values():
        fs = sorted((figs[k] for k in idx), key=lambda f: (f.article, f.start))
        arts = {f.article for f in fs}
        status = "single-source" if len(arts) < 2 else ("agree" if compatible(fs) else "conflict")
        what = _what(fs)
        out.append({"what": what, "status": status, "mentions": [mention(f) for f in fs]})
    order = {"conflict": 0, "agree": 1, "single-source": 2}
    out.sort(key=lambda g: (order[g["status"]], -len(g["mentions"]), g["what"]))
    return out


def _noun(f: Figure) -> str:
    """What a figure counts: its noun, else its unit, else ""."""
    return f.counted or f.unit or ""


def _key(a: Figure, b: Figure) -> tuple[str, float, float]:
    lo, hi = sorted((a.value, b.value))
    return (_noun(a), lo, hi)


def _stated_together(figs: Sequence[Figure]) -> set[tuple[str, float, float]]:
    """(noun, value, value) for two values of one noun that one article states both of
    ("In 54 games with the Angels … a combined 157 games"): two things, never one in conflict."""
    by_article: dict[str, list[Figure]] = {}
    for f in figs:
        by_article.setdefault(f.article, []).append(f)
    out: set[tuple[str, float, float]] = set()
    for fs in by_article.values():
        for i, a in enumerate(fs):
            for b in fs[i + 1 :]:
                if a.value != b.value and _noun(a) == _noun(b):
                    out.add(_key(a, b))
    return out


#: Words that make a sentence's counts totals over a longer span or several parts, or a
#: rate: "a combined 157 games", "a career-best .308", "in each of the past five seasons".
_AGGREGATE_RE = re.compile(r"\b(?:combined|career|cumulative|altogether|in each of|per game|per season)\b", re.I)


def _aggregate(f: Figure, sentences: dict[tuple[str, int], Sentence]) -> bool:
    """Whether the figure's sentence counts a total or a rate (``_AGGREGATE_RE``): such a figure
    and a plain one count over different spans, so their values never conflict."""
    s = sentences.get((f.article, f.sentence))
    return bool(_AGGREGATE_RE.search(s.text if s is not None else f.text))


def _chains_a_conflict(a: Sequence[Figure], b: Sequence[Figure]) -> bool:
    """Whether joining two groups that each agree would make one that does not: two agreeing
    links ("54 games with the Angels" ~ "about 60 games" ~ "a combined 157 games") chain two
    different things, which no pair judged as the same thing with other numbers."""
    return compatible(a) and compatible(b) and not compatible([*a, *b])


def _what(fs: Sequence[Figure]) -> str:
    counts: dict[str, int] = {}
    for f in fs:
        key = _noun(f) or "number"
        counts[key] = counts.get(key, 0) + 1
    return max(counts, key=lambda k: (counts[k], -len(k)))


_NUM_MASK = re.compile(r"[$£€]?\d[\d,.]*|\b(?:dozens|hundreds|thousands|millions)\b", re.I)


def _masked_context(f: Figure, sentences: dict[tuple[str, int], Sentence]) -> str:
    s = sentences.get((f.article, f.sentence))
    if s is None or not (s.start <= f.start and f.end <= s.end):
        return _NUM_MASK.sub("N", f.text)
    text = s.text[: f.start - s.start] + "N " + (f.counted or "") + s.text[f.end - s.start :]
    return _NUM_MASK.sub("N", text)
