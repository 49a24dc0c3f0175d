"""The Spark batch engine: windows, reconciliation, and the same stories as the single-machine engine.

Tests that start Spark are marked ``spark``; they share one ``local[2]``
session and skip with the reason when pyspark or Java is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DEMO, ECBPLUS, need_shared

from newsweave.evaluate import bcubed
from newsweave.ingest import read_jsonl, read_paths
from newsweave.models import Article
from newsweave.spark import BatchConfig, window_keys


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One local[2] SparkSession for every Spark test (UI off, few shuffle partitions)."""
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'newsweave[spark]'")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH: Spark needs Java 17")
    from newsweave.spark import spark_session

    session = spark_session(
        "local[2]",
        {
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.driver.memory": "1g",
        },
        app_name="newsweave-tests",
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _single_machine(path: Path) -> dict[str, str]:
    """The partition `newsweave cluster` gives: build_pipeline() placement in file order."""
    from newsweave.cli import _place_all

    articles = [a for a in read_jsonl(path) if isinstance(a, Article)]
    return _place_all(articles)


def _spark_partition(spark: Any, output: Path) -> dict[str, str]:
    rows = spark.read.parquet(str(output / "articles")).select("id", "story").toLocalIterator()
    return {r["id"]: r["story"] for r in rows}


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _ecbplus_records() -> list[dict[str, Any]]:
    root = need_shared(ECBPLUS)
    records: list[dict[str, Any]] = []
    for split in ("train", "dev"):
        with open(root / f"{split}.jsonl", encoding="utf-8") as fh:
            # Only the fields an ingested article has: url, topic and story would leak the label.
            records += [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in map(json.loads, fh)]
    return records


# --------------------------------------------------------------------------- pure functions


def test_spark_window_keys_last_days_are_streamed_again_at_the_start_of_the_next_window() -> None:
    cfg = BatchConfig(window_days=7, overlap_days=2)
    day = dt.date(2024, 3, 1).toordinal()
    start = day - day % 7  # the first day of a window
    core = 2 * (start // 7)
    assert window_keys(start + 1, 0, cfg) == [(core, True)]
    assert window_keys(start + 5, 0, cfg) == [(core, True), (core + 2, False)]
    assert window_keys(start + 6, 0, cfg) == [(core, True), (core + 2, False)]


def test_spark_window_keys_undated_corpus_windows_by_position() -> None:
    cfg = BatchConfig(undated_block=100, undated_overlap=10)
    assert window_keys(None, 5, cfg) == [(1, True)]
    assert window_keys(None, 295, cfg) == [(5, True), (7, False)]
    assert window_keys(None, 250, cfg) == [(5, True)]


def test_spark_config_rejects_overlap_wider_than_window() -> None:
    from newsweave.errors import ConfigError

    with pytest.raises(ConfigError, match="overlap_days"):
        BatchConfig(window_days=2, overlap_days=3).check()


def test_spark_record_span_counts_the_windows_placement_needs() -> None:
    from newsweave.spark import RecordSpan

    cfg = BatchConfig(window_days=7, overlap_days=2, undated_block=100, undated_overlap=10)
    monday = 7 * 100_000
    assert RecordSpan(records=50, first_day=monday, last_day=monday + 20).windows(cfg) == 4  # 3 + one look-back
    assert RecordSpan(records=250, first_day=None, last_day=None).windows(cfg) == 4  # 3 blocks + one


# --------------------------------------------------------------------------- on Spark


@pytest.mark.spark
def test_spark_number_records_numbers_across_partitions_and_carries_dates(spark: Any) -> None:
    from newsweave.spark import Failed, number_records

    def art(i: int, published: str | None) -> Article:
        return Article(id=f"a{i}", title="t", text="x" * 100, published=published)

    records = [
        art(0, None),  # before the first date: takes the first date
        art(1, "2024-01-10"),
        Failed(("f.jsonl:3", "malformed JSON")),
        art(3, None),  # takes 2024-01-10, carried from the partition before
        art(4, "2024-01-02"),
        art(5, None),
    ]
    rdd = spark.sparkContext.parallelize(records, 3)
    numbered, span = number_records(rdd)
    got = numbered.collect()
    day = dt.date.fromisoformat
    assert [seq for seq, _, _ in got] == list(range(6))
    assert [d for _, _, d in got] == [day(x).toordinal() for x in ["2024-01-10"] * 4 + ["2024-01-02"] * 2]
    assert (span.records, span.first_day, span.last_day) == (
        6,
        day("2024-01-02").toordinal(),
        day("2024-01-10").toordinal(),
    )


@pytest.mark.spark
def test_spark_connected_components_labels_a_long_chain_in_few_rounds(spark: Any) -> None:
    from newsweave.spark import connected_components

    chain = [(i + 1, i) for i in range(100, 115)]  # 16 nodes in a line
    edges = spark.createDataFrame([*chain, (7, 9), (9, 8)], "src long, dst long")
    nodes = spark.createDataFrame([(n,) for n in [*range(100, 116), 7, 8, 9, 42]], "node long")
    labels, rounds = connected_components(spark, edges, nodes)
    got = {r["node"]: r["label"] for r in labels.collect()}
    assert all(got[n] == 100 for n in range(100, 116))
    assert got[7] == got[8] == got[9] == 7
    assert got[42] == 42
    assert rounds <= 6  # pointer jumping: about log2(16) rounds, not 16


@pytest.mark.spark
@pytest.mark.slow
def test_spark_demo_corpus_same_stories_and_loads_into_the_store(spark: Any, tmp_path: Path, fresh_db: str) -> None:
    from newsweave.engine import Newsweave
    from newsweave.spark import run_batch

    records = [
        {k: getattr(a, k) for k in ("id", "title", "text", "source", "published", "url")}
        for a in read_paths([DEMO])
        if isinstance(a, Article)
    ]
    path = _write_jsonl(tmp_path / "demo.jsonl", records)
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "broken", "title": "no text"}\n')  # one bad record: reported, the rest goes on
    report = run_batch(spark, [str(path)], str(tmp_path / "out"), BatchConfig(partitions=2))
    single = _single_machine(path)
    distributed = _spark_partition(spark, tmp_path / "out")
    assert distributed == single  # same partition and the same story ids
    assert report.articles == len(records) and report.errors == 1
    (error,) = spark.read.parquet(str(tmp_path / "out" / "errors")).collect()
    assert error["origin"].endswith("demo.jsonl:5") and "text" in error["reason"]
    stories = {r["id"]: r for r in spark.read.parquet(str(tmp_path / "out" / "stories")).collect()}
    assert set(stories) == set(single.values())
    biggest = max(stories.values(), key=lambda r: r["n_articles"])
    assert biggest["n_articles"] == 3 and json.loads(biggest["summary"])  # the dam story, summarized

    with Newsweave(fresh_db) as nw:
        assert nw.load_batch(str(tmp_path / "out"), spark) == len(records)
        listed = {r["id"]: r for r in nw.stories()}
        assert set(listed) == set(stories)
        story = nw.story(biggest["id"])
        assert story.headline == biggest["headline"] and len(story.articles) == 3
        assert nw.load_batch(str(tmp_path / "out"), spark) == 0  # loading again adds nothing


@pytest.mark.spark
@pytest.mark.slow
def test_spark_ecbplus_same_partition_as_single_machine(spark: Any, tmp_path: Path) -> None:
    from newsweave.spark import run_batch

    path = _write_jsonl(tmp_path / "ecb.jsonl", _ecbplus_records())
    single = _single_machine(path)
    run_batch(spark, [str(path)], str(tmp_path / "out"), BatchConfig(analyze=False, partitions=2))
    distributed = _spark_partition(spark, tmp_path / "out")
    assert set(distributed) == set(single)
    assert bcubed(single, distributed)["f1"] == 1.0
    assert distributed == single  # undated: one window, so the very same stream and ids


@pytest.mark.spark
@pytest.mark.slow
def test_spark_ecbplus_dated_across_windows_reconciles(spark: Any, tmp_path: Path) -> None:
    """Dated reports spread over 6 months, 28-day windows: stories cross window boundaries.

    Each gold event gets a day, and each report a stable offset of 0-3 days
    from it, so many stories straddle two windows and are joined again only by
    the reconciliation (each window's stories continue the previous window's).

    Measured: B-cubed F1 0.993 between the two (2026-12-01; 0.987 with the
    one-level engine). The differences come from windows starting with a
    clusterer that knows only the look-back: its HNSW index is built in another
    order (approximate neighbours can differ), arrival-count closing
    (``quiet_articles``) counts other arrivals, and a theme's event partition
    sees only its look-back members. The floor stays 0.98; see docs/spark.md.
    """
    from newsweave.spark import run_batch

    records = _ecbplus_records()
    gold_days: dict[str, int] = {}
    base = dt.date(2024, 1, 1).toordinal()
    for line in (need_shared(ECBPLUS) / "train.jsonl").read_text().splitlines() + (
        ECBPLUS / "dev.jsonl"
    ).read_text().splitlines():
        rec = json.loads(line)
        gold_days.setdefault(rec["story"], base + 3 * len(gold_days))
        day = gold_days[rec["story"]] + zlib.crc32(rec["id"].encode()) % 4
        next(r for r in records if r["id"] == rec["id"])["published"] = dt.date.fromordinal(day).isoformat()
    path = _write_jsonl(tmp_path / "ecb-dated.jsonl", records)
    single = _single_machine(path)
    report = run_batch(
        spark,
        [str(path)],
        str(tmp_path / "out"),
        BatchConfig(analyze=False, window_days=28, overlap_days=14, partitions=2),
    )
    distributed = _spark_partition(spark, tmp_path / "out")
    assert report.windows >= 7
    assert set(distributed) == set(single)
    assert bcubed(single, distributed)["f1"] >= 0.98
