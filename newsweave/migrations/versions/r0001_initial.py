"""The first schema, exactly as newsweave 0.1's store created it with ``create_all``.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create articles, stories, story_aliases, state and quarantine."""
    op.create_table(
        "articles",
        sa.Column("id", sa.String(512), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("source", sa.String(512)),
        sa.Column("published", sa.String(64)),
        sa.Column("url", sa.Text),
        sa.Column("byline", sa.Text),
        sa.Column("origin", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("story_id", sa.String(64)),
        sa.Column("copy_of", sa.String(512)),
        sa.Column("analysis", sa.Text),
        sa.Column("ingested_at", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
    )
    op.create_index("ix_articles_content_hash", "articles", ["content_hash"])
    op.create_index("ix_articles_story_id", "articles", ["story_id"])
    op.create_index("ix_articles_seq", "articles", ["seq"])
    op.create_table(
        "stories",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("headline", sa.Text, nullable=False),
        sa.Column("first_seen", sa.String(64)),
        sa.Column("last_seen", sa.String(64)),
        sa.Column("n_articles", sa.Integer, nullable=False),
        sa.Column("n_sources", sa.Integer, nullable=False),
        sa.Column("updates", sa.Text, nullable=False),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("dirty", sa.Boolean, nullable=False),
        sa.Column("analysis", sa.Text),
    )
    op.create_table(
        "story_aliases",
        sa.Column("alias", sa.String(64), primary_key=True),
        sa.Column("story_id", sa.String(64), nullable=False),
        sa.Column("merged_at", sa.String(64), nullable=False),
    )
    op.create_index("ix_story_aliases_story_id", "story_aliases", ["story_id"])
    op.create_table(
        "state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    """Drop every table (the store is gone)."""
    for name in ("quarantine", "state", "story_aliases", "stories", "articles"):
        op.drop_table(name)
