"""Near-duplicate detection (MinHash LSH) and shared passages."""

from __future__ import annotations

from newsweave.cluster import StreamClusterer
from newsweave.dedupe import MinHashDeduper, shared_passages
from newsweave.models import Article

WIRE = (
    "A magnitude 6.4 earthquake struck near the town of Ridgecrest in Southern California on Thursday morning, "
    "the United States Geological Survey said, shaking buildings as far away as Los Angeles and Las Vegas. "
    "Officials reported several fires and broken water mains but no deaths in the first hours after the quake, "
    "and the county sheriff asked residents to stay off the roads while crews inspected bridges and highways."
)
OTHER = (
    "The city council voted on Tuesday to approve a new budget for the coming fiscal year after a long debate "
    "over library hours, road repairs and the cost of a new fire station on the east side of town, officials said."
)


def test_dedupe_marks_republished_copy_and_points_to_the_original() -> None:
    d = MinHashDeduper()
    assert d.check(Article("orig", "Quake", WIRE)).copy_of is None
    copy = d.check(Article("copy", "Quake hits California", WIRE.replace("Thursday morning", "Thursday")))
    assert copy.copy_of == "orig" and copy.similarity >= 0.8
    copy_of_copy = d.check(Article("copy2", "Quake", WIRE.replace("Thursday morning", "Thursday") + " More soon."))
    assert copy_of_copy.copy_of == "orig"
    assert d.check(Article("other", "Budget", OTHER)).copy_of is None


def test_dedupe_short_texts_are_never_copies() -> None:
    d = MinHashDeduper()
    d.check(Article("a", "t", "Markets closed higher on Friday."))
    assert d.check(Article("b", "t", "Markets closed higher on Friday.")).copy_of is None


def test_dedupe_forget_removes_an_article() -> None:
    d = MinHashDeduper()
    d.check(Article("orig", "Quake", WIRE))
    d.forget("orig")
    assert d.check(Article("again", "Quake", WIRE)).copy_of is None


def test_dedupe_copy_joins_original_story_in_the_clusterer() -> None:
    d, c = MinHashDeduper(), StreamClusterer()
    first = Article("orig", "Quake hits Ridgecrest", WIRE)
    c.add(first, d.check(first))
    story = c.story_of("orig")
    assert story is not None
    size = c.export()["stories"][0]["size"]
    wire = Article("wire", "Strong quake in California", WIRE.replace("Thursday morning", "Thursday"))
    placed = c.add(wire, d.check(wire))
    assert placed.story == story and placed.copy_of == "orig"
    assert c.export()["stories"][0]["size"] == size  # the copy did not move the centroid


def test_dedupe_shared_passages_spans_slice_each_text() -> None:
    a = Article("a", "t", "Intro words here. " + WIRE)
    b = Article("b", "t", WIRE + " Closing words there.")
    passages = shared_passages([a, b])
    assert passages and set(passages[0]["articles"]) == {"a", "b"}
    texts = {"a": a.text, "b": b.text}
    for span in passages[0]["spans"]:
        assert texts[span["article"]][span["start"] : span["end"]] == span["text"]


def test_dedupe_state_round_trips_through_json_and_stays_bounded() -> None:
    import json

    d = MinHashDeduper(window=2)
    d.check(Article("orig", "Quake", WIRE))
    restored = MinHashDeduper(window=2)
    restored.restore(json.loads(json.dumps(d.export())))
    assert restored.check(Article("copy", "Quake", WIRE + " More soon.")).copy_of == "orig"
    restored.check(Article("other", "Budget", OTHER))
    restored.check(Article("other2", "Budget", OTHER.replace("Tuesday", "Monday") + " The vote was close."))
    assert "orig" not in restored.export()["items"][0]  # the oldest text left the window
    assert len(restored.export()["items"]) == 2


def test_copy_ingested_after_reopening_the_store_is_still_marked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from newsweave import Newsweave
    from newsweave.registry import build_placement

    db = str(tmp_path / "dedupe.db")
    with Newsweave(db, pipeline=build_placement()) as nw:
        assert nw.ingest_items([Article("orig", "Quake", WIRE)], analyze=False).added == ["orig"]
    with Newsweave(db, pipeline=build_placement()) as nw:
        nw.ingest_items([Article("copy", "Quake hits California", WIRE + " More soon.")], analyze=False)
        row = nw.store.article_row("copy")
        assert row["copy_of"] == "orig"
        assert row["story_id"] == nw.store.article_row("orig")["story_id"]
