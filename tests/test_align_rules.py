"""The align stage on hand-made data: entity resolution, figure agreement, quote merging, facts."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from newsweave.align import SimilarityAligner, is_credit, root_of, sentence_people, states_news
from newsweave.dates import is_date_line
from newsweave.embed import HashingEmbedder
from newsweave.entities import EntityIndex, key_tokens
from newsweave.figures import _chains_a_conflict, align_figures, compatible
from newsweave.models import Article, ArticleAnalysis, EntityMention, Figure, Quote, Sentence
from newsweave.quotes import merge_quotes


def _ent(article: str, text: str, label: str = "PERSON") -> EntityMention:
    return EntityMention(article, text, label, 0, len(text), 0)


def test_align_entities_spelling_titles_surnames_possessives() -> None:
    index = EntityIndex(
        [
            _ent("a", "Gen. Qassem Soleimani"),
            _ent("b", "Maj Gen Qasem Soleimani"),
            _ent("b", "Soleimani's", "GPE"),
            _ent("c", "Soleimani"),
            _ent("a", "U.S.", "GPE"),
            _ent("b", "the United States", "GPE"),
        ]
    )
    ents = {e["name"]: e for e in index.entities()}
    sol = next(e for e in ents.values() if "Soleimani" in e["name"])
    assert sol["type"] == "PERSON" and sol["articles"] == ["a", "b", "c"]
    assert "Soleimani" in sol["aliases"]
    assert any(e["articles"] == ["a", "b"] and e["type"] == "GPE" for e in ents.values())
    assert key_tokens("Maj Gen Qasem Soleimani's") == ["qasem", "soleimani"]


def test_align_entities_never_merge_two_people_sharing_a_word() -> None:
    index = EntityIndex(
        [_ent("a", "John Smith"), _ent("b", "Jane Smith"), _ent("c", "Smith"), _ent("c", "President Biden")]
    )
    names = {e["name"] for e in index.entities()}
    assert {"John Smith", "Jane Smith"} <= names
    assert index.lookup("Smith") not in {"John Smith", "Jane Smith"}  # ambiguous: joins nobody
    assert index.lookup("Mr Biden") == "Biden"


def _at(article: str, text: str, name: str) -> EntityMention:
    start = text.index(name)
    return EntityMention(article, name, "PERSON", start, start + len(name), 0)


def test_align_entities_speaker_named_by_role_is_the_one_person_with_that_role() -> None:
    texts = {
        "a": "Later, Freedonia's Supreme Leader General Ana Oduya vowed revenge. President Tom Reyes spoke.",
        "b": "In Sylvania, President Lia Moro met aides at the direction of Tom Reyes.",
    }
    mentions = [
        _at("a", texts["a"], "Ana Oduya"),
        _at("a", texts["a"], "Tom Reyes"),
        _at("b", texts["b"], "Lia Moro"),
    ]
    index = EntityIndex(mentions, texts=texts)
    assert index.lookup("Freedonia’s supreme leader") == "Ana Oduya"
    assert index.lookup("the general") == "Ana Oduya"
    assert index.lookup("Sylvania's supreme leader") is None  # the role's owner must match
    assert index.lookup("the president") is None  # two people hold it: nobody
    assert index.lookup("the spokesman") is None  # a role nobody was given
    assert EntityIndex(mentions).lookup("Freedonia's supreme leader") is None  # without the texts, no roles


def test_align_entities_a_speaker_written_by_surname_becomes_an_alias_but_a_role_does_not() -> None:
    texts = {"a": "Professor Peter Vance spoke.", "b": "Freedonia's Supreme Leader General Ana Oduya vowed revenge."}
    index = EntityIndex([_at("a", texts["a"], "Peter Vance"), _at("b", texts["b"], "Ana Oduya")], texts=texts)
    spoken = {
        ("b", "Vance"): "Peter Vance",  # spaCy did not tag the surname in b; the quote's speaker names him
        ("a", "Freedonia's supreme leader"): "Ana Oduya",
        ("a", "the professor"): "Peter Vance",
    }
    index.mark_speakers(spoken)
    found = {e["name"]: e for e in index.entities()}
    assert found["Peter Vance"]["aliases"] == ["Vance"] and found["Peter Vance"]["articles"] == ["a", "b"]
    assert found["Ana Oduya"]["aliases"] == [] and found["Ana Oduya"]["articles"] == ["b"]


def _fig(article: str, value: float, hedge: str | None, counted: str, text: str, approximate: bool = False) -> Figure:
    return Figure(article, value, None, hedge, counted, text, 0, len(text), 0, approximate)


def test_align_figures_hedges_agree_and_conflict() -> None:
    assert compatible([_fig("a", 3000, None, "troop", "x"), _fig("b", 3000, "almost", "troop", "y")])
    assert compatible([_fig("a", 3000, "roughly", "troop", "x"), _fig("b", 3000, "almost", "troop", "y")])
    assert not compatible([_fig("a", 12, None, "death", "x"), _fig("b", 30, None, "death", "y")])
    assert compatible([_fig("a", 3000, None, "soldier", "x", approximate=True), _fig("b", 3000, None, "troop", "y")])


def test_align_figures_groups_across_articles() -> None:
    sents = {
        ("a", 0): Sentence("a", 0, 0, 40, "12 people died in the flood on Monday."),
        ("b", 0): Sentence("b", 0, 0, 40, "30 people died in the flood on Monday."),
        ("c", 0): Sentence("c", 0, 0, 40, "The council approved 4 new bridges."),
    }
    figs = [
        _fig("a", 12, None, "people", "12 people"),
        _fig("b", 30, None, "people", "30 people"),
        _fig("c", 4, None, "bridge", "4 new bridges"),
    ]
    groups = align_figures(figs, sents, HashingEmbedder())
    deaths = next(g for g in groups if len(g["mentions"]) == 2)
    assert deaths["status"] == "conflict"
    assert any(g["status"] == "single-source" and g["what"] == "bridge" for g in groups)


def test_align_figures_an_article_restating_its_figure_keeps_both_in_one_group() -> None:
    # b restates its 3,000 as "thousands"; a's 5,200 already stationed must not pair with the restatement.
    sents = {
        ("a", 0): Sentence("a", 0, 0, 60, "About 3,000 soldiers will deploy to the region this week."),
        ("a", 1): Sentence("a", 1, 61, 120, "Some 5,200 soldiers are already stationed in the country."),
        ("b", 0): Sentence("b", 0, 0, 60, "Roughly 3000 soldiers will deploy to the region this week."),
        ("b", 1): Sentence("b", 1, 61, 120, "Thousands of soldiers will deploy to the region this week."),
    }
    figs = [
        _fig("a", 3000, "about", "soldier", "About 3,000 soldiers"),
        _fig("a", 5200, "some", "soldier", "Some 5,200 soldiers"),
        _fig("b", 3000, "roughly", "soldier", "Roughly 3000 soldiers"),
        _fig("b", 1000, None, "soldier", "Thousands of soldiers", approximate=True),
    ]
    figs[1] = dataclasses.replace(figs[1], sentence=1, start=61, end=61 + len(figs[1].text))
    figs[3] = dataclasses.replace(figs[3], sentence=1, start=61, end=61 + len(figs[3].text))
    groups = align_figures(figs, sents, HashingEmbedder())
    by_text = {m["text"]: g for g in groups for m in g["mentions"]}
    deploy = by_text["About 3,000 soldiers"]
    assert deploy["status"] == "agree"
    assert {m["text"] for m in deploy["mentions"]} == {
        "About 3,000 soldiers",
        "Roughly 3000 soldiers",
        "Thousands of soldiers",
    }
    assert by_text["Some 5,200 soldiers"]["status"] == "single-source"


def test_align_figures_two_figures_of_one_sentence_are_two_things() -> None:
    text = "Jo Reyes was suspended four games, and Sam Lee was suspended for the first four games of the season."
    sents = {("a", 0): Sentence("a", 0, 0, len(text), text)}
    figs = [
        _fig("a", 4, None, "game", "four games"),
        dataclasses.replace(_fig("a", 4, None, "game", "four games"), start=70),
    ]
    groups = align_figures(figs, sents, HashingEmbedder())
    assert [len(g["mentions"]) for g in groups] == [1, 1]


def test_align_figures_values_one_article_states_both_are_never_a_conflict() -> None:
    short, long_ = "He played 54 games with the Angels this season.", "He played 157 games with the Angels this season."
    both = "Totals: 54 games and 157 games."  # worded unlike the others, so it pairs with neither
    sents = {("a", 0): both, ("b", 0): long_, ("c", 0): short}
    sentences = {k: Sentence(k[0], k[1], 0, len(t), t) for k, t in sents.items()}

    def fig(article: str, value: float, at: int) -> Figure:
        text = f"{int(value)} games"
        return dataclasses.replace(_fig(article, value, None, "game", text), start=at, end=at + len(text))

    stated = [fig("a", 54, 8), fig("a", 157, 21)]
    reports = [fig("b", 157, 10), fig("c", 54, 10)]
    assert [g["status"] for g in align_figures(reports, sentences, HashingEmbedder())] == ["conflict"]
    groups = align_figures(stated + reports, sentences, HashingEmbedder())
    assert "conflict" not in {g["status"] for g in groups}  # a tells 54 and 157 games apart


def test_align_figures_a_total_and_a_plain_count_are_never_a_conflict() -> None:
    def statuses(long_: str) -> list[str]:
        short = "He played 54 games with the Angels this season."
        sentences = {("b", 0): Sentence("b", 0, 0, len(long_), long_), ("c", 0): Sentence("c", 0, 0, len(short), short)}
        figs = []
        for article, text, value in (("b", long_, 157), ("c", short, 54)):
            at = text.index(str(value))
            fig = _fig(article, value, None, "game", f"{value} games")
            figs.append(dataclasses.replace(fig, start=at, end=at + len(fig.text)))
        return [g["status"] for g in align_figures(figs, sentences, HashingEmbedder())]

    assert statuses("He played 157 games with the Angels this season.") == ["conflict"]
    assert "conflict" not in statuses("He played a combined 157 games with the Angels this season.")


class _NounEmbedder:
    """'run' and 'game' 0.39 apart (as MiniLM has them); every other text one vector (alike sentences)."""

    def embed(self, texts: list[str]) -> np.ndarray:
        vec = {"run": [1.0, 0.0, 0.0], "game": [0.39, (1 - 0.39**2) ** 0.5, 0.0]}
        return np.array([vec.get(t, [0.0, 0.0, 1.0]) for t in texts], dtype=np.float32)


def test_align_figures_unlike_nouns_pair_only_at_about_the_same_value() -> None:
    def grouped(run: float, hedge: str | None, game: float) -> bool:
        figs = [_fig("a", run, hedge, "run", f"{run} runs"), _fig("b", game, None, "game", f"{game} games")]
        return len(align_figures(figs, {}, _NounEmbedder())) == 1

    assert grouped(150, None, 150)  # "150 runs" / "150 games" in near-identical sentences: one thing told two ways
    assert not grouped(105, "at least", 157)  # compatible only through the hedge: two things


def test_align_figures_two_agreeing_links_do_not_chain_into_a_conflict() -> None:
    low, mid, high = (_fig(a, v, h, "game", "x") for a, v, h in (("a", 54, None), ("b", 60, "about"), ("c", 66, None)))
    assert compatible([low, mid]) and compatible([mid, high]) and not compatible([low, high])
    assert _chains_a_conflict([low, mid], [high])
    assert not _chains_a_conflict([low], [mid])


def test_align_quotes_merge_trimmed_variants_with_one_speaker() -> None:
    q1 = Quote(
        "a", "We took action last night to stop a war. We did not take action to start a war.", 0, 80, "Trump", 0
    )
    q2 = Quote("b", "We took action last night to stop a war", 0, 39, "Donald Trump", 0)
    q3 = Quote("b", "Something else entirely was said here", 50, 88, "Peter Mansoor", 1)
    merged = merge_quotes([q1, q2, q3], {("a", "Trump"): "Donald Trump", ("b", "Donald Trump"): "Donald Trump"})
    top = merged[0]
    assert top["speaker"] == "Donald Trump" and top["articles"] == ["a", "b"]
    assert top["variants"] == ["We took action last night to stop a war"]
    assert len(merged) == 2


def test_align_quotes_a_described_speaker_joins_the_named_one_but_two_names_stay_apart() -> None:
    words = "If there was any more I could give you, I would"
    named = Quote("a", words, 0, len(words), "Bodiford", 0)
    described = Quote("b", words, 0, len(words), "the judge", 0)
    (one,) = merge_quotes([described, named], {("a", "Bodiford"): "James Bodiford"})
    assert one["speaker"] == "James Bodiford" and one["articles"] == ["a", "b"]
    other = Quote("b", words, 0, len(words), "Jo Reyes", 0)
    assert len(merge_quotes([named, other], {("a", "Bodiford"): "James Bodiford"})) == 2


def test_align_facts_wire_copy_counts_once() -> None:
    text = "Nearly 1,200 residents were evacuated from Larkmoor after cracks appeared in the dam."
    other = "Nearly 1,200 people had to leave their Larkmoor homes when cracks appeared in the dam."
    texts = {"a": text, "b": text, "c": other}  # b republishes a; c reports it in its own words
    arts = [Article(id=i, title="", text=t) for i, t in texts.items()]
    ans = [ArticleAnalysis(i, sentences=[Sentence(i, 0, 0, len(t), t)]) for i, t in texts.items()]
    aligner = SimilarityAligner(HashingEmbedder(), threshold=0.5)
    facts = aligner.align(arts, ans, {"b": "a"})["facts"]
    assert facts[0]["status"] == "corroborated" and facts[0]["sources"] == 2 and facts[0]["wire_copy"]
    only_copy = aligner.align(arts[:2], ans[:2], {"b": "a"})["facts"]
    assert only_copy[0]["status"] == "single-source" and only_copy[0]["wire_copy"]
    assert root_of("c", {"c": "b", "b": "a"}) == "a"


def test_align_facts_sentences_carrying_one_conflict_are_one_conflicting_fact() -> None:
    a_text = "Two people were treated for minor injuries, the county said."
    b_text = "Four were taken to hospital, according to a paramedic at the scene."
    sents = [Sentence("a", 0, 0, len(a_text), a_text), Sentence("b", 0, 0, len(b_text), b_text)]
    ans = [
        ArticleAnalysis("a", sentences=sents[:1], figures=[_fig("a", 2, None, "people", "Two people")]),
        ArticleAnalysis("b", sentences=sents[1:], figures=[_fig("b", 4, None, "people", "Four")]),
    ]
    vecs = np.eye(2, dtype=np.float32)  # worded too differently for the sentence similarity alone
    conflict = {"status": "conflict", "mentions": [{"article": "a", "start": 0}, {"article": "b", "start": 0}]}
    aligner = SimilarityAligner(HashingEmbedder())
    (fact,) = aligner.facts(sents, vecs, ans, [conflict], EntityIndex([]), {"a": "a", "b": "b"})
    assert fact["status"] == "conflicting" and {e["article"] for e in fact["evidence"]} == {"a", "b"}
    agree = {**conflict, "status": "agree"}
    apart = aligner.facts(sents, vecs, ans, [agree], EntityIndex([]), {"a": "a", "b": "b"})
    assert [f["status"] for f in apart] == ["single-source", "single-source"]


def test_align_a_question_is_neither_a_fact_nor_support() -> None:
    told = "The mayor ordered the evacuation of Larkmoor on Tuesday."

    def align(first: str) -> dict:
        arts = [Article(id="a", title="", text=first), Article(id="b", title="", text=told)]
        ans = [ArticleAnalysis(a.id, sentences=[Sentence(a.id, 0, 0, len(a.text), a.text)]) for a in arts]
        return SimilarityAligner(HashingEmbedder()).align(arts, ans, {})

    asked = align(told.replace(".", "?"))  # the same words, asked
    assert [(f["text"], f["status"]) for f in asked["facts"]] == [(told, "single-source")]
    assert {s["article"]: s["citations"] for s in asked["sentences"]}["b"] == ["b"]
    stated = align(told)  # (the same words in both: one fact, a wire copy of one source)
    assert [len(f["evidence"]) for f in stated["facts"]] == [2]
    assert {s["article"]: s["citations"] for s in stated["sentences"]}["b"] == ["a", "b"]


def test_align_facts_an_article_saying_it_twice_keeps_both_sentences_as_evidence() -> None:
    texts = {
        ("a", 0): "The mayor said the town acted to stop a flood, not to start a panic.",
        ("b", 0): "In a speech the mayor said the town acted to stop a flood, not a panic.",
        ("b", 1): '"We acted last night to stop a flood, we did not act to start a panic."',
    }
    sents = [Sentence(a, i, 0, len(t), t) for (a, i), t in texts.items()]
    ans = [ArticleAnalysis("a", sentences=sents[:1]), ArticleAnalysis("b", sentences=sents[1:])]

    def facts(b_twice: float) -> list[list[tuple[str, int]]]:
        gram = np.array([[1.0, 0.9, 0.75], [0.9, 1.0, b_twice], [0.75, b_twice, 1.0]])
        vecs = np.linalg.cholesky(gram).astype(np.float32)  # rows whose dot products are ``gram``
        out = SimilarityAligner(HashingEmbedder()).facts(sents, vecs, ans, [], EntityIndex([]), {})
        return [sorted((e["article"], e["sentence"]) for e in f["evidence"]) for f in out]

    assert facts(0.75) == [[("a", 0), ("b", 0), ("b", 1)]]
    # b's second sentence is close to a's but not a restatement of b's own: one sentence per article.
    assert sorted(facts(0.5)) == [[("a", 0), ("b", 0)], [("b", 1)]]


def test_align_credit_lines_are_not_facts_but_sentences_starting_with_by_are() -> None:
    credits = [
        "Video report by ITV Washington Correspondent Robert Moore",
        "By Jo Reyes and Sam Lee",
        "By JO REYES, Associated Press",
        "Reporting by Jo Reyes; editing by Sam Lee",
        "Additional reporting by Sam Lee in London",
        "Courtesy of The Woodburn Independent Scott Russell",
    ]
    news = [
        "By Friday, the water had receded from the lower town.",
        "Written by hand, the note was found on the dam wall.",
        "A report by the council says five homes were lost.",
        "Report by Amnesty International, released today, says five died.",
    ]
    assert [is_credit(t) for t in credits] == [True] * len(credits)
    assert [is_credit(t) for t in news] == [False] * len(news)
    assert not states_news("Here is what the council said about the dam on Tuesday:")  # a lead-in
    assert states_news(news[0])
    texts = [credits[0], news[0]]
    arts = [Article(id="a", title="", text=" ".join(texts))]
    sents = [Sentence("a", i, 0, len(t), t) for i, t in enumerate(texts)]
    facts = SimilarityAligner(HashingEmbedder()).align(arts, [ArticleAnalysis("a", sentences=sents)], {})["facts"]
    assert [f["text"] for f in facts] == [news[0]]


def _grouped(texts: list[str], gram: list[list[float]], **settings: Any) -> list[list[str]]:
    """The facts (as article lists) of one sentence per article ("a", "b", …) whose embeddings
    have the cosines ``gram``, aligned with ``settings``."""
    sents = [Sentence(a, 0, 0, len(t), t) for a, t in zip("abcdefgh", texts, strict=False)]
    ans = [ArticleAnalysis(s.article, sentences=[s]) for s in sents]
    vecs = np.linalg.cholesky(np.array(gram)).astype(np.float32)
    facts = SimilarityAligner(HashingEmbedder(), **settings).facts(sents, vecs, ans, [], EntityIndex([]), {})
    return sorted(sorted(e["article"] for e in f["evidence"]) for f in facts)


def test_align_facts_shared_rare_words_link_what_the_embedding_only_finds_related() -> None:
    texts = [
        "Iran has warned of harsh retaliation after the strike near the airport.",
        "The supreme leader warned that harsh retaliation is waiting.",
        "Schools in the capital stayed open on Monday morning.",
    ]
    gram = [[1.0, 0.6, 0.3], [0.6, 1.0, 0.3], [0.3, 0.3, 1.0]]  # the embedding: related, not the same
    assert _grouped(texts, gram, lexical_weight=0.6) == [["a", "b"], ["c"]]
    assert _grouped(texts, gram, lexical_weight=0.0) == [["a"], ["b"], ["c"]]


def test_align_facts_figures_the_figure_stage_kept_apart_keep_their_sentences_apart() -> None:
    texts = ["Almost 3,000 troops will be sent to the region.", "About 14,000 extra troops were sent to the region."]
    sents = [Sentence(a, 0, 0, len(t), t) for a, t in zip("ab", texts, strict=True)]
    ans = [
        ArticleAnalysis("a", sentences=sents[:1], figures=[_fig("a", 3000, "almost", "troop", "Almost 3,000 troops")]),
        ArticleAnalysis("b", sentences=sents[1:], figures=[_fig("b", 14000, "about", "troop", "About 14,000 extra")]),
    ]
    vecs = np.ones((2, 1), dtype=np.float32)  # the same words and topic: only the figures tell them apart
    apart = [
        {"what": "troop", "status": "single-source", "mentions": [{"article": "a", "start": 0}]},
        {"what": "troop", "status": "single-source", "mentions": [{"article": "b", "start": 0}]},
    ]
    aligner = SimilarityAligner(HashingEmbedder())
    facts = aligner.facts(sents, vecs, ans, apart, EntityIndex([]), {"a": "a", "b": "b"})
    assert [f["status"] for f in facts] == ["single-source", "single-source"]
    together = [{"what": "troop", "status": "agree", "mentions": apart[0]["mentions"] + apart[1]["mentions"]}]
    (fact,) = aligner.facts(sents, vecs, ans, together, EntityIndex([]), {"a": "a", "b": "b"})
    assert fact["status"] == "corroborated"


def test_align_facts_two_outlets_quoting_one_person_word_for_word_are_two_sources() -> None:
    quote = '"We will find whoever did this and we will bring them to justice," Sheriff Jo Reyes said.'
    texts = {"a": quote, "b": quote.replace("said", "told reporters")}
    arts = [Article(id=a, title="", text=t) for a, t in texts.items()]
    ans = [ArticleAnalysis(a, sentences=[Sentence(a, 0, 0, len(t), t)]) for a, t in texts.items()]
    (fact,) = SimilarityAligner(HashingEmbedder(), threshold=0.3).align(arts, ans, {})["facts"]
    assert fact["status"] == "corroborated" and fact["sources"] == 2 and not fact["wire_copy"]


def test_align_facts_the_same_wire_sentence_in_two_outlets_is_one_source() -> None:
    wire = "Engineers from the Fenwick Water Authority were sent to inspect the dam on Tuesday."
    edited = "Engineers from the Fenwick Water Authority were sent to inspect the dam Tuesday."
    own = "The water authority dispatched its engineers to look over the dam on Tuesday."
    texts = {"a": wire, "b": edited, "c": own}
    arts = [Article(id=a, title="", text=t) for a, t in texts.items()]
    ans = [ArticleAnalysis(a, sentences=[Sentence(a, 0, 0, len(t), t)]) for a, t in texts.items()]
    aligner = SimilarityAligner(HashingEmbedder(), threshold=0.3)  # the hashing embedder's cosines are low
    (copied,) = [f for f in aligner.align(arts[:2], ans[:2], {})["facts"] if len(f["evidence"]) == 2]
    assert copied["status"] == "single-source" and copied["sources"] == 1 and copied["wire_copy"]
    facts = aligner.align(arts, ans, {})["facts"]
    (fact,) = [f for f in facts if len(f["evidence"]) == 3]
    assert fact["status"] == "corroborated" and fact["sources"] == 2 and fact["wire_copy"]


def test_align_filing_stamps_are_not_facts() -> None:
    stamps = [
        "Friday, Sep 10, 2010 | Updated 8:52 PM EDT",
        "9 / 10 / 2010 @ 1: 19PM",
        "Dec. 24 4:33 AM EST",
        "09 / 10 / 10 08:23 PM ET",
    ]
    news = ["The plant closed on Sep 10, 2010.", "Police said 12 people died on Friday.", "May 5 2010 - Police came"]
    assert [is_date_line(t) for t in stamps] == [True] * len(stamps)
    assert [is_date_line(t) for t in news] == [False] * len(news)
    assert not states_news(stamps[0]) and states_news(news[1])


def test_align_facts_two_claims_do_not_chain_through_one_sentence_alike_to_both() -> None:
    texts = [
        "The striker scored twice in the first half at the stadium.",
        "Rain delayed kickoff by an hour before the striker scored.",
        "The club confirmed the coach will leave next season.",
    ]
    gram = [[1.0, 0.78, 0.3], [0.78, 1.0, 0.77], [0.3, 0.77, 1.0]]  # b is alike to a and to c
    assert _grouped(texts, gram, lexical_weight=0.0, group_floor=None) == [["a", "b", "c"]]  # single link
    assert _grouped(texts, gram, lexical_weight=0.0, group_floor=0.6) == [["a", "b"], ["c"]]  # (0.77 + 0.3) / 2 < 0.6


def test_align_figures_two_peoples_numbers_are_two_things() -> None:
    sents = {
        ("a", 0): Sentence("a", 0, 0, 40, "Ames had two touchdowns in the game."),
        ("b", 0): Sentence("b", 0, 0, 40, "Birch had two touchdowns in the game."),
    }
    figs = [
        dataclasses.replace(_fig(k[0], 2, None, "touchdown", "two touchdowns"), start=s.text.index("two"))
        for k, s in sents.items()
    ]
    figs = [dataclasses.replace(f, end=f.start + len(f.text)) for f in figs]
    assert len(align_figures(figs, sents, HashingEmbedder())) == 1
    people = {("a", 0): {"Jo Ames"}, ("b", 0): {"Lee Birch"}}
    assert len(align_figures(figs, sents, HashingEmbedder(), people=people)) == 2


def test_align_sentence_people_skips_cited_sources_and_follows_he() -> None:
    text = "Lee Birch scored twice. He has nine touchdowns, coach Jo Ames said. The crowd left."
    ents = [
        EntityMention("a", "Lee Birch", "PERSON", 0, 9, 0),
        EntityMention("a", "Jo Ames", "PERSON", text.index("Jo Ames"), text.index("Jo Ames") + 7, 1),
    ]
    lines = ["Lee Birch scored twice.", "He has …", "The crowd left."]
    sents = [Sentence("a", i, 0, 0, t) for i, t in enumerate(lines)]
    people = sentence_people([ArticleAnalysis("a", sentences=sents, entities=ents)], {"a": text}, EntityIndex(ents))
    assert people == {("a", 0): {"Lee Birch"}, ("a", 1): {"Lee Birch"}}  # Ames is cited; "The crowd" has no "he"
