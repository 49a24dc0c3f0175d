"""REST API, web pages and search, called in-process on a hand-built store (no models loaded)."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install 'newsweave[web]'")

from fastapi.testclient import TestClient

from newsweave import search
from newsweave.api import create_app, resolve_token, token_path
from newsweave.engine import Newsweave
from newsweave.models import Article, ArticleAnalysis, EntityMention, Figure, Story
from newsweave.web.markup import Mark, highlight, highlight_paragraphs

TOKEN = "test-token-123"
XSS_TITLE = '<script>window.__xss=1</script>"><img src=x onerror="window.__xss=2">'

ALPHA = (
    "About 1,200 residents left Larkmoor on Tuesday. Mayor Ilse Varga ordered the evacuation.\n\n"
    "Two people were hurt, the county said."
)
BETA = (
    "Nearly 1,200 residents left Larkmoor on Tuesday. Mayor Ilse Varga ordered the evacuation.\n\n"
    "Four people were taken to hospital."
)
XSS_TEXT = (
    'A report with <script>window.__xss=3</script> and <a href="javascript:alert(1)">a link</a> '
    'plus "><svg onload=alert(1)> in its body.'
)


def span(article: str, text: str, part: str) -> dict[str, Any]:
    """An evidence span of ``part`` inside ``text`` (offsets computed, as the contract requires)."""
    start = text.index(part)
    return {"article": article, "text": part, "start": start, "end": start + len(part)}


def build_story() -> Story:
    """A two-outlet story in the contract, with every kind of section filled in."""
    s1a, s1b = "About 1,200 residents left Larkmoor on Tuesday.", "Nearly 1,200 residents left Larkmoor on Tuesday."
    mayor = "Mayor Ilse Varga ordered the evacuation."
    return Story(
        id="s-dam",
        headline="Larkmoor evacuated",
        articles=[
            {"id": "alpha-1", "source": "Alpha", "title": "Larkmoor evacuated", "published": "2025-04-15"},
            {"id": "beta-1", "source": "Beta", "title": "Dam cracks", "published": "2025-04-16"},
        ],
        summary=[{"text": mayor, "citations": ["alpha-1", "beta-1"], "status": "corroborated"}],
        facts=[
            {
                "text": mayor,
                "status": "corroborated",
                "evidence": [span("alpha-1", ALPHA, mayor), span("beta-1", BETA, mayor)],
                "sources": 2,
                "wire_copy": False,
            },
            {
                "text": "Two people were hurt, the county said.",
                "status": "conflicting",
                "evidence": [
                    span("alpha-1", ALPHA, "Two people were hurt, the county said."),
                    span("beta-1", BETA, "Four people were taken to hospital."),
                ],
                "sources": 2,
                "wire_copy": False,
            },
            {
                "text": s1a,
                "status": "single-source",
                "evidence": [span("alpha-1", ALPHA, s1a)],
                "sources": 1,
                "wire_copy": False,
            },
        ],
        figures=[
            {
                "what": "people hurt",
                "status": "conflict",
                "mentions": [
                    {**span("alpha-1", ALPHA, "Two people"), "value": 2.0, "unit": None, "hedge": None},
                    {**span("beta-1", BETA, "Four people"), "value": 4.0, "unit": None, "hedge": None},
                ],
            },
            {
                "what": "residents",
                "status": "agree",
                "mentions": [
                    {
                        **span("alpha-1", ALPHA, "About 1,200 residents"),
                        "value": 1200.0,
                        "unit": None,
                        "hedge": "about",
                    },
                    {
                        **span("beta-1", BETA, "Nearly 1,200 residents"),
                        "value": 1200.0,
                        "unit": None,
                        "hedge": "nearly",
                    },
                ],
            },
        ],
        quotes=[],
        entities=[
            {
                "name": "Ilse Varga",
                "type": "PERSON",
                "aliases": ["Varga"],
                "articles": ["alpha-1", "beta-1"],
                "mentions": 2,
            }
        ],
        timeline=[{"date": "2025-04-15", "text": s1a, "citations": ["alpha-1"], "expression": "Tuesday"}],
        shared_passages=[
            {
                "articles": ["alpha-1", "beta-1"],
                "text": "residents left Larkmoor on Tuesday",
                "spans": [
                    span("alpha-1", ALPHA, "residents left Larkmoor on Tuesday"),
                    span("beta-1", BETA, "residents left Larkmoor on Tuesday"),
                ],
            }
        ],
        single_source=[{"text": s1b, "citations": ["beta-1"]}],
    )


def seed(nw: Newsweave) -> None:
    """Write the hand-built story, its articles and one hostile article into the store."""
    story = build_story()
    articles = [
        Article("alpha-1", "Larkmoor evacuated", ALPHA, source="Alpha", published="2025-04-15"),
        Article("beta-1", "Dam cracks", BETA, source="Beta", published="2025-04-16", url="javascript:alert(1)"),
        Article("evil-1", XSS_TITLE, XSS_TEXT, source="Evil <b>Outlet</b>", published="2024-01-02"),
    ]
    evil = Story(
        id="s-evil",
        headline=XSS_TITLE,
        articles=[{"id": "evil-1", "source": "Evil <b>Outlet</b>", "title": XSS_TITLE, "published": "2024-01-02"}],
        summary=[{"text": XSS_TEXT, "citations": ["evil-1"], "status": "single-source"}],
    )
    with nw.store.transaction() as conn:
        for a in articles:
            sid = "s-evil" if a.id == "evil-1" else "s-dam"
            nw.store.insert_article(conn, a, sid, None)
            nw.store.touch_story(conn, sid)
        varga = ALPHA.index("Ilse Varga")
        fig = ALPHA.index("About 1,200")
        nw.store.save_analyses(
            conn,
            [
                ArticleAnalysis(
                    article="alpha-1",
                    entities=[EntityMention("alpha-1", "Ilse Varga", "PERSON", varga, varga + 10, 1)],
                    figures=[Figure("alpha-1", 1200.0, None, "about", "residents", "About 1,200", fig, fig + 11, 0)],
                )
            ],
        )
    nw.store.save_story(story, 2)
    nw.store.save_story(evil, 1)


@pytest.fixture
def nw(fresh_db: str) -> Iterator[Newsweave]:
    with Newsweave(fresh_db) as engine:
        seed(engine)
        yield engine


@pytest.fixture
def client(nw: Newsweave) -> Iterator[TestClient]:
    """The app in-process, as a loopback client (reads open, writes need TOKEN)."""
    app = create_app(nw=nw, token=TOKEN, max_body=64 * 1024)
    with TestClient(app, client=("127.0.0.1", 50000)) as c:
        yield c


AUTH = {"Authorization": f"Bearer {TOKEN}"}


# --------------------------------------------------------------------------- REST reads


def test_api_lists_stories_with_paging(client: TestClient) -> None:
    first = client.get("/api/stories", params={"limit": 1}).json()
    assert first["total"] == 2 and len(first["stories"]) == 1 and first["next_offset"] == 1
    second = client.get("/api/stories", params={"limit": 1, "offset": 1}).json()
    assert second["next_offset"] is None
    ids = {first["stories"][0]["id"], second["stories"][0]["id"]}
    assert ids == {"s-dam", "s-evil"}
    # Filters decided in Python (dates, entities) page the same way.
    dated = [client.get("/api/stories", params={"since": "2020-01-01", "limit": 1, "offset": n}).json() for n in (0, 1)]
    assert [d["total"] for d in dated] == [2, 2] and [d["next_offset"] for d in dated] == [1, None]
    assert [d["stories"][0]["id"] for d in dated] == [first["stories"][0]["id"], second["stories"][0]["id"]]
    dam = next(r for r in (first["stories"] + second["stories"]) if r["id"] == "s-dam")
    assert dam["outlets"] == ["Alpha", "Beta"] and dam["sources"] == 2 and len(dam["updates"]) == 2


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "larkmoor tuesday"}, ["s-dam"]),
        ({"q": "LARKMOOR hospital"}, ["s-dam"]),
        ({"q": "larkmoor nowhere"}, []),
        ({"q": "100%"}, []),
        ({"entity": "varga"}, ["s-dam"]),
        ({"entity": "Ilse"}, []),
        ({"outlet": "beta"}, ["s-dam"]),
        ({"outlet": "Gamma"}, []),
        ({"since": "2025-04-16"}, ["s-dam"]),
        ({"until": "2024-12-31"}, ["s-evil"]),
        ({"since": "2025-04-17"}, []),
        ({"q": "report", "outlet": "evil <b>outlet</b>"}, ["s-evil"]),
    ],
)
def test_api_search_filters_stories(client: TestClient, params: dict[str, str], expected: list[str]) -> None:
    res = client.get("/api/stories", params=params)
    assert res.status_code == 200
    assert [r["id"] for r in res.json()["stories"]] == expected


def test_api_story_follows_the_contract(client: TestClient) -> None:
    body = client.get("/api/stories/s-dam").json()
    (story,) = body["stories"]
    assert story["id"] == "s-dam" and {f["status"] for f in story["facts"]} == {
        "corroborated",
        "conflicting",
        "single-source",
    }
    texts = {"alpha-1": ALPHA, "beta-1": BETA}
    for fact in story["facts"]:
        for e in fact["evidence"]:
            assert texts[e["article"]][e["start"] : e["end"]] == e["text"]


def test_api_article_has_marks_with_offsets(client: TestClient) -> None:
    body = client.get("/api/articles/alpha-1").json()
    assert body["story"] == "s-dam" and body["text"] == ALPHA
    (ent,) = body["entities"]
    assert ALPHA[ent["start"] : ent["end"]] == "Ilse Varga"
    assert body["figures"][0]["hedge"] == "about"


def test_api_article_ids_may_hold_slashes(client: TestClient, nw: Newsweave) -> None:
    article = Article("2025/04/dam", "Dam", "A dam story with enough text to be an article.", source="Alpha")
    with nw.store.transaction() as conn:
        nw.store.insert_article(conn, article, "s-dam", None)
    assert client.get("/api/articles/2025/04/dam").json()["id"] == "2025/04/dam"
    assert "A dam story" in client.get("/articles/2025%2F04%2Fdam").text


def test_cli_serve_help_lists_its_options() -> None:
    from click.testing import CliRunner

    from newsweave.cli import main

    out = CliRunner().invoke(main, ["serve", "--help"]).output
    assert all(opt in out for opt in ["--db", "--host", "--port", "--public-reads", "127.0.0.1", "8000"])


@pytest.mark.parametrize("path", ["/api/stories/s-missing", "/api/articles/nope", "/api/nothing"])
def test_api_unknown_ids_are_404_json(client: TestClient, path: str) -> None:
    res = client.get(path)
    assert res.status_code == 404
    assert res.headers["content-type"].startswith("application/json")
    assert res.json()["error"]["status"] == 404 and res.json()["error"]["message"]


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1000}, "limit"),
        ({"offset": -1}, "offset"),
        ({"since": "yesterday"}, "since"),
    ],
)
def test_api_bad_parameters_are_400(client: TestClient, params: dict[str, Any], word: str) -> None:
    res = client.get("/api/stories", params=params)
    assert res.status_code == 400
    assert word in res.json()["error"]["message"]


# --------------------------------------------------------------------------- REST writes


def test_api_write_without_token_is_401(client: TestClient) -> None:
    record = {"id": "x1", "title": "T", "text": "Some article text that is long enough to count."}
    res = client.post("/api/articles", json=record)
    assert res.status_code == 401 and res.headers["www-authenticate"] == "Bearer"
    assert "token" in res.json()["error"]["message"]
    wrong = client.post("/api/articles", json=record, headers={"Authorization": "Bearer not-it"})
    assert wrong.status_code == 401
    assert client.get("/api/articles/x1").status_code == 404


def test_api_write_over_the_size_limit_is_413(client: TestClient) -> None:
    big = {"id": "big", "title": "T", "text": "word " * 20000}
    res = client.post("/api/articles", json=big, headers=AUTH)
    assert res.status_code == 413 and "limit" in res.json()["error"]["message"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(100):
            yield b"x" * 1024

    streamed = client.post("/api/articles", content=chunks(), headers={**AUTH, "content-type": "text/plain"})
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("application/json", b"{not json", 400),
        ("application/json", b"", 400),
        ("application/pdf", b"%PDF-1.4", 415),
        ("application/json", b'{"id": "short", "text": "too short"}', 422),
        ("application/x-ndjson", b'{"id": "a"}\n[1, 2]\n', 422),
        ("application/rss+xml", b"<rss><channel></channel></rss>", 422),
    ],
)
def test_api_bad_writes_get_clear_errors(client: TestClient, content_type: str, body: bytes, code: int) -> None:
    res = client.post("/api/articles", content=body, headers={**AUTH, "content-type": content_type})
    assert res.status_code == code
    payload = res.json()
    message = payload["error"]["message"] if "error" in payload else ""
    assert message
    if code == 422:
        assert payload["added"] == [] and payload["errors"]


@pytest.mark.slow
def test_api_write_ingests_json_and_jsonl(client: TestClient) -> None:
    records = [
        {"id": f"new-{n}", "title": f"Orchard robots {n}", "source": "Gamma", "text": text}
        for n, text in enumerate(
            [
                "Apple growers in Pellworth began testing fruit-picking robots on Monday, the cooperative said.",
                "A cooperative in Pellworth is trying robots to pick apples because it cannot find enough workers.",
            ]
        )
    ]
    res = client.post("/api/articles", json=records[0], headers=AUTH)
    assert res.status_code == 201, res.text
    assert res.json()["added"] == ["new-0"] and res.json()["stories"]
    lines = "\n".join(json.dumps(r) for r in records).encode()
    again = client.post("/api/articles", content=lines, headers={**AUTH, "content-type": "application/x-ndjson"})
    assert again.status_code == 201 and again.json()["unchanged"] == ["new-0"] and again.json()["added"] == ["new-1"]
    assert client.get("/api/articles/new-1").json()["source"] == "Gamma"
    assert client.get("/api/stories", params={"outlet": "gamma"}).json()["total"] >= 1


@pytest.mark.slow
def test_api_write_ingests_html_feed_and_text(client: TestClient, demo_dir: Path) -> None:
    html = (demo_dir / "gazette-larkmoor-dam.html").read_bytes()
    res = client.post("/api/articles?id=gazette", content=html, headers={**AUTH, "content-type": "text/html"})
    assert res.status_code == 201, res.text
    assert client.get("/api/articles/gazette").json()["source"] == "The Fenwick Gazette"
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Valley Post</title>
      <item><guid>vp-1</guid><title>Orchard robots</title><link>https://valley.example/robots</link>
      <description>Apple growers in Pellworth began testing fruit-picking robots this week,
      the cooperative said.</description>
      </item></channel></rss>"""
    res = client.post("/api/articles", content=feed, headers={**AUTH, "content-type": "application/rss+xml"})
    assert res.status_code == 201 and len(res.json()["added"]) == 1, res.text
    text = b"Robots in the orchard\n\nPellworth growers say the fruit-picking robots work slowly but never tire."
    res = client.post(
        "/api/articles?id=note-1&source=Notes", content=text, headers={**AUTH, "content-type": "text/plain"}
    )
    assert res.status_code == 201, res.text
    note = client.get("/api/articles/note-1").json()
    assert note["title"] == "Robots in the orchard" and note["source"] == "Notes"


