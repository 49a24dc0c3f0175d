"""The summarize stage on hand-made analyses: budget, redundancy, citations, single-source, timeline."""

from __future__ import annotations

from typing import Any

from newsweave.models import Article, ArticleAnalysis, DateMention, Sentence
from newsweave.summarize import ExtractiveSummarizer, concepts, stands_alone, timeline


def _story() -> tuple[list[Article], list[ArticleAnalysis], dict[str, list[dict[str, Any]]]]:
    texts = {
        "a": [
            "About 1,200 residents were evacuated from Larkmoor on Tuesday after cracks appeared in the dam.",
            "Water began seeping through the eastern wall of the dam shortly before dawn, officials said.",
            "Schools in the town will stay closed until Friday while engineers inspect the structure.",
        ],
        "b": [
            "Nearly 1,200 people have left their homes in Larkmoor after engineers found cracks in the dam.",
            "Water began seeping through the eastern wall of the dam shortly before dawn, officials said.",
            "Local farmers fear the loss of the spring harvest if the whole valley floods this week.",
        ],
    }
    articles, analyses, scores = [], [], []
    for aid, sents in texts.items():
        text = " ".join(sents)
        objs, pos = [], 0
        for i, s in enumerate(sents):
            start = text.index(s, pos)
            objs.append(Sentence(aid, i, start, start + len(s), s))
            pos = start + len(s)
            scores.append(
                {
                    "article": aid,
                    "sentence": i,
                    "position": i / 2,
                    "centrality": 0.8 - 0.2 * i,
                    "support": 0.9 if i < 2 else 0.1,
                    "title_similarity": 0.5,
                    "citations": ["a", "b"] if i < 2 else [aid],
                }
            )
        articles.append(Article(id=aid, title="", text=text, published="2025-04-15"))
        analyses.append(ArticleAnalysis(aid, sentences=objs))
    facts = [
        {
            "text": texts["b"][2],
            "status": "single-source",
            "evidence": [{"article": "b", "sentence": 2, "text": texts["b"][2], "start": 0, "end": 1}],
            "sources": 1,
        }
    ]
    return articles, analyses, {"facts": facts, "sentences": scores}


def test_summarize_budget_redundancy_and_citations() -> None:
    articles, analyses, alignment = _story()
    out = ExtractiveSummarizer(max_words=60, min_words=20).summarize(articles, analyses, alignment)
    texts = [s["text"] for s in out["summary"]]
    assert sum(len(t.split()) for t in texts) <= 60
    assert len(set(texts)) == len(texts)
    # The sentence both outlets carry word for word appears once.
    assert sum("Water began seeping" in t for t in texts) <= 1
    seeping = [s for s in out["summary"] if "Water began seeping" in s["text"]]
    assert not seeping or seeping[0]["citations"] == ["a", "b"]
    by_id = {a.id: a.text for a in articles}
    for s in out["summary"]:
        assert any(s["text"] in by_id[c] for c in s["citations"])


def test_summarize_single_source_facts_are_marked() -> None:
    articles, analyses, alignment = _story()
    out = ExtractiveSummarizer(max_words=30, min_words=10).summarize(articles, analyses, alignment)
    if out["single_source"]:
        assert all(s["status"] == "single-source" and len(s["citations"]) == 1 for s in out["single_source"])
    assert not any("spring harvest" in s["text"] for s in out["summary"]) or not out["single_source"]


def test_summarize_timeline_dates_and_unresolved_expressions() -> None:
    s = Sentence("a", 0, 0, 30, "Schools stay closed until Friday.")
    dated = ArticleAnalysis("a", sentences=[s], dates=[DateMention("a", "Friday", 25, 31, 0, "2025-04-18")])
    t = Sentence("b", 0, 0, 30, "On Friday (NZT), he was killed.")
    undated = ArticleAnalysis("b", sentences=[t], dates=[DateMention("b", "Friday", 3, 9, 0, None)])
    vague = ArticleAnalysis("c", sentences=[t], dates=[DateMention("c", "many years ago", 3, 9, 0, None)])
    entries = timeline([undated, dated, vague])
    assert [e["date"] for e in entries] == ["2025-04-18", None]
    assert entries[1]["expression"] == "Friday"


