"""The initial review store: users, lessons, versions, events, releases.

Revision ID: 0001
Revises:
Create Date: 2025-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("token_hash", sa.String(255), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "lessons",
        sa.Column("id", sa.String(200), nullable=False),
        sa.Column("framework", sa.String(64), nullable=False),
        sa.Column("competence", sa.String(32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("target_group", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_lessons"),
    )
    op.create_index("ix_lessons_status", "lessons", ["status"])
    op.create_index("ix_lessons_target_group", "lessons", ["target_group"])
    op.create_index("ix_lessons_framework_competence", "lessons", ["framework", "competence"])
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent_version", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("lesson_json", sa.Text(), nullable=False),
        sa.Column("checks_json", sa.Text(), nullable=False),
        sa.Column("checks_passed", sa.Boolean(), nullable=False),
        sa.Column("artifacts_json", sa.Text(), nullable=False),
        sa.Column("backend", sa.String(64), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_hash", sa.String(64), nullable=False),
        sa.Column("framework_hash", sa.String(64), nullable=False),
        sa.Column("group_hash", sa.String(64), nullable=False),
        sa.Column("library_hash", sa.String(64), nullable=False),
        sa.Column("sources_hash", sa.String(64), nullable=False),
        sa.Column("folder", sa.String(1000), nullable=True),
        sa.Column("cache_key", sa.String(128), nullable=True),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name="fk_versions_lesson_id_lessons", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_versions"),
        sa.UniqueConstraint("lesson_id", "number", name="uq_versions_lesson_id_number"),
    )
    op.create_index("ix_versions_cache_key", "versions", ["cache_key"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("section", sa.String(32), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("ref_event_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lesson_id"], ["lessons.id"], name="fk_events_lesson_id_lessons", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["ref_event_id"], ["events.id"], name="fk_events_ref_event_id_events"),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_lesson_id_id", "events", ["lesson_id", "id"])
    op.create_table(
        "releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("path", sa.String(1000), nullable=False),
        sa.Column("hocvu_version", sa.String(32), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("filters_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_releases"),
        sa.UniqueConstraint("name", name="uq_releases_name"),
    )
    op.create_table(
        "release_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("lesson_id", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name="fk_release_items_release_id_releases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["lesson_id"], ["lessons.id"], name="fk_release_items_lesson_id_lessons"),
        sa.PrimaryKeyConstraint("id", name="pk_release_items"),
        sa.UniqueConstraint("release_id", "lesson_id", name="uq_release_items_release_id_lesson_id"),
    )


def downgrade() -> None:
    op.drop_table("release_items")
    op.drop_table("releases")
    op.drop_index("ix_events_lesson_id_id", table_name="events")
    op.drop_table("events")
    op.drop_index("ix_versions_cache_key", table_name="versions")
    op.drop_table("versions")
    op.drop_index("ix_lessons_framework_competence", table_name="lessons")
    op.drop_index("ix_lessons_target_group", table_name="lessons")
    op.drop_index("ix_lessons_status", table_name="lessons")
    op.drop_table("lessons")
    op.drop_table("users")
