"""Batch runs on Apache Spark: the same stories as the single-machine engine, at corpus scale.

``newsweave batch INPUT --engine spark --output DIR`` (or :func:`run_batch`) runs
ingest → dedupe → cluster → analyze as Spark jobs and writes Parquet:

* ``DIR/articles``: one row per article (``id``, ``story``, ``copy_of``, ``seq`` and
  the article's fields), so the store can be rebuilt from it (:func:`load_output`);
* ``DIR/stories``: one row per story, the JSON contract's sections as JSON strings;
* ``DIR/errors``: inputs and stages that failed (``origin``, ``reason``).

How placement scales while giving the single-machine answer:

1. **Order.** Every input record is parsed once and gets its position in the
   input (``seq``, from one count per partition): the single-machine engine
   streams in file order, so does each window here.
2. **Time windows with look-back.** An article belongs to the window of its
   publication day (``window_days`` wide); the last ``overlap_days`` of a window
   are streamed again at the start of the next window, so its clusterer places
   that window's articles with the recent stories open. Undated articles take
   the date before them in the input; a corpus without dates is windowed by
   ``seq`` (``undated_block`` records, ``undated_overlap`` of look-back).
3. **Cluster within windows.** Each window streams through the very
   ``Deduper`` and ``Clusterer`` the single-machine engine uses
   (:func:`newsweave.registry.build_pipeline`), on an executor: the clusterer's
   own candidate blocking (ANN over story vectors) and the deduper's MinHash LSH
   do the blocking inside the window, and merges relabel earlier articles as
   ``newsweave cluster`` does.
4. **Reconcile.** Nodes are (window, local story). A node continues the
   previous window's story that holds most of its look-back articles (one
   parent per node, so components are trees and a disagreement between two
   windows cannot chain unrelated stories); connected components (min-label
   propagation with pointer jumping, on DataFrames) give the final stories.

Models (spaCy, the ONNX embedder) are module-level lazy singletons, so each
executor's Python worker loads them once and reuses them for every partition.
Nothing that grows with the corpus is collected to the driver: only counts.
See docs/spark.md for the trade-offs and for running on a cluster.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError, InputError, NewsweaveError, NotInstalled, StageError
from .models import Article, Story, follow_aliases

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark import RDD
    from pyspark.sql import DataFrame, SparkSession

    from .pipeline import Pipeline
    from .store import Store

#: Fields of an Article written to ``DIR/articles`` (besides id, story, copy_of, seq).
ARTICLE_FIELDS = ("title", "text", "source", "published", "url", "byline", "origin")
#: Contract sections stored as JSON strings in ``DIR/stories``: every Story field but id and headline,
#: derived from the dataclass so a field added to the contract reaches the Parquet output too.
STORY_SECTIONS = tuple(name for name in Story.__dataclass_fields__ if name not in ("id", "headline"))
#: Reconciliation node ids are ``window * NODE_WINDOW_SCALE + first seq`` (seq < 2**40).
NODE_WINDOW_SCALE = 1 << 40
_JSONL = re.compile(r"\.(jsonl|ndjson|json)(\.gz|\.bz2)?$", re.I)
_WARC = re.compile(r"\.(warc|arc)(\.gz)?$", re.I)
_PARQUET = re.compile(r"\.parquet$", re.I)


@dataclass
class BatchConfig:
    """Settings of a Spark batch run.

    Attributes:
        window_days: width of a time window, in days of publication.
        overlap_days: the last days of a window streamed again at the start of
            the next one (look-back); keep it at least the clusterer's
            ``quiet_days`` (14), so every story still open at a boundary is
            rebuilt before the next window's own articles arrive.
        undated_block: records per window for articles without a publication date.
        undated_overlap: look-back, in records, for undated windows.
        partitions: Spark partitions for placement and analysis (default: twice
            the default parallelism); placement takes at least one per window.
        analyze: run extract → align → summarize per story (``DIR/stories``).
        embedder: the embedder each executor builds (a registry name).
        input_format: ``auto`` (by file suffix), ``jsonl``, ``parquet`` or ``warc``.
    """

    window_days: int = 56
    overlap_days: int = 14
    undated_block: int = 100_000
    undated_overlap: int = 10_000
    partitions: int | None = None
    analyze: bool = True
    embedder: str = "minilm"
    input_format: str = "auto"
    pipeline_options: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        """Raise ConfigError when the windows cannot work."""
        if self.window_days < 1 or not 0 <= self.overlap_days <= self.window_days:
            raise ConfigError("window_days must be >= 1 and 0 <= overlap_days <= window_days")
        if self.undated_block < 1 or not 0 <= self.undated_overlap <= self.undated_block:
            raise ConfigError("undated_block must be >= 1 and 0 <= undated_overlap <= undated_block")
        if self.input_format not in ("auto", "jsonl", "parquet", "warc"):
            raise ConfigError(f"unknown input format {self.input_format!r}; choose auto, jsonl, parquet or warc")


@dataclass
class BatchReport:
    """What a batch run wrote (counts only: nothing that grows with the corpus)."""

    output: str
    articles: int
    stories: int
    errors: int
    windows: int
    reconcile_rounds: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- session


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise NotInstalled("the Spark batch engine", "spark") from exc


def spark_session(
    master: str | None = None, conf: dict[str, str] | None = None, app_name: str = "newsweave"
) -> SparkSession:
    """A SparkSession for batch runs (the active one is reused when no master is named).

    Args:
        master: ``local[N]``, ``spark://host:7077``, ``yarn``, ``k8s://...``; None
            keeps what ``spark-submit`` or ``spark-defaults.conf`` set (``local[*]``
            when nothing does). Under ``spark-submit`` in cluster mode the driver
            runs on the cluster, where no local environment variable tells it so:
            naming no master is what keeps the submitted one.
        conf: extra Spark settings (``spark.executor.memory`` ...).
        app_name: the application name shown by the cluster manager.
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started this driver and its JVM
    if (master or "").startswith("local") or (master is None and not under_submit):
        # Local workers must run this interpreter (the one with newsweave and its models). Under
        # spark-submit, spark.pyspark.python or PYSPARK_PYTHON name the executors' interpreter instead:
        # this driver's path may not exist on them (an unpacked archive lives in each container).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    if master:
        builder = builder.master(master)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