def test_summarize_timeline_borrows_the_date_of_the_same_fact() -> None:
    s = Sentence("a", 0, 0, 40, "Residents left on Tuesday night.")
    t = Sentence("b", 0, 0, 40, "Residents were evacuated on Tuesday.")
    dated = ArticleAnalysis("a", sentences=[s], dates=[DateMention("a", "Tuesday night", 18, 31, 0, "2025-04-15")])
    undated = ArticleAnalysis("b", sentences=[t], dates=[DateMention("b", "Tuesday", 28, 35, 0, None)])
    fact = {"evidence": [{"article": "a", "sentence": 0}, {"article": "b", "sentence": 0}]}
    (entry,) = timeline([undated, dated], [fact])
    assert entry["date"] == "2025-04-15" and sorted(entry["citations"]) == ["a", "b"]


def test_summarize_timeline_month_days_borrow_too_and_date_lines_are_not_events() -> None:
    s = Sentence("a", 1, 20, 60, "He is due in court Feb. 17.")
    stamp = Sentence("a", 0, 0, 19, "Posted Feb. 04, 2009")
    t = Sentence("b", 0, 0, 40, "He is due in court Feb. 17.")
    dated = ArticleAnalysis(
        "a",
        sentences=[stamp, s],
        dates=[
            DateMention("a", "Feb. 04, 2009", 7, 19, 0, "2009-02-04"),
            DateMention("a", "Feb. 17", 39, 46, 1, "2009-02-17"),
        ],
    )
    undated = ArticleAnalysis("b", sentences=[t], dates=[DateMention("b", "Feb. 17", 19, 26, 0, None)])
    fact = {"evidence": [{"article": "a", "sentence": 1}, {"article": "b", "sentence": 0}]}
    (entry,) = timeline([undated, dated], [fact])
    assert entry["date"] == "2009-02-17" and sorted(entry["citations"]) == ["a", "b"]


def test_summarize_overflow_counts_only_the_words_a_reader_keeps() -> None:
    # With overflow, the last sentence is cut at the budget: concepts past the cut must not win it.
    late = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon"
    early = "one two three four five six seven eight nine ten"
    ranked = [(0.0, Sentence("a", 0, 0, len(late), late), {}), (0.0, Sentence("b", 0, 0, len(early), early), {})]
    weights = {("tau", "upsilon"): 10.0, ("one", ""): 1.0}
    summarizer = ExtractiveSummarizer(max_words=6, min_words=0, min_sentence_words=1, overflow=True)
    chosen = summarizer.select(ranked, weights)
    assert [s.text for s, _ in chosen] == [early]


def test_summarize_chooses_only_sentences_that_stand_alone() -> None:
    texts = [
        "Why did the mayor order the evacuation of Larkmoor on Tuesday?",  # a subheading
        "\u201cWe will not take chances with the dam, and nobody should.\u201d",  # a quote without its speaker
        "We will rebuild the eastern wall before the spring floods.\u201d",  # the tail of an earlier quote
        'We will rebuild the eastern wall before the spring floods."',
        "\u201cWe will not take chances with the dam,\u201d the mayor said on Tuesday.",
        "About 1,200 residents left Larkmoor after cracks appeared in the dam.",
        "On the other hand, the engineers said the eastern wall would hold.",  # leans on a sentence before
        "He said the eastern wall of the dam would hold until Friday.",  # a person named elsewhere
    ]
    assert [stands_alone(t) for t in texts] == [False, False, False, False, True, True, False, False]
    assert stands_alone("Heavy rain fell on Larkmoor for three days.")  # a word, not the pronoun
    assert stands_alone("\u201cWe will not gamble with lives,\u201d Varga said.")  # the quote names its speaker
    assert stands_alone("Then-Mayor Jo Reyes opened the dam in 1990.") and not stands_alone("Here is what we know:")
    ranked = [(1.0 - i / 10, Sentence("a", i, 0, len(t), t), {}) for i, t in enumerate(texts)]
    weights = {c: 1.0 for t in texts for c in concepts(t)}
    chosen = ExtractiveSummarizer(max_words=200, min_words=0).select(ranked, weights)
    assert sorted(s.index for s, _ in chosen) == [4, 5]


