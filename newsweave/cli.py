"""The command line: a thin adapter over :mod:`newsweave.engine`.

Each command opens the API, calls one method, and turns newsweave errors into
one-line messages and exit codes (0 ok, 1 some inputs failed, 2 usage/store error).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from . import __version__
from .errors import InputError, NewsweaveError, StageError
from .render import FORMATS, render

T = TypeVar("T")

DB_OPTION = click.option(
    "--db",
    envvar="NEWSWEAVE_DB",
    default="newsweave.db",
    show_default=True,
    help="Store: an SQLite file path or a postgresql:// URL (env NEWSWEAVE_DB).",
)
FORMAT_OPTION = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format."
)


def _report_errors(errors: Sequence[InputError | StageError]) -> None:
    for err in errors:
        click.echo(f"error: {err}", err=True)


@contextmanager
def _errors_to_exit() -> Iterator[None]:
    try:
        yield
    except NewsweaveError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def _progress(label: str, length: int | None = None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr (hidden when stderr is not a terminal)."""
    with click.progressbar(length=length or 0, label=label, file=sys.stderr, show_pos=True) as bar:
        yield bar.update


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsweave")
def main() -> None:
    """newsweave: many news reports of the same events, woven into one evidence-linked story.

    Read articles (text, HTML, JSONL, RSS/Atom), group them into stories, and
    show what the sources agree on, what one alone reports, and where they differ.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@FORMAT_OPTION
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="Write here (default stdout)."
)
def analyze(paths: tuple[str, ...], fmt: str, output: Any) -> None:
    """Analyze FILES/DIRS in memory and print the stories they form."""
    from .engine import analyze_articles
    from .ingest import read_paths
    from .models import Article

    with _errors_to_exit():
        items = list(read_paths(paths))
        articles = [a for a in items if isinstance(a, Article)]
        errors: list[InputError | StageError] = [e for e in items if isinstance(e, InputError)]
        with _progress("Analyzing", len(articles)) as step:
            result = analyze_articles(articles, progress=step)
        errors += result.errors
        output.write(render(result.stories, fmt))
        output.write("\n")
    _report_errors(errors)
    if not articles:
        raise click.ClickException("no article could be read from the given paths")
    sys.exit(1 if errors else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True)
@DB_OPTION
@click.option(
    "--ack",
    is_flag=True,
    help="Print 'added|revised|unchanged ID' on stdout as each batch commits (for supervisors).",
)
@click.option("--batch-size", type=click.IntRange(1), default=25, show_default=True, help="Articles per transaction.")
def ingest(paths: tuple[str, ...], db: str, ack: bool, batch_size: int) -> None:
    """Add articles from FILES/DIRS/URLs to the store (the same article twice changes nothing).

    http(s) URLs are fetched through the safe fetcher; .warc/.warc.gz files are
    read with warcio. An update to a known article becomes a new revision.
    """
    from .engine import Newsweave

    def acknowledge(acks: list[tuple[str, str]]) -> None:
        for status, article_id in acks:
            click.echo(f"{status} {article_id}")
        sys.stdout.flush()

    with _errors_to_exit(), Newsweave(db) as nw, _progress("Ingesting") as step:
        report = nw.ingest(paths, progress=step, on_commit=acknowledge if ack else None, batch_size=batch_size)
    _report_errors(report.errors)
    click.echo(
        f"{len(report.added)} added, {len(report.unchanged)} unchanged, {len(report.revised)} revised, "
        f"{len(report.errors)} failed; {len(report.stories)} stories updated",
        err=True,
    )
    sys.exit(1 if report.errors else 0)


@main.command()
@DB_OPTION
@FORMAT_OPTION
@click.option("--limit", type=int, default=None, help="At most this many stories.")
def stories(db: str, fmt: str, limit: int | None) -> None:
    """List the stories in the store (--format json: the full contract object)."""
    from .engine import Newsweave

    with _errors_to_exit(), Newsweave(db) as nw:
        if fmt == "text":
            rows = nw.stories(limit=limit)
            for r in rows:
                click.echo(f"{r['id']}  {r['articles']:>3} articles  {r['sources']:>2} outlets  {r['headline']}")
            if not rows:
                click.echo("no stories yet: add articles with `newsweave ingest PATH`", err=True)
            return
        rows = nw.stories(limit=limit)
        click.echo(render([nw.story(r["id"]) for r in rows], fmt))


@main.command()
@DB_OPTION
def quarantine(db: str) -> None:
    """List the quarantined inputs, one line each: origin, attempts, reason."""
    from .engine import Newsweave

    with _errors_to_exit(), Newsweave(db) as nw:
        rows = nw.store.quarantined()
    for r in rows:
        click.echo(f"{r['origin']}\t{r['attempts']}x\t{r['reason']}")
    if not rows:
        click.echo("nothing in quarantine", err=True)


@main.command()
@click.argument("feeds", type=click.Path(exists=True, dir_okay=False))
@DB_OPTION
@click.option("--interval", type=click.IntRange(60), default=900, show_default=True, help="Default poll interval (s).")
@click.option(
    "--politeness", type=float, default=1.0, show_default=True, help="Least gap between requests to a host (s)."
)
@click.option("--once", is_flag=True, help="Poll every due feed once, print the feeds' health, and stop.")
@click.option("--status", "status_only", is_flag=True, help="Only print the feeds' health from the store.")
def watch(feeds: str, db: str, interval: int, politeness: float, once: bool, status_only: bool) -> None:
    """Watch the feeds of FEEDS (an OPML file or one URL per line) and ingest new articles.

    Each feed is polled on its own schedule with conditional GET, backs off
    when it fails, and is polite per host; article pages obey robots.txt.
    Stop with Ctrl-C; a restarted watcher carries on from the store.
    """
    from .engine import Newsweave
    from .watch import PollResult, Watcher, health_lines, read_feed_list

    def show(result: PollResult) -> None:
        counts = f"+{result.added} ~{result.revised} ={result.unchanged} !{result.errors}"
        click.echo(f"{result.status:<12} {counts:<18} {result.url}  {result.message}".rstrip(), err=True)

    with _errors_to_exit(), Newsweave(db) as nw:
        specs = read_feed_list(feeds, interval_s=interval)
        if not status_only:
            watcher = Watcher(nw, specs, politeness_s=politeness)
            try:
                watcher.run(cycles=1 if once else None, on_poll=show)
            except KeyboardInterrupt:
                click.echo("stopped", err=True)
        urls = {s.url for s in specs}
        for line in health_lines(r for r in nw.store.feed_rows() if r["url"] in urls):
            click.echo(line)


@main.command()
@click.argument("story_id")
@DB_OPTION
@FORMAT_OPTION
def show(story_id: str, db: str, fmt: str) -> None:
    """Print one story (an id of a story merged into another still works)."""
    from .engine import Newsweave

    with _errors_to_exit(), Newsweave(db) as nw:
        click.echo(render([nw.story(story_id)], fmt))


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
def cluster(path: str, fmt: str) -> None:
    """Group the articles of a JSONL file; print one {"id", "story"} line per article, in input order."""
    from pathlib import Path

    from .ingest import read_jsonl
    from .models import Article

    with _errors_to_exit():
        items = list(read_jsonl(Path(path)))
        articles = [a for a in items if isinstance(a, Article)]
        errors: list[InputError | StageError] = [e for e in items if isinstance(e, InputError)]
        placements = _place_all(articles)
        for a in articles:
            if a.id in placements:
                click.echo(json.dumps({"id": a.id, "story": placements[a.id]}))
    _report_errors(errors)
    sys.exit(1 if errors else 0)


@main.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--engine", type=click.Choice(["spark"]), default="spark", show_default=True, help="Batch engine.")
@click.option("--master", default=None, help="Spark master: local[N], spark://HOST:7077, yarn, k8s://... .")
@click.option("-o", "--output", required=True, help="Output directory (local or Hadoop URI): articles/, stories/.")
@click.option("--format", "input_format", type=click.Choice(["auto", "jsonl", "parquet", "warc"]), default="auto")
@click.option("--window-days", type=int, default=56, show_default=True, help="Time window width.")
@click.option("--overlap-days", type=int, default=14, show_default=True, help="Look-back shared by windows.")
@click.option("--partitions", type=int, default=None, help="Spark partitions (default 2x parallelism).")
@click.option("--no-analyze", is_flag=True, help="Place articles only; skip extract/align/summarize.")
@click.option("--conf", "confs", multiple=True, metavar="KEY=VALUE", help="Extra Spark setting (repeatable).")
@click.option("--load-into", "load_db", default=None, help="Then load the output into this store (path or URL).")
def batch(
    inputs: tuple[str, ...],
    engine: str,
    master: str | None,
    output: str,
    input_format: str,
    window_days: int,
    overlap_days: int,
    partitions: int | None,
    no_analyze: bool,
    confs: tuple[str, ...],
    load_db: str | None,
) -> None:
    """Run ingest, dedupe, cluster and analyze on Spark over INPUTS (JSONL, Parquet, WARC); write Parquet.

    See docs/spark.md for running it on a cluster with spark-submit.
    """
    from .spark import BatchConfig, load_output, run_batch, spark_session

    conf = dict(c.split("=", 1) for c in confs if "=" in c)
    with _errors_to_exit():
        cfg = BatchConfig(
            window_days=window_days,
            overlap_days=overlap_days,
            partitions=partitions,
            analyze=not no_analyze,
            input_format=input_format,
        )
        spark = spark_session(master, conf)
        report = run_batch(spark, list(inputs), output, cfg)
        click.echo(json.dumps(report.to_dict()))
        if load_db:
            added = load_output(spark, output, load_db)
            click.echo(f"{added} articles loaded into {load_db}", err=True)
    sys.exit(1 if report.errors else 0)


def _place_all(articles: Sequence[Any]) -> dict[str, str]:
    """Stream articles through the clustering engine; later merges relabel earlier articles."""
    from .evaluate import place_stream

    with _progress("Clustering", len(articles)) as step:
        return place_stream(articles, step=step)


@main.command()
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
@click.option("--public-reads", is_flag=True, help="Let non-loopback clients read without the API token.")
def serve(db: str, host: str, port: int, public_reads: bool) -> None:
    """Serve the web pages and the REST API (docs at /docs) on the store; writes need the API token."""
    try:
        from .api import serve as run_server
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            f"serve needs the web extra (missing {exc.name}): pip install 'newsweave[web]'"
        ) from exc
    with _errors_to_exit():
        run_server(db, host=host, port=port, public_reads=public_reads)


@main.group()
def eval() -> None:
    """Measure quality on labelled data."""


@eval.command("clustering")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def eval_clustering(path: str, as_json: bool) -> None:
    """B-cubed and pairwise P/R/F1 of clustering a labelled JSONL (gold in `story`)."""
    from .evaluate import clustering_scores, load_labelled

    with _errors_to_exit():
        articles, gold = load_labelled(path)
        pred = _place_all(articles)
        scores = clustering_scores(gold, pred)
    if as_json:
        click.echo(json.dumps(scores, indent=2))
        return
    b, p = scores["bcubed"], scores["pairwise"]
    click.echo(
        f"articles {scores['articles']}  gold stories {scores['gold_stories']}  "
        f"predicted stories {scores['predicted_stories']}"
    )
    click.echo(f"B-cubed   P {b['precision']:.3f}  R {b['recall']:.3f}  F1 {b['f1']:.3f}")
    click.echo(f"pairwise  P {p['precision']:.3f}  R {p['recall']:.3f}  F1 {p['f1']:.3f}")


@eval.command("summary")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--words", type=int, default=67, show_default=True, help="Word budget of every summary.")
@click.option("--limit", type=int, default=None, help="Only the first N records.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores as JSON.")
def eval_summary(path: str, words: int, limit: int | None, as_json: bool) -> None:
    """ROUGE-1/2/L of newsweave's summaries and the lead and LexRank baselines (NeuS-style JSONL)."""
    from .evaluate_summary import evaluate, load_records

    with _errors_to_exit():
        scores = evaluate(load_records(path, limit=limit), words=words)
    if as_json:
        click.echo(json.dumps(scores.to_dict(), indent=2))
        return
    click.echo(f"records {scores.records}  budget {scores.words} words")
    click.echo(f"{'method':<10} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8}")
    for method, r in scores.rouge.items():
        click.echo(f"{method:<10} {r['rouge1']:>8.2f} {r['rouge2']:>8.2f} {r['rougeL']:>8.2f}")
    click.echo(f"newsweave sentences cited: {scores.cited_sentences}/{scores.summary_sentences}")


if __name__ == "__main__":  # pragma: no cover
    main()
