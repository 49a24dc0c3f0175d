"""Direct quotes and speakers (newsweave/quotes.py) on small hand-made passages."""

from __future__ import annotations

import pytest

from newsweave.extract import SpacyExtractor
from newsweave.models import Article
from newsweave.quotes import _AFTER_SAID_X, _AFTER_X_SAID

pytestmark = pytest.mark.slow  # loads the spaCy model


def _analyse(text: str):  # type: ignore[no-untyped-def]
    return SpacyExtractor().extract(Article(id="a", title="", text=text))


def _speakers(text: str) -> dict[str, str | None]:
    quotes = _analyse(text).quotes
    for q in quotes:
        assert text[q.start : q.end] == q.text
    return {q.text: q.speaker for q in quotes}


def test_quotes_titles_of_works_are_not_quotes_but_shouting_is() -> None:
    text = (
        'Mira Hollis starred in "The Lantern Keeper" and spoke on "Morning Report Weekly." '
        'Her rival posted "STOP THE STEAL NOW" and said the town "will not forget this."'
    )
    found = _speakers(text)
    assert "The Lantern Keeper" not in found and "Morning Report Weekly." not in found
    assert "STOP THE STEAL NOW" in found and "will not forget this." in found


def test_quotes_quote_runs_over_lines_until_its_closing_mark() -> None:
    # One sentence a line (ECB+): the quote is one quote, and the attribution after it counts.
    text = (
        "The festival named its host on Friday.\n"
        '"I am thrilled to be back.\n'
        'They say the second time is easier, " Dara Quell said in a statement.\n'
        "Tickets go on sale next week."
    )
    quotes = _analyse(text).quotes
    assert len(quotes) == 1
    assert quotes[0].text.startswith("I am thrilled") and quotes[0].text.endswith("is easier")
    assert quotes[0].speaker == "Dara Quell"


def test_quotes_quote_cut_off_at_the_end_of_the_article_is_kept() -> None:
    # Scraped articles are often cut off inside a closing quote.
    text = 'Governor Tomas Arveld said help was coming. "We will rebuild every barn that was lost'
    assert list(_speakers(text)) == ["We will rebuild every barn that was lost"]
    # A mark left open inside a sentence is still no quote.
    assert _analyse('The word "bad for the town was used by many.\nThe vote is on Monday.').quotes == []


def test_quotes_speaker_after_the_quote_behind_appositions_roles_and_articles() -> None:
    text = (
        '"The levy is a disgrace," Sen. Ada Korhonen, D-Maine, said on Sunday. '
        '"We are reviewing every permit," said agency spokeswoman Lina Ostrova. '
        '"The water is safe to drink," the Water Board said in a statement. '
        '"Nobody here trusts the numbers," said one veteran farm lobbyist. Other farmers disagreed.'
    )
    found = _speakers(text)
    assert found["The levy is a disgrace"] == "Ada Korhonen"
    assert found["We are reviewing every permit"] == "Lina Ostrova"
    assert found["The water is safe to drink"] in {"the Water Board", "Water Board"}
    assert found["Nobody here trusts the numbers"] == "one veteran farm lobbyist"


def test_quotes_name_after_a_quote_keeps_title_abbreviations_and_stops_at_a_sentence_end() -> None:
    m = _AFTER_X_SAID.match(", Rear Adm. Tomas Berg said on Monday")
    assert m is not None and m.group(1) == "Rear Adm. Tomas Berg"
    m = _AFTER_SAID_X.match(", said one centrist Democrat. Moderate voters left.")
    assert m is None or "Moderate" not in m.group(1)


def test_quotes_he_said_takes_the_person_named_as_subject_since_the_last_quote() -> None:
    text = (
        '"The dam is safe," said engineer Pavel Odum.\n'
        "Farmer Rosa Linde, who lost a field to the flood, said the repairs came too late.\n"
        '"We waited for years," she said.\n'
        "Linde bakes bread for her neighbour Greta Sand.\n"
        '"When Hanna Berglund fixed the pump, I learned a lot," she said.'
    )
    found = _speakers(text)
    assert "Linde" in (found["We waited for years"] or "")
    # Greta Sand is named only as an object, Hanna Berglund only inside the quote.
    assert "Linde" in (found["When Hanna Berglund fixed the pump, I learned a lot"] or "")


def test_quotes_speaker_after_the_quote_is_read_from_the_parse_not_a_capitalised_run() -> None:
    text = (
        "The rule alarmed tenants who vowed to fight it. "
        '"The board has decided the rule stands," two city lawyers wrote to the court.'
    )
    assert _speakers(text)["The board has decided the rule stands"] == "two city lawyers"


def test_quotes_a_relative_pronoun_is_no_speaker() -> None:
    text = 'The rule alarmed tenants who vowed to fight it. "The board has decided that the rule stands."'
    assert _speakers(text)["The board has decided that the rule stands."] != "who"


def test_quotes_verb_after_a_partial_quote_whose_subject_came_before_names_no_speaker() -> None:
    text = 'The Democrat and self-described "extreme moderate" announced the news alongside Jon Harrow.'
    assert _speakers(text)["extreme moderate"] != "Jon Harrow"


def test_quotes_reporting_verb_of_a_new_sentence_after_a_closed_quote_is_not_attribution() -> None:
    text = (
        'The Democrat, who served two terms, promised to "mend what was broken." '
        "Former mayor Ilan Drexler is adding his name to the race."
    )
    assert _speakers(text)["mend what was broken."] != "Ilan Drexler"


