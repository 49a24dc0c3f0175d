"""A throwaway PostgreSQL server for the tests, started by the tests themselves.

``initdb``/``pg_ctl`` from Debian's ``postgresql`` package run in a temporary
directory, on a free port, with the unix socket in that directory (nothing
listens beyond loopback). initdb refuses to run as root, so as root the server
runs as the ``postgres`` system user. Where no server can be had, the fixture
skips with the reason.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def pg_bindir() -> Path | None:
    """The newest PostgreSQL server bin directory (``$NEWSWEAVE_PG_BINDIR`` wins)."""
    env = os.environ.get("NEWSWEAVE_PG_BINDIR")
    if env:
        return Path(env) if (Path(env) / "initdb").exists() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A running throwaway server; :meth:`new_database` gives each test its own database."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="newsweave-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no 'postgres' user to run the server as") from None
            if not shutil.which("runuser"):
                raise RuntimeError("running as root and runuser is missing")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.user = "postgres" if self.as_user else pwd.getpwuid(os.geteuid()).pw_name
        self.version = ""

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, *args], capture_output=True, text=True, timeout=timeout, check=True, cwd=self.root
        )

    def start(self) -> None:
        """initdb, then start the server listening on loopback only."""
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "start"
        )
        out = self._run(str(self.bindir / "postgres"), "--version").stdout
        found = re.search(r"\d+(?:\.\d+)+", out)
        self.version = found.group(0) if found else out.strip()

    def stop(self) -> None:
        """Stop the server and remove its files."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop", timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A ``postgresql://`` URL for a database on this server (over TCP on loopback)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database; return its URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_server() -> PgServer:
    """Start a server or raise RuntimeError saying why it cannot be had."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError(
            "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): "
            "run scripts/system-deps.sh as root, or set NEWSWEAVE_PG_BINDIR"
        )
    try:
        import psycopg  # noqa: F401
    except ModuleNotFoundError:
        raise RuntimeError("psycopg is not installed: pip install 'newsweave[postgres]'") from None
    server = PgServer(bindir)
    try:
        server.start()
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        server.stop()
        raise RuntimeError(f"could not start PostgreSQL from {bindir}: {detail.strip()[:300]}") from exc
    return server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole test session (skips when none can be had)."""
    try:
        server = start_server()
    except RuntimeError as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty PostgreSQL database per test, as a ``postgresql://`` URL."""
    return pg_server.new_database()
