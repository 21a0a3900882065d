"""Validated data models for frameworks and target-group profiles.

Every YAML file under ``frameworks/`` is parsed into one of these models at load time; anything that
does not fit is refused with a message naming the file, the line and the field.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from generator import registry
from generator.i18n import Message

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
#: A format name: one of ``generator.registry.formats`` (built-ins and installed plugins alike).
Format = Annotated[str, AfterValidator(registry.formats.validator())]


def __getattr__(name: str) -> object:
    # ``FORMATS`` is read from the registry each time, so a plugin format counts as soon as it is installed.
    if name == "FORMATS":
        return tuple(registry.formats.names())
    raise AttributeError(name)

#: Topic tags shared by group situations and the offline content library's examples, so a drafter can
#: pick the example that speaks to a group. Closed on purpose: a typo is refused at load.
Tag = Literal[
    "vneid", "public-services", "e-wallet", "banking", "bills", "scam", "shopping-online",
    "selling-online", "health", "social-media", "messaging", "family", "school", "study", "work-office",
    "farming", "market", "news", "ai-assistant", "accessibility", "teaching-others", "email",
    "documents", "photos-video", "jobs", "transport", "community",
]
TAGS: tuple[str, ...] = Tag.__args__  # type: ignore[attr-defined]

#: Families of target groups: content items written ``for`` a family suit every group in it.
Family = Literal[
    "elderly", "rural", "minority", "learners", "workers", "public-sector", "teachers", "business",
    "families", "community", "disability",
]
FAMILIES: tuple[str, ...] = Family.__args__  # type: ignore[attr-defined]

#: What an activity asks of the learner's senses; a group's profile may exclude some.
Modality = Literal["hearing", "speech", "sight"]

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_CODE = re.compile(r"^\d+(\.\d+)?$")


class LocatedError(ValueError):
    """A validation problem that knows where it is (a path below the model), for precise messages."""

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


class Strict(BaseModel):
    """Base: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


def nfc(text: str) -> str:
    """Return ``text`` in Unicode NFC."""
    return unicodedata.normalize("NFC", text)


class L10n(Strict):
    """A text in Vietnamese and/or English."""

    vi: str = ""
    en: str = ""

    @model_validator(mode="after")
    def _one_language(self) -> L10n:
        if not (self.vi or self.en):
            raise ValueError("needs at least one of 'vi' or 'en'")
        return self

    def get(self, lang: str) -> str:
        """The text in ``lang``, or the other language when that one is missing."""
        if lang == "en":
            return self.en or self.vi
        return self.vi or self.en


class Level(Strict):
    """One of the framework's proficiency levels (bậc)."""

    level: int = Field(ge=1, le=8)
    short: str = ""
    tier: L10n
    keywords: L10n | None = None
    description: L10n | None = None


class Domain(Strict):
    """A competence domain (miền năng lực) or DigComp area."""

    code: str
    name: L10n
    description: L10n | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not re.fullmatch(r"\d+", v):
            raise ValueError(f"domain code must be a number like '4', got {v!r}")
        return v


class Descriptor(Strict):
    """A level descriptor with a stable id (e.g. ``4.2-L1-a``) that lessons cite."""

    id: str
    text: L10n


class Outcome(Strict):
    """A DigComp 3.0 learning outcome or competence statement."""

    id: str
    kind: Literal["outcome", "statement"]
    type: str = ""  # Knowledge / Skill / Attitude for outcomes
    ai_label: str = ""
    tier: str
    text: L10n


class Competence(Strict):
    """A competence (năng lực thành phần) with its per-level descriptors."""

    code: str
    domain: str
    name: L10n
    description: L10n | None = None
    levels: dict[int, list[Descriptor]] = Field(default_factory=dict)
    outcomes: list[Outcome] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not _CODE.fullmatch(v):
            raise ValueError(f"competence code must look like '4.2', got {v!r}")
        return v

    @field_validator("levels")
    @classmethod
    def _levels(cls, v: dict[int, list[Descriptor]]) -> dict[int, list[Descriptor]]:
        for lvl in v:
            if not 1 <= lvl <= 8:
                raise ValueError(f"level {lvl} is outside 1-8")
        return v

    @model_validator(mode="after")
    def _descriptor_ids(self) -> Competence:
        for lvl, descs in self.levels.items():
            for d in descs:
                if not d.id.startswith(f"{self.code}-L{lvl}-"):
                    raise ValueError(
                        f"descriptor id {d.id!r} must start with '{self.code}-L{lvl}-'"
                    )
        return self

    def descriptors(self, level: int) -> list[Descriptor]:
        """The descriptors a lesson at ``level`` may cite."""
        return list(self.levels.get(level, []))


