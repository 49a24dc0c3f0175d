"""The align stage: what the sources say together, alone, or in conflict.

* entities: :mod:`newsweave.entities` (spelling variants, surnames, titles);
* quotes: :mod:`newsweave.quotes`, speakers resolved to entities;
* figures: :mod:`newsweave.figures`, grouped by meaning, judged within hedges;
* facts: sentences aligned across articles by MiniLM similarity, helped by
  shared entities and figures; a republished copy counts with its original;
* sentence scores: how central and how widely supported each sentence is,
  for the summarizer (not part of the output contract);
* shared passages: word-for-word passages (see :mod:`newsweave.dedupe`).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .dates import is_date_line
from .dedupe import shared_passages
from .embed import Embedder
from .entities import EntityIndex, key_tokens
from .figures import align_figures
from .models import Article, ArticleAnalysis, Sentence
from .quotes import merge_quotes

#: Facts: two sentences of different articles say the same thing at this score (MiniLM cosine
#: plus ``LEXICAL_WEIGHT`` × their words' cosine plus the shared-entity/figure bonus).
FACT_THRESHOLD = 0.76
#: Weight of the sentences' story-local TF-IDF cosine in the fact score (docs/analysis.md).
LEXICAL_WEIGHT = 0.6
#: Each shared entity or aligned figure adds this much to the cosine.
SHARED_BONUS = 0.03
#: Least mean score between two groups of sentences for them to become one fact (None: single link).
GROUP_FLOOR: float | None = 0.6
#: A summary sentence cites another article when one of its sentences scores this much with it
#: (MiniLM cosine plus ``LEXICAL_WEIGHT`` × their words' cosine, as facts are scored).
CITE_THRESHOLD = 0.70
MIN_FACT_WORDS = 5


def is_question(text: str) -> bool:
    """A question ("Why did Trump order the killing?") asks rather than states: no fact."""
    return text.strip().rstrip("\"\u201d\u2019')").endswith("?")


_NAMES = r"[A-Z][\w.'\u2019-]*(?:(?:\s+|\s*(?:,|&|\band\b|\|)\s*)[A-Z][\w.'\u2019-]*)*"
_CREDIT = re.compile(
    rf"(?i:(?:(?:video|audio|additional|photos?)\s+)?(?:report(?:ing)?|written|edited|produced|photos?|words|compiled)"
    rf"\s+by)\s+{_NAMES}(?:\s+in\s+{_NAMES})?(?:\s*[;,|]\s*\w+(?:\s+\w+)?\s+by\s+{_NAMES})*\.?"
)
_BYLINE = re.compile(rf"By\s+{_NAMES}\.?")


def is_credit(text: str) -> bool:
    """A byline, credit or caption credit ("Video report by ITV Washington Correspondent Robert
    Moore", "By Jo Reyes and Sam Lee", "Courtesy of The Woodburn Independent"): about the
    report, not the news, so no fact."""
    t = text.strip()
    return bool(_CREDIT.fullmatch(t) or _BYLINE.fullmatch(t) or _COURTESY.match(t))


_COURTESY = re.compile(r"(?:(?:photo|image|video|picture)s?\s+)?courtesy\s+of\b", re.IGNORECASE)


def states_news(text: str) -> bool:
    """Whether a sentence can be (part of) a fact: long enough, not a question, not a credit
    line, not a filing stamp ("Friday, Sep 10, 2010 | Updated 8:52 PM EDT"), not a lead-in that
    ends on a colon ("Here is what we know:")."""
    t = text.strip()
    return (
        len(t.split()) >= MIN_FACT_WORDS
        and not is_question(t)
        and not is_credit(t)
        and not is_date_line(t)
        and not t.endswith(":")
    )


class SimilarityAligner:
    """Aligns one story's articles; see the module docstring.

    Args:
        embedder: Sentence embedder (the registry passes MiniLM ONNX).
        threshold: Score at which two sentences state the same fact.
        cite_threshold: Similarity at which an article supports a sentence.
        lexical_weight: Weight of the sentences' shared words (story-local TF-IDF cosine)
            beside their embedding cosine in the fact score.
        group_floor: Least mean score between two groups of sentences for them to become one
            fact (average link), so that two claims never chain through one sentence alike to
            both; None links single pairs (single link).
    """

    def __init__(
        self,
        embedder: Embedder,
        threshold: float = FACT_THRESHOLD,
        cite_threshold: float = CITE_THRESHOLD,
        lexical_weight: float = LEXICAL_WEIGHT,
        group_floor: float | None = GROUP_FLOOR,
    ):
        self.group_floor = group_floor
        self.embedder = embedder
        self.threshold = threshold
        self.cite_threshold = cite_threshold
        self.lexical_weight = lexical_weight

    def align(
        self, articles: Sequence[Article], analyses: Sequence[ArticleAnalysis], copies: dict[str, str]
    ) -> dict[str, list[dict[str, Any]]]:
        sent_by_key = {(s.article, s.index): s for an in analyses for s in an.sentences}
        sents = [s for an in analyses for s in an.sentences]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsweave-embed") as pool:
            # Embedding the sentences is most of align's cost and runs outside Python's lock
            # (onnxruntime), so the steps that need no vectors run meanwhile on this thread.
            pending = pool.submit(embed_sentences, self.embedder, sents)
            index = EntityIndex([e for an in analyses for e in an.entities], texts={a.id: a.text for a in articles})
            speaker_of = {
                (q.article, q.speaker): name
                for an in analyses
                for q in an.quotes
                if q.speaker and (name := index.lookup(q.speaker))
            }
            index.mark_speakers(speaker_of)
            quotes = merge_quotes([q for an in analyses for q in an.quotes], speaker_of)
            passages = shared_passages(articles)
            lexical = self.lexical_weight * lexical_similarity([s.text for s in sents]) if sents else None
            vecs = pending.result()
        sent_vecs = {(s.article, s.index): vecs[i] for i, s in enumerate(sents) if vecs[i].any()}
        figures = align_figures(
            [f for an in analyses for f in an.figures],
            sent_by_key,
            self.embedder,
            context_vectors=sent_vecs,
            people=sentence_people(analyses, {a.id: a.text for a in articles}, index),
        )
        titles = [a.title for a in articles if a.title]
        tvecs = self.embedder.embed(titles) if titles else None
        roots = {a.id: root_of(a.id, copies) for a in articles}
        return {
            "facts": self.facts(sents, vecs, analyses, figures, index, roots),
            "figures": figures,
            "quotes": quotes,
            "entities": index.entities(),
            "shared_passages": passages,
            "sentences": sentence_scores(sents, vecs, tvecs, roots, self.cite_threshold, lexical),
        }

    def facts(
        self,
        sents: Sequence[Sentence],
        vecs: np.ndarray,
        analyses: Sequence[ArticleAnalysis],
        figures: Sequence[dict[str, Any]],
        index: EntityIndex,
        roots: dict[str, str],
    ) -> list[dict[str, Any]]:
        """Group sentences that state the same thing in different articles; label each group."""
        keep = [i for i, s in enumerate(sents) if states_news(s.text)]
        if not keep:
            return []
        ents = _sentence_entities(analyses)
        fig_group = {
            (m["article"], m["start"]): (gi, g["status"]) for gi, g in enumerate(figures) for m in g["mentions"]
        }
        sent_figs = _sentence_figures(analyses, fig_group)
        sub = vecs[keep]
        sims = sub @ sub.T + self.lexical_weight * lexical_similarity([sents[k].text for k in keep])
        art = np.array([sents[k].article for k in keep])
        # Only pairs within reach of the threshold get the (Python-level) entity and figure bonus.
        reach = self.threshold - SHARED_BONUS * 6
        cand = np.argwhere(np.triu(sims >= reach, k=1) & (art[:, None] != art[None, :]))
        pairs: list[tuple[float, int, int]] = []
        what = [g.get("what") for g in figures]
        for a, b in cand.tolist():
            sa, sb = sents[keep[a]], sents[keep[b]]
            shared = len(ents.get((sa.article, sa.index), set()) & ents.get((sb.article, sb.index), set()))
            fa, fb = _figure_groups(sa, sent_figs), _figure_groups(sb, sent_figs)
            shared_figs = fa & fb
            if not shared_figs and {what[g] for g in fa} & {what[g] for g in fb} - {None}:
                continue  # figures of one kind that the figure stage judged to count different things
            score = float(sims[a, b]) + SHARED_BONUS * (min(shared, 3) + min(len(shared_figs), 3))
            if score >= self.threshold:
                pairs.append((score, a, b))
        pairs += _conflict_pairs(sents, keep, sent_figs, {(a, b) for _, a, b in pairs}, self.threshold)
        groups: dict[int, list[int]] = {i: [i] for i in range(len(keep))}
        owner = list(range(len(keep)))
        for _, a, b in sorted(pairs, reverse=True):
            ga, gb = owner[a], owner[b]
            if ga == gb:
                continue
            # Average link: two groups join only when their sentences are alike on the whole, not
            # through one pair (A ~ B ~ C chains two different claims through B).
            floor = self.group_floor
            pair_only = len(groups[ga]) + len(groups[gb]) == 2
            if floor is not None and not pair_only and float(sims[np.ix_(groups[ga], groups[gb])].mean()) < floor:
                continue
            both = {sents[keep[k]].article for k in groups[ga]} & {sents[keep[k]].article for k in groups[gb]}
            if both:
                # One sentence per article, unless a lone sentence restates its own article's
                # sentence in the group (alike at the threshold too): the article says it twice.
                # Two figures of one article about different things are two statements ("about
                # 14,000 extra troops since May" restates no "roughly 3000 additional soldiers").
                small, big = (gb, ga) if len(groups[gb]) == 1 else (ga, gb)
                lone = groups[small][0]
                figs = _figure_groups(sents[keep[lone]], sent_figs)
                own = [k for k in groups[big] if sents[keep[k]].article in both]
                if (
                    len(groups[small]) > 1
                    or any(sims[lone, k] < self.threshold for k in own)
                    or any(figs and (other := _figure_groups(sents[keep[k]], sent_figs)) and figs != other for k in own)
                ):
                    continue
                ga, gb = big, small
            for k in groups[gb]:
                owner[k] = ga
            groups[ga].extend(groups.pop(gb))
        out: list[dict[str, Any]] = []
        for members in groups.values():
            group = sorted((sents[keep[k]] for k in members), key=lambda s: (s.article not in roots.values(), s.index))
            articles = {s.article for s in group}
            independent = _independent_sources(group, roots)
            status = "corroborated" if len(independent) >= 2 else "single-source"
            statuses = [st for s in group for _, st in sent_figs.get((s.article, s.index), [])]
            conflict_groups = [
                g for s in group for g, st in sent_figs.get((s.article, s.index), []) if st == "conflict"
            ]
            if len(articles) >= 2 and "conflict" in statuses and len(conflict_groups) >= 2:
                status = "conflicting"
            out.append(
                {
                    "text": group[0].text,
                    "status": status,
                    "evidence": [
                        {"article": s.article, "text": s.text, "start": s.start, "end": s.end, "sentence": s.index}
                        for s in group
                    ],
                    "sources": len(independent),
                    "wire_copy": len(independent) < len(articles),
                }
            )
        order = {"conflicting": 0, "corroborated": 1, "single-source": 2}
        out.sort(key=lambda f: (order[f["status"]], -f["sources"], min(e["sentence"] for e in f["evidence"])))
        return out


def lexical_similarity(texts: Sequence[str]) -> np.ndarray:
    """Cosine of the texts' TF-IDF vectors over these texts only (one story's sentences): the
    words two sentences share, weighted by how rare they are in the story ("harsh retaliation",
    "leave Iraq"), where the sentence embedding sees mostly the topic."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, token_pattern=r"(?u)\b[A-Za-z][A-Za-z]+\b")
    try:
        x = vectorizer.fit_transform(texts)
    except ValueError:  # no word left (stop words, numbers only)
        return np.zeros((len(texts), len(texts)))
    return np.asarray((x @ x.T).toarray())