def test_quotes_speaker_is_the_verbs_subject_not_the_first_name_before_it() -> None:
    speakers = _speakers('"The talks went well," Lena Marsh aide Tomas Vidal said.')
    assert speakers["The talks went well"] == "Tomas Vidal"


def test_quotes_a_word_inside_the_quote_is_not_a_subject_that_came_before() -> None:
    speakers = _speakers('"Game over," tweeted President Lena Marsh.')
    assert speakers["Game over"] == "Lena Marsh"


def test_quotes_cut_off_final_quote_is_kept_with_a_trailing_line_break() -> None:
    text = 'Intro line here.\nHe was clear. "This is cut off in the middle of'
    assert len(_analyse(text).quotes) == len(_analyse(text + "\n\n").quotes) == 1


def test_quotes_title_case_speech_with_a_reporting_verb_is_a_quote() -> None:
    assert _speakers('"I Will Be Back Soon" said Tomas Vidal.') == {"I Will Be Back Soon": "Tomas Vidal"}


def test_quotes_she_said_is_never_a_man_named_before() -> None:
    # Invented text: the agent speaks first; "she" is the model, whom spaCy may not tag at all.
    text = (
        'Her agent Mark Dellow said: "She was a remarkable woman."\n'
        "Torvane later said she was puzzled by her fame.\n"
        '"I have no idea why I am still known," she told a reporter in 2006.\n'
        'Mr. Osgrove, the photographer, recalled the shoots. "It was such fun," she said.'
    )
    quotes = _analyse(text).quotes
    speakers = {q.text[:12]: q.speaker for q in quotes}
    assert speakers["She was a re"] == "Mark Dellow"
    assert speakers["I have no id"] not in {"Mark Dellow", "Dellow"}
    assert speakers["It was such "] not in {"Mark Dellow", "Dellow", "Osgrove", "Mr. Osgrove"}


def test_quotes_census_first_names_say_which_pronoun_fits() -> None:
    from newsweave.models import EntityMention
    from newsweave.quotes import census_first_names, people_of, pronoun_fits

    names = census_first_names()
    assert names["mark"] == "m" and names["bettie"] == "f" and "kim" not in names  # Kim: both, too often
    text = "Mark Dellow met Ana Ruiz and Kim Ostrander. Later Ruiz spoke."
    mentions = [
        EntityMention("a", n, "PERSON" if n != "Ana Ruiz" else "ORG", text.index(n), text.index(n) + len(n), 0)
        for n in ("Mark Dellow", "Ana Ruiz", "Kim Ostrander")
    ]
    people = people_of(text, mentions)
    assert [(p.text, p.label) for p in people] == [
        ("Mark Dellow", "PERSON"),
        ("Ana Ruiz", "PERSON"),  # tagged ORG, but "Ana" is a first name
        ("Kim Ostrander", "PERSON"),
    ]
    fits = pronoun_fits(people, text)
    assert not fits["she"]("Dellow") and fits["he"]("Mark Dellow")
    assert fits["she"]("Ruiz") and not fits["he"]("Ana Ruiz")
    assert fits["she"]("Kim Ostrander") and fits["he"]("Kim Ostrander")  # "Kim": not known


def test_quotes_words_quoted_inside_another_sentence_are_not_the_previous_speakers() -> None:
    text = (
        'Fire chief Dana Kell described the depot as a "total loss".\n'
        'Police are treating the fire as "potentially suspicious".\n'
        "Kell spoke to reporters at noon.\n"
        '"We will rebuild," she said.'
    )
    speakers = _speakers(text)
    assert speakers["total loss"] == "Dana Kell"
    assert speakers["potentially suspicious"] != "Dana Kell"  # the police's words, not the chief's


def test_quotes_inverted_and_institutional_speakers_spacy_did_not_tag() -> None:
    text = (
        "The depot burned on Friday.\n"
        'A statement from Harrowfield said: "Damage to the building is extensive."\n'
        'One big difference between Ostrova and her neighbours, said Yeager: "She liked the sea."\n'
        '"I am ready to fight again," said the 36-year-old Klitschko.\n'
        'In a speech, the mayor said the council "acted to stop a flood."'
    )
    speakers = _speakers(text)
    assert speakers["Damage to the building is extensive."] == "Harrowfield"
    assert speakers["She liked the sea."] == "Yeager"
    assert speakers["I am ready to fight again"] == "Klitschko"
    assert speakers["acted to stop a flood."] != "council"  # the object clause's subject is no speaker


def test_quotes_a_partial_quote_continues_the_previous_speaker_unless_its_sentence_ascribes_it() -> None:
    text = (
        '"There is nothing heroic about it," said commentator Paul Brannock.\n'
        'Dorn "disgraced himself and his office."\n'
        'Press secretary Ron Zeller dismissed the incident as "a third-rate burglary."'
    )
    speakers = _speakers(text)
    assert speakers["disgraced himself and his office."] == "Paul Brannock"  # Brannock goes on
    assert speakers["a third-rate burglary."] != "Paul Brannock"  # Zeller's words, not Brannock's


def test_quotes_a_transcript_turn_names_its_speaker() -> None:
    text = 'The tapes caught the talk.\nVane asks: "Is it somebody from the agency?"\nHalden: "Yes, sir. Mark Fell."'
    assert _speakers(text)["Yes, sir. Mark Fell."] == "Halden"