class Framework(Strict):
    """A competence framework: domains, levels, competences."""

    id: str
    title: L10n
    source: str
    licence: str
    verified: bool
    notes: list[str] = Field(default_factory=list)
    attribution: str = ""
    tiers: dict[str, list[int]] = Field(default_factory=dict)
    levels: list[Level]
    domains: list[Domain]
    competences: list[Competence]
    glossary: dict[str, str] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*", v):
            raise ValueError(f"framework id must be lower-case letters, digits, '.', '-': {v!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Framework:
        _unique("level", [lv.level for lv in self.levels], ("levels",), "level")
        _unique("domain code", [d.code for d in self.domains], ("domains",), "code")
        _unique("competence code", [c.code for c in self.competences], ("competences",), "code")
        domains = {d.code for d in self.domains}
        levels = {lv.level for lv in self.levels}
        for i, c in enumerate(self.competences):
            if c.domain not in domains:
                raise LocatedError(
                    f"competence {c.code} refers to unknown domain {c.domain!r}; "
                    f"known domains: {', '.join(sorted(domains))}",
                    ("competences", i, "domain"),
                )
            for lvl in c.levels:
                if lvl not in levels:
                    raise LocatedError(f"competence {c.code} has level {lvl}, not a level of this framework",
                                       ("competences", i, "levels", lvl))
            ids = [d.id for ds in c.levels.values() for d in ds]
            _unique(f"descriptor id in {c.code}", ids, ("competences", i, "levels"))
        return self

    @property
    def outcome_count(self) -> int:
        """Number of learning outcomes (DigComp 3.0)."""
        return sum(1 for c in self.competences for o in c.outcomes if o.kind == "outcome")

    @property
    def statement_count(self) -> int:
        """Number of competence statements (DigComp 3.0)."""
        return sum(1 for c in self.competences for o in c.outcomes if o.kind == "statement")

    def competence(self, code: str) -> Competence:
        """The competence with ``code``; NotFoundError listing valid codes otherwise."""
        from generator.errors import NotFoundError

        for c in self.competences:
            if c.code == code:
                return c
        raise NotFoundError.unknown(
            Message("competence for {framework}", framework=self.id), code, [c.code for c in self.competences]
        )

    def level(self, n: int) -> Level:
        """The level ``n``; NotFoundError listing valid levels otherwise."""
        from generator.errors import NotFoundError

        for lv in self.levels:
            if lv.level == n:
                return lv
        raise NotFoundError.unknown(Message("level for {framework}", framework=self.id), n,
                                    [lv.level for lv in self.levels])

    def tier_of(self, n: int) -> str:
        """Name of the tier that holds level ``n`` (e.g. 'Basic')."""
        for name, lvls in self.tiers.items():
            if n in lvls:
                return name
        return self.level(n).tier.get("en")

    def descriptors(self, code: str, level: int) -> list[Descriptor]:
        """What a lesson at ``level`` may cite: the level's descriptors; for a tiered framework without
        them (DigComp 3.0) the outcomes and statements of the level's tier; for a framework with only
        level keywords (DigComp 2.2) the competence at that level."""
        comp = self.competence(code)
        lv = self.level(level)
        if comp.levels:
            return comp.descriptors(level)
        if comp.outcomes:
            tier = self.tier_of(level)
            return [Descriptor(id=o.id, text=o.text) for o in comp.outcomes if o.tier == tier]
        if lv.keywords is not None:
            # A framework that defines levels only by generic keywords (DigComp 2.2 as transcribed here):
            # the competence at that level is the one thing a lesson can cite.
            return [Descriptor(id=f"{code}-L{level}", text=L10n(
                vi=f"{comp.name.get('vi')} — bậc {level}: {lv.keywords.get('vi')}",
                en=f"{comp.name.get('en')} — level {level}: {lv.keywords.get('en')}"))]
        return []

    def domain(self, code: str) -> Domain:
        """The domain with ``code``."""
        return next(d for d in self.domains if d.code == code)


def _unique(what: str, values: Sequence[object], loc: tuple[str | int, ...] = (), field: str = "") -> None:
    seen: set[object] = set()
    for i, v in enumerate(values):
        if v in seen:
            where = (*loc, i, field) if field else loc
            raise LocatedError(f"duplicate {what} {v!r}", where)
        seen.add(v)


class Situation(Strict):
    """A real-life situation that matters to a target group."""

    id: str
    text: L10n
    tags: list[Tag] = Field(min_length=1)


class ReadingLimits(Strict):
    """How long and how plain a lesson for this group may be (words = space-separated tokens)."""

    max_words_per_lesson: dict[Lang, int]
    max_words_per_sentence: dict[Lang, int]
    vocabulary: L10n

    @field_validator("max_words_per_lesson", "max_words_per_sentence")
    @classmethod
    def _both_langs(cls, v: dict[str, int]) -> dict[str, int]:
        missing = [lang for lang in LANGS if lang not in v]
        if missing:
            raise ValueError(f"needs a value for {', '.join(missing)}")
        for lang, n in v.items():
            if n < 8:
                raise ValueError(f"{lang} limit {n} is too small to write anything useful")
        return v


class Accessibility(Strict):
    """What learners of this group need from the materials."""

    font_scale: float = Field(ge=1.0, le=2.5)
    high_contrast: bool = False
    audio_first: bool = False
    speech_rate_wpm: int = Field(ge=80, le=220)
    notes: L10n


class Register(Strict):
    """How lessons address this group's learners in one language."""

    address: str = Field(min_length=1, description="How the learner is called: 'ông bà', 'em', 'you'")
    greeting: str = Field(min_length=1, description="The narration's first words, e.g. 'Kính chào ông bà.'")
    we: str = Field(default="", description="'We' for doing things together, e.g. 'chúng ta'")
    forbidden: list[str] = Field(default_factory=list, description="Address forms that must not appear")
    allow: list[str] = Field(default_factory=list,
                             description="Phrases that contain a forbidden word but are fine ('bạn bè')")

    @property
    def capital(self) -> str:
        """The address form at the start of a sentence."""
        return self.address[:1].upper() + self.address[1:]


class ModalityProfile(Strict):
    """What learners of this group can see, hear and say, and what lessons must therefore leave out."""

    excludes: list[Modality] = Field(default_factory=list)
    forbidden: dict[Lang, list[str]] = Field(
        default_factory=dict, description="Phrases a lesson for this group must not contain")
    tip: L10n | None = Field(default=None, description="A note every lesson for this group carries")
    captions_burned_in: bool = Field(default=False, description="Burn captions into the video")


class SourceRef(Strict):
    """A source a data file was written from."""

    title: str
    url: str = ""
    note: str = ""


class TargetGroup(Strict):
    """A target-group profile: who the learners are and how lessons must be fitted to them."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, validate_by_name=True,
                              validate_by_alias=True, serialize_by_alias=True)

    id: str
    names: L10n
    who: L10n
    devices: list[L10n] = Field(min_length=1)
    apps: list[str] = Field(min_length=1)
    situations: list[Situation] = Field(min_length=5)
    reading: ReadingLimits
    tone: L10n
    facilitation: L10n
    session_minutes: int = Field(ge=10, le=120)
    family: list[Family] = Field(min_length=1, description="The group's families, the closest first")
    register_: dict[Lang, Register] = Field(alias="register")
    modality: ModalityProfile = Field(default_factory=ModalityProfile)
    max_new_actions: int = Field(ge=3, le=7, description="Most new actions (steps) in one session")
    avoid: dict[Lang, list[str]] = Field(default_factory=dict,
                                         description="Words and examples that do not fit this group")
    accessibility: Accessibility
    default_formats: list[Format] = Field(min_length=1)
    default_language: Lang = "vi"
    sources: list[SourceRef] = Field(min_length=1)
    source: str
    licence: str
    verified: bool

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.fullmatch(v):
            raise ValueError(f"group id must be lower-case letters, digits and '-': {v!r}")
        return v

    @model_validator(mode="after")
    def _unique_situations(self) -> TargetGroup:
        _unique("situation id", [s.id for s in self.situations], ("situations",), "id")
        missing = [lang for lang in LANGS if lang not in self.register_]
        if missing:
            raise LocatedError(f"register needs an entry for {', '.join(missing)}", ("register",))
        return self

    def register(self, lang: str) -> Register:
        """How lessons in ``lang`` address this group's learners."""
        return self.register_[lang]  # type: ignore[index]

    def audiences(self) -> list[str]:
        """What content items may be written ``for`` to suit this group: its id, then its families."""
        return [self.id, *self.family]

    @property
    def tags(self) -> list[str]:
        """Situation tags in the group's order of importance, without repeats."""
        out: list[str] = []
        for s in self.situations:
            out.extend(t for t in s.tags if t not in out)
        return out


class Equivalence(Strict):
    """Competence codes that mean the same thing in two frameworks."""

    source: str
    licence: str
    verified: bool
    notes: list[str] = Field(default_factory=list)
    pairs: dict[str, dict[str, dict[str, str]]]
