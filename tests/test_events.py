"""The event level of story clustering: events told apart within a theme, stable ids, moves, state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsweave.engine import Newsweave
from newsweave.errors import ConfigError
from newsweave.evaluate import place_stream
from newsweave.events import EventClusterer, EventParams, carry_ids, event_tokens, partition
from newsweave.models import Article, DuplicateInfo
from newsweave.registry import build_placement

# Two events on one theme: a pedestrian killed by a hit-and-run driver outside a store,
# in two cities, years apart. They share the theme's words; names, places and figures differ.
BLOOMINGTON = [
    "A woman aged 66 was killed by a hit-and-run driver outside the Walden store in Bloomington. "
    "Police arrested Anthony Marsh of Bloomington. Officer Karen Blum said alcohol was a factor.",
    "Anthony Marsh was charged with murder after the hit-and-run outside the Walden store in Bloomington "
    "killed a woman aged 66, Officer Karen Blum said. Marsh had been drinking, police said.",
    "Police in Bloomington identified the woman, 66, killed by a hit-and-run driver at the Walden store. "
    "Anthony Marsh is in custody, Karen Blum said.",
    "The driver in the deadly hit-and-run at the Walden store, Anthony Marsh, appeared in court in "
    "Bloomington. The woman was 66. Prosecutor Karen Blum said charges were filed.",
]
QUEENS = [
    "A grandmother aged 59 was killed by a hit-and-run driver in Queens on her way to the Ridgewood temple. "
    "Police charged Victor Osei. Detective Lena Park said he was drunk.",
    "Victor Osei was charged with manslaughter after the hit-and-run in Queens killed a woman aged 59 near "
    "the Ridgewood temple, Detective Lena Park said. Police said he fled.",
    "Police in Queens named the woman, 59, killed by a hit-and-run driver near the Ridgewood temple. "
    "Victor Osei is in custody, Lena Park said.",
    "The driver in the deadly hit-and-run near the Ridgewood temple in Queens, Victor Osei, appeared in court. "
    "The woman was 59. Detective Lena Park said charges were filed.",
]


def article(aid: str, text: str, published: str | None = None) -> Article:
    return Article(id=aid, title="", text=text, published=published)


def interleaved() -> list[Article]:
    out = []
    for i, (b, q) in enumerate(zip(BLOOMINGTON, QUEENS, strict=True)):
        out += [article(f"b{i}", b), article(f"q{i}", q)]
    return out


def test_events_partition_tells_apart_two_events_on_one_theme() -> None:
    arts = interleaved()
    labels = partition([event_tokens(a) for a in arts], EventParams())
    by_id = dict(zip((a.id for a in arts), labels, strict=True))
    assert len({by_id[f"b{i}"] for i in range(4)}) == 1
    assert len({by_id[f"q{i}"] for i in range(4)}) == 1
    assert by_id["b0"] != by_id["q0"]


def test_events_stream_ends_with_one_story_per_event() -> None:
    final = place_stream(interleaved(), build_placement())
    assert len({final[f"b{i}"] for i in range(4)}) == 1
    assert len({final[f"q{i}"] for i in range(4)}) == 1
    assert final["b0"] != final["q0"]


def test_events_small_theme_is_one_event_until_words_can_be_weighed() -> None:
    arts = interleaved()[:2]
    assert partition([event_tokens(a) for a in arts], EventParams()) == [0, 0]


def test_events_same_theme_years_apart_is_another_story() -> None:
    """Undated reports: the years they mention date them (the theme is the same, the event is not)."""
    first = [article(f"old{i}", f"In 2008 {text}") for i, text in enumerate(BLOOMINGTON[:2])]
    later = [article(f"new{i}", f"In 2013 {text} It was 2013.") for i, text in enumerate(BLOOMINGTON[2:])]
    final = place_stream([first[0], later[0], first[1], later[1]], build_placement())
    assert final["old0"] == final["old1"]
    assert final["new0"] == final["new1"]
    assert final["old0"] != final["new0"]


def test_events_carry_ids_keeps_the_majority_id_and_names_new_groups() -> None:
    named, unnamed = carry_ids(
        ["a", "b", "c", "d", "e"], [0, 0, 1, 1, 1], {"a": "s1", "b": "s1", "c": "s1", "d": "s2", "e": "s2"}
    )
    assert named == {0: "s1", 1: "s2"}
    assert unnamed == []
    named, unnamed = carry_ids(["a", "b", "c"], [0, 1, 1], {"a": "s1", "b": "s1"})
    assert named == {0: "s1"}  # a tie goes to the group that starts first
    assert unnamed == [1]


def test_events_moves_and_retirements_are_reported_and_consistent() -> None:
    """Whatever the re-partitions did along the way, following the reports gives the clusterer's own view."""
    c = EventClusterer()
    story_of: dict[str, str] = {}
    alias: dict[str, str] = {}
    for a in interleaved():
        placed = c.add(a)
        for aid, to in placed.moved.items():
            assert aid in story_of and story_of[aid] != to
        story_of.update(placed.moved)
        alias.update(placed.merges())
        story_of[a.id] = placed.story

    def final(s: str) -> str:
        while s in alias:
            s = alias[s]
        return s

    for aid, sid in story_of.items():
        assert final(sid) == c.story_of(aid)


def test_events_copy_follows_its_original() -> None:
    c = EventClusterer()
    arts = interleaved()
    for a in arts:
        c.add(a)
    placed = c.add(article("copy", arts[0].text), DuplicateInfo("copy", copy_of="b0", similarity=1.0))
    assert placed.copy_of == "b0"
    assert placed.story == c.story_of("b0")


def test_events_export_restore_round_trips_through_json() -> None:
    arts = interleaved()
    a, b = EventClusterer(), EventClusterer()
    for x in arts[:5]:
        a.add(x)
    b.restore(json.loads(json.dumps(a.export())))
    for x in arts[5:]:
        pa, pb = a.add(x), b.add(x)
        assert (pa.story, pa.moved, pa.retired) == (pb.story, pb.moved, pb.retired)
    assert a.export() == b.export()


def test_events_restore_ignores_other_state_kinds() -> None:
    c = EventClusterer()
    c.restore({"kind": "stream-v1"})
    assert c.add(article("x", QUEENS[0])).story


def test_events_params_reject_bad_values() -> None:
    with pytest.raises(ConfigError):
        EventParams(threshold=0.0)
    with pytest.raises(ConfigError):
        EventParams(window=1)


def test_events_store_follows_moves_and_stays_sound(tmp_path: Path) -> None:
    """Ingested one at a time, the store's stories match the clusterer's and the integrity check passes."""
    with Newsweave(str(tmp_path / "n.db"), pipeline=build_placement()) as nw:
        for a in interleaved():
            nw.ingest_items([a], analyze=False, batch_size=1)
        assert nw.store.check() == []
        members = {r["id"]: sorted(a.id for a, _, _ in nw.store.story_articles(r["id"])) for r in nw.stories()}
        clusterer = nw.pipeline.clusterer
        assert isinstance(clusterer, EventClusterer)
        for sid, ids in members.items():
            assert all(clusterer.story_of(aid) == sid for aid in ids)
    assert sorted(members.values()) == [["b0", "b1", "b2", "b3"], ["q0", "q1", "q2", "q3"]]