# --------------------------------------------------------------------------- executor-side singletons

_PIPELINES: dict[str, Pipeline] = {}


def executor_pipeline(embedder: str = "minilm", **options: Any) -> Pipeline:
    """The analysis pipeline of this Python worker, built once (models load on first use).

    Executors call this inside ``mapPartitions``: Spark reuses Python workers
    (``spark.python.worker.reuse``), so spaCy and the ONNX model load once per
    worker, not per partition or per record.
    """
    key = json.dumps([embedder, options], sort_keys=True, default=str)
    if key not in _PIPELINES:
        from .registry import build_pipeline

        _PIPELINES[key] = build_pipeline(embedder, **options)
    return _PIPELINES[key]


# --------------------------------------------------------------------------- reading


def detect_format(path: str) -> str:
    """``jsonl``, ``parquet`` or ``warc`` from a path's suffix (a directory of Parquet parts counts)."""
    name = path.rstrip("/")
    if _JSONL.search(name):
        return "jsonl"
    if _WARC.search(name):
        return "warc"
    if _PARQUET.search(name):
        return "parquet"
    local = Path(name)
    if local.is_dir():
        suffixes = {p.name for p in local.iterdir() if p.is_file()}
        if any(_PARQUET.search(s) for s in suffixes):
            return "parquet"
        if any(_WARC.search(s) for s in suffixes):
            return "warc"
        if any(_JSONL.search(s) for s in suffixes):
            return "jsonl"
    raise ConfigError(f"cannot tell the format of {path!r}: name it .jsonl, .parquet or .warc(.gz), or pass --format")


class Failed(tuple[str, str]):
    """An input that could not be read: (origin, reason). A plain tuple, so it pickles between workers."""

    @classmethod
    def of(cls, exc: InputError) -> Failed:
        return cls((exc.origin, exc.reason))


