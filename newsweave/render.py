"""Stories as text for people: terminal report, Markdown and standalone HTML; and the JSON contract.

Article text is untrusted: the HTML renderer escapes everything (Jinja2
autoescape) and the page carries a Content-Security-Policy forbidding scripts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .models import Story

FORMATS = ("text", "json", "markdown", "html")


def to_json(stories: Sequence[Story]) -> str:
    """The contract object ``{"stories": [...]}``."""
    return json.dumps({"stories": [s.to_dict() for s in stories]}, ensure_ascii=False, indent=2)


def _sources(story: Story) -> dict[str, str]:
    return {a["id"]: (a.get("source") or a["id"]) for a in story.articles}


def _cite(ids: Sequence[str], names: dict[str, str]) -> str:
    return ", ".join(names.get(i, i) for i in ids)


def to_text(stories: Sequence[Story]) -> str:
    """A readable terminal report."""
    out: list[str] = []
    for n, s in enumerate(stories, 1):
        names = _sources(s)
        out.append(f"═══ Story {n}: {s.headline}")
        out.append(f"    id {s.id} · {len(s.articles)} articles from {len(set(names.values()))} outlets")
        for a in s.articles:
            copy = f" (copy of {a['copy_of']})" if a.get("copy_of") else ""
            out.append(f"    - [{names[a['id']]}] {a['title']}{copy}")
        if s.summary:
            out.append("\n  Summary")
            for sent in s.summary:
                out.append(f"    {sent['text']} [{_cite(sent['citations'], names)}]")
        if s.single_source:
            out.append("\n  Reported by one source only")
            for sent in s.single_source:
                out.append(f"    • {sent['text']} [{_cite(sent['citations'], names)}]")
        if s.figures:
            out.append("\n  Figures")
            for f in s.figures[:10]:
                vals = "; ".join(f"{names.get(m['article'], m['article'])}: {m['text']}" for m in f["mentions"])
                out.append(f"    {f['what']} ({f['status']}): {vals}")
        if s.quotes:
            out.append("\n  Quotes")
            for q in s.quotes[:8]:
                who = q.get("speaker") or "unattributed"
                outlets = _cite(sorted({m["article"] for m in q["mentions"]}), names)
                out.append(f"    {who}: “{q['text']}” [{outlets}]")
        if s.entities:
            out.append("\n  Entities")
            out.append("    " + ", ".join(f"{e['name']} ({e['type']})" for e in s.entities[:15]))
        if s.timeline:
            out.append("\n  Timeline")
            for t in s.timeline[:10]:
                out.append(f"    {when(t)}: {t['text']} [{_cite(t['citations'], names)}]")
        out.append("")
    return "\n".join(out)


def when(entry: dict[str, Any]) -> str:
    """A timeline entry's date, or its unresolved expression said as such (as the web page says it)."""
    return entry.get("date") or f"“{entry.get('expression', '')}” (date unresolved)"


def to_markdown(stories: Sequence[Story]) -> str:
    """A Markdown document, one section per story."""

    def esc(text: str) -> str:
        return "".join("\\" + c if c in "\\`*_{}[]<>()#+-.!|" else c for c in text)

    out: list[str] = ["# newsweave report", ""]
    for s in stories:
        names = _sources(s)
        out += [f"## {esc(s.headline)}", "", f"*{len(s.articles)} articles · story `{s.id}`*", ""]
        out += ["### Summary", ""]
        out += [f"- {esc(x['text'])} — *{esc(_cite(x['citations'], names))}*" for x in s.summary] + [""]
        if s.single_source:
            out += ["### Reported by one source only", ""]
            out += [f"- {esc(x['text'])} — *{esc(_cite(x['citations'], names))}*" for x in s.single_source] + [""]
        if s.figures:
            out += ["### Figures", "", "| what | status | mentions |", "|---|---|---|"]
            for f in s.figures:
                ms = "; ".join(f"{esc(names.get(m['article'], m['article']))}: {esc(m['text'])}" for m in f["mentions"])
                out.append(f"| {esc(f['what'])} | {f['status']} | {ms} |")
            out.append("")
        if s.quotes:
            out += ["### Quotes", ""]
            for q in s.quotes:
                out.append(f"- **{esc(q.get('speaker') or 'unattributed')}**: “{esc(q['text'])}”")
            out.append("")
        if s.timeline:
            out += ["### Timeline", ""]
            out += [f"- **{t['date'] or esc(when(t))}** {esc(t['text'])}" for t in s.timeline] + [""]
        out += ["### Articles", ""]
        out += [f"- {esc(names[a['id']])}: {esc(a['title'])}" for a in s.articles] + [""]
    return "\n".join(out)


def to_html(stories: Sequence[Story]) -> str:
    """A standalone HTML page; all article-derived text is escaped."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("newsweave", "templates"), autoescape=select_autoescape(["html"]))
    names = {s.id: _sources(s) for s in stories}
    return env.get_template("report.html").render(stories=[s.to_dict() for s in stories], names=names)


def render(stories: Sequence[Story], fmt: str) -> str:
    """Render stories in one of :data:`FORMATS`."""
    renderers: dict[str, Any] = {"text": to_text, "json": to_json, "markdown": to_markdown, "html": to_html}
    return str(renderers[fmt](stories))
