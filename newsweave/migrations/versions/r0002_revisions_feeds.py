"""Article revisions, story generations, quarantine attempts, and watched feeds.

* ``articles.revision`` and ``article_revisions``: an update to an article (same
  id or URL, new content) keeps the earlier text as a numbered revision.
* ``stories.generation``: bumped on every change, so a slow analysis never marks
  as clean a story that another writer changed meanwhile.
* ``quarantine.attempts`` / ``last_seen``: one row per bad input, however often it
  is offered again.
* ``feeds``: the watcher's per-feed schedule, validators and health.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the new columns (existing rows get defaults) and tables."""
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("revision", sa.Integer, nullable=False, server_default="1"))
    op.create_index("ix_articles_url", "articles", ["url"])
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("generation", sa.Integer, nullable=False, server_default="0"))
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("last_seen", sa.String(64)))
    op.create_index("ix_quarantine_origin", "quarantine", ["origin"])
    op.create_table(
        "article_revisions",
        sa.Column("article_id", sa.String(512), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("published", sa.String(64)),
        sa.Column("url", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("ingested_at", sa.String(64), nullable=False),
        sa.Column("replaced_at", sa.String(64), nullable=False),
    )
    op.create_index("ix_article_revisions_content_hash", "article_revisions", ["content_hash"])
    op.create_table(
        "feeds",
        sa.Column("url", sa.String(2048), primary_key=True),
        sa.Column("title", sa.Text),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("interval_s", sa.Integer, nullable=False, server_default="900"),
        sa.Column("next_poll", sa.Float, nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_status", sa.String(64)),
        sa.Column("last_error", sa.Text),
        sa.Column("last_polled", sa.String(64)),
        sa.Column("last_ok", sa.String(64)),
        sa.Column("articles", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    """Back to 0001 (revisions and feed health are dropped)."""
    op.drop_table("feeds")
    op.drop_table("article_revisions")
    op.drop_index("ix_quarantine_origin", "quarantine")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("last_seen")
        batch.drop_column("attempts")
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("generation")
    op.drop_index("ix_articles_url", "articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("revision")