def _parse_jsonl_line(item: tuple[str, int], path: str) -> Article | Failed | None:
    line, idx = item
    if not line.strip():
        return None
    origin = f"{path}:{idx + 1}"
    try:
        from .ingest import parse_record

        return parse_record(line, default_id=f"line-{idx + 1}", origin=origin)
    except InputError as exc:
        return Failed.of(exc)


def _parse_row(item: tuple[dict[str, Any], int], path: str) -> Article | Failed:
    row, idx = item
    origin = f"{path}#{idx}"
    try:
        from .ingest import parse_record

        return parse_record(row, default_id=f"row-{idx}", origin=origin)
    except InputError as exc:
        return Failed.of(exc)


def parse_warc_bytes(data: bytes, origin: str) -> Iterator[Article | Failed]:
    """The HTML responses of one WARC file's bytes as articles (``warcio``; ``pip install 'newsweave[warc]'``)."""
    import io

    try:
        from warcio.archiveiterator import ArchiveIterator
    except ImportError as exc:
        raise NotInstalled("reading WARC archives", "warc") from exc
    from .ingest import parse_html

    for n, record in enumerate(ArchiveIterator(io.BytesIO(data))):
        if record.rec_type != "response":
            continue
        ctype = (record.http_headers.get_header("Content-Type") or "") if record.http_headers else ""
        if "html" not in ctype.lower():
            continue
        url = record.rec_headers.get_header("WARC-Target-URI")
        rec_id = (record.rec_headers.get_header("WARC-Record-ID") or f"{origin}#{n}").strip("<>")
        where = f"{origin}#{n}"
        try:
            article = parse_html(record.content_stream().read(), rec_id.removeprefix("urn:uuid:"), where, url=url)
        except InputError as exc:
            yield Failed.of(exc)
            continue
        if not article.published:
            warc_date = record.rec_headers.get_header("WARC-Date")
            article.published = warc_date[:10] if warc_date else None
        yield article


def parse_inputs(spark: SparkSession, inputs: Sequence[str], input_format: str = "auto") -> RDD[Any]:
    """Records of every input as ``Article | Failed``, partitions in input order, records in file order.

    Each record is parsed once here; :func:`number_records` then numbers and dates
    them from a persisted copy (parsing is the costly part of reading).
    """
    sc = spark.sparkContext
    parts: list[RDD[Any]] = []
    for path in inputs:
        kind = detect_format(path) if input_format == "auto" else input_format
        if kind == "jsonl":
            lines = sc.textFile(path).zipWithIndex()
            parts.append(lines.map(functools.partial(_parse_jsonl_line, path=path)).filter(lambda r: r is not None))
        elif kind == "parquet":
            rows = spark.read.parquet(path).rdd.map(lambda r: r.asDict()).zipWithIndex()
            parts.append(rows.map(functools.partial(_parse_row, path=path)))
        else:
            files = sc.binaryFiles(path)
            parts.append(files.flatMap(lambda kv: parse_warc_bytes(kv[1], kv[0])))
    return parts[0] if len(parts) == 1 else sc.union(parts)


def read_inputs(spark: SparkSession, inputs: Sequence[str], input_format: str = "auto") -> RDD[Any]:
    """Records of every input, in input order, as ``(seq, Article | Failed)``.

    ``seq`` is the record's position across all inputs (counted per partition on
    the driver: one number per partition, not per record).
    """
    return number_records(parse_inputs(spark, inputs, input_format))[0].map(lambda r: (r[0], r[1]))


# --------------------------------------------------------------------------- windows


def publication_day(article: Article) -> int | None:
    """The publication date as a proleptic ordinal, or None when unknown or unparseable."""
    if not article.published:
        return None
    try:
        return date.fromisoformat(article.published[:10]).toordinal()
    except ValueError:
        return None


