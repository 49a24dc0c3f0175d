"""Two ingesting processes and readers (the REST API, the Python API) on one store at once.

No lost writes: every article either process acknowledged is stored once, the
clusterer state covers all of them (each writer reloads it when the other
saved a newer one), and the store passes its integrity check. No deadlock:
everything finishes within the time limit. Readers never fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from newsweave.engine import Newsweave
from newsweave.store import Store

pytestmark = pytest.mark.slow

TOPICS = ["Dam", "Orchard", "Election", "Storm", "Bridge"]


def write_corpus(path: Path, ids: range) -> None:
    lines = [
        json.dumps(
            {
                "id": f"c{i:03d}",
                "title": f"{TOPICS[i % 5]} news item {i}",
                "text": f"{TOPICS[i % 5]} report {i}: officials in district {i % 7} described the events of day {i}.",
                "source": f"outlet{i % 4}",
            }
        )
        for i in ids
    ]
    path.write_text("\n".join(lines) + "\n")


def start_writer(db: str, corpus: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "newsweave", "ingest", str(corpus), "--db", db, "--ack", "--batch-size", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )


def run_concurrently(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_api: bool, n: int = 50
) -> dict[str, Any]:
    """Writer A ingests articles [0, 0.6n), writer B [0.4n, n): a fifth of them are offered by both."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_corpus(a, range(0, n * 3 // 5))
    write_corpus(b, range(n * 2 // 5, n))
    env = {**os.environ, "NEWSWEAVE_EMBEDDER": "hashing"}
    monkeypatch.setenv("NEWSWEAVE_EMBEDDER", "hashing")
    Store(db).close()  # create the schema first, as a deployment would
    stop = threading.Event()
    reads: list[int] = []
    failures: list[str] = []

    def python_reader() -> None:
        n = 0
        with Newsweave(db) as nw:
            while not stop.is_set():
                try:
                    nw.stories(limit=20)
                    nw.store.count_articles()
                    n += 1
                except Exception as exc:  # any failure is a finding
                    failures.append(f"python reader: {type(exc).__name__}: {exc}")
                time.sleep(0.1)
        reads.append(n)

    def api_reader() -> None:
        from fastapi.testclient import TestClient

        from newsweave.api import create_app

        n = 0
        app = create_app(db, token="t" * 32)
        with TestClient(app, client=("127.0.0.1", 50001)) as client:
            while not stop.is_set():
                r = client.get("/api/stories", params={"limit": 5})
                if r.status_code != 200:
                    failures.append(f"api list: {r.status_code} {r.text[:200]}")
                else:
                    for row in r.json()["stories"][:1]:
                        one = client.get(f"/api/stories/{row['id']}")  # may analyze: a reader that writes
                        if one.status_code != 200:
                            failures.append(f"api story: {one.status_code} {one.text[:200]}")
                n += 1
                time.sleep(0.2)
        reads.append(n)

    readers = [threading.Thread(target=python_reader)]
    if use_api:
        pytest.importorskip("fastapi")
        readers.append(threading.Thread(target=api_reader))
    for t in readers:
        t.start()
    procs = [start_writer(db, a, env), start_writer(db, b, env)]
    outputs = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=420)
            outputs.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        stop.set()
        for t in readers:
            t.join(timeout=120)
    acked = {line.split()[1] for _, out, _ in outputs for line in out.splitlines() if line.split()[:1] == ["added"]}
    return {"outputs": outputs, "acked": acked, "reads": reads, "failures": failures}


def assert_no_lost_writes(db: str, result: dict[str, Any], n: int) -> None:
    for code, _, err in result["outputs"]:
        assert code == 0, err[-2000:]
    assert result["failures"] == []
    assert all(n > 0 for n in result["reads"])
    store = Store(db)
    try:
        ids = [r["id"] for r in store.all_articles()]
        assert len(ids) == len(set(ids)) == n
        assert result["acked"] <= set(ids) and len(result["acked"]) == n  # each article added by exactly one writer
        assert store.check() == []
    finally:
        store.close()


def test_concurrency_two_writers_and_readers_on_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "shared.db")
    result = run_concurrently(db, tmp_path, monkeypatch, use_api=True, n=50)
    assert_no_lost_writes(db, result, 50)


def test_concurrency_two_writers_and_readers_on_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    result = run_concurrently(pg_url, tmp_path, monkeypatch, use_api=False, n=25)
    assert_no_lost_writes(pg_url, result, 25)