# --------------------------------------------------------------------------- access and headers


def test_api_reads_off_loopback_need_the_token(nw: Newsweave) -> None:
    app = create_app(nw=nw, token=TOKEN)
    with TestClient(app, client=("203.0.113.7", 4000)) as remote:
        assert remote.get("/api/stories").status_code == 401
        assert remote.get("/").status_code == 401
        assert remote.get("/api/stories", headers=AUTH).status_code == 200
    public = create_app(nw=nw, token=TOKEN, public_reads=True)
    with TestClient(public, client=("203.0.113.7", 4000)) as remote:
        assert remote.get("/api/stories").status_code == 200


def test_api_token_file_is_made_once_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSWEAVE_TOKEN", raising=False)
    db = tmp_path / "news.db"
    token, where = resolve_token(str(db))
    path = token_path(str(db))
    assert where == str(path) and path.parent == tmp_path and len(token) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert resolve_token(str(db))[0] == token
    monkeypatch.setenv("NEWSWEAVE_TOKEN", "from-env")
    assert resolve_token(str(db)) == ("from-env", "$NEWSWEAVE_TOKEN")


@pytest.mark.parametrize("path", ["/", "/stories/s-dam", "/api/stories", "/static/newsweave.css"])
def test_api_security_headers_on_every_response(client: TestClient, path: str) -> None:
    res = client.get(path)
    assert res.status_code == 200
    csp = res.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert res.headers["x-content-type-options"] == "nosniff"
    assert res.headers["referrer-policy"] == "no-referrer"


