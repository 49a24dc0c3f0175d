"""Untrusted text to safe HTML: highlighted spans and sparklines, escaped segment by segment.

Article text is untrusted. Templates never mark it ``|safe``; the only HTML
built from it is built here, where every piece of text goes through
:func:`markupsafe.escape` and the tags around it are fixed strings whose
attribute values are escaped too.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Mark:
    """A span of text to highlight.

    Attributes:
        start: Offset of the first character.
        end: Offset after the last character.
        kind: CSS class naming what the span is (``entity``, ``quote``, ``shared``...).
        title: Tooltip text (escaped).
        anchor: An element id for the span's first segment, so ``#anchor`` links to it.
    """

    start: int
    end: int
    kind: str
    title: str = ""
    anchor: str = ""


def highlight(text: str, marks: Iterable[Mark]) -> Markup:
    """``text`` as HTML with each mark wrapped in ``<mark class="...">``; overlaps merge their classes.

    The text is cut at every mark boundary; each piece is escaped and wrapped
    in one ``<mark>`` carrying the kinds of all marks covering it, so
    overlapping or nested spans never produce broken markup.
    """
    n = len(text)
    valid = [m for m in marks if 0 <= m.start < m.end <= n]
    cuts = sorted({0, n, *(m.start for m in valid), *(m.end for m in valid)})
    out: list[str] = []
    anchored: set[str] = set()
    for a, b in itertools.pairwise(cuts):
        covering = [m for m in valid if m.start <= a and b <= m.end]
        piece = str(escape(text[a:b]))
        if not covering:
            out.append(piece)
            continue
        kinds = " ".join(dict.fromkeys(m.kind for m in covering))
        titles = "; ".join(dict.fromkeys(m.title for m in covering if m.title))
        attrs = f' class="{escape(kinds)}"'
        if titles:
            attrs += f' title="{escape(titles)}"'
        for m in covering:
            if m.anchor and m.anchor not in anchored and m.start == a:
                attrs += f' id="{escape(m.anchor)}"'
                anchored.add(m.anchor)
                break
        out.append(f"<mark{attrs}>{piece}</mark>")
    return Markup("".join(out))


def highlight_paragraphs(text: str, marks: Iterable[Mark]) -> Markup:
    """Like :func:`highlight`, one ``<p>`` per paragraph; marks are cut at paragraph breaks.

    Paragraphs are separated by blank lines; a text with no blank line at all
    (as HTML extraction gives) has one paragraph per line.
    """
    marks = list(marks)
    out: list[str] = []
    breaks = r"\s*\n\s*\n" if re.search(r"\n\s*\n", text) else r"\s*\n"
    for m in re.finditer(rf"\S(?:.*?\S)?(?={breaks}|\s*$)", text, re.S):
        a, b = m.start(), m.end()
        inside = [
            Mark(max(k.start, a) - a, min(k.end, b) - a, k.kind, k.title, k.anchor if a <= k.start < b else "")
            for k in marks
            if k.start < b and k.end > a
        ]
        out.append(f"<p>{highlight(text[a:b], inside)}</p>")
    return Markup("\n".join(out))


def sparkline(stamps: Sequence[str], width: int = 96, height: int = 20, bins: int = 12) -> Markup:
    """An inline SVG bar chart of update times between the first and the last (no script, no style).

    The bars count updates in ``bins`` equal slices of the time from the first
    update to the last, over a baseline.
    """
    times = sorted(t for t in (_parse(s) for s in stamps) if t is not None)
    if not times:
        return Markup("")
    lo, hi = times[0].timestamp(), times[-1].timestamp()
    counts = [0] * bins
    for t in times:
        # All at one instant: one bar at the right end, i.e. "just now" relative to the story's span.
        i = bins - 1 if hi == lo else min(bins - 1, int((t.timestamp() - lo) / (hi - lo) * bins))
        counts[i] += 1
    top = max(counts)
    bar = width / bins
    rects = [f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#8a94a3"></line>']
    for i, c in enumerate(counts):
        if c:
            h = max(2.0, height * c / top)
            rects.append(
                f'<rect x="{i * bar + 1:.1f}" y="{height - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}"></rect>'
            )
    label = f"{len(times)} updates"
    return Markup(
        f'<svg class="spark" role="img" aria-label="{escape(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(label)}</title>{"".join(rects)}</svg>'
    )


def _parse(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return None
