"""The ingest stage: every input kind, source detection, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

from newsweave.errors import InputError
from newsweave.ingest import detect_source, read_file, read_paths, split_headline
from newsweave.models import Article

BODY = "The council approved the new bridge on Monday after a long debate about its cost and design."


def _one(path: Path) -> Article | InputError:
    items = list(read_file(path))
    assert len(items) == 1
    return items[0]


def test_ingest_text_first_line_headline_detected() -> None:
    title, body = split_headline(f"Council approves bridge\n\n{BODY}")
    assert title == "Council approves bridge"
    assert body == BODY


def test_ingest_text_without_headline_keeps_whole_body() -> None:
    text = f"{BODY}\n\nA second paragraph follows here."
    title, body = split_headline(text)
    assert title == ""
    assert body.startswith("The council approved")


def test_ingest_text_file_id_is_stem_and_title_falls_back_to_first_sentence(tmp_path: Path) -> None:
    p = tmp_path / "city-bridge.txt"
    p.write_text(f"{BODY} Another sentence.\n", encoding="utf-8")
    a = _one(p)
    assert isinstance(a, Article)
    assert a.id == "city-bridge"
    assert a.title == BODY


def test_ingest_source_from_dateline_credit_metadata_url_and_filename() -> None:
    assert detect_source("COLUMBUS (WCMH) — The U.S. says", None, None, "x") == "WCMH"
    assert detect_source("Video report by ITV News Security Correspondent Jo Bloggs. More.", None, None, "x") == (
        "ITV News"
    )
    assert detect_source(BODY, "The Daily Planet", None, "x") == "The Daily Planet"
    assert detect_source(BODY, None, "https://www.example.org/a/b", "x") == "example.org"
    assert detect_source(BODY, None, None, "nz-soleimani") == "nz"


def test_ingest_jsonl_bad_lines_are_named_and_the_rest_goes_on(tmp_path: Path) -> None:
    p = tmp_path / "batch.jsonl"
    good = {"id": "a1", "title": "Bridge", "text": BODY, "published": "2024-03-04"}
    p.write_text(
        "\n".join([json.dumps(good), "{not json", json.dumps({"id": "a2", "text": ""}), json.dumps(good)]) + "\n",
        encoding="utf-8",
    )
    items = list(read_file(p))
    articles = [i for i in items if isinstance(i, Article)]
    errors = [i for i in items if isinstance(i, InputError)]
    assert [a.id for a in articles] == ["a1"]
    assert articles[0].published == "2024-03-04"
    reasons = {e.origin: e.reason for e in errors}
    assert "malformed JSON" in reasons[f"{p}:2"]
    assert "empty 'text'" in reasons[f"{p}:3"]
    assert "duplicate id" in reasons[f"{p}:4"]


def test_ingest_binary_empty_and_undecodable_files_get_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary\x00" * 20)
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\xfa\xfb" * 3 + b"\x81\x8d\x8f\x90\x9d" * 40)
    (tmp_path / "ok.txt").write_text(BODY, encoding="utf-8")
    items = list(read_paths([tmp_path]))
    errors = {Path(e.origin).name: e.reason for e in items if isinstance(e, InputError)}
    assert "empty file" in errors["empty.txt"]
    assert "binary" in errors["blob.txt"]
    assert "bad.txt" in errors
    assert [a.id for a in items if isinstance(a, Article)] == ["ok"]
    assert all("\n" not in r for r in errors.values())


def test_ingest_oversized_file_is_refused(tmp_path: Path, monkeypatch: object) -> None:
    import newsweave.ingest as ingest

    p = tmp_path / "huge.txt"
    p.write_text(BODY * 10, encoding="utf-8")
    monkeypatch.setattr(ingest, "MAX_INPUT_BYTES", 100)  # type: ignore[attr-defined]
    err = _one(p)
    assert isinstance(err, InputError)
    assert "too large" in err.reason


def test_ingest_html_uses_trafilatura_metadata(demo_dir: Path) -> None:
    a = _one(demo_dir / "gazette-larkmoor-dam.html")
    assert isinstance(a, Article)
    assert a.title.startswith("Halden Dam")
    assert a.source == "The Fenwick Gazette"
    assert a.published == "2025-04-15"
    assert a.url == "https://fenwick-gazette.example/news/halden-dam-larkmoor"
    assert a.byline == "Priya Castellanos"
    assert "Home" not in a.text and a.text.startswith("Roughly 1,200")


def test_ingest_rss_entries_become_articles_with_links_and_dates(tmp_path: Path) -> None:
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Fenwick Wire</title>
    <item><title>Bridge approved</title><link>https://wire.example/bridge</link>
    <pubDate>Tue, 15 Apr 2025 10:00:00 GMT</pubDate><description>&lt;p&gt;{BODY}&lt;/p&gt;</description></item>
    <item><title>Empty</title><link>https://wire.example/empty</link><description></description></item>
    </channel></rss>"""
    p = tmp_path / "wire.rss"
    p.write_text(feed, encoding="utf-8")
    items = list(read_file(p))
    arts = [i for i in items if isinstance(i, Article)]
    errs = [i for i in items if isinstance(i, InputError)]
    assert len(arts) == 1 and len(errs) == 1
    assert arts[0].url == "https://wire.example/bridge"
    assert arts[0].published is not None and arts[0].published.startswith("2025-04-15")
    assert arts[0].text == BODY
    assert arts[0].source == "Fenwick Wire"
    assert "no text" in errs[0].reason


def test_ingest_malformed_feed_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "broken.xml"
    p.write_bytes(b"<?xml version='1.0'?><rss><channel><item><title>x</ti")
    items = list(read_file(p))
    assert all(isinstance(i, InputError) for i in items)
    assert items


def test_ingest_implausible_publication_date_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "future.jsonl"
    p.write_text(json.dumps({"id": "f", "text": BODY, "published": "9999-01-01"}) + "\n", encoding="utf-8")
    (err,) = list(read_file(p))
    assert isinstance(err, InputError)
    assert "9999" in err.reason
