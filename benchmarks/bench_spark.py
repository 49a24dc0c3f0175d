"""Cost growth of the Spark batch engine: wall time, articles/s and peak memory per corpus size.

    python benchmarks/bench_spark.py [--sizes 10000 100000 1000000] [--master local[2]] [--analyze-max 10000]
                                     [--compare-max 10000] [--work /tmp/nw-bench] [--keep-output]

Each size is a stream synthesized from the real sets (``benchmarks/synth.py``:
ECB+ and NeuS events, dated, with wire copies), written as JSONL, then run
through ``run_batch`` (ingest → dedupe → cluster → reconcile → Parquet). Per
size it prints:

* wall time and articles/s of the batch (per-article cost: flat if the engine scales);
* peak RSS of the driver's Python process, of the JVM (driver and, in local mode,
  the executors), and of the Python workers together, sampled every 0.2 s;
* CPU seconds of the three (and per article): unlike wall time, not inflated by
  other jobs on shared cores; and the 5-minute load average at the end;
* B-cubed F1 of the Spark stories against the synthetic gold (computed in Spark);
* up to ``--compare-max``: B-cubed F1 between Spark and the single-machine engine
  (``place_stream``, file order), the equivalence figure on dated, multi-window data;
* up to ``--analyze-max``: the same run with extract/align/summarize per story.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.synth import synthesize
from newsweave.spark import BatchConfig, run_batch, spark_session

ROOT = Path(__file__).resolve().parent.parent
#: The files the figures depend on: the commit line says when they differ from HEAD.
OWN = (
    "newsweave/spark.py",
    "newsweave/cluster.py",
    "newsweave/events.py",
    "newsweave/features.py",
    "newsweave/dedupe.py",
)


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _cpu_s(pid: int, children: bool) -> float:
    """CPU seconds of a process (user + system), with its reaped children's when asked."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(v) for v in fields[11 : 15 if children else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


class MemorySampler:
    """Peak RSS and CPU seconds of the driver Python process, the JVM, and the Python workers (from /proc).

    CPU seconds are what each part consumed whatever else runs on the machine
    (wall time is not, on shared cores): a worker's time counts in its own
    entry while it lives and in its parent's reaped-children time after.
    """

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = {"driver_py": 0, "jvm": 0, "workers_py": 0}
        self.cpu = {"driver_py": 0.0, "jvm": 0.0, "workers_py": 0.0}
        self._start: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._start = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        end = self._sample()
        self.cpu = {key: max(self.cpu[key], end[key]) - self._start[key] for key in self.cpu}

    def _sample(self) -> dict[str, float]:
        me = os.getpid()
        jvm = workers = 0
        cpu = {"driver_py": _cpu_s(me, children=False), "jvm": 0.0, "workers_py": 0.0}
        stack = _children(me)
        while stack:
            pid = stack.pop()
            stack += _children(pid)
            cmd = _cmdline(pid)
            if "java" in cmd.split(" ")[0]:
                jvm += _rss_kib(pid)
                cpu["jvm"] += _cpu_s(pid, children=False)
            elif "python" in cmd:
                workers += _rss_kib(pid)
                cpu["workers_py"] += _cpu_s(pid, children=True)
        for key, value in (("driver_py", _rss_kib(me)), ("jvm", jvm), ("workers_py", workers)):
            self.peak[key] = max(self.peak[key], value)
        return cpu

    def _run(self) -> None:
        while not self._stop.is_set():
            for key, value in self._sample().items():
                self.cpu[key] = max(self.cpu[key], value)
            self._stop.wait(self.interval)


def write_stream(n: int, path: Path, seed: int) -> None:
    """The synthetic stream of ``n`` articles as JSONL with its gold ``story``."""
    if path.exists():
        return
    tmp = path.with_suffix(".part")
    with tmp.open("w", encoding="utf-8") as fh:
        for art, story in synthesize(n, seed=seed):
            rec: dict[str, Any] = {"id": art.id, "story": story, "title": art.title, "text": art.text}
            rec.update({"published": art.published, "source": art.source})
            fh.write(json.dumps(rec) + "\n")
    tmp.rename(path)


def bcubed_in_spark(spark: Any, gold_path: Path, output: Path) -> float:
    """B-cubed F1 of the output's stories against the gold ``story`` field, aggregated in Spark."""
    from pyspark.sql import functions as F

    gold = spark.read.json(str(gold_path)).select("id", F.col("story").alias("gold"))
    pred = spark.read.parquet(str(output / "articles")).select("id", F.col("story").alias("pred"))
    return bcubed_df(gold.join(pred, "id"), "gold", "pred")


def bcubed_df(df: Any, gold: str, pred: str) -> float:
    """B-cubed F1 from a DataFrame of (gold label, predicted label) per item: sums of n_gp^2/n_p and n_gp^2/n_g."""
    from pyspark.sql import functions as F

    cells = df.groupBy(gold, pred).agg(F.count("*").alias("n"))
    n_p = df.groupBy(pred).agg(F.count("*").alias("np"))
    n_g = df.groupBy(gold).agg(F.count("*").alias("ng"))
    row = (
        cells.join(n_p, pred)
        .join(n_g, gold)
        .agg(
            F.sum(F.col("n") * F.col("n") / F.col("np")).alias("p"),
            F.sum(F.col("n") * F.col("n") / F.col("ng")).alias("r"),
            F.sum("n").alias("total"),
        )
        .first()
    )
    p, r = row["p"] / row["total"], row["r"] / row["total"]
    return 2 * p * r / (p + r) if p + r else 0.0