#: Sentences shorter than this are not embedded (captions, bylines): their vector is zero.
MIN_EMBED_WORDS = 4


def embed_sentences(embedder: Embedder, sents: Sequence[Sentence]) -> np.ndarray:
    """Sentence vectors; each distinct text is embedded once (wire copy repeats whole sentences),
    and fragments under ``MIN_EMBED_WORDS`` words get a zero vector, since the embedding is the
    dearest step of the analysis."""
    if not sents:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    unique = list(dict.fromkeys(s.text for s in sents if len(s.text.split()) >= MIN_EMBED_WORDS))
    row = {t: i for i, t in enumerate(unique)}
    done = embedder.embed(unique) if unique else np.zeros((0, embedder.dim), dtype=np.float32)
    out = np.zeros((len(sents), done.shape[1] if len(done) else embedder.dim), dtype=np.float32)
    for i, s in enumerate(sents):
        if s.text in row:
            out[i] = done[row[s.text]]
    return out


def root_of(article_id: str, copies: dict[str, str]) -> str:
    """The original an article republishes, following chains of copies."""
    seen = {article_id}
    while article_id in copies and copies[article_id] not in seen:
        article_id = copies[article_id]
        seen.add(article_id)
    return article_id


_CITED_AFTER = re.compile(r"^[\s,]*(?:[\w.'\u2019-]+\s+){0,2}(?:said|says|told|added|reported|announced)\b", re.I)
_PERSONAL_PRONOUN = re.compile(r"\b(?:he|she|his|her|him)\b", re.I)
_CITED_BEFORE = re.compile(r"\b(?:said|says|told|added|according to)[\s,]+(?:[\w.'\u2019-]+\s+){0,4}$", re.I)


