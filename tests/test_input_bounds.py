"""Odd inputs are refused in one line with exit 2, naming the real problem: a workspace that is a file,
worker counts out of range, unregistered or absurd --as names, an import that would replace a framework,
unknown names in publish filters."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SUPPLEMENT = REPO / "frameworks/sources/digcomp-3.0-data-supplement-2025-11-24.jsonld"
DRAFT = ["draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "elderly", "--formats", "none"]


def refused(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert all(w in result.output for w in words), result.output


def test_a_workspace_that_is_a_file_is_refused(cli, workspace):
    refused(cli("--workspace", "/etc/passwd", "review", "list"), "is a file")


@pytest.mark.parametrize("workers", ["-1", "1000"])
def test_worker_counts_are_range_checked(cli, workers):
    refused(cli("build", str(REPO / "generator/batch/demo.yaml"), "--dry-run", "--workers", workers), "--workers")


def test_draft_as_must_name_a_registered_user(cli, workspace):
    refused(cli(*DRAFT, "--as", "nobody"), "not a registered user", "hocvu users add")
    long = cli(*DRAFT, "--as", "a" * 5000)
    refused(long, "not a valid user name")
    assert len(long.output) < 300
    assert not (workspace / "outputs/drafts").exists()
    assert cli("users", "add", "ed", "--role", "editor", "--no-password").exit_code == 0
    assert cli(*DRAFT, "--as", "ed").exit_code == 0


def test_an_import_never_silently_replaces_a_framework(cli, workspace):
    refused(cli("frameworks", "import", str(SUPPLEMENT), "--id", "vn-dcf-2025"), "--replace", "vn-dcf-2025")
    assert not (workspace / "frameworks/vn-dcf-2025.yaml").exists()
    assert cli("frameworks", "import", str(SUPPLEMENT), "--id", "vn-dcf-2025", "--replace").exit_code == 0
    assert (workspace / "frameworks/vn-dcf-2025.yaml").exists()


@pytest.mark.parametrize("option", ["--group", "--framework"])
def test_publish_with_an_unknown_filter_names_it(cli, option):
    refused(cli("publish", "--release", "r1", option, "nosuch"), "unknown", "nosuch")


def test_a_manifest_entry_that_is_not_a_mapping_is_reported_not_a_crash(tmp_path):
    import json

    from generator.publish.manifest import FORMAT, MANIFEST, verify_release

    root = tmp_path / "r1"
    root.mkdir()
    (root / "a.html").write_text("x", encoding="utf-8")
    (root / MANIFEST).write_text(json.dumps({"format": FORMAT, "files": {"a.html": "not a mapping"}}),
                                 encoding="utf-8")
    assert verify_release(root).changed == ["a.html"]


def test_review_diff_and_show_name_the_real_problem(cli, workspace, library):
    from generator.config import load_settings
    from generator.review.store import ReviewStore
    from generator.versions import make_version
    from tests.support.drafts import offline_lesson

    lid = "vn-dcf-2025.4.2.L1.elderly.vi"
    with ReviewStore.open(load_settings()) as store:
        for _ in range(2):
            make_version(offline_lesson(library), library, load_settings(), store, author="ed",
                                kind="draft", formats=[])
    refused(cli("review", "diff", lid, "0", "2"), "start at 1")
    (workspace / "outputs/drafts" / lid / "v2/preview.md").unlink()
    shown = cli("review", "show", lid)
    line = next(x for x in shown.output.splitlines() if "preview.md" in x)
    assert "missing" in line
