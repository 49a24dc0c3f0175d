"""Crash safety: kill -9 the ingesting process at random points, restart, and lose nothing acknowledged.

``newsweave ingest --ack`` prints ``added|revised|unchanged ID`` only after the
transaction holding those articles (and the clusterer state) has committed.
Each cycle kills the process with SIGKILL after a random number of
acknowledgements plus a random delay, then the next cycle restarts the same
ingestion. Afterwards every acknowledged article must be stored exactly once
and the store must pass its integrity check.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from newsweave.store import Store, articles_t

pytestmark = pytest.mark.slow

#: Kill-restart cycles in CI (each ~2-4 s on a 2-core machine); the seed makes the kill points reproducible.
CYCLES = 10
SEED = 20241001
TOPICS = ["Dam", "Orchard", "Election", "Storm", "Bridge", "Strike"]


def make_corpus(root: Path, n: int = 60) -> Path:
    """n JSONL records on a few topics, and a couple of text files."""
    corpus = root / "corpus"
    corpus.mkdir()
    lines = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        lines.append(
            json.dumps(
                {
                    "id": f"r{i:03d}",
                    "title": f"{topic} update number {i}",
                    "text": f"{topic} report {i}: officials said the situation in district {i % 7} was changing, "
                    f"and residents were told to follow the {topic.lower()} advice issued on day {i}.",
                    "source": f"outlet{i % 5}",
                }
            )
        )
    (corpus / "batch.jsonl").write_text("\n".join(lines) + "\n")
    (corpus / "extra-dam.txt").write_text(
        "Dam inspectors return\n\nInspectors returned to the dam on Friday morning.\n"
    )
    return corpus


def run_ingest(
    db: str, corpus: Path, env: dict[str, str], kill_after_acks: int | None, extra_delay: float
) -> tuple[list[str], bool]:
    """Run one ingestion; SIGKILL it after that many acks (+ delay).

    Returns:
        The acknowledged ids, and whether the kill hit a running process.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsweave", "ingest", str(corpus), "--db", db, "--ack", "--batch-size", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    acked: list[str] = []
    killed = False
    enough = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("added", "revised", "unchanged"):
                acked.append(parts[1])
                if kill_after_acks is not None and len(acked) >= kill_after_acks:
                    enough.set()
        enough.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    if kill_after_acks is not None:
        enough.wait(timeout=120)
        time.sleep(extra_delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
    proc.wait(timeout=300)
    t.join(timeout=10)
    return acked, killed


def crash_cycles(db: str, corpus: Path, env: dict[str, str], cycles: int, seed: int) -> tuple[set[str], int]:
    rng = random.Random(seed)
    acknowledged: set[str] = set()
    kills = 0
    for _ in range(cycles):
        acked, killed = run_ingest(db, corpus, env, rng.randint(0, 30), rng.uniform(0, 0.4))
        acknowledged.update(acked)
        kills += killed
    acknowledged.update(run_ingest(db, corpus, env, kill_after_acks=None, extra_delay=0)[0])
    return acknowledged, kills


def assert_exactly_once(db: str, acknowledged: set[str], expected_total: int) -> None:
    store = Store(db)
    try:
        ids = [r["id"] for r in store.all_articles()]
        assert len(ids) == len(set(ids))
        missing = acknowledged - set(ids)
        assert not missing, f"acknowledged but lost: {sorted(missing)[:5]}"
        assert len(ids) == expected_total
        from sqlalchemy import func, select

        with store.engine.connect() as conn:
            dup = conn.execute(
                select(articles_t.c.content_hash).group_by(articles_t.c.content_hash).having(func.count() > 1)
            ).all()
        assert dup == []
        assert store.check() == []
    finally:
        store.close()


def test_crash_kill9_mid_batch_loses_nothing_acknowledged(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    db = str(tmp_path / "crash.db")
    env = {**os.environ, "NEWSWEAVE_EMBEDDER": "hashing"}
    acknowledged, kills = crash_cycles(db, corpus, env, CYCLES, SEED)
    assert kills >= CYCLES - 2 and len(acknowledged) == 61  # a process may finish before its kill point
    assert_exactly_once(db, acknowledged, 61)
    n = len(acknowledged)
    print(f"{kills} kill -9s in {CYCLES} crash-restart cycles, {n} articles acknowledged, {n} present, 0 duplicates")


def test_crash_kill9_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    corpus = make_corpus(tmp_path, n=24)
    env = {**os.environ, "NEWSWEAVE_EMBEDDER": "hashing"}
    acknowledged, _ = crash_cycles(pg_url, corpus, env, 3, SEED + 1)
    assert_exactly_once(pg_url, acknowledged, 25)


def test_crash_default_pipeline_is_crash_safe_too(tmp_path: Path) -> None:
    """The real default path (MiniLM embedder, full analysis) under two kills."""
    corpus = make_corpus(tmp_path, n=12)
    db = str(tmp_path / "default.db")
    env = {k: v for k, v in os.environ.items() if k != "NEWSWEAVE_EMBEDDER"}
    acknowledged, _ = crash_cycles(db, corpus, env, 2, SEED + 2)
    assert_exactly_once(db, acknowledged, 13)