def window_keys(day: int | None, seq: int, cfg: BatchConfig) -> list[tuple[int, bool]]:
    """The windows an article is streamed in: ``[(core window, True), (next window, False)?]``.

    The last ``overlap_days`` of a window are streamed again at the start of the
    next window (look-back): its clusterer then places the window's own articles
    with the recent stories already open, as the single-machine stream does.

    Args:
        day: the article's effective day (:func:`number_records`), or None in a corpus without dates.
        seq: its position in the input.
        cfg: window sizes.

    Dated windows have even keys, undated (by ``seq``) odd keys, so both kinds
    partition deterministically (ints hash the same in every Python worker).
    """
    if day is not None:
        period, overlap, make = cfg.window_days, cfg.overlap_days, 0
        k, offset = divmod(day, period)
    else:
        period, overlap, make = cfg.undated_block, cfg.undated_overlap, 1
        k, offset = divmod(seq, period)
    keys = [(2 * k + make, True)]
    if offset >= period - overlap:
        keys.append((2 * (k + 1) + make, False))
    return keys


def _day_of(record: Any) -> int | None:
    return publication_day(record) if isinstance(record, Article) else None


@dataclass(frozen=True)
class RecordSpan:
    """What the numbering pass learnt about the input: its size and the days it spans (driver-side, constant size)."""

    records: int
    first_day: int | None
    last_day: int | None

    def windows(self, cfg: BatchConfig) -> int:
        """How many windows the records fall in at most (the last one's look-back opens one more)."""
        if self.first_day is None or self.last_day is None:
            return self.records // cfg.undated_block + 2
        return self.last_day // cfg.window_days - self.first_day // cfg.window_days + 2


def number_records(records: RDD[Any]) -> tuple[RDD[Any], RecordSpan]:
    """Records to ``(seq, record, effective day)``: position in the input, and the date an undated article takes.

    ``seq`` is the record's position across all partitions (which are in input
    order). An undated article takes the last date before it: feeds and crawls
    arrive roughly in time order, so an undated report is placed with the dated
    reports around it (records before the first date take the first date); the
    single-machine engine streams them together too. Two passes over the
    partitions (persist ``records`` first, or it is computed twice): the first
    collects one (count, first, last, earliest and latest date) per partition,
    the second numbers the records and carries dates forward.

    Returns:
        The numbered records (lazy), and their count and span of days.
    """

    def ends(index: int, rows: Iterable[Any]) -> Iterator[tuple[int, int, int | None, int | None, int, int]]:
        count, low, high = 0, sys.maxsize, -sys.maxsize
        first = last = None
        for record in rows:
            count += 1
            day = _day_of(record)
            if day is not None:
                first = day if first is None else first
                last, low, high = day, min(low, day), max(high, day)
        yield index, count, first, last, low, high

    summary = sorted(records.mapPartitionsWithIndex(ends).collect())  # one row per partition
    known = [row[2] for row in summary if row[2] is not None]
    start: dict[int, int] = {}
    carry: dict[int, int | None] = {}
    offset, previous = 0, (known[0] if known else None)
    for index, count, _, last, _, _ in summary:
        start[index], carry[index] = offset, previous
        offset += count
        previous = last if last is not None else previous
    span = RecordSpan(
        records=offset,
        first_day=min(row[4] for row in summary) if known else None,
        last_day=max(row[5] for row in summary) if known else None,
    )

    def number(index: int, rows: Iterable[Any]) -> Iterator[tuple[int, Any, int | None]]:
        current = carry.get(index)
        for seq, record in enumerate(rows, start.get(index, 0)):
            day = _day_of(record)
            current = day if day is not None else current
            yield seq, record, current

    return records.mapPartitionsWithIndex(number), span


