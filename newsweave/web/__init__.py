"""newsweave's web pages: story list, story, article and search, rendered on the server.

The pages work without JavaScript; the REST API lives in :mod:`newsweave.api`,
which mounts :data:`router` and the static files.
"""

from .pages import STATIC_DIR, TEMPLATES_DIR, error_page, router

__all__ = ["STATIC_DIR", "TEMPLATES_DIR", "error_page", "router"]
