"""newsweave's one error hierarchy.

Every error a user can meet derives from :class:`NewsweaveError`; the CLI,
REST API and web pages map these to messages and status codes. Messages say
what went wrong *and* what to do about it.
"""

from __future__ import annotations


class NewsweaveError(Exception):
    """Root of every error newsweave raises on purpose."""


class InputError(NewsweaveError):
    """An input (file, record, feed entry, URL) could not be turned into an article."""

    def __init__(self, origin: str, reason: str) -> None:
        self.origin = origin
        self.reason = reason
        super().__init__(f"{origin}: {reason}")


class StageError(NewsweaveError):
    """A pipeline stage failed on one article or story."""

    def __init__(self, stage: str, subject: str, cause: BaseException) -> None:
        self.stage = stage
        self.subject = subject
        self.cause = cause
        super().__init__(f"stage '{stage}' failed on {subject}: {type(cause).__name__}: {cause}")


class StoreError(NewsweaveError):
    """The article store could not be opened, read or written."""


class NotFound(NewsweaveError):
    """A story or article with that id does not exist in the store."""


class NotInstalled(NewsweaveError):
    """An optional component's packages are missing; the message names the install command."""

    def __init__(self, component: str, extra: str) -> None:
        super().__init__(f"{component} needs packages that are not installed: run `pip install 'newsweave[{extra}]'`")


class ConfigError(NewsweaveError):
    """A setting or option has an invalid value."""


class FetchRefused(NewsweaveError):
    """The safe fetcher refused a URL (scheme, private address, size, time)."""
