"""A job spec: a batch spec (``generator.batch.spec``) plus where the job runs (``executor``)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from generator.batch.spec import BatchSpec
from generator.errors import DataError
from generator.i18n import Message
from generator.jobs.settings import executor_names
from generator.yamlio import compose_text, dump_yaml, to_nfc


class SpecError(DataError):
    """A job spec is invalid; ``fields`` maps each field (dotted path) to what is wrong with it."""

    def __init__(self, message: object, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields


def field_errors(exc: ValidationError) -> dict[str, str]:
    """A pydantic error as {field: message}, the first message per field."""
    out: dict[str, str] = {}
    for e in exc.errors():
        loc = tuple(e.get("loc", ())) + tuple(getattr((e.get("ctx") or {}).get("error"), "loc", ()))
        where = ".".join(str(p) for p in loc) or "spec"
        msg = "required field is missing" if e.get("type") == "missing" else \
            "unknown field (check the spelling)" if e.get("type") == "extra_forbidden" else str(e.get("msg", ""))
        out.setdefault(where, msg.removeprefix("Value error, "))
    return out


def parse_job_spec(data: Any, default_executor: str = "local") -> tuple[BatchSpec, str]:
    """Validate a mapping as a job spec; returns the batch spec and the executor; SpecError per field."""
    if not isinstance(data, dict):
        raise SpecError(Message("a job spec is a YAML mapping (name, framework, groups, …)"), {"spec": "not a mapping"})
    data = dict(data)
    executor = data.pop("executor", None) or default_executor
    fields: dict[str, str] = {}
    if executor not in executor_names():
        fields["executor"] = f"unknown executor {executor!r}; choose one of: {', '.join(executor_names())}"
    try:
        spec = BatchSpec.model_validate(data)
    except ValidationError as exc:
        fields.update(field_errors(exc))
        raise SpecError(Message("the job spec is not valid: {problems}",
                                problems="; ".join(f"{k}: {v}" for k, v in fields.items())), fields) from None
    if fields:
        raise SpecError(Message("the job spec is not valid: {problems}",
                                problems="; ".join(f"{k}: {v}" for k, v in fields.items())), fields)
    return spec, executor


def load_job_spec_text(text: str, default_executor: str = "local", label: str = "spec") -> tuple[BatchSpec, str]:
    """Parse YAML text (an uploaded spec file) as a job spec; SpecError per field."""
    try:
        _, data = compose_text(text, label)
    except DataError as exc:
        raise SpecError(str(exc), {"spec": str(exc).removeprefix(f"{label}:").strip()}) from None
    return parse_job_spec(to_nfc(data), default_executor)


def dump_job_spec(spec: BatchSpec, executor: str) -> str:
    """The spec as YAML text, ready to download and upload again."""
    data = spec.model_dump(mode="json")
    data["executor"] = executor
    return dump_yaml(data)
