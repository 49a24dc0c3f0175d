"""Streaming story clustering: placement, merges, closing, time, state, and the article features."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from newsweave import cluster as cluster_mod
from newsweave.cli import main
from newsweave.cluster import (
    ClusterParams,
    StorySummary,
    StreamClusterer,
    joins,
    merges,
    names_conflict,
    score_pair,
)
from newsweave.errors import ConfigError
from newsweave.features import DENSE_DIM, ArticleFeatures, event_time, featurize, first_text_date, names_in, project
from newsweave.models import Article, DuplicateInfo

# ----------------------------------------------------------------------------- hand-made features


def feats(
    terms: dict[int, float], year: int | None = None, day: int | None = None, published: bool = False
) -> ArticleFeatures:
    norm = sum(v * v for v in terms.values()) ** 0.5
    unit = {k: v / norm for k, v in terms.items()}
    return ArticleFeatures(terms=unit, year=year, day=day, published=published, dense=project(unit))


class Table:
    """A featurizer that looks features up by article id (the clustering logic, not the text, is tested)."""

    def __init__(self, table: dict[str, ArticleFeatures]) -> None:
        self.table = table

    def __call__(self, article: Article) -> ArticleFeatures:
        return self.table[article.id]


def art(aid: str, published: str | None = None) -> Article:
    return Article(id=aid, title=aid, text=aid, published=published)


def test_cluster_joins_similar_and_founds_new_story() -> None:
    table = {"a": feats({1: 1.0, 2: 0.2}), "b": feats({1: 1.0, 3: 0.3}), "c": feats({9: 1.0})}
    c = StreamClusterer(featurizer=Table(table))
    sa, sb, sc = (c.add(art(x)).story for x in "abc")
    assert sa == sb
    assert sc != sa
    assert c.open_stories == 2


def test_cluster_bridging_article_merges_stories_and_reports_it() -> None:
    table = {"a": feats({1: 1.0}), "b": feats({2: 1.0}), "c": feats({1: 1.0, 2: 1.0})}
    c = StreamClusterer(ClusterParams(fragment_size=0, merge_threshold=0.35), featurizer=Table(table))
    sa, sb = c.add(art("a")).story, c.add(art("b")).story
    assert sa != sb
    placed = c.add(art("c"))
    assert placed.merged in ([sb], [sa])
    assert {c.story_of("a"), c.story_of("b"), c.story_of("c")} == {placed.story}
    assert c.open_stories == 1


def test_cluster_copy_joins_original_without_moving_centroid() -> None:
    table = {"a": feats({1: 1.0}), "copy": feats({1: 0.2, 7: 1.0})}
    c = StreamClusterer(featurizer=Table(table))
    sa = c.add(art("a")).story
    before = dict(c._stories[sa].centroid)
    placed = c.add(art("copy"), DuplicateInfo("copy", copy_of="a", similarity=0.9))
    assert placed.story == sa and placed.copy_of == "a"
    assert c._stories[sa].centroid == before
    assert c._stories[sa].size == 1


def test_cluster_different_event_years_keep_same_theme_apart() -> None:
    shared = {1: 1.0, 2: 1.0, 3: 0.6}
    table = {"y2008": feats({**shared, 10: 0.9}, year=2008), "y2013": feats({**shared, 11: 0.9}, year=2013)}
    apart = StreamClusterer(ClusterParams(threshold=0.7), featurizer=Table(table))
    assert apart.add(art("y2008")).story != apart.add(art("y2013")).story
    undated = {k: feats(dict(v.terms)) for k, v in table.items()}
    together = StreamClusterer(ClusterParams(threshold=0.7), featurizer=Table(undated))
    assert together.add(art("y2008")).story == together.add(art("y2013")).story


def test_cluster_dates_outside_window_never_join() -> None:
    d0 = date(2020, 1, 3).toordinal()
    table = {"a": feats({1: 1.0}, day=d0), "b": feats({1: 1.0}, day=d0 + 400), "c": feats({1: 1.0}, day=d0 + 5)}
    c = StreamClusterer(ClusterParams(window_days=30), featurizer=Table(table))
    sa, sb, sc = (c.add(art(x)).story for x in "abc")
    assert sb != sa
    assert sc == sa


def test_cluster_closes_story_after_quiet_articles() -> None:
    table = {"a": feats({1: 1.0}), "x": feats({5: 1.0}), "y": feats({6: 1.0}), "a2": feats({1: 1.0})}
    c = StreamClusterer(ClusterParams(quiet_articles=1), featurizer=Table(table))
    sa = c.add(art("a")).story
    c.add(art("x"))
    c.add(art("y"))  # 'a' has been quiet for two arrivals: closed
    assert c.add(art("a2")).story != sa
    assert sa in c.export()["closed"]


def test_cluster_closes_story_after_quiet_days() -> None:
    d0 = date(2024, 5, 1).toordinal()
    table = {
        "a": feats({1: 1.0}, day=d0, published=True),
        "x": feats({5: 1.0}, day=d0 + 20, published=True),
        "a2": feats({1: 1.0}, day=d0 + 21, published=True),
    }
    c = StreamClusterer(ClusterParams(quiet_days=14, window_days=60), featurizer=Table(table))
    sa = c.add(art("a")).story
    c.add(art("x"))
    assert c.add(art("a2")).story != sa


def test_cluster_candidates_come_from_the_index_not_a_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    table = {f"s{i}": feats({i: 1.0, 1000 + i: 0.5}) for i in range(200)}
    table["probe"] = feats({7: 1.0})
    c = StreamClusterer(ClusterParams(candidates=5), featurizer=Table(table))
    for i in range(200):
        c.add(art(f"s{i}"))
    assert c.open_stories == 200
    calls: list[str] = []
    real = cluster_mod.score_pair

    def counting(f: ArticleFeatures, story: StorySummary, p: ClusterParams) -> float:
        calls.append(story.id)
        return real(f, story, p)

    monkeypatch.setattr(cluster_mod, "score_pair", counting)
    assert c.add(art("probe")).story == c.story_of("s7")
    assert 1 <= len(calls) <= 5


def test_story_index_moved_centroids_stay_findable_and_deleted_points_are_dropped() -> None:
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((300, DENSE_DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = cluster_mod._StoryIndex()
    for round_ in range(12):  # every story moves 12 times: 3,600 insertions into 1,024 slots
        for i in range(300):
            v = vectors[i] if round_ == 11 else np.roll(vectors[i], round_ + 1)
            index.put(f"s{i}", v)
    assert len(index) == 300
    for i in (0, 150, 299):
        assert index.nearest(vectors[i], 1)[0][0] == f"s{i}"  # found at its latest position
    index.remove("s0")
    assert all(sid != "s0" for sid, _ in index.nearest(vectors[0], 5))


def test_cluster_export_restore_round_trips_through_json() -> None:
    articles = [
        Article("a1", "Quake hits Ridgecrest", "A magnitude 6.4 earthquake struck Ridgecrest, California on Thursday."),
        Article("b1", "Senate passes budget", "The Senate passed the budget bill late on Friday after a long debate."),
        Article(
            "a2", "Ridgecrest quake damage", "The Ridgecrest earthquake damaged homes; the 6.4 quake hit Thursday."
        ),
        Article("b2", "Budget bill passes Senate", "After a long debate the Senate passed the budget bill on Friday."),
        Article(
            "a3", "Aftershocks rattle Ridgecrest", "Aftershocks rattled Ridgecrest after the 6.4 earthquake, USGS said."
        ),
    ]
    whole = StreamClusterer()
    expected = [whole.add(a).story for a in articles]
    first = StreamClusterer()
    got = [first.add(a).story for a in articles[:3]]
    state = json.loads(json.dumps(first.export()))
    resumed = StreamClusterer()
    resumed.restore(state)
    got += [resumed.add(a).story for a in articles[3:]]
    assert got == expected
    assert resumed.export() == whole.export()


def test_cluster_restore_ignores_other_state_kinds() -> None:
    c = StreamClusterer()
    c.restore({"kind": "centroid", "ids": []})
    assert c.open_stories == 0


def test_cluster_params_reject_bad_values() -> None:
    with pytest.raises(ConfigError, match="threshold"):
        ClusterParams(threshold=0.0)
    with pytest.raises(ConfigError, match="candidates"):
        ClusterParams(candidates=0)


def test_cluster_pure_decisions_are_deterministic() -> None:
    p = ClusterParams()
    assert joins([("s-b", 0.5), ("s-a", 0.5), ("s-c", 0.1)], p) == "s-a"
    assert joins([("s-a", p.threshold - 0.01)], p) is None
    assert names_conflict({"jamal williams": 5.0}, {"vincent jackson": 6.0}, 2)
    assert not names_conflict({"jamal williams": 5.0, "chargers": 3.0}, {"jamal williams": 1.0}, 2)
    assert not names_conflict({}, {"vincent jackson": 6.0}, 2)
    story = StorySummary("s-x")
    f = feats({1: 1.0}, year=2013)
    story.add(f, p)
    assert score_pair(f, story, p) == pytest.approx(1.0 + p.year_bonus)
    other = StorySummary("s-y")
    other.add(feats({1: 1.0}, year=2008), p)
    assert not merges(story, other, ClusterParams(fragment_size=0, merge_threshold=0.9))


# ----------------------------------------------------------------------------- features


def test_features_event_time_prefers_publication_then_dateline_then_years() -> None:
    pub = Article("p", "t", "Text from 2001 and 2001.", published="2013-08-02T10:00:00Z")
    assert event_time(pub) == (2013, date(2013, 8, 2).toordinal())
    dateline = Article("d", "t", "AUGUST 2, 2013 | 08: 06AM PT\nIn 2007 she hosted.")
    assert event_time(dateline) == (2013, date(2013, 8, 2).toordinal())
    assert first_text_date("Sun 15 Sep 2013\nTwo men died.") == date(2013, 9, 15).toordinal()
    years = Article("y", "t", "In 2008 and again in 2008, after 1999.")
    assert event_time(years) == (2008, None)
    tie = Article("t", "t", "Between 2008 and 2013.")
    assert event_time(tie) == (None, None)


def test_features_names_skip_sentence_starts_and_common_words() -> None:
    names = names_in("Police said Vincent Jackson was arrested. The Chargers play Sunday in San Diego.")
    assert "vincent jackson" in names and "san diego" in names
    assert "police" not in names and "the" not in names


def test_features_are_pure_and_round_trip() -> None:
    a = Article(
        "x",
        "Ellen DeGeneres to host Oscars",
        "AUGUST 2, 2013\nThe Academy picked Ellen DeGeneres to host the Oscars again.",
    )
    f1, f2 = featurize(a, names_weight=0.6, text_dates=True), featurize(a, names_weight=0.6, text_dates=True)
    assert f1.terms == f2.terms and f1.names == f2.names
    assert "ellen degeneres" in f1.names
    back = ArticleFeatures.from_dict(json.loads(json.dumps(f1.to_dict())))
    assert back.year == 2013 and back.names == f1.names
    assert featurize(a).year is None  # text dates are opt-in
    dated = featurize(Article("y", "t", "A story.", published="2013-08-02"))
    assert dated.published and dated.day == date(2013, 8, 2).toordinal() and dated.year is None
    assert back.terms.keys() == f1.terms.keys()
    assert float(back.dense @ f1.dense) == pytest.approx(1.0, abs=1e-4)


# ----------------------------------------------------------------------------- the commands


def test_cluster_cli_eval_and_cluster_on_labelled_jsonl(tmp_path: Path) -> None:
    rows = [
        ("q1", "quake", "Quake hits Ridgecrest", "A magnitude 6.4 earthquake struck Ridgecrest in California."),
        ("b1", "budget", "Senate passes budget", "The Senate passed the budget bill late on Friday after debate."),
        ("q2", "quake", "Ridgecrest quake", "The 6.4 Ridgecrest earthquake damaged homes in California."),
        ("b2", "budget", "Budget bill passes", "After a long debate the Senate passed the budget bill on Friday."),
    ]
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "story": s, "title": t, "text": x}) for i, s, t, x in rows) + "\n")
    runner = CliRunner()
    out = runner.invoke(main, ["eval", "clustering", str(path), "--json"])
    assert out.exit_code == 0, out.output
    scores = json.loads(out.stdout)
    assert scores["articles"] == 4 and scores["bcubed"]["f1"] == 1.0
    out = runner.invoke(main, ["cluster", str(path), "--format", "jsonl"])
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    assert [r["id"] for r in lines] == ["q1", "b1", "q2", "b2"]
    story = {r["id"]: r["story"] for r in lines}
    assert story["q1"] == story["q2"] != story["b1"] == story["b2"]


def test_cluster_eval_names_record_without_label(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x", "title": "t", "text": "some text"}) + "\n")
    out = CliRunner().invoke(main, ["eval", "clustering", str(path)])
    assert out.exit_code != 0
    assert "bad.jsonl:1" in out.output and "story" in out.output


def test_semantic_and_name_mix_is_opt_in_and_survives_export() -> None:
    import json

    a = ArticleFeatures({1: 1.0}, names={"larkmoor": 1.0}, semantic=[1.0, 0.0])
    b = ArticleFeatures({2: 1.0}, names={"larkmoor": 2.0}, semantic=[1.0, 0.0])
    story = StorySummary("s")
    story.add(b, ClusterParams())
    assert score_pair(a, story, ClusterParams(name_penalty=0.0)) == 0.0
    mixed = ClusterParams(semantic_weight=0.3, name_weight=0.15, name_penalty=0.0)
    assert abs(score_pair(a, story, mixed) - (0.3 + 0.15)) < 1e-9
    again = StorySummary.from_dict(json.loads(json.dumps(story.to_dict())))
    assert score_pair(a, again, mixed) == score_pair(a, story, mixed)
    assert ArticleFeatures.from_dict(json.loads(json.dumps(a.to_dict()))).semantic == [1.0, 0.0]
