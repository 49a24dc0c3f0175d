"""A corpus of hostile and malformed inputs, generated here: each gets a clear error and a quarantine row.

Every bad input must (1) produce an error naming it and saying why, (2) be
listed in quarantine, one row per input, (3) never crash the batch: the good
articles given alongside are all stored.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest
from stubs import stub_pipeline

from newsweave.engine import Newsweave
from newsweave.ingest import MAX_FEED_ENTRIES

GOOD_TEXT = "Engineers opened two spillway gates at the Larkmoor dam on Tuesday after heavy rain, officials said."


def _rss(items: str, encoding: str = "utf-8") -> str:
    head = f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0">'
    return f"{head}<channel><title>T</title>{items}</channel></rss>"


def _item(i: int, guid: str | None = None, date: str = "Tue, 01 Oct 2024 10:00:00 GMT") -> str:
    return (
        f"<item><guid>{guid or f'g{i}'}</guid><link>https://t.example/{i}</link><title>Entry {i}</title>"
        f"<description>Entry {i}: {GOOD_TEXT}</description><pubDate>{date}</pubDate></item>"
    )


def make_bad_corpus(root: Path) -> dict[str, str]:
    """Write the hostile inputs; return {file name: what its error must say}."""
    rng = random.Random(7)
    bad = root / "bad"
    bad.mkdir()
    expect: dict[str, str] = {}

    def put(name: str, data: bytes, why: str) -> None:
        (bad / name).write_bytes(data)
        expect[name] = why

    put("binary.txt", bytes(rng.randrange(256) for _ in range(5000)) + b"\x00" * 10, "binary file")
    put("zero.txt", b"", "empty file (0 bytes)")
    put("zero.jsonl", b"", "empty file (0 bytes)")
    put("noise.txt", bytes(rng.choice(range(0x80, 0x100)) for _ in range(3000)), "undecodable text")
    put(
        "latin1.jsonl",
        json.dumps({"id": "l1", "title": "Café", "text": GOOD_TEXT})
        .encode()
        .replace(b"Caf\\u00e9", "Café".encode("latin-1")),
        "not UTF-8",
    )
    put(
        "laughs.xml",
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(f'<!ENTITY lol{i} "{"&lol{};".format(i - 1 if i > 1 else "") * 10}">' for i in range(1, 10))
            + "]>"
            + _rss(_item(1).replace("Entry 1:", "&lol9;")).split("?>", 1)[1]
        ).encode(),
        "entity expansion",
    )
    put("deep.html", b"<html><body>" + b"<div>" * 200_000 + b"text" + b"</div>" * 200_000 + b"</body></html>", "HTML")
    put("deep.jsonl", b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested")
    put("deep.xml", (_rss("").replace("<channel>", "<channel>" + "<x>" * 50_000)).encode(), "feed")
    full_feed = _rss("".join(_item(i) for i in range(5))).encode()
    put("truncated.xml", full_feed[: len(full_feed) // 2], "feed")
    put(
        "truncated.jsonl",
        json.dumps({"id": "t1", "title": "T", "text": GOOD_TEXT})[:40].encode() + b"\n",
        "malformed JSON",
    )
    put("huge-line.jsonl", b'{"id": "h", "text": "' + b"a" * (50 * 1024 * 1024) + b'"}\n', "line too long")
    put("many.xml", _rss("".join(_item(i) for i in range(10_000))).encode(), f"only the first {MAX_FEED_ENTRIES}")
    put(
        "dupes.jsonl",
        b"\n".join(json.dumps({"id": "d1", "title": f"T{i}", "text": f"{i} {GOOD_TEXT}"}).encode() for i in range(2)),
        "duplicate id 'd1'",
    )
    put("dupes.xml", _rss(_item(1, guid="same") + _item(2, guid="same")).encode(), "duplicate entry id 'same'")
    put(
        "year9999.jsonl",
        json.dumps({"id": "y", "title": "Future", "text": GOOD_TEXT, "published": "9999-12-31"}).encode(),
        "implausible publication date 9999-12-31",
    )
    put("year9999.xml", _rss(_item(1, date="Fri, 31 Dec 9999 23:59:59 GMT")).encode(), "implausible publication date")
    put("bomb.warc.gz", gzip.compress(b"WARC/1.0\r\n" + b"\0" * (30 * 1024 * 1024)), "WARC")
    return expect


def make_good(root: Path) -> list[str]:
    good = root / "good"
    good.mkdir()
    (good / "dam.txt").write_text("Dam gates opened\n\n" + GOOD_TEXT + "\n")
    (good / "two.jsonl").write_text(
        json.dumps({"id": "j1", "title": "Orchard robots", "text": "A farm near Pellworth started using robots."})
        + "\n"
        + json.dumps({"id": "j2", "title": "Bridge closed", "text": "The old bridge was closed for repairs on Monday."})
        + "\n"
    )
    return ["dam", "j1", "j2"]


@pytest.mark.slow
def test_bad_input_each_is_quarantined_with_its_reason_and_the_rest_goes_on(tmp_path: Path, fresh_db: str) -> None:
    expect = make_bad_corpus(tmp_path)
    good_ids = make_good(tmp_path)
    with Newsweave(fresh_db, pipeline=stub_pipeline()) as nw:
        report = nw.ingest([tmp_path / "bad", tmp_path / "good"], analyze=False)
        rows = nw.store.quarantined()
        stored = {r["id"] for r in nw.store.all_articles()}
    assert set(good_ids) <= stored
    by_file: dict[str, list[str]] = {}
    for r in rows:
        name = Path(r["origin"].split("#")[0].split("@")[0].rsplit(":", 1)[0]).name
        name = name if name in expect else Path(r["origin"].split("#")[0].split("@")[0]).name
        by_file.setdefault(name, []).append(r["reason"])
    missing = {n for n in expect if n not in by_file}
    assert not missing, f"not quarantined: {missing}"
    for name, why in expect.items():
        assert any(why in reason for reason in by_file[name]), (name, by_file[name])
    assert len(report.errors) >= len(expect)
    print(f"{len(expect)} malformed inputs, {len(expect)} quarantined, 0 crashes")


def test_bad_input_a_recoverable_mislabel_is_read_correctly(tmp_path: Path) -> None:
    """A feed declaring UTF-8 but written in UTF-16 (with its BOM) is not an error: it is decoded right."""
    from newsweave.ingest import read_paths
    from newsweave.models import Article

    path = tmp_path / "mislabelled.xml"
    path.write_bytes(_rss(_item(1).replace("Entry 1", "Entr\xe9e"), encoding="utf-8").encode("utf-16"))
    (item,) = list(read_paths([path]))
    assert isinstance(item, Article) and item.title == "Entr\xe9e"


@pytest.mark.slow
def test_bad_input_cli_lists_one_quarantine_line_per_input(
    tmp_path: Path, fresh_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from newsweave.cli import main

    monkeypatch.setenv("NEWSWEAVE_EMBEDDER", "hashing")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "cut.jsonl").write_text('{"id": "x", "text": "unfinished\n')
    (corpus / "ok.txt").write_text("Dam gates opened\n\n" + GOOD_TEXT + "\n")
    runner = CliRunner()
    r = runner.invoke(main, ["ingest", str(corpus), "--db", fresh_db, "file:///etc/shadow"])
    assert r.exit_code == 1
    assert "1 added" in r.stderr and "3 failed" in r.stderr
    r = runner.invoke(main, ["quarantine", "--db", fresh_db])
    lines = r.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{corpus / 'cut.jsonl'}:1\t1x\tmalformed JSON")
    assert lines[1].startswith(f"{corpus / 'empty.txt'}\t1x\tempty file")
    assert lines[2].startswith("file:///etc/shadow\t1x\trefused")
    runner.invoke(main, ["ingest", str(corpus / "empty.txt"), "--db", fresh_db])
    r = runner.invoke(main, ["quarantine", "--db", fresh_db])
    assert len(r.stdout.splitlines()) == 3 and "\t2x\t" in r.stdout.splitlines()[1]
