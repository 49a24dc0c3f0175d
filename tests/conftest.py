"""Shared fixtures: temporary stores, the demo corpus, the shared evaluation data."""

from __future__ import annotations

from pathlib import Path

import pytest
from canned_http import http_server  # noqa: F401  (loopback HTTP server: tests/canned_http.py)
from pgserver import pg_server, pg_url  # noqa: F401  (PostgreSQL fixtures: tests/pgserver.py)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo" / "corpus"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "corpus" / "seeds"
ECBPLUS = SHARED / "eval" / "ecbplus"
NEUS = SHARED / "eval" / "neus"


def need_shared(path: Path) -> Path:
    """The path under ../shared, or skip the test with the reason."""
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared evaluation data is not beside this checkout")
    return path


@pytest.fixture
def demo_dir() -> Path:
    return DEMO


@pytest.fixture
def seeds_dir() -> Path:
    return need_shared(SEEDS)


@pytest.fixture
def fresh_db(tmp_path: Path) -> str:
    """A path for a new, empty SQLite store."""
    return str(tmp_path / "test.db")