def sentence_people(
    analyses: Sequence[ArticleAnalysis], texts: dict[str, str], index: EntityIndex
) -> dict[tuple[str, int], set[str]]:
    """The people each sentence is about: its PERSON mentions, resolved to entity names, but not
    a person it cites as its source ("…, Sheriff Ana Ruiz said", "according to Ruiz"); a sentence
    that names nobody but says "he" or "she" is about the people of the last sentence that named
    someone ("Pierre Thomas started. He has two touchdowns.")."""
    out: dict[tuple[str, int], set[str]] = {}
    named: dict[str, str] = {}  # surface -> entity: a lookup scans every entity, and "Page" comes 76 times
    for an in analyses:
        text = texts.get(an.article, "")
        for e in an.entities:
            if e.label != "PERSON":
                continue
            after, before = text[e.end : e.end + 40], text[max(0, e.start - 40) : e.start]
            if _CITED_AFTER.match(after) or _CITED_BEFORE.search(before):
                continue
            if e.text not in named:
                named[e.text] = index.lookup(e.text) or e.text
            out.setdefault((e.article, e.sentence), set()).add(named[e.text])
        last: set[str] = set()
        for s in an.sentences:
            own = out.get((an.article, s.index))
            if own:
                last = own
            elif last and _PERSONAL_PRONOUN.search(s.text):
                out[(an.article, s.index)] = last
    return out


