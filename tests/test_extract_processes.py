"""The extract stage parsing in several processes: the same analyses as in one, and only when a core is spare."""

from __future__ import annotations

import pytest

import newsweave.extract as extract
from newsweave.extract import SpacyExtractor
from newsweave.models import Article


@pytest.mark.parametrize(
    ("cpus", "load", "articles", "expected"),
    [(2, 0.3, 50, 2), (2, 1.5, 50, 1), (1, 0.0, 50, 1), (16, 9.0, 50, 2), (2, 0.0, 3, 1)],
)
def test_extract_processes_only_with_a_spare_core_and_many_articles(
    monkeypatch: pytest.MonkeyPatch, cpus: int, load: float, articles: int, expected: int
) -> None:
    monkeypatch.setattr(extract, "usable_cpus", lambda: cpus)
    monkeypatch.setattr(extract.os, "getloadavg", lambda: (load, load, load))
    chosen: list[int] = []

    def fake_parse(texts: object, batch_size: int, processes: int) -> list[None]:
        chosen.append(processes)
        return [None] * articles

    monkeypatch.setattr(extract, "parse_many", fake_parse)
    monkeypatch.setattr(extract, "analyse_doc", lambda a, doc: None)
    SpacyExtractor().extract_many([Article(id=str(i), title="", text="x") for i in range(articles)])
    assert chosen == [expected]


def test_extract_processes_given_explicitly_win_over_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract.os, "getloadavg", lambda: (50.0, 50.0, 50.0))
    assert SpacyExtractor(processes=2).processes_for(50) == 2


@pytest.mark.slow
def test_extract_in_two_processes_gives_the_same_analyses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "PROCESS_MIN_ARTICLES", 2)
    texts = [
        'LARKMOOR (KXNW) - The mayor said on Tuesday that 3,000 homes lost power. "We are working on it," she said.',
        "Officials in Larkmoor confirmed the outage. About 3,000 homes were affected, Mayor Ana Ruiz told reporters.",
        "Power was restored to most of the 3,000 homes by Wednesday, the utility company Northgrid said.",
        "A spokesman for Northgrid blamed the storm. Crews from Ohio and Indiana helped repair the lines.",
    ]
    articles = [Article(id=f"a{i}", title="", text=t, published="2024-03-05") for i, t in enumerate(texts)]
    one = SpacyExtractor(processes=1).extract_many(articles)
    two = SpacyExtractor(processes=2).extract_many(articles)
    assert two == one
    assert all(an.sentences for an in two) and any(an.entities for an in two) and any(an.quotes for an in two)
