"""Review: the store (SQLAlchemy + Alembic migrations), the workflow state machine, editing and revision.

Import what you need from the submodules (``generator.review.store.ReviewStore``, ``workflow``,
``edit``, ``revise``); this package imports nothing heavy itself.
"""