def test_api_openapi_docs_list_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/stories", "/api/stories/{story_id}", "/api/articles/{article_id}", "/api/articles"} <= set(paths)
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    assert "'sha256-" in docs.headers["content-security-policy"]


def test_api_docs_page_needs_no_cdn(client: TestClient) -> None:
    docs = client.get("/docs")
    assert "cdn." not in docs.text and "https://" not in docs.headers["content-security-policy"]
    assets = re.findall(r'(?:src|href)="(/static/swagger/[^"]+)"', docs.text)
    assert len(assets) >= 2  # the script bundle and the stylesheet
    for asset in assets:
        res = client.get(asset)
        assert res.status_code == 200 and len(res.content) > 100, asset


# --------------------------------------------------------------------------- pages


def test_web_story_page_shows_every_section(client: TestClient) -> None:
    html = client.get("/stories/s-dam").text
    for heading in [
        "Summary",
        "Facts",
        "Figures",
        "Quotes",
        "Entities",
        "Coverage",
        "Timeline",
        "Articles side by side",
    ]:
        assert f">{heading}</h2>" in html
    assert 'class="chip"' in html and "Mayor Ilse Varga ordered the evacuation." in html
    assert '<mark class="hedge" title="hedge">Nearly</mark>' in html
    assert 'class="cell differs"' in html and 'class="cell absent"' in html
    assert '<mark class="shared"' in html and '<mark class="single"' in html


