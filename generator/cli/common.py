"""Shared CLI plumbing: the root group that turns HocvuError into a one-line message, settings, console."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from generator.errors import HocvuError

if TYPE_CHECKING:
    from rich.console import Console

    from generator.config import Settings
    from generator.config_light import LightSettings
    from generator.frameworks import Library


# Lesson filters shared by commands that select lessons (review list, publish).
GroupFilter = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional here
    typer.Option("--group", "-g", help="Only lessons for this target group."),
]
FrameworkFilter = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--framework", "-f", help="Only lessons of this framework."),
]
CompetenceFilter = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--competence", "-c", help="Only lessons of this competence code."),
]


class HocvuGroup(TyperGroup):
    """Root command group: a HocvuError becomes 'error: <message>' on stderr and its exit code."""

    def invoke(self, ctx: Any) -> Any:
        from generator.i18n import environment_language, translate, use_language

        with use_language(environment_language()):  # HOCVU_UI_LANG, else the locale (LANG)
            try:
                return super().invoke(ctx)
            except HocvuError as exc:
                from rich.markup import escape

                lang = cli_language()
                label = translate("error:", lang)
                err_console().print(f"[bold red]{label}[/] {escape(exc.render(lang))}",
                                    markup=True, highlight=False, soft_wrap=True)
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                err_console().print(translate("interrupted; finished work is kept, run the command again to go on",
                                              cli_language()))
                raise typer.Exit(130) from None


def cli_language() -> str:
    """The language the CLI speaks: the ui_lang setting (HOCVU_UI_LANG or hocvu.toml) once settings are
    loaded, else HOCVU_UI_LANG or the locale (LANG), else English."""
    from generator.i18n import environment_language

    loaded = State._settings or State._light
    return getattr(loaded, "ui_lang", None) or environment_language()


def console() -> Console:
    """Rich console on stdout."""
    from rich.console import Console

    return _wide(Console(highlight=False, soft_wrap=True))


def _wide(c: Console) -> Console:
    # Rich assumes 80 columns when output is not a terminal; tables then wrap badly in logs.
    if not c.is_terminal and "COLUMNS" not in os.environ:
        c.width = 160
    return c


def err_console() -> Console:
    """Rich console on stderr."""
    from rich.console import Console

    return _wide(Console(stderr=True, highlight=False, soft_wrap=True))


def new_app(help_text: str) -> typer.Typer:
    """A sub-application with the house defaults."""
    return typer.Typer(help=help_text, no_args_is_help=True, add_completion=False,
                       pretty_exceptions_enable=False, rich_markup_mode=None)


class State:
    """Per-invocation state: the workspace chosen on the root command, settings loaded lazily."""

    workspace: Path | None = None
    _settings: Settings | None = None
    _light: LightSettings | None = None
    _library: Library | None = None

    @classmethod
    def settings(cls, **overrides: Any) -> Settings:
        """Settings for the chosen workspace (overrides are options given on the command line)."""
        from generator.config import load_settings

        if overrides or cls._settings is None:
            s = load_settings(cls.workspace, **overrides)
            if overrides:
                return s
            cls._settings = s
        return cls._settings

    @classmethod
    def light(cls) -> Settings | LightSettings:
        """The settings for a command that only reads them (no options to override): read with the standard
        library when it can be sure of every value (generator.config_light), else ``settings()`` — the same
        values, or the same error."""
        from generator.config_light import read_light

        if cls._settings is not None:
            return cls._settings
        if cls._light is None:
            cls._light = read_light(cls.workspace)
        return cls._light if cls._light is not None else cls.settings()

    @classmethod
    def library(cls) -> Library:
        """Frameworks, groups and content visible from the workspace."""
        from generator.frameworks import Library

        if cls._library is None:
            cls._library = Library(cls.light().workspace)
        return cls._library

    @classmethod
    def reset(cls, workspace: Path | None) -> None:
        """Start a fresh invocation."""
        cls.workspace = workspace
        cls._settings = None
        cls._light = None
        cls._library = None
