"""The review web app: a thin FastAPI + Jinja2 layer over the review store and the core.

    create_app(settings) -> FastAPI          (generator.web.app; ``hocvu serve`` runs it with uvicorn)

Pages (server-rendered, Vietnamese first, ``?lang=en``) under ``/``; the JSON API under ``/api`` with
bearer tokens; OpenAPI docs at ``/docs``. Every rule (roles, transitions, four-eyes, concurrency) is the
core's: the routes parse, call one core function and render the result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from generator.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from generator.web.app import create_app

        return create_app
    raise AttributeError(name)
