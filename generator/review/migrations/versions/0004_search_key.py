"""A search key for lessons: title and id folded (lower case, no diacritics, đ → d), so "an toan" finds
"An toàn".

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from generator.textfold import fold

    with op.batch_alter_table("lessons") as batch:
        batch.add_column(sa.Column("search_key", sa.String(800), nullable=False, server_default=""))
    conn = op.get_bind()
    rows = conn.execute(sa.text("select id, title from lessons")).all()
    for lid, title in rows:
        conn.execute(sa.text("update lessons set search_key = :k where id = :i"),
                     {"k": fold(f"{title} {lid}"), "i": lid})


def downgrade() -> None:
    with op.batch_alter_table("lessons") as batch:
        batch.drop_column("search_key")