def place_window_stream(
    rows: Iterable[tuple[tuple[int, int], tuple[Article, bool]]],
    make_pipeline: Callable[[], Pipeline],
) -> Iterator[tuple[Any, ...]]:
    """Stream each window's articles (sorted by ``(window, seq)``) through a fresh dedupe + cluster.

    Yields ``("P", window, seq, article id, local story, core, copy_of)`` per
    placed article, once its window is complete (a later merge may relabel an
    earlier article, as in ``newsweave cluster``), and ``("E", origin, reason)``
    for a stage failure.
    """
    current: int | None = None
    pipe: Pipeline | None = None
    placed: list[tuple[int, str, bool, str | None]] = []
    story_of: dict[int, str] = {}
    seq_of: dict[str, int] = {}
    alias: dict[str, str] = {}

    def flush() -> Iterator[tuple[Any, ...]]:
        for seq, aid, core, copy_of in placed:
            yield ("P", current, seq, aid, follow_aliases(alias, story_of[seq]), core, copy_of)

    for (window, seq), (article, core) in rows:
        if window != current:
            yield from flush()
            current, pipe = window, make_pipeline()
            placed, story_of, seq_of, alias = [], {}, {}, {}
        assert pipe is not None
        try:
            assignment = pipe.place(article)
        except StageError as exc:
            if core:
                yield ("E", article.origin or article.id, str(exc))
            continue
        for aid, to_story in assignment.moved.items():
            if aid in seq_of:
                story_of[seq_of[aid]] = to_story
        alias.update(assignment.merges())
        story_of[seq] = assignment.story
        seq_of[article.id] = seq
        placed.append((seq, article.id, core, assignment.copy_of))
    yield from flush()


# --------------------------------------------------------------------------- connected components


def connected_components(
    spark: SparkSession, edges: DataFrame, nodes: DataFrame, max_rounds: int = 64
) -> tuple[DataFrame, int]:
    """Label every node with the smallest node id of its component.

    Min-label propagation along edges plus pointer jumping (``label = label[label]``),
    so a chain of windows converges in about log2(length) rounds, not its length.
    Each round is checkpointed locally to keep the query plan short.

    Args:
        spark: the session.
        edges: ``src``, ``dst`` (long node ids), either direction.
        nodes: ``node`` (long), every node including isolated ones.
        max_rounds: a bound; a ConfigError is raised if it is reached.

    Returns:
        (DataFrame ``node``, ``label``; the number of rounds run).
    """
    from pyspark.sql import functions as F

    both = edges.select("src", "dst").union(edges.select(F.col("dst").alias("src"), F.col("src").alias("dst")))
    both = both.where("src != dst").distinct().localCheckpoint()
    labels = nodes.select("node", F.col("node").alias("label")).distinct().localCheckpoint()
    for rounds in range(1, max_rounds + 1):
        pushed = both.join(labels, both.src == labels.node).select(F.col("dst").alias("node"), "label")
        merged = labels.union(pushed).groupBy("node").agg(F.min("label").alias("label"))
        hop = merged.alias("b").select(F.col("node").alias("hop"), F.col("label").alias("hop_label"))
        jumped = merged.join(hop, merged.label == hop.hop, "left").select(
            "node", F.least("label", F.coalesce("hop_label", "label")).alias("label")
        )
        jumped = jumped.localCheckpoint()
        changed = (
            jumped.alias("n")
            .join(labels.alias("o"), "node")
            .where(F.col("n.label") != F.col("o.label"))
            .limit(1)
            .count()
        )
        labels = jumped
        if not changed:
            return labels, rounds
    raise ConfigError(f"connected components did not converge in {max_rounds} rounds; raise max_rounds")


# --------------------------------------------------------------------------- the batch


def _article_row(seq: int, a: Article) -> tuple[Any, ...]:
    return (seq, a.id, a.title, a.text, a.source, a.published, a.url, a.byline, a.origin)


def _row_article(row: Any) -> Article:
    return Article(
        id=row["id"],
        title=row["title"] or "",
        text=row["text"] or "",
        source=row["source"],
        published=row["published"],
        url=row["url"],
        byline=row["byline"],
        origin=row["origin"] or "",
    )