def test_web_story_page_filters_facts_by_status(client: TestClient) -> None:
    html = client.get("/stories/s-dam", params={"status": "conflicting"}).text
    facts = html.split('id="h-facts"')[1].split('id="figures"')[0]
    assert "Two people were hurt" in facts and 'class="fact status-corroborated"' not in facts
    assert client.get("/stories/s-dam", params={"status": "bogus"}).status_code == 400


def test_web_article_page_marks_the_cited_span(client: TestClient) -> None:
    start = ALPHA.index("Mayor")
    html = client.get(f"/articles/alpha-1?hl={start}-{start + 10}").text
    assert '<mark class="cited" title="the cited passage" id="hl">Mayor </mark>' in html
    assert '<mark class="entity cited"' in html and '<mark class="figure"' in html


def test_web_untrusted_text_is_escaped(client: TestClient) -> None:
    for path in ["/", "/stories/s-evil", "/articles/evil-1", "/search?q=report"]:
        html = client.get(path).text
        assert "<script" not in html and "<img src=x" not in html and "<svg onload" not in html, path
        assert 'href="javascript:' not in html
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in client.get("/stories/s-evil").text
    beta = client.get("/articles/beta-1").text  # its url is javascript:, shown as text, never a link
    assert "Original page" not in beta and "javascript:alert(1)" in beta


