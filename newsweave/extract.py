"""The extract stage: sentences, entities, quotes, figures and dates of one article.

spaCy (en_core_web_sm) gives sentences, named entities and the dependency
parse; the rules live in one module per kind of item:
:mod:`newsweave.quotes`, :mod:`newsweave.figures`, :mod:`newsweave.dates`.
Datelines ("COLUMBUS (WCMH) — ") are kept out of sentences, so a summary
never quotes them.
"""

from __future__ import annotations

import bisect
import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .dates import TIME_ZONES, find_dates
from .embed import usable_cpus
from .figures import find_figures
from .models import Article, ArticleAnalysis, EntityMention, Sentence
from .nlp import parse_many
from .quotes import TITLE_ABBREVIATIONS, find_quotes

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span

ENTITY_LABELS = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT"}
#: A dateline: a place in capitals (with its region: "BEIRUT, Lebanon"), an outlet in brackets,
#: or both, then a dash ("COLUMBUS (WCMH) — ", "WASHINGTON—", "(Reuters) - ", "NEW YORK -- ")
#: before a capitalised sentence start; or an outlet run into the sentence ("(CNN)Officials").
#: A dash run into the next word ("WASHINGTON—The") needs a place of three capitals or more
#: without full stops (or an outlet): "U.S.—China talks" and "OK—Let me" are sentences.
DATELINE = re.compile(
    r"(?=[A-Z(])(?:[A-Z][A-Z .'’-]{1,40}(?:,\s*[A-Z][A-Za-z .]{1,30}?)?)?\s*(?:\([^)]{1,30}\))?\s*"
    r"(?:[—–]{1,2}|-{1,2})\s+(?=[A-Z0-9\"“‘'])"
    r"|(?:[A-Z]{3,}(?:[ '’-][A-Z]+)*(?:,\s*[A-Z][A-Za-z .]{1,30}?)?\s*(?:\([^)]{1,30}\))?|\([^)]{1,30}\))\s*"
    r"[—–]{1,2}(?=[A-Z0-9\"“‘'])"
    r"|\([A-Z][A-Za-z]{1,15}\)(?=[A-Z])"
)


#: Articles in one call from which spaCy may parse in several processes (starting them costs ~0.5 s).
PROCESS_MIN_ARTICLES = 16