def analyze_stories(
    groups: Iterable[tuple[str, Iterable[Any]]], embedder: str, options: dict[str, Any]
) -> Iterator[tuple[Any, ...]]:
    """Extract, align and summarize each story's articles on an executor.

    Yields ``("S", story row...)`` per story and ``("E", origin, reason)`` when a
    stage fails on one (the other stories go on).
    """
    pipe = executor_pipeline(embedder, **options)
    for story_id, rows in groups:
        rows = sorted(rows, key=lambda r: r["seq"])
        articles = [_row_article(r) for r in rows]
        copies = {r["id"]: r["copy_of"] for r in rows if r["copy_of"]}
        try:
            story = pipe.analyze_story(story_id, articles, copies=copies)
        except (StageError, NewsweaveError) as exc:
            yield ("E", f"story {story_id}", str(exc))
            continue
        yield ("S", *story_row(story, articles))


def story_row(story: Story, articles: Sequence[Article]) -> tuple[Any, ...]:
    """A story as a ``DIR/stories`` row: scalars, then each contract section as JSON."""
    dates = sorted(a.published for a in articles if a.published)
    data = story.to_dict()
    return (
        story.id,
        story.headline,
        len(articles),
        len({a.source or a.id for a in articles}),
        dates[0] if dates else None,
        dates[-1] if dates else None,
        *(json.dumps(data[name], ensure_ascii=False) for name in STORY_SECTIONS),
    )


