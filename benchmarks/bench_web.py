"""Latency of the web server under load: the story page and an API route, 50 loopback clients, 30 s each.

Starts ``newsweave serve`` in a subprocess on a free 127.0.0.1 port over a
store (``--db``, or a temporary one holding ``demo/corpus``), then for each
route runs ``--clients`` concurrent keep-alive HTTP/1.1 clients for
``--duration`` seconds and prints requests, errors, throughput and p50/p90/p99
latency. Loopback only; the run stops itself (time limit and request cap).

    .venv/bin/python benchmarks/bench_web.py                 # 50 clients x 30 s per route
    .venv/bin/python benchmarks/bench_web.py --duration 5    # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, by design
MAX_REQUESTS = 2_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def prepare_store(db: str | None, workdir: Path) -> str:
    """The store to serve: the given one, or a new one with the demo corpus ingested."""
    if db:
        return db
    path = workdir / "bench.db"
    from newsweave.engine import Newsweave

    with Newsweave(str(path)) as nw:
        report = nw.ingest([ROOT / "demo" / "corpus"])
    if report.errors:
        raise SystemExit(f"could not ingest the demo corpus: {report.errors[0]}")
    return str(path)


def wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/api/stories?limit=1", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer within 60 s")


async def client(port: int, path: str, deadline: float, latencies: list[float], errors: list[str]) -> None:
    """One keep-alive client: GET ``path`` again and again until the deadline."""
    reader, writer = await asyncio.open_connection(HOST, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: keep-alive\r\n\r\n".encode()
    try:
        while time.monotonic() < deadline and len(latencies) < MAX_REQUESTS:
            t0 = time.perf_counter()
            writer.write(request)
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(str(status))
    except (OSError, asyncio.IncompleteReadError) as exc:
        errors.append(type(exc).__name__)
    finally:
        writer.close()


async def load(port: int, path: str, clients: int, duration: float) -> tuple[list[float], list[str], float]:
    latencies: list[float] = []
    errors: list[str] = []
    start = time.monotonic()
    deadline = start + duration
    await asyncio.gather(*(client(port, path, deadline, latencies, errors) for _ in range(clients)))
    return latencies, errors, time.monotonic() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="store to serve (default: a temporary store with demo/corpus)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load per route")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = prepare_store(args.db, Path(tmp))
        port = free_port()
        base = f"http://{HOST}:{port}"
        env = {**os.environ, "NEWSWEAVE_TOKEN": "bench-token"}
        cmd = [sys.executable, "-m", "newsweave", "serve", "--db", db, "--host", HOST, "--port", str(port)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_ready(base, proc)
            with urllib.request.urlopen(base + "/api/stories?limit=200", timeout=10) as res:
                rows = json.load(res)["stories"]
            if not rows:
                raise SystemExit("the store holds no story to load")
            story = max(rows, key=lambda r: r["articles"])
            routes = [("story page", f"/stories/{story['id']}"), ("API story", f"/api/stories/{story['id']}")]
            print(
                f"server: newsweave serve (uvicorn, 1 process) at {base}; story {story['id']} "
                f"({story['articles']} articles); {args.clients} clients x {args.duration:g} s per route"
            )
            print(
                f"{'route':<12} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} "
                f"{'p99 ms':>8} {'max ms':>8}"
            )
            for name, path in routes:
                latencies, errors, elapsed = asyncio.run(load(port, path, args.clients, args.duration))
                if not latencies:
                    print(f"{name:<12} no successful request; errors: {errors[:5]}")
                    continue
                ms = [x * 1000 for x in latencies]
                print(
                    f"{name:<12} {len(ms):>9} {len(errors):>7} {len(ms) / elapsed:>8.1f} "
                    f"{statistics.median(ms):>8.1f} {percentile(ms, 0.90):>8.1f} {percentile(ms, 0.99):>8.1f} "
                    f"{max(ms):>8.1f}"
                )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
