"""The review workflow as data: statuses, actions, the transition table and who may do what.

Pure functions only; the store calls them inside its transactions, so the rules hold for the CLI, the
web app and batch builds alike::

    (new lesson) ──draft──▶ in_review ──approve──▶ approved ──publish──▶ published
                  (draft) ──submit──▶  │  ──request_changes──▶ changes_requested
                                       └─ reject ──▶ rejected (final for this lesson's line of versions)

    any status except rejected ──edit | revise──▶ a new version, in_review
    any status, or none ──draft (a fresh draft)──▶ a new version, in_review

A version's approval binds to its content hash; a new version always needs approval again.
"""

from __future__ import annotations

from enum import StrEnum

from generator.errors import PermissionError_, TransitionError
from generator.i18n import N_, Message


class Status(StrEnum):
    """Where the current version of a lesson stands."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    REJECTED = "rejected"
    PUBLISHED = "published"


class Action(StrEnum):
    """Everything that is recorded as a review event."""

    CREATE = "create"  # a new version (kind: draft, edit, revise)
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REJECT = "reject"
    PUBLISH = "publish"
    COMMENT = "comment"
    RESOLVE = "resolve"


class Role(StrEnum):
    """User roles."""

    EDITOR = "editor"
    REVIEWER = "reviewer"
    ADMIN = "admin"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

#: How a version came to be. A fresh ``draft`` may start over even after a rejection.
VERSION_KINDS = ("draft", "edit", "revise")

#: action -> {from status: to status} for actions on the current version.
TRANSITIONS: dict[Action, dict[Status, Status]] = {
    Action.SUBMIT: {Status.DRAFT: Status.IN_REVIEW},
    Action.APPROVE: {Status.IN_REVIEW: Status.APPROVED},
    Action.REQUEST_CHANGES: {Status.IN_REVIEW: Status.CHANGES_REQUESTED},
    Action.REJECT: {Status.IN_REVIEW: Status.REJECTED},
    # A lesson already published stays publishable: the next release includes it again.
    Action.PUBLISH: {Status.APPROVED: Status.PUBLISHED, Status.PUBLISHED: Status.PUBLISHED},
}

#: Statuses a derived version (edit, revise) may start from.
DERIVABLE = frozenset(
    {Status.DRAFT, Status.IN_REVIEW, Status.CHANGES_REQUESTED, Status.APPROVED, Status.PUBLISHED}
)

#: Statuses whose current version goes into a release.
PUBLISHABLE = frozenset({Status.APPROVED, Status.PUBLISHED})

#: Actions that carry a review decision and so need a comment when they send work back.
NEEDS_COMMENT = frozenset({Action.REQUEST_CHANGES, Action.REJECT})

#: Which roles may do what. ``create`` covers draft, edit and revise; ``manage_users`` the user admin.
PERMISSIONS: dict[str, frozenset[str]] = {
    "create": frozenset({Role.EDITOR, Role.ADMIN}),
    Action.SUBMIT: frozenset({Role.EDITOR, Role.ADMIN}),
    Action.APPROVE: frozenset({Role.REVIEWER, Role.ADMIN}),
    Action.REQUEST_CHANGES: frozenset({Role.REVIEWER, Role.ADMIN}),
    Action.REJECT: frozenset({Role.REVIEWER, Role.ADMIN}),
    Action.PUBLISH: frozenset({Role.ADMIN}),
    Action.COMMENT: frozenset({Role.EDITOR, Role.REVIEWER, Role.ADMIN}),
    Action.RESOLVE: frozenset({Role.EDITOR, Role.REVIEWER, Role.ADMIN}),
    "manage_users": frozenset({Role.ADMIN}),
    "verify_content": frozenset({Role.REVIEWER, Role.ADMIN}),
}

#: Actions only a registered user may take; the others accept a local name (CLI, batch builds).
REGISTERED_ONLY = frozenset(
    {Action.APPROVE, Action.REQUEST_CHANGES, Action.REJECT, Action.COMMENT, Action.RESOLVE, "manage_users",
     "verify_content"}
)

_VERB = {
    Action.SUBMIT: N_("submit"),
    Action.APPROVE: N_("approve"),
    Action.REQUEST_CHANGES: N_("request changes on"),
    Action.REJECT: N_("reject"),
    Action.PUBLISH: N_("publish"),
}

_HINT = {
    Status.DRAFT: N_("submit it for review first"),
    Status.IN_REVIEW: N_("a reviewer can approve it, request changes or reject it"),
    Status.APPROVED: N_("edit or revise it to make a new version, or publish it"),
    Status.CHANGES_REQUESTED: N_("make a new version (`hocvu revise` or `hocvu edit`); it goes back to review"),
    Status.REJECTED: N_("a rejected lesson is not revised; draft it anew with `hocvu draft`"),
    Status.PUBLISHED: N_("edit or revise it to make a new version, which needs approval again"),
}

#: Status names inside sentences ("it is in review").
STATUS_WORDS = {
    Status.DRAFT: N_("draft"),
    Status.IN_REVIEW: N_("in review"),
    Status.APPROVED: N_("approved"),
    Status.CHANGES_REQUESTED: N_("changes requested"),
    Status.REJECTED: N_("rejected"),
    Status.PUBLISHED: N_("published"),
}

#: Why a new version of each kind cannot be made: the lesson has none yet, or it is rejected.
_NO_VERSION_YET = {"edit": N_("cannot edit {lesson}: it has no version yet; draft it first"),
                   "revise": N_("cannot revise {lesson}: it has no version yet; draft it first")}
_REJECTED = {"edit": N_("cannot edit {lesson}: it is rejected; {hint}"),
             "revise": N_("cannot revise {lesson}: it is rejected; {hint}")}

#: What each permission allows, inside "may not ...".
_ALLOWS = {
    "create": N_("make versions (draft, edit, revise)"),
    Action.SUBMIT.value: N_("submit"),
    Action.APPROVE.value: N_("approve"),
    Action.REQUEST_CHANGES.value: N_("request changes"),
    Action.REJECT.value: N_("reject"),
    Action.PUBLISH.value: N_("publish"),
    Action.COMMENT.value: N_("comment"),
    Action.RESOLVE.value: N_("resolve comments"),
    "manage_users": N_("manage users"),
    "verify_content": N_("verify content"),
}

#: Roles inside sentences.
ROLE_WORDS = {Role.EDITOR.value: N_("editor"), Role.REVIEWER.value: N_("reviewer"), Role.ADMIN.value: N_("admin")}
#: Roles as "is a ..." says them.
_ROLE_IS = {Role.EDITOR.value: N_("an editor"), Role.REVIEWER.value: N_("a reviewer"), Role.ADMIN.value: N_("an admin")}


def next_status(
    status: Status | str, action: Action | str, *, lesson_id: str = "", version: int = 0
) -> Status:
    """The status after ``action``; TransitionError saying what is possible instead when illegal."""
    st, act = Status(status), Action(action)
    table = TRANSITIONS.get(act)
    if table is None:
        raise ValueError(f"{act} does not change a lesson's status")
    if st not in table:
        what = Message("{lesson_id} version {version}", lesson_id=lesson_id, version=version) if lesson_id \
            else Message("this lesson")
        raise TransitionError("cannot {verb} {what}: it is {status}; {hint}", verb=Message(_VERB[act]), what=what,
                              status=Message(STATUS_WORDS[st]), hint=Message(_HINT[st]))
    return table[st]


def new_version_status(
    status: Status | str | None, kind: str, *, submit: bool = True, lesson_id: str = ""
) -> Status:
    """The status of a new version of ``kind`` made while the lesson is ``status`` (None: no lesson yet)."""
    if kind not in VERSION_KINDS:
        raise ValueError(f"unknown version kind {kind!r}; one of {VERSION_KINDS}")
    if status is None and kind != "draft":
        raise TransitionError(Message(_NO_VERSION_YET[kind], lesson=lesson_id or Message("a lesson")))
    if kind != "draft" and Status(status) not in DERIVABLE:  # type: ignore[arg-type]
        raise TransitionError(Message(_REJECTED[kind], lesson=lesson_id or Message("this lesson"),
                                      hint=Message(_HINT[Status.REJECTED])))
    return Status.IN_REVIEW if submit else Status.DRAFT


def require_comment(action: Action | str, comment: str | None) -> None:
    """Refuse to request changes or reject without saying why."""
    if Action(action) in NEEDS_COMMENT and not (comment or "").strip():
        verb = N_("request changes") if Action(action) == Action.REQUEST_CHANGES else N_("reject")
        raise TransitionError("a comment is required to {verb}: say what should change (--comment TEXT)",
                              verb=Message(verb))


def check_permission(name: str, role: str | None, action: Action | str) -> None:
    """Refuse ``action`` to ``name`` (``role`` None: not a registered user) when the rules say so."""
    key = action.value if isinstance(action, Action) else action
    if role is None:
        if key in REGISTERED_ONLY:
            raise PermissionError_(
                "{name!r} is not a registered user; reviewers act under their own name "
                "(add one with `hocvu users add NAME --role reviewer`)",
                name=name,
            )
        return
    allowed = PERMISSIONS[key]
    if role not in allowed:
        what = Message(_ALLOWS[key]) if key in _ALLOWS else key.replace("_", " ")
        raise PermissionError_(
            "{name} is {role} and may not {what}; that needs the role {allowed}",
            name=name, role=Message(_ROLE_IS[role]) if role in _ROLE_IS else role, what=what,
            allowed=_roles(sorted(allowed)),
        )


def _role(role: str) -> Message | str:
    return Message(ROLE_WORDS[role]) if role in ROLE_WORDS else role


def _roles(roles: list[str]) -> Message | str:
    """'admin or reviewer' in the reader's language."""
    if len(roles) == 1:
        return _role(roles[0])
    return Message("{first} or {second}", first=_roles(roles[:-1]), second=_role(roles[-1]))


def check_four_eyes(user: str, authors: dict[int, str], *, enabled: bool, lesson_id: str, version: int) -> None:
    """Nobody approves a version that holds text they wrote since the last approval (``authors``: version
    number -> author, for the version and its parents back to the last approved one)."""
    mine = sorted(n for n, a in authors.items() if a == user)
    if enabled and mine:
        made = Message("version {n}", n=mine[0]) if len(mine) == 1 else \
            Message("versions {numbers}", numbers=", ".join(map(str, mine)))
        raise PermissionError_(
            "{user} made {lesson_id} {made} since its last approval and cannot approve version {version}: "
            "four-eyes review needs another reviewer (or set HOCVU_FOUR_EYES=false for a one-person "
            "workspace)",
            user=user, lesson_id=lesson_id, made=made, version=version,
        )


def article(word: str) -> str:
    """'a' or 'an' for ``word``."""
    return "an" if word[:1] in "aeiou" else "a"