def run_batch(
    spark: SparkSession, inputs: Sequence[str], output: str, config: BatchConfig | None = None
) -> BatchReport:
    """Ingest, dedupe, cluster and analyze ``inputs`` on Spark; write Parquet under ``output``.

    Args:
        spark: a session (:func:`spark_session`).
        inputs: JSONL, Parquet or WARC paths (local or any Hadoop-compatible URI).
        output: the output directory (overwritten).
        config: windows, partitions and stages; defaults otherwise.

    Returns:
        Counts of what was written.
    """
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    cfg = config or BatchConfig()
    cfg.check()
    if not inputs:
        raise ConfigError("no input given: name JSONL, Parquet or WARC paths")
    sc = spark.sparkContext
    n_parts = cfg.partitions or max(2, 2 * sc.defaultParallelism)
    embedder, options = cfg.embedder, dict(cfg.pipeline_options)
    out = output.rstrip("/")

    # Parse once: numbering, errors and articles all read the persisted records.
    parsed = parse_inputs(spark, inputs, cfg.input_format).persist(StorageLevel.MEMORY_AND_DISK)
    records, span = number_records(parsed)
    error_schema = T.StructType([T.StructField("origin", T.StringType()), T.StructField("reason", T.StringType())])
    input_errors = records.filter(lambda r: isinstance(r[1], Failed)).map(lambda r: (r[1][0], r[1][1]))

    article_schema = T.StructType(
        [T.StructField("seq", T.LongType(), False), T.StructField("id", T.StringType(), False)]
        + [T.StructField(name, T.StringType()) for name in ARTICLE_FIELDS]
        + [T.StructField("day", T.LongType())]
    )
    all_articles = spark.createDataFrame(
        records.filter(lambda r: isinstance(r[1], Article)).map(lambda r: (*_article_row(r[0], r[1]), r[2])),
        article_schema,
    )
    # The single-machine reader refuses a repeated id: keep the first, report the rest.
    first = all_articles.groupBy("id").agg(F.min("seq").alias("first_seq"))
    marked = all_articles.join(first, "id")
    articles = marked.where("seq = first_seq").drop("first_seq").persist(StorageLevel.MEMORY_AND_DISK)
    dup_errors = marked.where("seq != first_seq").select(
        F.col("origin"),
        F.concat(F.lit("duplicate id "), F.col("id"), F.lit(": the first one was kept")).alias("reason"),
    )

    # ---- placement: windows, streamed in seq order on executors
    cfg_local = cfg

    def keyed(row: Any) -> Iterator[tuple[tuple[int, int], tuple[Article, bool]]]:
        article = _row_article(row)
        for window, core in window_keys(row["day"], row["seq"], cfg_local):
            yield (window, row["seq"]), (article, core)

    def make_pipeline() -> Pipeline:
        # Placement only: the default deduper and clusterer, as `newsweave cluster` uses (no model loaded).
        from . import registry

        if options or not hasattr(registry, "build_placement"):
            return registry.build_pipeline(embedder, **options)
        return registry.build_placement()

    # At least one partition per window, and consecutive windows in different partitions (dated keys are
    # even, undated odd: halve them), so a placement task holds and sorts one window, not a share of the
    # corpus: its memory stays that of a window however large the input.
    windowed = articles.rdd.flatMap(keyed).repartitionAndSortWithinPartitions(
        max(n_parts, span.windows(cfg)), partitionFunc=lambda key: key[0] // 2
    )
    placed_raw = windowed.mapPartitions(lambda rows: place_window_stream(rows, make_pipeline)).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    place_schema = T.StructType(
        [
            T.StructField("window", T.LongType()),
            T.StructField("seq", T.LongType()),
            T.StructField("id", T.StringType()),
            T.StructField("local", T.StringType()),
            T.StructField("core", T.BooleanType()),
            T.StructField("copy_of", T.StringType()),
        ]
    )
    # Persisted: nodes, the join below and the window count read it (one conversion from Python, not three).
    placed = spark.createDataFrame(placed_raw.filter(lambda r: r[0] == "P").map(lambda r: r[1:]), place_schema).persist(
        StorageLevel.MEMORY_AND_DISK
    )
    stage_errors = placed_raw.filter(lambda r: r[0] == "E").map(lambda r: (r[1], r[2]))

    # ---- reconcile: node = (window, local story), id = the smallest seq it holds
    # Node = (window, local story); its id orders windows first, so a story's earliest node has the smallest id.
    nodes = placed.groupBy("window", "local").agg(
        (F.col("window") * F.lit(NODE_WINDOW_SCALE) + F.min("seq")).alias("node")
    )
    with_node = placed.join(nodes, ["window", "local"]).persist(StorageLevel.MEMORY_AND_DISK)
    # Each node continues the previous window's story holding most of its look-back articles
    # (ties: the earlier one). One parent per node: components are trees, so a disagreement
    # between two windows cannot chain unrelated stories together.
    owner = with_node.where("core").select("seq", F.col("node").alias("parent"))
    votes = with_node.where("NOT core").select("node", "seq").join(owner, "seq").groupBy("node", "parent").count()
    best = Window.partitionBy("node").orderBy(F.desc("count"), F.asc("parent"))
    edges = (
        votes.withColumn("rank", F.row_number().over(best))
        .where("rank = 1")
        .select(F.col("node").alias("src"), F.col("parent").alias("dst"))
    )
    labels, rounds = connected_components(spark, edges, nodes.select("node"))
    # A story's id: the local id of its earliest node (the root of its tree).
    names = nodes.select(F.col("node").alias("label"), F.col("local").alias("story"))
    story_of = labels.join(names, "label").select("node", "story")
    core = with_node.where("core").join(story_of, "node").select("seq", "story", "copy_of")
    result = articles.join(core, "seq").select("id", "story", "copy_of", "seq", *ARTICLE_FIELDS)
    result.write.mode("overwrite").parquet(f"{out}/articles")

    # ---- analysis: one story per group, models loaded once per executor worker
    n_stories = 0
    analysis_errors = sc.emptyRDD()
    if cfg.analyze:
        written = spark.read.parquet(f"{out}/articles")
        grouped = written.rdd.map(lambda r: (r["story"], r.asDict())).groupByKey(n_parts)
        analyzed = grouped.mapPartitions(lambda groups: analyze_stories(groups, embedder, options)).persist(
            StorageLevel.MEMORY_AND_DISK
        )
        story_schema = T.StructType(
            [
                T.StructField("id", T.StringType(), False),
                T.StructField("headline", T.StringType()),
                T.StructField("n_articles", T.LongType()),
                T.StructField("n_sources", T.LongType()),
                T.StructField("first_seen", T.StringType()),
                T.StructField("last_seen", T.StringType()),
            ]
            + [T.StructField(name, T.StringType()) for name in STORY_SECTIONS]
        )
        stories_df = spark.createDataFrame(analyzed.filter(lambda r: r[0] == "S").map(lambda r: r[1:]), story_schema)
        stories_df.write.mode("overwrite").parquet(f"{out}/stories")
        analysis_errors = analyzed.filter(lambda r: r[0] == "E").map(lambda r: (r[1], r[2]))
        n_stories = spark.read.parquet(f"{out}/stories").count()
        analyzed.unpersist()
    else:
        n_stories = spark.read.parquet(f"{out}/articles").select("story").distinct().count()

    errors = spark.createDataFrame(input_errors.union(stage_errors).union(analysis_errors), error_schema).union(
        dup_errors
    )
    errors.write.mode("overwrite").parquet(f"{out}/errors")
    report = BatchReport(
        output=out,
        articles=spark.read.parquet(f"{out}/articles").count(),
        stories=n_stories,
        errors=spark.read.parquet(f"{out}/errors").count(),
        windows=placed.select("window").distinct().count(),
        reconcile_rounds=rounds,
    )
    for cached in (parsed, articles, placed_raw, placed, with_node):
        cached.unpersist()
    return report


