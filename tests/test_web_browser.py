"""The web UI in a real browser: Debian's chromium driven by playwright, against a live loopback server.

The server runs uvicorn in a thread on a free 127.0.0.1 port over a temporary
store holding the demo corpus and one hostile article. Set
``NEWSWEAVE_SCREENSHOTS=1`` to write the screenshots into ``docs/screenshots/``.
Skips, saying why, where playwright or chromium is absent (never
``playwright install``: see DEVELOPERS.md).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsweave.ingest import parse_record

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
XSS_ID = "hostile-report"
XSS_TITLE = '<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">'
XSS_TEXT = (
    'Hostile text: <script>window.__xss=3</script> and <a href="javascript:window.__xss=4">click me</a>, '
    "then \"><svg onload=window.__xss=5> and ' onmouseover='window.__xss=6' to break attributes."
)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
    pytest.importorskip("uvicorn", reason="the web extra is not installed: pip install 'newsweave[web]'")
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    return path


@pytest.fixture(scope="module")
def server(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server on 127.0.0.1 over the demo corpus plus a hostile article; yields its base URL."""
    import uvicorn

    from newsweave.api import create_app
    from newsweave.engine import Newsweave

    db = tmp_path_factory.mktemp("web") / "web.db"
    nw = Newsweave(str(db))
    report = nw.ingest([ROOT / "demo" / "corpus"])
    assert report.ok, report.errors
    hostile = parse_record({"id": XSS_ID, "title": XSS_TITLE, "text": XSS_TEXT, "source": "Hostile"}, XSS_ID, "test")
    assert nw.ingest_items([hostile]).ok
    app = create_app(nw=nw, token="browser-test-token")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("the test server did not start within 20 s")
        time.sleep(0.05)
    yield base
    srv.should_exit = True
    thread.join(timeout=10)
    sock.close()
    nw.close()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as res:  # loopback test server only
        return json.load(res)


