"""Direct quotes and their speakers, in one article; merging the same quote across articles.

Quote marks are paired per paragraph: curly marks by direction, straight
marks in turn. A paragraph whose quote is still open at its end continues in
the next paragraph that opens with a quote mark (the newspaper convention for
multi-paragraph quotes), and the continuation keeps the speaker. In text with
one sentence a line, a quote open at a line's end runs on (up to two lines
without marks) to a line whose first mark closes it. A quote that opens a
sentence in the last paragraph and never closes (a cut-off article) is kept.
Titles of works and honours in title case ("The Boy from Oz") are not quotes.

A speaker is found, in order, from: the reporting verb just after the quote
("…," said X / "…," X said, read from the parse, so "Sen. X, D-Ore., said",
"said agency spokeswoman X" and "the State Department said" work; a regex is
the fallback); the subject of a reporting verb before the quote in the same
sentence ("Trump said, …", "an adviser stating: …", "according to X"); the
quote it continues or the previous quote of the paragraph; a reporting verb in
the previous sentence. "he said" takes the last person named as a subject
since the previous quote, else that quote's speaker, else the person last
named, among the people "he" (or "she") can be (``pronoun_fits``: honorific,
role word or census first name); role nouns ("the president said") take the
last person with that title.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .entities import census_first_names, key_tokens, looks_like_a_person
from .models import EntityMention, Quote, Sentence

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span, Token

SAY_VERBS = {
    "said",
    "says",
    "say",
    "added",
    "adds",
    "told",
    "tells",
    "stated",
    "states",
    "stating",
    "warned",
    "warns",
    "declared",
    "wrote",
    "writes",
    "tweeted",
    "tweets",
    "explained",
    "vowed",
    "vows",
    "promised",
    "promises",
    "insisted",
    "argued",
    "claimed",
    "noted",
    "replied",
    "urged",
    "saying",
    "adding",
    "warning",
    "called",
    "described",
    "announced",
    "threatened",
    "asked",
    "asks",
    "answered",
    "responded",
    "confirmed",
    "recalled",
    "exclaimed",
    "shouted",
    "testified",
    "acknowledged",
    "admitted",
    "conceded",
    "continued",
    "fumed",
    "recounted",
    "remarked",
    "commented",
    "quipped",
    "pleaded",
    "demanded",
    "yelled",
    "screamed",
}
_SAY = r"(?:" + "|".join(sorted(SAY_VERBS, key=len, reverse=True)) + r")"
# A name's word: a title abbreviation or initial may end in a period ("Rear Adm. Hossein
# Khanzadi said"), any other word may not, so a name never runs on into the next sentence
# ("said one centrist Democrat. Moderate Democrats watched" is not a name).
#: Title abbreviations written before a name ("Capt. Tom Tennant"): a sentence never ends on one.
TITLE_ABBREVIATIONS: tuple[str, ...] = tuple(
    "Mr Mrs Ms Dr Sen Rep Gov Gen Lt Col Adm Capt Sgt Maj Prof Rev Cpl Pvt Cmdr Det Supt Insp".split()  # noqa: SIM905
)
_ABBREV = r"(?:" + "|".join(TITLE_ABBREVIATIONS) + r"|Jr|Sr|St|[A-Z])\."
_NAME_WORD = r"(?:" + _ABBREV + r"|[A-Z][\w'’-]+)"
_NAME = r"(" + _NAME_WORD + r"(?:\s+(?:" + _NAME_WORD + r"|al-\w+|bin|de|van|von))*)"
_AFTER_SAID_X = re.compile(r"\s*[,.!?]?\s*" + _SAY + r"\s+(?:(?:[a-z]+\s+){0,3})" + _NAME)
_AFTER_X_SAID = re.compile(r"\s*[,.!?]?\s*" + _NAME + r"\s+(?:also\s+)?" + _SAY + r"\b")
#: A quote mark, straight or curly (the marks that are paired into quotes).
_MARK = re.compile(r"[“”\"]")
#: A reporting verb right after a closing mark ("…" said X, "…" X said): what precedes is speech.
_ATTRIBUTED = re.compile(r"\s*[,.!?]?\s*(?:[A-Z][\w.'’-]*\s+){0,4}" + _SAY + r"\b")
_AFTER_PRONOUN = re.compile(r"\s*[,.!?]?\s*(he|she|they)\s+(?:also\s+)?" + _SAY + r"\b")
_PRONOUNS = {"he", "she", "they", "him", "her", "it", "we", "i"}
_ROLE_WORDS = {
    "president",
    "general",
    "mayor",
    "minister",
    "senator",
    "governor",
    "secretary",
    "chief",
    "spokesman",
    "spokeswoman",
    "professor",
    "leader",
    "official",
    "engineer",
}
_VOICE_NOUNS = {"statement", "spokesman", "spokeswoman", "spokesperson", "official", "officials", "spokespeople"}
_NOT_NAMES = {"The", "This", "That", "It", "He", "She", "They", "We", "I", "But", "And", "In", "On", "A"}


@dataclass
class _Span:
    open: int  # position of the opening mark
    close: int  # position after the closing mark (or the paragraph end when open-ended)
    start: int  # quote text start
    end: int  # quote text end
    open_ended: bool
    paragraph: int


def quote_spans(text: str) -> list[_Span]:
    """Pair quote marks, paragraph by paragraph; see the module docstring."""
    spans: list[_Span] = []
    pos = 0
    paras = text.split("\n")
    last = max((i for i, para in enumerate(paras) if para.strip()), default=-1)  # trailing blank lines aside
    # An opening mark left open at the end of a line whose next line does not open a new
    # quote: (mark, its paragraph, the open-ended span to fall back on).
    pending: tuple[int, int, _Span | None] | None = None
    for p, para in enumerate(paras):
        base = pos
        pos += len(para) + 1
        marks = [base + m.start() for m in _MARK.finditer(para)]
        if pending is not None:
            # Text with one sentence a line (ECB+) breaks a quote over lines: it runs on
            # through lines without marks until a line whose first mark closes it.
            if marks and _closes_carried(para):
                spans.append(_make(text, pending[0], marks[0], marks[0] + 1, False, pending[1]))
                marks, pending = marks[1:], None
            elif not marks and p - pending[1] < 3:
                continue
            else:
                if pending[2] is not None:
                    spans.append(pending[2])
                pending = None
        opened: int | None = None
        for at in marks:
            ch = text[at]
            if ch == "“" or (ch == '"' and opened is None):
                opened = at
            elif opened is not None:
                spans.append(_make(text, opened, at, at + 1, False, p))
                opened = None
        if opened is None:
            continue
        continued = p + 1 < len(paras) and paras[p + 1].lstrip()[:1] in {'"', "“"}
        before = para[: opened - base].rstrip()
        # A quote opening a sentence in the article's last paragraph and never closed is kept:
        # scraped articles are often cut off in the middle of a closing quote.
        cut_off = p == last and (not before or before[-1] in ".!?:")
        end = base + len(para.rstrip())
        fallback = _make(text, opened, end, end, True, p) if continued or not before or cut_off else None
        if continued or p + 1 == len(paras):
            if fallback is not None:
                spans.append(fallback)
        else:
            pending = (opened, p, fallback)
    if pending is not None and pending[2] is not None:
        spans.append(pending[2])
    return [
        s
        for s in spans
        if len(text[s.start : s.end].split()) >= 2
        and not (_is_title(text[s.start : s.end]) and not _ATTRIBUTED.match(text, s.close))
    ]


def _closes_carried(line: str) -> bool:
    """Whether the first quote mark of ``line`` closes a quote opened on an earlier line."""
    first = _MARK.search(line)
    if first is None or first.group() == "“":
        return False
    return first.group() == "”" or line.count('"') % 2 == 1


_SMALL_WORDS = {"a", "an", "the", "and", "or", "nor", "but", "of", "in", "on", "for", "from", "to", "at", "with", "by"}


def _is_title(quoted: str) -> bool:
    """A title of a work, show or honour ("Fox News Sunday", "The Boy from Oz"), not speech.

    Every word is capitalised except short function words; all-capitals text ("NO
    COLLUSION") is shouting in a post, so it stays a quote.
    """
    words = re.findall(r"[^\W\d_][\w'’-]*", quoted)
    if not words or not words[0][0].isupper() or quoted.upper() == quoted:
        return False
    return all(w[0].isupper() or w.lower() in _SMALL_WORDS for w in words)


def _make(text: str, opened: int, close_mark: int, close: int, open_ended: bool, para: int) -> _Span:
    start, end = opened + 1, close_mark
    while start < end and text[start].isspace():
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] == ","):
        end -= 1
    return _Span(opened, close, start, end, open_ended, para)


def find_quotes(
    text: str, article_id: str, doc: Doc, sentences: Sequence[Sentence], entities: Sequence[EntityMention]
) -> list[Quote]:
    """Every direct quote of one article with its speaker's surface form (or None)."""
    spans = quote_spans(text)
    persons = people_of(text, entities)
    genders = pronoun_fits(persons, text)
    out: list[Quote] = []
    prev: _Span | None = None
    prev_speaker: str | None = None
    prev_sent = -1
    for sp in spans:
        sent = _sentence_index(sentences, sp.start)
        recent = prev_speaker if prev is not None and sp.open - prev.close < 600 else None
        since = prev.close if prev is not None else 0

        def pronoun(at: int, word: str, since: int = since, recent: str | None = recent) -> str | None:
            return _antecedent(doc, persons, since, at, recent, genders.get(word))

        speaker = _after(text, doc, sp, persons, pronoun)
        if speaker is None:  # a transcript's turn: 'Haldeman: "Yes, sir."' on a line of its own
            turn = _TURN.match(text, text.rfind("\n", 0, sp.open) + 1, sp.open + 1)
            speaker = turn.group(1) if turn and turn.end() == sp.open + 1 else None
        if speaker is None:
            speaker = _before_in_sentence(doc, sp.open, persons, text, pronoun)
        # A quote goes on speaking for the previous speaker, or for the reporting verb just before,
        # unless it is a few words that its own sentence ascribes to someone: "Police are treating
        # the fire as "suspicious"", "Playboy named her "the model of the century"", "… according
        # to her bio" (``_DESIGNATES``). A quote that opens its sentence always may.
        opens = not sentences or sp.open <= sentences[sent].start + 1 or not _designates(sentences[sent].text)
        if speaker is None and prev is not None and prev_speaker:
            continues = prev.open_ended and sp.paragraph == prev.paragraph + 1
            if continues or (sp.paragraph == prev.paragraph and (opens or sent == prev_sent)):
                speaker = prev_speaker
        for back in (1, 2):  # a reporting verb in one of the two sentences before (see `opens`)
            if speaker is None and sent - back >= 0 and opens:
                ps = sentences[sent - back]
                if ps.end <= sp.open:
                    speaker = _before_in_sentence(doc, ps.end, persons, text, pronoun, within=(ps.start, ps.end))
        evidence_end = sp.close
        out.append(
            Quote(article_id, text[sp.start : sp.end], sp.start, sp.end, speaker, sent, text[sp.open : evidence_end])
        )
        prev, prev_speaker, prev_sent = sp, speaker, sent
    return _acting_officials(text, out, {p.text for p in persons})


#: A line that opens with a name and a colon before its quote (a transcript's or Q&A's turn).
_TURN = re.compile(r"\s*([A-Z][\w.'\u2019-]+(?:\s+[A-Z][\w.'\u2019-]+){0,3})\s*:\s*[\"\u201c]")


#: Verbs by which a sentence ascribes the words it quotes to its own subject or agent: "treated
#: by police as", "dismissed the incident as", "named her", "according to".
_DESIGNATES = re.compile(
    r"\b(?:call(?:s|ed|ing)?|nam(?:es|ed|ing)|describ(?:es|ed|ing)|dubb(?:ed|ing)|dubs|label(?:s|led|ed|ling|ing)?"
    r"|brand(?:s|ed|ing)|term(?:s|ed|ing)|dismiss(?:es|ed|ing)|treat(?:s|ed|ing)|hail(?:s|ed|ing)|characteri[sz](?:es|ed|ing)"
    r"|plac(?:es|ed|ing)|rank(?:s|ed|ing)|indict(?:s|ed|ing)|charg(?:es|ed|ing)|according\s+to)\b",
    re.I,
)


def _designates(sentence: str) -> bool:
    """Whether a sentence ascribes the words it quotes to someone of its own (``_DESIGNATES``,
    outside its quotes)."""
    return bool(_DESIGNATES.search(" ".join(_MARK.split(sentence)[::2])))


def _acting_officials(text: str, quotes: list[Quote], people: set[str]) -> list[Quote]:
    """A speaker written as an acting office ("the US' acting Homeland Security said …") is the
    person who holds it: the named person who speaks the next quote, within two short
    paragraphs ("… ," said Chad Wolf)."""
    out = list(quotes)
    for i, q in enumerate(out[:-1]):
        nxt = out[i + 1]
        if not q.speaker or q.speaker in people or nxt.speaker not in people or nxt.start - q.end > 400:
            continue
        line_start = text.rfind("\n", 0, q.start) + 1
        if re.search(r"\bacting\s+" + re.escape(q.speaker) + r"\b", text[line_start : q.start]):
            out[i] = Quote(q.article, q.text, q.start, q.end, nxt.speaker, q.sentence, q.evidence)
    return out


def _sentence_index(sentences: Sequence[Sentence], offset: int) -> int:
    for s in sentences:
        if s.start <= offset < s.end:
            return s.index
    return sentences[-1].index if sentences else 0


def _after(text: str, doc: Doc, sp: _Span, persons: Sequence[EntityMention], pronoun: _Pronoun) -> str | None:
    """The speaker named by a reporting verb just after the quote ("…," said X / "…," X said)."""
    line_end = text.find("\n", sp.close)
    stop = min(line_end if line_end >= 0 else len(text), sp.close + 150)
    next_mark = _MARK.search(text, sp.close, stop)
    stop = next_mark.start() if next_mark else stop  # never read into the next quote
    after = text[sp.close : stop]
    if not after.strip():
        return None
    ended = text[sp.start : sp.end].endswith(".")
    # "he" after the quote is looked up from where the quote opens: not a name inside it.
    verb, speaker = _after_parse(doc, sp.open, sp.close, stop, persons, text, lambda _, w: pronoun(sp.open, w), ended)
    if verb:  # the parse found the reporting verb: its verdict stands
        return speaker
    for pattern in (_AFTER_SAID_X, _AFTER_X_SAID):
        m = pattern.match(after)
        if m and m.group(1).split()[0] not in _NOT_NAMES:
            named = m.group(1).rstrip(".,")
            titled = _TITLED_NAME.search(named)  # "Oregon State Police Lt. Hastings" is Hastings
            return titled.group(1) if titled else named
    m = _AFTER_PRONOUN.match(after)
    if m:
        return pronoun(sp.open, m.group(1).lower())
    return None


def _after_parse(
    doc: Doc,
    opened: int,
    lo: int,
    hi: int,
    persons: Sequence[EntityMention],
    text: str,
    pronoun: _Pronoun,
    ended: bool,
) -> tuple[bool, str | None]:
    """The reporting verb after a quote (whether there is one) and who it names, from the parse.

    The words between the quote and the verb ("…," Sen. Jo Reyes, D-Ore., said; "…," the
    State Department said; "…," three agency lawyers wrote), or those after the verb up to
    the first comma ("…," said agency spokeswoman Jo Reyes), hold the speaker: the person
    named there, else the verb's subject (an organisation or a noun phrase).
    ``opened``: where the quote opens; ``ended``: the quote ends its sentence with a full stop.
    """
    window = doc.char_span(lo, hi, alignment_mode="expand") if hi > lo else None
    # The tokens that start in [lo, hi): a slice of the doc, not a walk over it (once per quote).
    toks = [t for t in window if t.idx >= lo] if window is not None else []
    verb = None
    for i, t in enumerate(toks[:14]):
        if t.text.lower() in SAY_VERBS:
            verb = t
            break
        if i > 0 and t.text in {".", "!", "?", ";", ":"}:
            return False, None  # a new sentence starts before any reporting verb
    if verb is None:
        return False, None
    objects = {c.dep_ for c in verb.children} & {"dobj", "ccomp"}
    if ended and objects:
        return True, None  # "…." Jo Reyes is adding her name: a new sentence reports something else
    pre = [t for t in toks if t.i < verb.i and not t.is_punct and t.dep_ != "advmod"]
    if not pre and any(c.dep_ in {"nsubj", "nsubjpass"} and c.idx < opened for c in verb.children):
        # A "self-described “moderate” announced his run": the subject came before the quote.
        # (A word inside the quote that the parser hung on the verb, "“Game over,” tweeted
        # X", is no such subject.)
        return True, None
    if pre:
        start, end = pre[0].idx, verb.idx
        if len(pre) == 1 and pre[0].lower_ in {"he", "she"}:
            return True, pronoun(lo, pre[0].lower_)
    else:
        start = end = verb.idx + len(verb.text)
        for t in toks[toks.index(verb) + 1 :][:10]:  # "said Lt. Gregg Hastings": "Lt." is one token
            glued = t.text == "-" and not t.whitespace_ and t.i > 0 and not doc[t.i - 1].whitespace_
            if t.text in {",", ".", ";", ":", "(", "—", "–", "-"} and not glued:  # "the 36-year-old X" reads on
                break
            end = t.idx + len(t.text)
    named = [p for p in persons if start <= p.start and p.end <= end]
    if named:
        # The verb's subject when it is one of them ("Biden adviser Jake Sullivan said": not
        # Biden); else the person nearest the verb.
        subj = next((c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}), None)
        for p in named:
            if subj is not None and p.start <= subj.idx < p.end:
                return True, p.text
        if subj is not None and subj.pos_ == "NOUN" and all(_object_of(doc, p, subj) for p in named):
            # "the wife of Capt. Tom Tennant told reporters": the wife spoke, not Tennant.
            return True, doc[subj.left_edge.i : subj.i + 1].text
        return True, (named[-1] if pre else named[0]).text
    subject = _subject_of(verb, doc)
    if subject is not None and start <= subject.start_char and subject.end_char <= end:
        return True, _resolve_surface(subject, persons, text, pronoun)
    if not pre:
        named_after = _name_after(verb, doc)  # "said the 36-year-old Klitschko", untagged by spaCy
        if named_after is not None:
            return True, named_after.text
    return True, None