# --------------------------------------------------------------------------- reading the output back


def iter_output_rows(spark: SparkSession, output: str, table: str) -> Iterator[dict[str, Any]]:
    """Rows of ``output/table`` one partition at a time (``toLocalIterator``: bounded driver memory)."""
    df = spark.read.parquet(f"{output.rstrip('/')}/{table}")
    if table == "articles":
        df = df.orderBy("seq")
    for row in df.toLocalIterator():
        yield row.asDict()


def story_from_output(row: dict[str, Any]) -> Story:
    """A ``DIR/stories`` row back as the contract's Story."""
    data: dict[str, Any] = {"id": row["id"], "headline": row["headline"] or ""}
    for name in STORY_SECTIONS:
        data[name] = json.loads(row[name]) if row.get(name) else []
    return Story.from_dict(data)


def load_output(
    spark: SparkSession, output: str, db: str | os.PathLike[str] | Store | None = None, batch: int = 500
) -> int:
    """Load a batch run's Parquet output into a newsweave store; returns the articles added.

    Articles already in the store (same id, URL or content) are skipped. Stories
    come with their analysis, so ``newsweave stories``/``show`` and the web pages
    serve them without recomputing; a story without a row in ``DIR/stories`` stays
    dirty and is analyzed on first read. Rows stream one partition at a time.

    Args:
        spark: a session that can read ``output``.
        output: the ``--output`` directory of ``newsweave batch``.
        db: an open :class:`~newsweave.store.Store`, or a path/URL to open one.
        batch: articles per transaction.
    """
    from .store import Store

    store = db if isinstance(db, Store) else Store(db)
    added = 0
    pending: list[dict[str, Any]] = []

    def commit() -> None:
        nonlocal added
        with store.transaction() as conn:
            for row in pending:
                article = _row_article(row)
                if store.find_article(conn, article) is not None:
                    continue
                store.insert_article(conn, article, row["story"], row["copy_of"])
                store.touch_story(conn, row["story"])
                added += 1
        pending.clear()

    try:
        for row in iter_output_rows(spark, output, "articles"):
            pending.append(row)
            if len(pending) >= batch:
                commit()
        commit()
        if _exists(spark, f"{output.rstrip('/')}/stories"):
            for row in iter_output_rows(spark, output, "stories"):
                store.save_story(story_from_output(row), int(row["n_sources"] or 0))
    finally:
        if store is not db:
            store.close()
    return added


def _exists(spark: SparkSession, path: str) -> bool:
    jvm = spark.sparkContext._jvm
    if jvm is None:  # pragma: no cover - only on a stopped session
        return Path(path).exists()
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(fs.exists(hpath))


__all__ = [
    "BatchConfig",
    "BatchReport",
    "connected_components",
    "executor_pipeline",
    "load_output",
    "number_records",
    "parse_inputs",
    "read_inputs",
    "run_batch",
    "spark_session",
    "window_keys",
]
