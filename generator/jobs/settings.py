"""Settings of the job workers (env vars HOCVU_*), read at the edge like ``generator.config``."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def executor_names() -> list[str]:
    """The registered executors (built-in ``local`` and ``celery``, and any plugin's)."""
    from generator.registry import executors

    return list(executors.names())


class JobSettings(BaseSettings):
    """Where jobs run and how workers behave."""

    model_config = SettingsConfigDict(env_prefix="HOCVU_", extra="ignore")

    executor: str = "local"
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Seconds between two looks at the queue when it is empty.
    worker_poll: float = Field(default=1.0, gt=0, le=60)
    #: A running job whose worker has not been heard from for this long is taken over by another worker.
    stale_after: float = Field(default=60.0, ge=5)
    #: Model calls per second across every worker of a Celery deployment (0: no shared limit).
    model_rate: float = Field(default=0.0, ge=0)
    #: Model calls in flight at once across every worker of a Celery deployment.
    model_concurrency: int = Field(default=64, ge=1, le=4096)
    #: Celery over Redis: a lesson task not acknowledged this long after delivery (its worker died) is
    #: delivered again; longer than the slowest lesson, or a slow lesson is started twice (harmless: the
    #: second waits on the lesson's lock, then finds it done).
    celery_visibility: float = Field(default=3600.0, ge=5)
    #: Lessons a job's build renders and records at once on another executor than ``local`` (their
    #: renders run on the workers; each lesson holds a thread of the build while it waits).
    remote_renders: int = Field(default=8, ge=1, le=256)
    #: Times a draft task is retried after its model server was unavailable.
    task_retries: int = Field(default=3, ge=0, le=10)

    @field_validator("executor")
    @classmethod
    def _executor(cls, v: str) -> str:
        if v not in executor_names():
            raise ValueError(f"unknown executor {v!r}; choose one of: {', '.join(executor_names())}")
        return v


def load_job_settings() -> JobSettings:
    """The job settings from the environment."""
    return JobSettings()
