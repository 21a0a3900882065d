"""The workflow table: every legal and every illegal transition, permissions, four-eyes, comments."""

from __future__ import annotations

import itertools

import pytest

from generator.errors import PermissionError_, ReviewError, TransitionError
from generator.review import workflow as wf
from generator.review.workflow import Action, Status

LEGAL = {
    (Status.DRAFT, Action.SUBMIT): Status.IN_REVIEW,
    (Status.IN_REVIEW, Action.APPROVE): Status.APPROVED,
    (Status.IN_REVIEW, Action.REQUEST_CHANGES): Status.CHANGES_REQUESTED,
    (Status.IN_REVIEW, Action.REJECT): Status.REJECTED,
    (Status.APPROVED, Action.PUBLISH): Status.PUBLISHED,
    (Status.PUBLISHED, Action.PUBLISH): Status.PUBLISHED,
}
STATUS_ACTIONS = [Action.SUBMIT, Action.APPROVE, Action.REQUEST_CHANGES, Action.REJECT, Action.PUBLISH]
ALL = list(itertools.product(Status, STATUS_ACTIONS))


@pytest.mark.parametrize(("status", "action"), list(LEGAL), ids=[f"{s}-{a}" for s, a in LEGAL])
def test_legal_transitions(status, action):
    assert wf.next_status(status, action) == LEGAL[(status, action)]


ILLEGAL = [(s, a) for s, a in ALL if (s, a) not in LEGAL]


@pytest.mark.parametrize(("status", "action"), ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_illegal_transitions_say_what_is_possible(status, action):
    with pytest.raises(TransitionError) as err:
        wf.next_status(status, action, lesson_id="L", version=3)
    msg = str(err.value)
    assert msg.startswith("cannot ") and "L version 3" in msg
    assert f"it is {status.value.replace('_', ' ')}" in msg and ";" in msg  # and a hint after it


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("kind", ["edit", "revise"])
def test_derived_versions_from_every_status(status, kind):
    if status == Status.REJECTED:
        with pytest.raises(TransitionError, match="rejected.*draft it anew"):
            wf.new_version_status(status, kind, lesson_id="L")
    else:
        assert wf.new_version_status(status, kind) == Status.IN_REVIEW
        assert wf.new_version_status(status, kind, submit=False) == Status.DRAFT


@pytest.mark.parametrize("status", [None, *Status])
def test_fresh_draft_is_always_possible(status):
    assert wf.new_version_status(status, "draft") == Status.IN_REVIEW


def test_no_edit_without_a_first_version():
    with pytest.raises(TransitionError, match="no version yet"):
        wf.new_version_status(None, "edit", lesson_id="L")


@pytest.mark.parametrize("action", [Action.REQUEST_CHANGES, Action.REJECT])
@pytest.mark.parametrize("comment", [None, "", "   "])
def test_comment_required_to_send_back(action, comment):
    with pytest.raises(TransitionError, match="a comment is required"):
        wf.require_comment(action, comment)
    wf.require_comment(action, "Bước 2 chưa rõ")
    wf.require_comment(Action.APPROVE, None)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        ("reviewer", Action.APPROVE, True),
        ("admin", Action.APPROVE, True),
        ("editor", Action.APPROVE, False),
        ("reviewer", Action.REJECT, True),
        ("editor", Action.REQUEST_CHANGES, False),
        ("editor", "create", True),
        ("admin", "create", True),
        ("reviewer", "create", False),
        ("admin", Action.PUBLISH, True),
        ("editor", Action.PUBLISH, False),
        ("reviewer", Action.PUBLISH, False),
        ("editor", Action.COMMENT, True),
        ("reviewer", "manage_users", False),
        ("admin", "manage_users", True),
    ],
)
def test_permissions(role, action, allowed):
    if allowed:
        wf.check_permission("u", role, action)
    else:
        with pytest.raises(PermissionError_, match="may not"):
            wf.check_permission("u", role, action)


def test_unregistered_names_may_author_but_not_review():
    wf.check_permission("someone", None, "create")
    wf.check_permission("someone", None, Action.PUBLISH)
    for action in (Action.APPROVE, Action.REQUEST_CHANGES, Action.REJECT, Action.COMMENT):
        with pytest.raises(PermissionError_, match="not a registered user"):
            wf.check_permission("someone", None, action)


def test_four_eyes():
    with pytest.raises(PermissionError_, match="four-eyes"):
        wf.check_four_eyes("an", {1: "an"}, enabled=True, lesson_id="L", version=1)
    wf.check_four_eyes("an", {1: "binh"}, enabled=True, lesson_id="L", version=1)
    wf.check_four_eyes("an", {1: "an"}, enabled=False, lesson_id="L", version=1)
    with pytest.raises(PermissionError_, match="versions 2, 3 since its last approval"):
        wf.check_four_eyes("an", {4: "binh", 3: "an", 2: "an"}, enabled=True, lesson_id="L", version=4)


def test_errors_are_review_errors():
    assert issubclass(TransitionError, ReviewError) and issubclass(PermissionError_, ReviewError)
