"""The text and Markdown reports on hand-made stories."""

from __future__ import annotations

from newsweave.models import Story
from newsweave.render import to_markdown, to_text


def _story() -> Story:
    timeline = [
        {"date": "2025-04-15", "text": "Residents left on Tuesday.", "citations": ["a"], "expression": "Tuesday"},
        {"date": None, "text": "Schools stay shut until Friday.", "citations": ["a"], "expression": "Friday"},
    ]
    return Story(
        id="s-1", headline="Dam", articles=[{"id": "a", "source": "Gazette", "title": "Dam cracks"}], timeline=timeline
    )


def test_render_timeline_says_a_date_is_unresolved_instead_of_printing_none() -> None:
    text, markdown = to_text([_story()]), to_markdown([_story()])
    assert "None" not in text and "None" not in markdown
    assert "2025-04-15: Residents left" in text and "“Friday” (date unresolved): Schools" in text
    assert "**2025-04-15**" in markdown and "**“Friday” \\(date unresolved\\)**" in markdown
