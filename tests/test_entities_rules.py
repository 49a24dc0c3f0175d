"""Cross-article entity resolution on hand-made mentions (invented names): one rule a test."""

from __future__ import annotations

from typing import Any

from newsweave.entities import EntityIndex
from newsweave.models import EntityMention


def _ent(article: str, text: str, label: str = "PERSON", start: int = 0) -> EntityMention:
    return EntityMention(article, text, label, start, start + len(text), 0)


def _at(article: str, text: str, name: str, label: str = "PERSON", nth: int = 0) -> EntityMention:
    start = -1
    for _ in range(nth + 1):
        start = text.index(name, start + 1)
    return EntityMention(article, name, label, start, start + len(name), 0)


def _entities(mentions: list[EntityMention], texts: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return EntityIndex(mentions, texts=texts).entities()


def test_entities_punctuation_glued_to_a_span_does_not_split_the_name() -> None:
    ents = _entities(
        [
            _ent("a", "the Vellmar Prizes '", "ORG"),
            _ent("b", "the Vellmar Prizes", "ORG"),
            _ent("a", "Oren Falk - -"),
            _ent("b", "Oren Falk"),
        ]
    )
    assert sorted((e["name"], e["articles"]) for e in ents) == [
        ("Oren Falk", ["a", "b"]),
        ("Vellmar Prizes", ["a", "b"]),
    ]


def test_entities_a_title_word_before_an_institution_is_kept() -> None:
    ents = _entities(
        [
            _ent("a", "the Supreme Court", "ORG"),
            _ent("b", "Supreme Court", "ORG"),
            _ent("b", "Court", "ORG"),  # another court ("the Court of Appeal"): not the Supreme Court
            _ent("c", "Gen. Ada Mirel"),
            _ent("c", "Ada Mirel"),
        ]
    )
    by_name = {e["name"]: e for e in ents}
    assert by_name["Supreme Court"]["articles"] == ["a", "b"] and by_name["Supreme Court"]["mentions"] == 2
    assert by_name["Court"]["mentions"] == 1
    assert by_name["Ada Mirel"]["mentions"] == 2  # a person's title still comes off


def test_entities_an_abbreviation_inside_a_name_gives_no_initials() -> None:
    ents = _entities([_ent("a", "U.S. Senate", "ORG"), _ent("b", "U.S.", "GPE"), _ent("c", "the United States", "GPE")])
    by_name = {e["name"]: e for e in ents}
    assert by_name["U.S. Senate"]["articles"] == ["a"]
    assert by_name["United States"]["articles"] == ["b", "c"]


def test_entities_a_lone_surname_that_joined_a_person_counts_as_person() -> None:
    ents = _entities(
        [
            _ent("a", "Alvaro Quintero"),
            _ent("a", "Quintero", "GPE", 40),
            _ent("b", "Quintero", "ORG"),
            _ent("b", "Quintero", "GPE", 50),
        ]
    )
    assert [(e["name"], e["type"], e["mentions"]) for e in ents] == [("Alvaro Quintero", "PERSON", 4)]


def test_entities_one_word_written_alike_is_one_entity_whatever_its_label() -> None:
    ents = _entities([_ent("a", "Brannock", "PERSON"), _ent("b", "Brannock", "GPE"), _ent("c", "Brannock", "ORG")])
    assert [(e["name"], e["articles"]) for e in ents] == [("Brannock", ["a", "b", "c"])]


def test_entities_first_names_spelled_differently_in_one_article_are_two_people() -> None:
    ents = _entities(
        [
            _ent("a", "Daniel Okafor"),
            _ent("a", "Danielle Okafor", start=60),  # his daughter, same article
            _ent("b", "Mohammed Razavi"),
            _ent("c", "Mohamed Razavi"),  # one man, spelled two ways by two outlets
            _ent("c", "Mohamed Razavy", start=70),  # and a surname spelled two ways in one article
        ]
    )
    names = sorted((e["name"], e["mentions"]) for e in ents)
    assert ("Daniel Okafor", 1) in names and ("Danielle Okafor", 1) in names
    razavi = [e for e in ents if e["name"].startswith("Moham")]
    assert len(razavi) == 1 and razavi[0]["mentions"] == 3


def test_entities_a_name_split_at_a_hyphen_or_a_space_is_one() -> None:
    ents = _entities([_ent("a", "Park Min-jun"), _ent("b", "Park Min Jun")])
    assert len(ents) == 1 and ents[0]["articles"] == ["a", "b"]


def test_entities_a_middle_name_or_initial_left_out_is_the_same_person() -> None:
    ents = _entities(
        [
            _ent("a", "Tomas J. Varek"),
            _ent("b", "Tomas Varek"),
            _ent("b", "Varek", "ORG", 40),  # with the two full names as one person, the surname is his
        ]
    )
    assert [(e["name"], e["articles"], e["mentions"]) for e in ents] == [("Tomas J. Varek", ["a", "b"], 3)]
    # Two people with that first and last name: the short form joins neither.
    ents = _entities([_ent("a", "Tomas J. Varek"), _ent("b", "Tomas K. Varek"), _ent("c", "Tomas Varek")])
    assert len(ents) == 3


def test_entities_a_lone_first_name_after_the_full_name_is_that_person() -> None:
    texts = {
        "a": "Hana Sato won the vote. Later Hana thanked her staff, and Hana left.",
        "b": "Crowds cheered for Hana. Hana Sato then spoke.",  # "Hana" before the full name: unknown
        "c": "The Ledo prize went to a film. Their son, Ledo Brin, was born in May.",
    }
    mentions = [
        _at("a", texts["a"], "Hana Sato"),
        _at("a", texts["a"], "Hana", nth=1),
        _at("a", texts["a"], "Hana", nth=2),
        _at("b", texts["b"], "Hana"),
        _at("b", texts["b"], "Hana Sato"),
        _at("c", texts["c"], "Ledo"),
        _at("c", texts["c"], "Ledo Brin"),
    ]
    ents = {e["name"]: e for e in _entities(mentions, texts)}
    assert ents["Hana Sato"]["mentions"] == 4 and ents["Hana Sato"]["aliases"] == ["Hana"]
    assert ents["Hana"]["articles"] == ["b"] and ents["Hana"]["mentions"] == 1
    assert ents["Ledo"]["mentions"] == 1 and ents["Ledo Brin"]["mentions"] == 1
    # Another person has the word as a surname: the lone name is not the first name.
    texts = {"d": "Mara Ilic met Lena Mara. Later Mara left."}
    mentions = [
        _at("d", texts["d"], "Mara Ilic"),
        _at("d", texts["d"], "Lena Mara"),
        _at("d", texts["d"], "Mara", nth=2),
    ]
    assert {e["name"]: e["mentions"] for e in _entities(mentions, texts)}["Mara Ilic"] == 1


def test_entities_lookup_takes_the_form_written_not_a_relative_spelled_alike() -> None:
    text = "His daughter Charlene Dorsey runs the bakery Charlie Dorsey opened."
    index = EntityIndex([_at("a", text, "Charlene Dorsey"), _at("a", text, "Charlie Dorsey")], texts={"a": text})
    assert {e["name"] for e in index.entities()} == {"Charlene Dorsey", "Charlie Dorsey"}
    assert index.lookup("Charlene Dorsey") == "Charlene Dorsey"
    assert index.lookup("Charlie Dorsey") == "Charlie Dorsey"


def test_entities_a_look_alike_first_name_is_not_a_left_out_middle_name() -> None:
    for full, short in (("Eric Allen Kirkby", "Erica Kirkby"), ("Mario Lopez Garza", "Maria Garza")):
        ents = _entities([_ent("a", full), _ent("b", short, start=40)])
        assert len(ents) == 2, (full, short)


def test_entities_a_lone_first_name_needs_the_full_name_before_it_not_the_surname() -> None:
    text = "Dorsey spoke first. Then Hugh thanked everyone, and Hugh Dorsey left."
    mentions = [_at("a", text, "Dorsey"), _at("a", text, "Hugh"), _at("a", text, "Hugh Dorsey")]
    ents = {e["name"]: e for e in _entities(mentions, texts={"a": text})}
    assert "Hugh" in ents and ents["Hugh Dorsey"]["mentions"] == 2  # the full name and the lone surname


def test_entities_a_surname_that_is_a_title_word_is_no_role() -> None:
    text = "Yankees slugger Aaron Judge hit two home runs. Paul Farmer planted rye."
    index = EntityIndex([_at("a", text, "Aaron Judge"), _at("a", text, "Paul Farmer")], texts={"a": text})
    assert index.lookup("the judge") is None and index.lookup("a farmer") is None


def test_entities_a_short_name_one_letter_longer_is_someone_else() -> None:
    texts = {
        "a": "Actress Kira Bell joined the cast of the film.",
        "b": "Bella, the character, is a student. Bella moves to a small town.",
        "c": "General Qasem Suleimani died on Friday.",
        "d": "Qassem Suleimani had led the force.",
    }
    mentions = [
        _at("a", texts["a"], "Kira Bell"),
        _at("b", texts["b"], "Bella"),
        _at("b", texts["b"], "Bella", nth=1),
        _at("c", texts["c"], "Qasem Suleimani"),
        _at("d", texts["d"], "Qassem Suleimani"),
    ]
    ents = {e["name"]: e for e in _entities(mentions, texts)}
    assert ents["Kira Bell"]["aliases"] == [] and ents["Bella"]["mentions"] == 2
    assert len([n for n in ents if "Suleimani" in n]) == 1  # a spelling variant still joins


def test_entities_a_team_by_its_short_name_is_the_team() -> None:
    ents = _entities(
        [
            _ent("a", "the Harwick Orioles", "ORG"),
            _ent("b", "Orioles", "ORG"),
            _ent("a", "the White House", "ORG"),
            _ent("b", "House", "ORG"),  # the House of Representatives: not the White House
            _ent("c", "Vellmar Giants", "ORG"),
            _ent("c", "Dunmore Giants", "ORG"),
            _ent("c", "Giants", "ORG"),  # two teams end so: which one is not said
        ]
    )
    by_name = {e["name"]: e for e in ents}
    assert by_name["Harwick Orioles"]["articles"] == ["a", "b"] and by_name["Harwick Orioles"]["mentions"] == 2
    assert "Orioles" not in by_name
    assert by_name["House"]["articles"] == ["b"] and by_name["White House"]["mentions"] == 1
    assert by_name["Giants"]["mentions"] == 1


def test_entities_a_persons_name_spacy_tags_org_is_a_person_and_takes_her_surname() -> None:
    ents = _entities(
        [
            _ent("a", "Bettie Mae Page", "ORG"),
            _ent("b", "Betty Mae Page", "PERSON"),  # the first name spelled another way
            _ent("c", "Bettie Page", "ORG"),
            _ent("c", "Jack Page"),  # her father, named once
            *[_ent(x, "Bettie Page", "ORG") for x in "defgh"],
            *[_ent(x, "Page") for x in "cdefgh"],
            _ent("d", "Al Jazeera", "ORG"),  # a first name, but no surname: not a person
        ]
    )
    by_name = {e["name"]: e for e in ents}
    page = next(e for e in ents if "Page" in e["aliases"])
    assert page["type"] == "PERSON" and {"Bettie Page", "Bettie Mae Page"} <= {page["name"], *page["aliases"]}
    assert page["mentions"] == 14 and by_name["Jack Page"]["mentions"] == 1
    assert by_name["Al Jazeera"]["type"] == "ORG"


def test_entities_a_surname_two_people_share_stays_apart_unless_one_dominates() -> None:
    ents = _entities([_ent("a", "Jo Weitz"), _ent("b", "Ann Weitz"), _ent("c", "Weitz")])
    assert {e["name"] for e in ents} == {"Jo Weitz", "Ann Weitz", "Weitz"}