def test_web_unknown_page_is_html_404(client: TestClient) -> None:
    res = client.get("/stories/nope")
    assert res.status_code == 404 and res.headers["content-type"].startswith("text/html")
    assert "no story" in res.text


def test_web_search_page_finds_stories_and_articles(client: TestClient) -> None:
    html = client.get("/search", params={"q": "hospital"}).text
    assert "1 story found" in html and "/stories/s-dam" in html and "/articles/beta-1" in html


# --------------------------------------------------------------------------- search and markup


def test_search_coverage_marks_who_differs() -> None:
    cov = search.coverage_matrix(build_story())
    assert cov["outlets"] == ["Alpha", "Beta"]
    cells = {r["text"][:10]: r["cells"] for r in cov["rows"]}
    assert cells["Mayor Ilse"] == ["reported", "reported"]
    assert cells["Two people"] == ["reported", "differs"]
    assert cells["About 1,20"] == ["reported", "absent"]
    (figure_row,) = [r for r in cov["rows"] if r["kind"] == "figure"]
    assert figure_row["text"] == "Figure: people hurt" and "differs" in figure_row["cells"]


def test_search_figure_table_flags_the_odd_value() -> None:
    table = search.figure_table(build_story())
    hurt, residents = table["rows"]
    assert [len(c) for c in hurt["cells"]] == [1, 1]
    assert hurt["odd"] == ["Alpha", "Beta"]  # 2 against 4: no majority, so both differ
    assert residents["odd"] == []
    story = build_story()
    third = {**story.figures[0]["mentions"][0], "article": "alpha-1"}
    story.articles.append({"id": "gamma-1", "source": "Gamma", "title": "T"})
    story.figures[0]["mentions"].append({**third, "article": "gamma-1"})
    assert search.figure_table(story)["rows"][0]["odd"] == ["Beta"]  # 2, 2 against 4


def test_search_citation_evidence_finds_the_span_in_each_source() -> None:
    story = build_story()
    for aid, text in (("alpha-1", ALPHA), ("beta-1", BETA)):
        ev = search.citation_evidence(story, "Mayor Ilse Varga ordered the evacuation.", aid)
        assert ev is not None and text[ev["start"] : ev["end"]] == ev["text"]
    assert search.citation_evidence(story, "Something nobody said at all.", "alpha-1") is None