#: Reporting verbs written before their subject ("…, said Yeager:").
_INVERTING_VERBS = frozenset({"said", "says", "added", "asked", "explained", "continued", "wrote", "noted", "recalled"})


def _name_after(verb: Token, doc: Doc) -> Span | None:
    """The proper name just after a "said"-type verb, before any comma or colon ("said Yeager:",
    "said the 36-year-old Klitschko"): the inverted subject spaCy did not take for one. Only
    determiners, numbers, adjectives and nouns may stand between ("told the AP" and "said before
    Kelly arrived" name no speaker)."""
    if verb.lower_ not in _INVERTING_VERBS:
        return None
    subjects = [c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"}]
    for t in doc[verb.i + 1 : verb.i + 9]:
        if t.is_punct and t.text not in {"-", "."}:
            return None
        if t.pos_ == "PROPN" and t.is_alpha and t.text[:1].isupper():
            first = t.i
            last = first
            while last + 1 < len(doc) and doc[last + 1].pos_ == "PROPN" and doc[last + 1].is_alpha:
                last += 1
            name = doc[first : last + 1]
            # The verb's own subject, or the verb has none: not "the president said the US "acted …"".
            return name if name.root in subjects or not subjects else None
        if t.pos_ not in {"DET", "NUM", "ADJ", "NOUN", "PUNCT"}:
            return None
    return None


#: Tokens before a quote searched for its reporting verb ("Trump said, …").
BEFORE_TOKENS = 60


def _before_in_sentence(
    doc: Doc,
    offset: int,
    persons: Sequence[EntityMention],
    text: str,
    pronoun: _Pronoun,
    within: tuple[int, int] | None = None,
) -> str | None:
    """The subject of the last reporting verb before ``offset`` in its sentence."""
    if within is None:
        tok = _token_at(doc, offset)
        if tok is None:
            return None
        # The reporting verb stands near the quote: the last BEFORE_TOKENS tokens of the sentence
        # are read, not a whole run-on "sentence" once per quote.
        sent = doc[max(tok.sent.start, tok.i - BEFORE_TOKENS) : tok.i + 1]
        lo, hi = sent.start_char, offset
    else:
        lo, hi = within
        span = doc.char_span(lo, hi, alignment_mode="expand")
        if span is None:
            return None
        sent = span
    verbs = [t for t in sent if t.idx < hi and t.idx >= lo and (t.text.lower() in SAY_VERBS or t.text == "according")]
    for verb in reversed(verbs):
        inverted = _name_after(verb, doc) if verb.text != "according" else None
        if inverted is not None and inverted.end_char <= hi:  # "One big difference …, said Yeager: "…""
            return inverted.text
        speaker = _subject_of(verb, doc)
        if speaker is not None:
            return _resolve_surface(speaker, persons, text, pronoun)
    return None


def _token_at(doc: Doc, offset: int) -> Token | None:
    """The token at ``offset``, else the first after it: the first token ending past ``offset``
    (token ends never fall, so a binary search; a walk from the start ran once per quote)."""
    lo, hi = 0, len(doc)
    while lo < hi:
        mid = (lo + hi) // 2
        if doc[mid].idx + max(len(doc[mid].text), 1) <= offset:
            lo = mid + 1
        else:
            hi = mid
    return doc[lo] if lo < len(doc) else None


def _subject_of(verb: Token, doc: Doc) -> Span | None:
    if verb.text == "according":
        for child in verb.children:
            for obj in child.children:
                if obj.dep_ == "pobj":
                    return _phrase(obj, doc)
        return None
    for child in verb.children:
        if child.dep_ in {"nsubj", "nsubjpass"}:
            return _phrase(child, doc)
    left = _left_noun(verb, doc)
    if left is not None:  # "… and Iran has vowed": the parser hung "Iran" elsewhere
        return _phrase(left, doc)
    head: Token | None = verb
    for _ in range(3):  # "X said ... and added:" - a conjoined verb takes its head's subject
        if head is None:
            break
        for child in head.children:
            if child.dep_ in {"nsubj", "nsubjpass"}:
                return _phrase(child, doc)
        head = head.head if head.dep_ in {"conj", "advcl", "xcomp"} and head.head is not head else None
    if verb.dep_ == "acl" or verb.dep_ == "advcl":  # "an adviser to Tehran stating: …"
        for child in verb.head.children:
            if child.dep_ in {"nsubj", "pobj", "dobj"} and child.i < verb.i:
                return _phrase(child, doc)
        if verb.head.pos_ in {"NOUN", "PROPN"}:
            return _phrase(verb.head, doc)
    return None


def _left_noun(verb: Token, doc: Doc) -> Token | None:
    """The noun just before a verb and its auxiliaries ("Iran has vowed" -> Iran)."""
    i = verb.i - 1
    while i >= verb.sent.start and doc[i].dep_ in {"aux", "neg", "advmod"}:
        i -= 1
    if i >= verb.sent.start and i < verb.i - 1 and doc[i].pos_ in {"PROPN", "NOUN"}:
        return doc[i]
    return None


def _phrase(tok: Token, doc: Doc) -> Span:
    """The speaking entity inside a subject: a person, else the entity the head sits in, else the noun phrase."""
    sub = doc[tok.left_edge.i : tok.right_edge.i + 1]
    for ent in sub.ents:
        if ent.label_ == "PERSON":
            return ent
    for ent in sub.ents:
        if ent.start <= tok.i < ent.end and ent.label_ in {"ORG", "GPE", "NORP"}:
            return ent
    if tok.text.lower() in _VOICE_NOUNS:  # "a statement from the Pentagon" speaks for the Pentagon
        for ent in sub.ents:
            if ent.label_ in {"ORG", "GPE"}:
                return ent
        for prep in tok.children:  # "a statement from Waitrose", the name untagged
            if prep.dep_ == "prep" and prep.lower_ in {"from", "by", "of"}:
                for obj in prep.children:
                    if obj.dep_ == "pobj" and obj.pos_ == "PROPN":
                        return doc[obj.left_edge.i : obj.i + 1]
    left = [t for t in sub if t.i <= tok.i]
    return doc[left[0].i : tok.i + 1] if left else doc[tok.i : tok.i + 1]


_TITLED_NAME = re.compile(
    r"^(?:[A-Z][\w.'\u2019-]*\s+)*(?:"
    + "|".join(TITLE_ABBREVIATIONS)
    + r")\.\s+([A-Z][\w'\u2019-]+(?:\s+[A-Z][\w'\u2019-]+)*)$"
)


def _object_of(doc: Doc, person: EntityMention, noun: Token) -> bool:
    """Whether a person is named inside a prepositional phrase of ``noun`` ("wife of X")."""
    span = doc.char_span(person.start, person.end, alignment_mode="expand")
    if span is None:
        return False
    t = span.root
    for _ in range(len(doc)):  # up the tree to the root (spaCy tokens compare by index, not identity)
        if t.i == noun.i or t.head.i == t.i:
            return False
        if t.dep_ == "pobj" and t.head.dep_ == "prep" and t.head.head.i == noun.i:
            return True
        t = t.head
    return False


def _resolve_surface(span: Span, persons: Sequence[EntityMention], text: str, pronoun: _Pronoun) -> str | None:
    words = span.text.strip()
    titled_name = _TITLED_NAME.search(words)
    if titled_name:  # "Oregon State Police Lt. Hastings": the person after the title
        return titled_name.group(1)
    low = words.lower()
    if low in _PRONOUNS:
        return pronoun(span.start_char, low) if low in {"he", "she"} else None
    if low in {"who", "which", "that"}:
        return None  # "tenants who vowed to fight it": a relative pronoun names nobody
    role = low.split()[-1] if low.startswith(("the ", "a ", "an ")) else ""
    if role in _ROLE_WORDS and len(low.split()) <= 3:
        titled = [
            p for p in persons if p.end <= span.start_char and role in text[max(0, p.start - 30) : p.start].lower()
        ]
        if titled:
            return titled[-1].text
    return words or None


#: Who a pronoun may be: (position, "he" / "she" / …) -> the speaker's surface form, or None.
_Pronoun = Callable[[int, str], str | None]

_HONORIFIC = re.compile(r"\b(Mr|Mrs|Ms|Miss|Sir|Lady|Dame|Lord)\.?\s+$")
_HONORIFICS = {"mr": "m", "sir": "m", "lord": "m", "mrs": "f", "ms": "f", "miss": "f", "lady": "f", "dame": "f"}
_FEMALE_ROLES = """actress wife mother daughter sister widow grandmother spokeswoman chairwoman congresswoman
businesswoman queen princess woman girl girlfriend"""
_MALE_ROLES = """actor husband father son brother widower grandfather spokesman chairman congressman
businessman king prince man boy boyfriend"""
_ROLE_GENDER = {**dict.fromkeys(_FEMALE_ROLES.split(), "f"), **dict.fromkeys(_MALE_ROLES.split(), "m")}
_ROLE_BEFORE = re.compile(r"\b([a-z]+),?\s+$")


def people_of(text: str, entities: Sequence[EntityMention]) -> list[EntityMention]:
    """The article's people, by position: spaCy's PERSON mentions, and a two- or three-word name
    that spaCy tagged otherwise but that reads as a person's (``entities.looks_like_a_person``:
    "Bettie Mae Page" as ORG).

    A person's surname where spaCy tagged nothing ("Page later said") is not added: tried, it
    fixed three "he"/"she" speakers in five ECB+ stories and broke two, where a witness's
    "he testified" followed a sentence about the accused."""
    people: list[EntityMention] = []
    for e in entities:
        toks = key_tokens(e.text)
        if e.label == "PERSON":
            people.append(e)
        elif (
            e.label not in {"GPE", "LOC", "FAC"}
            and looks_like_a_person(toks)
            and all(w[:1].isupper() for w in e.text.split()[-len(toks) :])
        ):
            people.append(dataclasses.replace(e, label="PERSON"))
    people.sort(key=lambda p: (p.start, p.end))
    return people


def pronoun_fits(persons: Sequence[EntityMention], text: str) -> dict[str, Callable[[str], bool]]:
    """For "he" and "she": which speakers (surface forms) the pronoun may stand for.

    A person's sex is read from an honorific ("Mr. Roesler"), a role word just before the name
    ("actress Bettie Page", "his wife Ana Ruiz") or the census first name of a full name; it
    holds for the surname too. A surname with conflicting evidence (a father and daughter), or
    none, fits either pronoun.
    """
    first_names = census_first_names()
    votes: dict[str, Counter[str]] = {}
    for p in persons:
        toks = key_tokens(p.text)
        if not toks:
            continue
        before = text[max(0, p.start - 30) : p.start]
        honorific = _HONORIFIC.search(before)
        role = _ROLE_BEFORE.search(before)
        sex = (
            _HONORIFICS[honorific.group(1).lower()]
            if honorific
            else _ROLE_GENDER.get(role.group(1))
            if role and role.group(1) in _ROLE_GENDER
            else first_names.get(toks[0])
            if len(toks) >= 2
            else None
        )
        if sex:
            votes.setdefault(toks[-1], Counter())[sex] += 1
    sex_of = {name: next(iter(c)) for name, c in votes.items() if len(c) == 1}

    def fits(want: str) -> Callable[[str], bool]:
        def fit(name: str) -> bool:
            toks = key_tokens(name)
            return not toks or sex_of.get(toks[-1], want) == want

        return fit

    return {"he": fits("m"), "she": fits("f")}


def _antecedent(
    doc: Doc,
    persons: Sequence[EntityMention],
    since: int,
    at: int,
    recent: str | None,
    fits: Callable[[str], bool] | None = None,
) -> str | None:
    """Who "he"/"she" at ``at`` is: the last person named as a subject since the previous quote.

    A person brought in after the previous quote ("Actor Lee Park said strikes hurt. "It's
    bad," he said.) takes over from that quote's speaker; a person named only as an object
    ("… pancakes for his wife Ana Ruiz") does not. Else the previous quote's speaker, else
    the person last named. ``fits`` (from :func:`gender_by_name`) rules out the people the
    pronoun cannot be ("she" is not Mark Roesler); when nobody fits, the speaker is unknown.
    """
    fit = fits or (lambda _: True)
    for p in reversed([p for p in persons if since <= p.start and p.end <= at]):
        span = doc.char_span(p.start, p.end, alignment_mode="expand")
        if span is not None and span.root.dep_ in {"nsubj", "nsubjpass"} and fit(p.text):
            return p.text
    if recent and fit(recent):
        return recent
    return last_person([p for p in persons if fit(p.text)], at)


def last_person(persons: Sequence[EntityMention], before: int) -> str | None:
    """The last PERSON named before ``before`` (for pronouns)."""
    named = [p for p in persons if p.end <= before]
    return named[-1].text if named else None


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower().replace("’", "'")))


