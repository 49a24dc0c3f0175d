"""The feed watcher against a canned loopback server: conditional GET, backoff, politeness, robots.txt."""

from __future__ import annotations

from pathlib import Path

import pytest
from canned_http import Canned, CannedServer, Seen
from click.testing import CliRunner
from stubs import stub_pipeline

from newsweave.cli import main
from newsweave.engine import Newsweave
from newsweave.errors import ConfigError
from newsweave.fetch import SafeFetcher
from newsweave.watch import FeedSpec, Watcher, health_lines, read_feed_list

PAGE = (
    "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{t}: engineers opened two spillway gates "
    "at the Larkmoor dam on Tuesday after days of heavy rain, officials said, and residents downstream were told "
    "to stay alert.</p><p>The county said no homes had flooded so far.</p></article></body></html>"
)


def feed_xml(base: str) -> bytes:
    items = [
        ("e1", f"{base}/news/dam", "Dam gates opened", "Short teaser."),
        ("e2", f"{base}/private/leak", "Private page", "Gates teaser text long enough to keep as an article."),
        ("e3", f"{base}/private/tiny", "Tiny", "Too short"),
        ("e4", f"{base}/news/long", "Long entry", "Full text in the feed. " * 40),
    ]
    body = "".join(
        f"<item><guid>{g}</guid><link>{link}</link><title>{t}</title><description>{d}</description>"
        f"<pubDate>Tue, 01 Oct 2024 10:00:00 GMT</pubDate></item>"
        for g, link, t, d in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Test feed</title>{body}</channel></rss>'.encode()


class FakeTime:
    """A clock that only moves when the watcher sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


@pytest.fixture
def site(http_server: CannedServer) -> CannedServer:
    base = http_server.url("").rstrip("/")

    def feed(seen: Seen) -> Canned:
        if seen.headers.get("if-none-match") == '"f1"':
            return Canned(304)
        return Canned(200, feed_xml(base), {"Content-Type": "application/rss+xml", "ETag": '"f1"'})

    http_server.routes["/feed.xml"] = feed
    http_server.routes["/robots.txt"] = Canned(200, b"User-agent: *\nDisallow: /private/\n")
    http_server.routes["/news/dam"] = Canned(
        200, PAGE.format(t="Dam gates opened").encode(), {"Content-Type": "text/html"}
    )
    http_server.routes["/broken.xml"] = Canned(500, b"oops")
    http_server.routes["/busy.xml"] = Canned(503, b"busy", {"Retry-After": "120"})
    return http_server


def test_watch_polls_with_robots_conditional_get_and_health(site: CannedServer, fresh_db: str) -> None:
    t = FakeTime()
    spec = FeedSpec(site.url("/feed.xml"), interval_s=600)
    with Newsweave(fresh_db, pipeline=stub_pipeline()) as nw, SafeFetcher(allow_private=True) as fetcher:
        w = Watcher(nw, [spec], fetcher, politeness_s=2.0, analyze=False, clock=t.clock, sleep=t.sleep)
        (first,) = w.poll_due()
        assert (first.status, first.added, first.errors) == ("ok", 3, 1)
        assert "robots.txt disallows" in first.message
        # the disallowed pages were never requested; the allowed short entry's page was
        assert site.hits("/private/leak") == [] and site.hits("/private/tiny") == []
        assert len(site.hits("/news/dam")) == 1 and site.hits("/news/long") == []
        dam = next(r for r in nw.store.all_articles() if r["url"] == site.url("/news/dam"))
        assert "spillway gates" in dam["text"] and dam["title"] == "Dam gates opened"
        assert [q["origin"] for q in nw.store.quarantined()] == [site.url("/feed.xml") + "#entry3"]
        # nothing is due before the interval; then a conditional GET gets 304
        assert w.poll_due() == []
        t.now += 601
        (second,) = w.poll_due()
        assert second.status == "not-modified"
        assert site.hits("/feed.xml")[-1].headers["if-none-match"] == '"f1"'
        (row,) = nw.store.feed_rows()
        assert (row["last_status"], row["articles"], row["failures"], row["etag"]) == ("not-modified", 3, 0, '"f1"')
        assert "not-modified" in health_lines([row], now=t.now)[0]
        # politeness: consecutive requests to the host were spaced by sleeping
        assert t.slept and all(s <= 2.0 for s in t.slept) and sum(t.slept) >= 2.0


def test_watch_backs_off_exponentially_and_honours_retry_after(site: CannedServer, fresh_db: str) -> None:
    t = FakeTime()
    broken, busy = FeedSpec(site.url("/broken.xml"), interval_s=100), FeedSpec(site.url("/busy.xml"), interval_s=100)
    with Newsweave(fresh_db, pipeline=stub_pipeline()) as nw, SafeFetcher(allow_private=True) as fetcher:
        w = Watcher(nw, [broken, busy], fetcher, politeness_s=0, analyze=False, clock=t.clock, sleep=t.sleep)
        results = {r.url: r for r in w.poll_due()}
        assert results[broken.url].status == "error" and "HTTP status 500" in results[broken.url].message
        start = t.now
        rows = {r["url"]: r for r in nw.store.feed_rows()}
        assert rows[broken.url]["next_poll"] == pytest.approx(start + 200)  # 100 * 2^1
        assert rows[busy.url]["next_poll"] == pytest.approx(start + 120)  # Retry-After
        t.now = start + 201
        w.poll_due()
        rows = {r["url"]: r for r in nw.store.feed_rows()}
        assert rows[broken.url]["failures"] == 2 and rows[broken.url]["next_poll"] == pytest.approx(t.now + 400)
        # recovery resets the backoff
        site.routes["/broken.xml"] = Canned(200, feed_xml(site.url("").rstrip("/")), {"ETag": '"b"'})
        t.now += 401
        results = {r.url: r for r in w.poll_due()}
        assert results[broken.url].status == "ok"
        assert {r["url"]: r for r in nw.store.feed_rows()}[broken.url]["failures"] == 0


def test_watch_refuses_private_feeds_without_the_test_allowance(site: CannedServer, fresh_db: str) -> None:
    with Newsweave(fresh_db, pipeline=stub_pipeline()) as nw:
        w = Watcher(nw, [FeedSpec(site.url("/feed.xml"))], analyze=False)
        (r,) = w.poll_due()
    assert r.status == "error" and "loopback" in r.message and site.requests == []


def test_watch_reads_opml_and_url_lists(tmp_path: Path) -> None:
    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="News">'
        '<outline text="A" xmlUrl="https://a.example/rss" interval="120"/>'
        '<outline text="B" xmlUrl="https://b.example/atom"/></outline></body></opml>'
    )
    assert read_feed_list(opml) == [
        FeedSpec("https://a.example/rss", "A", 120),
        FeedSpec("https://b.example/atom", "B", 900),
    ]
    lst = tmp_path / "feeds.txt"
    lst.write_text("# my feeds\nhttps://a.example/rss 30\n\nhttps://a.example/rss\nhttp://c.example/feed\n")
    assert [(f.url, f.interval_s) for f in read_feed_list(lst)] == [
        ("https://a.example/rss", 60),
        ("http://c.example/feed", 900),
    ]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("https://ok.example/rss\nfile:///etc/passwd\n", r"feeds.txt:2: 'file:///etc/passwd' is not an http\(s\)"),
        ("https://ok.example/rss soon\n", "interval 'soon' is not a number"),
        ("# nothing\n", "no feeds found"),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            '<opml><body><outline xmlUrl="https://x.example/&b;"/></body></opml>',
            "malformed OPML",
        ),
    ],
)
def test_watch_bad_feed_lists_name_the_problem(tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / "feeds.txt"
    path.write_text(content)
    with pytest.raises(ConfigError, match=why):
        read_feed_list(path)


def test_watch_cli_once_and_status(site: CannedServer, fresh_db: str, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(site.url("/feed.xml") + "\n")
    runner = CliRunner()
    r = runner.invoke(main, ["watch", str(feeds), "--db", fresh_db, "--once"])
    assert r.exit_code == 0, r.output
    assert "loopback" in r.stderr  # the CLI has no private-address allowance
    assert r.stdout.startswith("error") and site.url("/feed.xml") in r.stdout
    r = runner.invoke(main, ["watch", str(feeds), "--db", fresh_db, "--status"])
    assert r.exit_code == 0 and "1 failures" in r.stdout
    bad = tmp_path / "bad.txt"
    bad.write_text("gopher://x\n")
    r = runner.invoke(main, ["watch", str(bad), "--db", fresh_db, "--once"])
    assert r.exit_code != 0 and "bad.txt:1" in r.stderr