def _sentence_entities(analyses: Sequence[ArticleAnalysis]) -> dict[tuple[str, int], set[str]]:
    out: dict[tuple[str, int], set[str]] = {}
    for an in analyses:
        for e in an.entities:
            toks = key_tokens(e.text)
            if toks:
                out.setdefault((e.article, e.sentence), set()).add(toks[-1])
    return out


def _conflict_pairs(
    sents: Sequence[Sentence],
    keep: Sequence[int],
    sent_figs: dict[tuple[str, int], list[tuple[int, str]]],
    linked: set[tuple[int, int]],
    score: float,
) -> list[tuple[float, int, int]]:
    """Sentences of different articles that carry the figures of one ``conflict`` group, as pairs.

    The figure stage already judged those sentences to report the same thing with other
    numbers ("Two people were treated …" / "Four people were taken to hospital …"); their
    wording can still differ too much for the sentence similarity, and then the story would
    list two single-source facts instead of one conflicting fact.
    """
    carriers: dict[int, list[int]] = {}
    for pos, k in enumerate(keep):
        for g, status in sent_figs.get((sents[k].article, sents[k].index), []):
            if status == "conflict":
                carriers.setdefault(g, []).append(pos)
    out = []
    for members in carriers.values():
        for a, b in itertools.combinations(sorted(set(members)), 2):
            if sents[keep[a]].article != sents[keep[b]].article and (a, b) not in linked:
                out.append((score, a, b))
    return out


#: Two outlets' sentences this alike (rapidfuzz ratio of their lower-cased words) are one wire copy.
WIRE_SENTENCE_RATIO = 90
_WIRE_MIN_WORDS = 8