def _described(speaker: str) -> bool:
    """A speaker given by description, not name ("the judge", "officials")."""
    return speaker[:1].islower()


def _same_speaker(a: str | None, b: str | None) -> bool:
    """Whether two attributions can be one quote's: the same name, or one of them unknown or
    only a description ("the judge" and Bodiford, for the judge's same words in two outlets)."""
    return a is None or b is None or a == b or _described(a) or _described(b)


def merge_quotes(quotes: Sequence[Quote], speaker_of: dict[tuple[str, str], str]) -> list[dict[str, Any]]:
    """One entry per distinct quote; the same quote across outlets (trimmed or reworded) is merged.

    Args:
        quotes: Every article's quotes.
        speaker_of: (article, surface speaker) -> resolved entity name.

    Returns:
        Contract ``quotes`` entries: the longest wording is the text, the others
        are ``variants``; each mention keeps its own exact span and speaker.
    """
    from rapidfuzz.fuzz import partial_ratio, token_set_ratio

    merged: list[dict[str, Any]] = []
    for q in sorted(quotes, key=lambda q: (-len(q.text), q.article, q.start)):
        norm = _norm(q.text)
        speaker = speaker_of.get((q.article, q.speaker or ""), q.speaker)
        home = None
        for g in merged:
            short = min(len(norm), len(g["_norm"]))
            close = partial_ratio(norm, g["_norm"]) >= 90 or (short > 40 and token_set_ratio(norm, g["_norm"]) >= 85)
            if close and _same_speaker(speaker, g["speaker"]) and short >= 12:
                home = g
                break
        if home is None:
            home = {"speaker": speaker, "text": q.text, "mentions": [], "_norm": norm}
            merged.append(home)
        if speaker and (home["speaker"] is None or _described(home["speaker"])):
            home["speaker"] = speaker
        home["mentions"].append(
            {
                "article": q.article,
                "text": q.text,
                "start": q.start,
                "end": q.end,
                "speaker": speaker,
                "said_as": q.speaker,
            }
        )
    for g in merged:
        g.pop("_norm")
        g["mentions"].sort(key=lambda m: (m["article"], m["start"]))
        g["articles"] = sorted({m["article"] for m in g["mentions"]})
        g["variants"] = sorted({m["text"] for m in g["mentions"]} - {g["text"]})
    merged.sort(key=lambda g: (-len(g["articles"]), -len(g["text"])))
    return merged
