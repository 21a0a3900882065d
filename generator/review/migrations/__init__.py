"""Alembic migrations of the review store: ordered, recorded, never edited once released."""