class SpacyExtractor:
    """Extracts with spaCy plus rules; see the module docstring.

    spaCy is the dearer half of analysing a story and parses one text on one
    core, so a call with ``PROCESS_MIN_ARTICLES`` or more articles parses in two
    processes when the machine has a core to spare (the documents are the same;
    the child processes cost ~25% more CPU in all, a loss where other work would
    have used that core anyway).

    Args:
        batch_size: Texts per spaCy batch.
        processes: spaCy processes for a large call; default (None): 2 when the CPUs this
            process may use exceed the one-minute load average by at least 1, else 1.
    """

    def __init__(self, batch_size: int = 16, processes: int | None = None) -> None:
        self.batch_size = batch_size
        self.processes = processes

    def extract(self, article: Article) -> ArticleAnalysis:
        return self.extract_many([article])[0]

    def extract_many(self, articles: Sequence[Article]) -> list[ArticleAnalysis]:
        processes = self.processes_for(len(articles))
        # Processes take batches in turn: smaller batches keep them equally busy.
        batch = self.batch_size if processes == 1 else max(1, min(self.batch_size, len(articles) // (4 * processes)))
        docs = parse_many((a.text for a in articles), batch_size=batch, processes=processes)
        return [analyse_doc(a, doc) for a, doc in zip(articles, docs, strict=True)]

    def processes_for(self, articles: int) -> int:
        """The spaCy processes a call with this many articles would use now."""
        if articles < PROCESS_MIN_ARTICLES:
            return 1
        if self.processes is not None:
            return self.processes
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):  # pragma: no cover - no load average on this OS
            return 1
        return 2 if usable_cpus() - load >= 1 and usable_cpus() >= 2 else 1


def split_sentences(article: Article, doc: Doc) -> list[Sentence]:
    """spaCy sentences, also cut at line breaks, without datelines or blank text."""
    out: list[Sentence] = []
    first = len(article.text) - len(article.text.lstrip())
    m = DATELINE.match(article.text, first)
    skip_to = m.end() if m else 0
    for s in doc.sents:
        pos = s.start_char
        for piece in re.split(r"(\n+)", s.text):
            start, pos = pos, pos + len(piece)
            if not piece.strip() or piece.startswith("\n"):
                continue
            lead = max(0, skip_to - start)
            if lead >= len(piece):
                continue
            lead += len(piece[lead:]) - len(piece[lead:].lstrip())
            text = piece[lead:].rstrip()
            if len(text) < 2:
                continue
            begin = start + lead
            end = begin + len(text)
            # The parser can leave a quote's closing mark to the next "sentence" when a line ends
            # with it ('… with lives."' + line break): it belongs to the quote it closes.
            while end < len(article.text) and article.text[end] in '"”' and _quote_open(text):
                end += 1
                text = article.text[begin:end]
            skip_to = max(skip_to, end)
            out.append(Sentence(article.id, len(out), begin, end, text))
    # (A sentence no longer ends on "Capt." + "Tom Tennant.": nlp keeps title abbreviations whole.)
    return _join_quoted(article.text, out)


#: A quote of several sentences is kept as one sentence up to this many words.
QUOTE_JOIN_WORDS = 60


def _join_quoted(text: str, sentences: list[Sentence]) -> list[Sentence]:
    """Join the sentences of one quote on one line ('Trump said, “We took action last night to
    stop a war. We did not take action to start a war.”'): the statement is the whole quote with
    its speaker, and its second half alone neither stands in a summary nor matches another
    outlet's one-sentence version. Only a sentence that introduces the quote is joined (a
    sentence that is all quote has no speaker to keep); long quotes (over
    ``QUOTE_JOIN_WORDS`` words) stay split."""
    out: list[Sentence] = []
    i = 0
    while i < len(sentences):
        s = sentences[i]
        j = i
        if _quote_open(s.text) and s.text[0] not in '"“':
            k = i + 1
            while k < len(sentences) and "\n" not in text[sentences[k - 1].end : sentences[k].start]:
                joined = text[s.start : sentences[k].end]
                if len(joined.split()) > QUOTE_JOIN_WORDS:
                    break
                if not _quote_open(joined):
                    j = k
                    break
                k += 1
        if j > i:
            s = Sentence(s.article, 0, s.start, sentences[j].end, text[s.start : sentences[j].end])
        out.append(Sentence(s.article, len(out), s.start, s.end, s.text))
        i = j + 1
    return out


def _quote_open(text: str) -> bool:
    """Whether ``text`` opens a quote it does not close (an odd number of straight marks, or more “ than ”)."""
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


def analyse_doc(article: Article, doc: Doc) -> ArticleAnalysis:
    """Turn a parsed document into an ArticleAnalysis."""
    sentences = split_sentences(article, doc)
    starts = [s.start for s in sentences]

    def sent_of(offset: int) -> int:
        return max(0, bisect.bisect_right(starts, offset) - 1)

    headline_end = _title_case_headline(article.text, article.title)
    entities = [
        EntityMention(
            article.id, article.text[start:end], _label(article.text[start:end], e.label_), start, end, sent_of(start)
        )
        for e in doc.ents
        if e.label_ in ENTITY_LABELS
        and e.start_char >= headline_end
        and e.text.strip()
        and not _part_of_word(article.text, e.start_char, e.end_char)
        and not _common_nouns(e)
        for start, end in [_last_line(article.text, *_without_stray_title(article.text, e.start_char, e.end_char))]
        if end > start and not _TIME_OR_ZONE.fullmatch(article.text[start:end].strip())
    ]
    return ArticleAnalysis(
        article=article.id,
        sentences=sentences,
        entities=entities,
        quotes=find_quotes(article.text, article.id, doc, sentences, entities),
        figures=find_figures(article.text, article.id, doc, sent_of),
        dates=find_dates(article.text, article.id, article.published, doc, sent_of),
    )


#: Clock times and time zones spaCy tags as names ("8.49pm", "GMT").
_TIME_OR_ZONE = re.compile(r"\d{1,2}[.:]\d\d\s*[ap]\.?m\.?|" + "|".join(TIME_ZONES), re.I)


def _last_line(text: str, start: int, end: int) -> tuple[int, int]:
    """An entity span that runs over a line break keeps its last line: the line before is a
    heading ("Media Mogul" + "Page, who …" had made "Mogul Page")."""
    cut = text.rfind("\n", start, end)
    if cut < 0:
        return start, end
    start = cut + 1
    while start < end and text[start].isspace():
        start += 1
    return start, end


def _title_case_headline(text: str, title: str) -> int:
    """Where the text's first line ends when it repeats the headline written in Title Case (0
    otherwise): spaCy's small model reads such headlines badly ("Gunman Kills L. A. Deputy",
    "Microsoft Launches" as names), and what they name the story says again below. A first
    line that is not the headline (a credit line: "Video report by … Robert Moore") is read."""
    first = text.lstrip()
    line = first.split("\n", 1)[0]
    if "\n" not in first or not title.strip() or line.strip() != title.strip() or not title_case(line):
        return 0
    return len(text) - len(first) + len(line)


def title_case(text: str) -> bool:
    """Whether a line is written in Title Case: at least three words of four letters or more,
    four in five of them capitalised ("Gunman Kills L. A. Deputy on Gang Duty")."""
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'\u2019-]*", text) if len(w) > 3]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


_STREET = re.compile(r"\s(?:Ave|Avenue|Street|St|Blvd|Boulevard|Road|Rd|Highway|Parkway)\.?$")  # not Lane: Diane Lane


def _label(text: str, label: str) -> str:
    """spaCy's label, except that a name ending in a street word is a place ("Clark Ave")."""
    return "FAC" if _STREET.search(text) else label


_TITLE_WORD = re.compile(r"(?<!\S)(?:" + "|".join(TITLE_ABBREVIATIONS) + r")\.?(?=\s|$)")


def _without_stray_title(text: str, start: int, end: int) -> tuple[int, int]:
    """An entity span cut at a title abbreviation that does not start it: the title belongs to
    the name after it. "Oregon State Police Lt. Hastings" is Hastings; "Oregon State Police Lt"
    (the name cut off) is the police; a span that is only a title ("Sgt") comes back empty. A
    title that starts the span ("Gen. Qassem Soleimani") stays: the entity stage reads it."""
    inner = [m for m in _TITLE_WORD.finditer(text[start:end]) if m.start() > 0]
    if not inner and _TITLE_WORD.fullmatch(text[start:end].strip()):
        return start, start
    if not inner:
        return start, end
    last = inner[-1]
    after = start + last.end()
    after += len(text[after:end]) - len(text[after:end].lstrip())
    if after < end:
        return after, end
    before = re.sub(r"(?:\s*(?:,|&|\band\b))+\s*$", "", text[start : start + inner[0].start()])
    return start, start + len(before.rstrip())  # "Oregon State Police and Capt" is the police


def _common_nouns(span: Span) -> bool:
    """Whether the tagger reads every word of a named span as a common noun: a sentence-initial
    "Schools" that the recogniser took for a person (the tagger, which sees the word's form and
    context, says NNS; a name is NNP)."""
    return all(t.tag_ in ("NN", "NNS") for t in span)


def _part_of_word(text: str, start: int, end: int) -> bool:
    """Whether a span is a piece of a hyphenated word ("Mar" of "Mar-a-Lago"): not an entity by itself."""
    after = text[end : end + 2]
    before = text[max(0, start - 2) : start]
    return (len(after) == 2 and after[0] == "-" and after[1].isalpha()) or (
        len(before) == 2 and before[1] == "-" and before[0].isalpha()
    )