def test_markup_highlight_escapes_and_merges_overlaps() -> None:
    text = '<b>"x"</b> & more'
    html = str(highlight(text, [Mark(0, 10, "a", 'say "hi"', anchor="top"), Mark(4, 17, "b"), Mark(5, 99, "bad")]))
    assert html == (
        '<mark class="a" title="say &#34;hi&#34;" id="top">&lt;b&gt;&#34;</mark>'
        '<mark class="a b" title="say &#34;hi&#34;">x&#34;&lt;/b&gt;</mark><mark class="b"> &amp; more</mark>'
    )
    assert "<b>" not in html
    paras = str(highlight_paragraphs("One.\n\nTwo <i>.", [Mark(0, 10, "m")]))
    assert paras == '<p><mark class="m">One.</mark></p>\n<p><mark class="m">Two </mark>&lt;i&gt;.</p>'


def test_web_story_page_cache_follows_changes(client: TestClient, nw: Newsweave) -> None:
    assert "Larkmoor evacuated</h1>" in client.get("/stories/s-dam").text
    changed = build_story()
    changed.headline = "Larkmoor evacuated, dam holds"
    nw.store.save_story(changed, 2)
    assert "Larkmoor evacuated, dam holds</h1>" in client.get("/stories/s-dam").text
    assert client.get("/api/stories/s-dam").json()["stories"][0]["headline"] == "Larkmoor evacuated, dam holds"


def test_markup_sparkline_counts_updates_over_time() -> None:
    from newsweave.web.markup import sparkline

    stamps = ["2025-04-15T00:00:00+00:00", "2025-04-15T00:10:00+00:00", "2025-04-16T00:00:00+00:00", "not a date"]
    svg = str(sparkline(stamps, width=120, height=20, bins=12))
    assert 'aria-label="3 updates"' in svg
    # Two updates in the first slice (full height), one in the last (half height).
    assert '<rect x="1.0" y="0.0" width="8.0" height="20.0">' in svg
    assert '<rect x="111.0" y="10.0" width="8.0" height="10.0">' in svg
    assert str(sparkline([])) == ""


def test_api_refuses_foreign_host_headers(nw: Newsweave) -> None:
    from newsweave.api import loopback_hosts

    app = create_app(nw=nw, token=TOKEN, allowed_hosts=loopback_hosts("127.0.0.1"))
    with TestClient(app, base_url="http://127.0.0.1:8000", client=("127.0.0.1", 5)) as local:
        assert local.get("/api/stories").status_code == 200
        assert local.get("/api/stories", headers={"host": "localhost:8000"}).status_code == 200
        assert local.get("/api/stories", headers={"host": "[::1]:8000"}).status_code == 200
        rebound = local.get("/api/stories", headers={"host": "attacker.example:8000"})
        assert rebound.status_code == 400 and "not served here" in rebound.json()["error"]["message"]
    assert loopback_hosts("0.0.0.0") is None


def test_web_index_pages_and_empty_store(client: TestClient, tmp_path: Path) -> None:
    html = client.get("/").text
    assert "2 stories, most recently updated first." in html and 'rel="next"' not in html
    with Newsweave(str(tmp_path / "empty.db")) as empty:
        app = create_app(nw=empty, token=TOKEN)
        with TestClient(app, client=("127.0.0.1", 1)) as c:
            page = c.get("/").text
            assert "No stories match." in page and "newsweave ingest PATH" in page
            assert c.get("/api/stories").json() == {
                "stories": [],
                "total": 0,
                "limit": 20,
                "offset": 0,
                "next_offset": None,
            }


def test_api_unexpected_errors_are_500_json(nw: Newsweave, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(search, "find_stories", broken)
    app = create_app(nw=nw, token=TOKEN)
    with TestClient(app, client=("127.0.0.1", 1), raise_server_exceptions=False) as c:
        res = c.get("/api/stories")
    assert res.status_code == 500 and "internal error" in res.json()["error"]["message"]
    assert "secret" not in res.text


def test_web_story_page_answers_304_while_unchanged(client: TestClient, nw: Newsweave) -> None:
    first = client.get("/stories/s-dam")
    etag = first.headers["etag"]
    assert client.get("/stories/s-dam", headers={"if-none-match": etag}).status_code == 304
    assert client.get("/stories/s-dam?status=conflicting", headers={"if-none-match": etag}).status_code == 200
    changed = build_story()
    changed.headline = "Changed"
    nw.store.save_story(changed, 2)
    again = client.get("/stories/s-dam", headers={"if-none-match": etag})
    assert again.status_code == 200 and again.headers["etag"] != etag
