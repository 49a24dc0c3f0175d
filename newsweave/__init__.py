"""newsweave: many news reports of the same events, woven into one verified, evidence-linked story.

The entry point is :class:`Newsweave` (a store-backed engine) and, for one-off
in-memory work, :func:`analyze`. See README.md and docs/.
"""

from .engine import AnalyzeResult, IngestReport, Newsweave, analyze, analyze_articles
from .errors import NewsweaveError
from .models import Article, Story

__version__ = "0.1.0"

__all__ = [
    "AnalyzeResult",
    "Article",
    "IngestReport",
    "Newsweave",
    "NewsweaveError",
    "Story",
    "__version__",
    "analyze",
    "analyze_articles",
]