def _independent_sources(group: Sequence[Sentence], roots: dict[str, str]) -> set[str]:
    """The independent sources of a fact: articles count with the original they copy
    (``roots``), and two articles whose sentences here are the same wire text outside their
    quotes, word for word or nearly ("The bomb detonated around 5:30 p.m. …" in two outlets that
    rewrote the rest of the story), count once."""
    from rapidfuzz.fuzz import ratio

    source = {s.article: roots.get(s.article, s.article) for s in group}
    # The words outside quotes: two outlets quoting the sheriff word for word are two sources.
    words = {s.article: " ".join(words_outside_quotes(s.text.lower())) for s in group}
    arts = sorted(words, key=lambda a: (a not in roots.values(), a))
    for i, a in enumerate(arts):
        if len(words[a].split()) < _WIRE_MIN_WORDS:
            continue
        for b in arts[:i]:
            if source[b] != source[a] and ratio(words[a], words[b]) >= WIRE_SENTENCE_RATIO:
                old = source[a]
                source = {k: (source[b] if v == old else v) for k, v in source.items()}
                break
    return set(source.values())


_WORD = re.compile(r"\w+")
_QUOTED_SPAN = re.compile('"[^"]*"|\u201c[^\u201d]*\u201d')


def words_outside_quotes(text: str) -> list[str]:
    """The words of ``text`` outside its closed quotes (the reporter's own words)."""
    return _WORD.findall(_QUOTED_SPAN.sub(" ", text))


def _figure_groups(sentence: Sentence, sent_figs: dict[tuple[str, int], list[tuple[int, str]]]) -> set[int]:
    return {g for g, _ in sent_figs.get((sentence.article, sentence.index), [])}


def _sentence_figures(
    analyses: Sequence[ArticleAnalysis], fig_group: dict[tuple[str, int], tuple[int, str]]
) -> dict[tuple[str, int], list[tuple[int, str]]]:
    out: dict[tuple[str, int], list[tuple[int, str]]] = {}
    for an in analyses:
        for f in an.figures:
            g = fig_group.get((f.article, f.start))
            if g is not None:
                out.setdefault((f.article, f.sentence), []).append(g)
    return out


def sentence_scores(
    sents: Sequence[Sentence],
    vecs: np.ndarray,
    title_vecs: np.ndarray | None,
    roots: dict[str, str],
    cite_threshold: float = CITE_THRESHOLD,
    lexical: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Per sentence: position, centrality, cross-source support, headline similarity, supporting articles.

    ``support`` is the mean, over the other independent sources, of the best
    similarity to one of their sentences: what several outlets all say scores
    high. ``citations`` lists the articles with a sentence at least
    ``cite_threshold`` alike (always including the sentence's own article).
    A question supports nothing.
    """
    if not sents:
        return []
    arts = sorted({s.article for s in sents})
    sims = vecs @ vecs.T
    asks = np.array([is_question(s.text) for s in sents])
    if asks.any():
        sims[:, asks] = -1.0
    centroid = vecs.mean(axis=0)
    norm = float(np.linalg.norm(centroid)) or 1.0
    central = vecs @ (centroid / norm)
    tsim = (vecs @ title_vecs.T).max(axis=1) if title_vecs is not None and len(title_vecs) else np.zeros(len(sents))
    order = np.argsort(np.array([arts.index(s.article) for s in sents]), kind="stable")
    starts = [0]
    for k in range(1, len(order)):
        if sents[order[k]].article != sents[order[k - 1]].article:
            starts.append(k)
    # best[i, j]: the closest sentence of article j to sentence i (one vectorised pass).
    best_all = np.maximum.reduceat(sims[:, order], starts, axis=1)
    # Citations weigh the words two sentences share too, as facts do (``lexical``, weighted).
    cite_all = best_all if lexical is None else np.maximum.reduceat((sims + lexical)[:, order], starts, axis=1)
    col = [sents[order[k]].article for k in starts]
    counts = Counter(s.article for s in sents)
    out = []
    for i, s in enumerate(sents):
        best = {a: float(best_all[i, j]) for j, a in enumerate(col) if a != s.article}
        backed = {a for j, a in enumerate(col) if a != s.article and cite_all[i, j] >= cite_threshold}
        per_root: dict[str, float] = {}
        for a, v in best.items():
            r = roots.get(a, a)
            if r == roots.get(s.article, s.article):
                continue
            per_root[r] = max(per_root.get(r, 0.0), v)
        support = float(np.mean(list(per_root.values()))) if per_root else 0.0
        out.append(
            {
                "article": s.article,
                "sentence": s.index,
                "position": s.index / max(counts[s.article] - 1, 1),
                "centrality": float(central[i]),
                "support": support,
                "title_similarity": float(tsim[i]),
                "citations": sorted({s.article} | backed),
            }
        )
    return out