def test_summarize_puts_what_most_sources_say_first_unless_a_reader_cuts_at_the_budget() -> None:
    articles, analyses, alignment = _story()
    for score in alignment["sentences"]:  # the single-source sentence scores best, so it is chosen first
        if (score["article"], score["sentence"]) == ("b", 2):
            score["title_similarity"] = 5.0
    shown = ExtractiveSummarizer(max_words=60, min_words=20).summarize(articles, analyses, alignment)["summary"]
    counts = [len(s["citations"]) for s in shown]
    assert counts == sorted(counts, reverse=True) and counts[-1] == 1
    cut = ExtractiveSummarizer(max_words=60, min_words=20, overflow=True).summarize(articles, analyses, alignment)
    assert cut["summary"][0]["citations"] == ["b"]


def test_summarize_tells_a_fact_twice_only_with_mostly_new_words() -> None:
    first = "About 1,200 residents were evacuated from Larkmoor after cracks appeared in the dam."
    again = "Roughly 1,200 residents of Larkmoor spent the night in shelters after cracks appeared in the dam."
    more = "Larkmoor residents fled after cracks appeared; farmers fear losing the spring harvest and orchards."
    sents = [Sentence(a, 0, 0, len(t), t) for a, t in (("a", first), ("b", again), ("c", more))]
    ranked = [(1.0 - i / 10, s, {}) for i, s in enumerate(sents)]
    weights = {c: 1.0 for s in sents for c in concepts(s.text)}
    one_fact = {("a", 0): 1, ("b", 0): 1, ("c", 0): 1}
    summarizer = ExtractiveSummarizer(max_words=200, min_words=0)
    assert sorted(s.article for s, _ in summarizer.select(ranked, weights)) == ["a", "b", "c"]
    assert sorted(s.article for s, _ in summarizer.select(ranked, weights, one_fact)) == ["a", "c"]


def test_summary_headlines_and_filing_stamps_left_in_the_text_do_not_stand_alone() -> None:
    assert not stands_alone("Trial Begins for Kraft Shooting Suspect")
    assert not stands_alone("Friday, Sep 10, 2010 | Updated 9:28 AM EDT")
    assert stands_alone("Trial Begins for Kraft Shooting Suspect, the Judge Ruled on Friday.")  # a sentence
    assert stands_alone("The trial of the Kraft shooting suspect began on Monday")  # no full stop, but prose


def test_summarize_timeline_a_date_inside_a_quote_is_no_event() -> None:
    from newsweave.models import Quote

    said = '"It was fun today, coming back like that," Charles said.'
    done = "The Colts won the game on Sunday."
    quoted = ArticleAnalysis(
        "a",
        sentences=[Sentence("a", 0, 0, len(said), said)],
        dates=[DateMention("a", "today", 12, 17, 0, "2012-12-23")],
        quotes=[Quote("a", said[1:37], 1, 37, "Charles", 0, said[:38])],
    )
    sunday = DateMention("b", "Sunday", 26, 32, 0, "2012-12-23")
    plain = ArticleAnalysis("b", sentences=[Sentence("b", 0, 0, len(done), done)], dates=[sunday])
    assert [e["text"] for e in timeline([quoted, plain])] == [done]


def test_summary_a_quote_said_by_he_or_she_does_not_stand_alone() -> None:
    assert not stands_alone('"This flaw is being exploited every day," he said.')
    assert not stands_alone("\u201cWe won,\u201d she told reporters on Friday.")
    assert stands_alone('"We won," Coach Dana Reyes said.')
