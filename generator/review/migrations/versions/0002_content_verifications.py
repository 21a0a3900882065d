"""Who verified an offline content library entry, and which version of it (by its hash).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_verifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("framework", sa.String(64), nullable=False),
        sa.Column("competence", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("verified_by", sa.String(64), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_content_verifications"),
        sa.UniqueConstraint("framework", "competence", "content_hash",
                            name="uq_content_verifications_framework_competence_content_hash"),
    )


def downgrade() -> None:
    op.drop_table("content_verifications")
