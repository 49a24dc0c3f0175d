"""Figure extraction rules (newsweave/figures.py) on small hand-made sentences, one test per rule."""

from __future__ import annotations

import pytest

from newsweave.extract import SpacyExtractor
from newsweave.models import Article

pytestmark = pytest.mark.slow  # loads the spaCy model


def _analyse(text: str):  # type: ignore[no-untyped-def]
    return SpacyExtractor().extract(Article(id="a", title="", text=text))


def _figs(text: str):  # type: ignore[no-untyped-def]
    return {f.text: f for f in _analyse(text).figures}


def test_figures_hedge_must_touch_the_number() -> None:
    figs = _figs("The dealer sold 900 cars this spring, more than the 700 cars it sold a year ago.")
    assert figs["700 cars"].hedge is None


def test_figures_scaled_grouped_or_hedged_numbers_need_no_noun() -> None:
    figs = _figs(
        "Weekly claims rose to 6.8 million. Payrolls grew by 943,000 for the month. The storm killed at least 12."
    )
    assert figs["6.8 million"].value == 6.8e6 and figs["6.8 million"].counted is None
    assert figs["943,000"].value == 943000
    assert figs["at least 12"].hedge == "at least"


def test_figures_determiner_after_number_starts_a_new_phrase() -> None:
    figs = _figs("Claims stood at 4.1 million the week before.")
    assert [(f.value, f.counted) for f in figs.values()] == [(pytest.approx(4.1e6), None)]


def test_figures_possessive_after_of_keeps_the_counted_noun() -> None:
    figs = _figs("The judge thanked two of her mentors at the ceremony.")
    assert figs["two of her mentors"].counted == "mentor"


def test_figures_slash_dates_are_not_figures() -> None:
    assert _analyse("The 9/11 attacks changed the skyline of the city.").figures == []


def test_figures_numbers_inside_names_are_not_figures() -> None:
    assert _analyse("Deputies stopped the van on the Interstate 94 highway near the border.").figures == []


def test_figures_glued_units_of_measure() -> None:
    figs = _figs("Officers chased the van for 40km at speeds up to 180km/h.")
    assert (figs["40km"].value, figs["40km"].counted, figs["40km"].unit) == (40, "kilometre", None)
    assert figs["up to 180km/h"].hedge == "up to" and figs["up to 180km/h"].counted == "km/h"


def test_figures_first_number_of_a_percent_range() -> None:
    figs = _figs("Eighty to 85 percent of the members voted yes.")
    assert figs["Eighty"].value == 80 and figs["Eighty"].unit == "percent"


def test_figures_worth_of_counts_what_follows() -> None:
    figs = _figs("The tanker carried $50 million worth of crude oil.")
    assert figs["$50 million worth of crude oil"].counted == "oil"


def test_figures_hyphenated_place_names_before_the_noun() -> None:
    figs = _figs("A survey of 400 likely Winston-Salem voters came out on Monday.")
    assert figs["400 likely Winston-Salem voters"].counted == "voter"


def test_figures_coded_modifiers_before_the_noun() -> None:
    figs = _figs("Lawmakers passed a $2.5 trillion COVID-19 relief bill.")
    assert figs["$2.5 trillion COVID-19 relief bill"].counted == "bill"


def test_figures_fractions_are_not_figures() -> None:
    assert _analyse("The index recovered about two-thirds of its losses.").figures == []


def test_figures_clock_times_missed_by_ner_are_not_figures() -> None:
    assert _analyse("At approximately 7 p. m. the woman was crossing the street.").figures == []


def test_figures_currency_spelled_out_after_the_number() -> None:
    figs = _figs("Nobody paid two million dollars for the painting.")
    assert figs["two million dollars"].unit == "USD" and figs["two million dollars"].value == 2e6


def test_figures_rates_between_number_and_noun_are_skipped() -> None:
    figs = _figs("The law extends a $300 a week supplement through the autumn.")
    assert figs["$300 a week supplement"].counted == "supplement"


def test_figures_and_joins_no_percent_range() -> None:
    figs = _figs("Of the voters aged 5 and 60% of the others, few came.")
    assert all(f.unit != "percent" for f in figs.values() if f.value == 5)


def test_figures_a_number_before_a_singular_noun_names_or_ranks_it() -> None:
    figs = _figs(
        "Reyes carried a .357 Magnum handgun. The Hawks are the five seed after a 747 jet flew 300 passengers. "
        "Officials said 600 U.S. servicemen and 40 staff were there, and a 22,000 crowd cheered."
    )
    counted = sorted(f.counted for f in figs.values())
    assert counted == ["crowd", "passenger", "servicemen", "staff"]  # no handgun, seed or jet