@pytest.fixture(scope="module")
def event_story(server: str) -> dict[str, Any]:
    """The demo's three-article story, in the contract."""
    rows = get_json(f"{server}/api/stories?limit=50")["stories"]
    row = next(r for r in rows if r["articles"] == 3)
    story: dict[str, Any] = get_json(f"{server}/api/stories/{row['id']}")["stories"][0]
    return story


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh desktop page; fails the test if a dialog opens or a script or CSP error is logged."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    yield pg
    context.close()
    assert not problems, problems


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/screenshots with NEWSWEAVE_SCREENSHOTS=1, else a temporary directory."""
    if os.environ.get("NEWSWEAVE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


def test_web_browser_opens_a_story_from_the_list(page: Any, server: str, event_story: dict[str, Any]) -> None:
    page.goto(server + "/")
    assert page.locator("h1").inner_text() == "Stories"
    page.get_by_role("link", name=event_story["headline"]).click()
    page.wait_for_url(f"**/stories/{event_story['id']}")
    assert page.locator("h1").inner_text() == event_story["headline"]
    for name in ["Summary", "Facts", "Figures", "Quotes", "Entities", "Coverage", "Timeline", "Articles side by side"]:
        assert page.get_by_role("heading", name=name, level=2).is_visible()
    columns = page.locator(".sides > article.side")
    assert columns.count() == 3
    assert page.locator(".sides mark.shared").count() > 0 or not event_story["shared_passages"]


def test_web_browser_citation_chip_reveals_the_source_sentence(
    page: Any, server: str, event_story: dict[str, Any]
) -> None:
    page.goto(f"{server}/stories/{event_story['id']}")
    chip = page.locator("ol.summary details.chip:has(.cited q)").first  # a chip whose source span is known
    quote = chip.locator(".cited q")
    assert not quote.is_visible()
    chip.locator("summary").click()
    assert quote.is_visible()
    shown = " ".join(quote.inner_text().split())
    outlet = chip.locator("summary").inner_text().strip()
    owner = next(a for a in event_story["articles"] if (a.get("source") or a["id"]) == outlet)
    text = get_json(f"{server}/api/articles/{owner['id']}")["text"]
    assert shown and shown in " ".join(text.split())
    # Following the chip's link opens the article with exactly that passage marked and scrolled to.
    chip.get_by_role("link").click()
    page.wait_for_url("**/articles/**?hl=*")
    start, end = (int(x) for x in page.url.split("hl=")[1].split("#")[0].split("-"))
    assert " ".join(text[start:end].split()) == shown
    marked = page.locator("mark#hl")
    assert marked.is_visible()
    assert marked.evaluate("e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }")
    cited = "".join(page.locator(".text mark.cited").all_inner_texts())
    assert "".join(cited.split()) == "".join(shown.split())


def test_web_browser_chip_opens_from_the_keyboard(page: Any, server: str, event_story: dict[str, Any]) -> None:
    page.goto(f"{server}/stories/{event_story['id']}")
    chip = page.locator("ol.summary details.chip").first
    chip.locator("summary").focus()
    page.keyboard.press("Enter")
    assert chip.locator(".cited q").is_visible()


def test_web_browser_filters_facts_by_status(page: Any, server: str, event_story: dict[str, Any]) -> None:
    page.goto(f"{server}/stories/{event_story['id']}")
    expected = {s: sum(f["status"] == s for f in event_story["facts"]) for s in ("corroborated", "single-source")}
    assert page.locator("li.fact").count() == len(event_story["facts"])
    page.locator("nav.filter a.status-single-source").click()
    page.wait_for_url("**status=single-source**")
    assert page.locator("li.fact").count() == expected["single-source"]
    assert page.locator("li.fact.status-corroborated").count() == 0
    assert page.locator("nav.filter a[aria-current=page]").inner_text().startswith("Single source")
    # Each fact opens its evidence spans.
    fact = page.locator("li.fact").first
    fact.locator("summary").click()
    assert fact.locator("ul.evidence q").first.is_visible()


def test_web_browser_search(page: Any, server: str, event_story: dict[str, Any]) -> None:
    page.goto(server + "/")
    page.get_by_label("Search stories").fill("Larkmoor")
    page.get_by_label("Search stories").press("Enter")
    page.wait_for_url("**/search?q=Larkmoor**")
    assert page.locator("li.story-row").get_by_role("link", name=event_story["headline"]).is_visible()
    assert page.locator("ul.articles-found li").count() >= 3
    outlet = event_story["articles"][0]["source"]
    page.goto(server + "/search")
    page.get_by_label("Outlet").select_option(outlet)
    page.get_by_role("button", name="Search").last.click()
    page.wait_for_url("**outlet=**")
    assert page.locator("li.story-row").get_by_role("link", name=event_story["headline"]).is_visible()
    assert page.locator("li.story-row").count() >= 1


def test_web_browser_xss_payload_stays_inert(page: Any, server: str) -> None:
    article = get_json(f"{server}/api/articles/{XSS_ID}")
    for path in [f"/articles/{XSS_ID}", f"/stories/{article['story']}", "/", "/search?q=Hostile"]:
        page.goto(server + path)
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("script").count() == 0, path
        assert page.locator("main img, main svg:not(.spark), main a[href^='javascript']").count() == 0, path
    page.goto(f"{server}/articles/{XSS_ID}")
    assert page.locator("h1").inner_text() == XSS_TITLE  # shown literally
    assert "<script>window.__xss=3</script>" in page.locator(".text").inner_text()
    page.get_by_text("click me").first.click()
    page.locator(".text").hover()
    assert page.evaluate("window.__xss") is None


def test_web_browser_screenshots(browser: Any, server: str, event_story: dict[str, Any], shots: Path) -> None:
    sid = event_story["id"]
    first_article = event_story["articles"][0]["id"]
    taken = []
    for name, path, viewport, full in [
        ("stories", "/", (1280, 800), True),
        ("story", f"/stories/{sid}", (1280, 900), True),
        ("story-phone", f"/stories/{sid}", (390, 844), False),
        ("article", f"/articles/{first_article}", (1280, 900), True),
        ("search", "/search?q=Larkmoor", (1280, 800), True),
    ]:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        pg = context.new_page()
        pg.goto(server + path)
        if name.startswith("story"):
            pg.locator("ol.summary details.chip summary").first.click()
        out = shots / f"{name}.png"
        pg.screenshot(path=str(out), full_page=full)
        # Nothing may overflow the phone's width: the page scrolls down, never sideways.
        if name == "story-phone":
            assert pg.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        context.close()
        taken.append(out)
    assert all(p.stat().st_size > 5000 for p in taken)