def _place_single(path: Path) -> tuple[dict[str, str], float]:
    """The single-machine partition of a JSONL file and its placement CPU seconds (run in a child process)."""
    from newsweave.evaluate import place_stream
    from newsweave.ingest import read_jsonl
    from newsweave.models import Article

    articles = [a for a in read_jsonl(path) if isinstance(a, Article)]
    cpu = time.process_time()
    single = place_stream(articles)
    return single, time.process_time() - cpu


def single_machine_f1(spark: Any, path: Path, output: Path) -> tuple[float, float]:
    """B-cubed F1 between the Spark stories and the single-machine engine's on the same file, and the
    CPU seconds of that single-machine placement (one process: the reference cost per article).

    The single-machine run is a child process, so its memory does not count in the driver's peak
    RSS of the sizes measured after it.
    """
    from newsweave.evaluate import bcubed

    with concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        single, cpu = pool.submit(_place_single, path).result()
    rows = spark.read.parquet(str(output / "articles")).select("id", "story").toLocalIterator()
    distributed = {r["id"]: r["story"] for r in rows}
    return bcubed(single, distributed)["f1"], cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--analyze-max", type=int, default=10_000, help="Also run analysis up to this size.")
    parser.add_argument("--compare-max", type=int, default=10_000, help="Compare with one machine up to this size.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsweave-bench-spark"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-output", action="store_true", help="Keep each size's Parquet output (default: delete).")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="Extra Spark setting.")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    spark = spark_session(
        args.master,
        {
            "spark.ui.enabled": "false",
            "spark.driver.memory": "2g",
            "spark.sql.shuffle.partitions": "8",
            "spark.local.dir": str(args.work / "spark-tmp"),
            **dict(c.split("=", 1) for c in args.conf),
        },
        app_name="newsweave-bench",
    )
    spark.sparkContext.setLogLevel("ERROR")
    header = (
        f"{'articles':>9} {'stage':<8} {'wall s':>8} {'art/s':>7} {'ms/art':>7} "
        f"{'driver py MiB':>13} {'JVM MiB':>8} {'workers MiB':>11} {'CPU s':>7} {'CPU ms/art':>10} {'load':>5} "
        f"{'windows':>7} {'B3 F1 gold':>10} {'vs 1-mach':>9}"
    )
    git = functools.partial(subprocess.run, capture_output=True, text=True, cwd=ROOT)
    commit = git(["git", "rev-parse", "--short", "HEAD"]).stdout
    dirty = git(["git", "status", "--porcelain", "--", *OWN]).stdout
    print(f"commit {commit.strip()}{' (+ uncommitted changes)' if dirty.strip() else ''}", flush=True)
    print(f"master {args.master}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}", flush=True)
    print(header, flush=True)
    for n in args.sizes:
        path = args.work / f"synth-{n}.jsonl"
        write_stream(n, path, args.seed)
        stages = [("place", False)] + ([("all", True)] if n <= args.analyze_max else [])
        for stage, analyze in stages:
            out = args.work / f"out-{n}-{stage}"
            with MemorySampler() as mem:
                t = time.perf_counter()
                report = run_batch(spark, [str(path)], str(out), BatchConfig(analyze=analyze, partitions=8))
                wall = time.perf_counter() - t
            f1 = bcubed_in_spark(spark, path, out)
            vs, single_cpu = "-", None
            if n <= args.compare_max and not analyze:
                f1_single, single_cpu = single_machine_f1(spark, path, out)
                vs = f"{f1_single:.4f}"
            peak = {k: v / 1024 for k, v in mem.peak.items()}
            cpu = sum(mem.cpu.values())
            print(
                f"{n:>9} {stage:<8} {wall:>8.1f} {n / wall:>7.0f} {1000 * wall / n:>7.2f} "
                f"{peak['driver_py']:>13.0f} {peak['jvm']:>8.0f} {peak['workers_py']:>11.0f} "
                f"{cpu:>7.0f} {1000 * cpu / n:>10.2f} {os.getloadavg()[1]:>5.1f} "
                f"{report.windows:>7} {f1:>10.4f} {vs:>9}",
                flush=True,
            )
            print(
                "          CPU s: driver {driver_py:.0f}, JVM {jvm:.0f}, Python workers {workers_py:.0f}".format(
                    **mem.cpu
                ),
                flush=True,
            )
            if single_cpu is not None:
                print(f"          single-machine placement (one process, in order): CPU {single_cpu:.0f} s", flush=True)
            if not args.keep_output:
                shutil.rmtree(out, ignore_errors=True)
    print(f"driver max RSS over the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    spark.stop()


if __name__ == "__main__":
    main()
