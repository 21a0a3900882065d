"""What lists show, kept on the lesson: the current version's author and whether its checks passed, and
whether it is outdated (with the reasons and the stamp of the sources it was checked against), with
indexes for the filters the lists use — so no list reads versions or recomputes anything per request.

Existing lessons take the author and checks of their current version; their outdated flag starts
unchecked (an empty stamp), so the first list that has the framework library checks them once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_lessons_status_id": ["status", "id"],
    "ix_lessons_outdated_id": ["outdated", "id"],
    "ix_lessons_outdated_stamp": ["outdated_stamp"],
    "ix_lessons_framework_language_level": ["framework", "language", "level"],
    "ix_lessons_level": ["level"],
    "ix_lessons_language": ["language"],
    "ix_lessons_author": ["author"],
    "ix_lessons_updated_at": ["updated_at"],
}


def upgrade() -> None:
    # Plain ADD COLUMNs (SQLite adds them in place): a batch copy of ``lessons`` would drop the table, and
    # with foreign keys on, dropping it deletes every version and event through ON DELETE CASCADE.
    op.add_column("lessons", sa.Column("author", sa.String(64), nullable=False, server_default=""))
    op.add_column("lessons", sa.Column("checks_passed", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("lessons", sa.Column("outdated", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("lessons", sa.Column("outdated_reasons", sa.Text(), nullable=False, server_default="[]"))
    op.add_column("lessons", sa.Column("outdated_stamp", sa.String(64), nullable=False, server_default=""))
    op.execute(
        "update lessons set "
        "author = coalesce((select v.author from versions v "
        "where v.lesson_id = lessons.id and v.number = lessons.current_version), ''), "
        "checks_passed = coalesce((select v.checks_passed from versions v "
        "where v.lesson_id = lessons.id and v.number = lessons.current_version), checks_passed)"
    )
    for name, cols in _INDEXES.items():
        op.create_index(name, "lessons", cols)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="lessons")
    for col in ("outdated_stamp", "outdated_reasons", "outdated", "checks_passed", "author"):
        op.drop_column("lessons", col)  # SQLite 3.35+ drops a column in place
