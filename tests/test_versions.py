"""One life for every version (``generator.versions``): ``hocvu draft`` and ``hocvu build`` make their
versions through ``make_version``, so both record the same files, notes reach the provenance one way,
and the review app serves the lesson download of either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.config import load_settings
from generator.errors import RenderError
from generator.review.store import ReviewStore
from generator.versions import CONTENT_FILES, make_version
from tests.support.drafts import offline_lesson
from tests.support.web import PASSWORD, sign_in

LESSON = "vn-dcf-2025.4.2.L1.elderly.vi"
SPEC = """\
name: one
framework: vn-dcf-2025
groups: [elderly]
competences: ["4.2"]
levels: [1]
formats: [page]
backend: offline
"""


def test_a_built_and_a_drafted_version_record_the_same_files_and_both_download(workspace, cli, library):
    spec = workspace / "spec.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    built = cli("build", str(spec), "--workers", "0")
    assert built.exit_code == 0, built.output
    drafted = cli("draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "elderly", "--backend", "offline",
                  "--formats", "page")
    assert drafted.exit_code == 0, drafted.output
    settings = load_settings(workspace)
    with ReviewStore.open(settings) as store:
        store.add_user("rv1", "reviewer", PASSWORD)
        v1, v2 = store.versions(LESSON)
        assert v1.cache_key and not v2.cache_key  # the first came from the build, the second from draft
        assert set(v1.artifacts) == set(v2.artifacts) == {*CONTENT_FILES, "index.html"}
        for v in (v1, v2):  # the folder holds what the store recorded, and lesson.json is the recorded lesson
            assert {p.name for p in v.artifacts.values()} == {p.name for p in v.folder.iterdir()
                                                              if not p.name.startswith(".")}
            saved = json.loads((v.folder / "lesson.json").read_text(encoding="utf-8"))
            assert saved["provenance"] == json.loads(v.lesson.model_dump_json())["provenance"]

    from fastapi.testclient import TestClient

    from generator.web.app import create_app

    app = create_app(settings, library=library)
    try:
        with TestClient(app, follow_redirects=False) as client:
            sign_in(client, "rv1")
            for n in (1, 2):
                r = client.get(f"/lessons/{LESSON}/versions/{n}/files/lesson")
                assert r.status_code == 200, (n, r.text[:300])
                assert r.json()["id"] == LESSON
                assert client.get(f"/lessons/{LESSON}/versions/{n}/files/page").status_code == 200
    finally:
        app.state.web.store.close()


def _noting(lesson, group, out_dir: Path, formats, settings, tts=None):  # type: ignore[no-untyped-def]
    """A renderer for tests: one small page, and a note such as a TTS fallback would leave."""
    from generator.render import RenderResult

    (out_dir / "index.html").write_text("<p>bài</p>", encoding="utf-8")
    return RenderResult({"page": out_dir / "index.html"}, ["narration: espeak-ng used instead of gTTS"], {"page": 0.1})


def test_render_notes_reach_the_provenance_of_the_file_and_the_store(workspace, library):
    settings = load_settings(workspace)
    stages: list[str] = []
    with ReviewStore.open(settings) as store:
        new = make_version(offline_lesson(library), library, settings, store, author="ed", formats=["page"],
                           render=_noting, on_stage=stages.append)
        note = "narration: espeak-ng used instead of gTTS"
        assert stages == ["render", "submit"] and new.render_notes == [note]
        assert note in store.get_version(LESSON).lesson.provenance.notes
        saved = json.loads((new.path / "lesson.json").read_text(encoding="utf-8"))
        assert saved["provenance"]["notes"].count(note) == 1
        assert set(new.timings) >= {"render", "render.page", "submit"}


def test_a_failed_render_leaves_no_folder_and_no_version(workspace, library):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RenderError("slides: the template is missing")

    settings = load_settings(workspace)
    with ReviewStore.open(settings) as store:
        with pytest.raises(RenderError):
            make_version(offline_lesson(library), library, settings, store, author="ed", formats=["slides"],
                         render=broken)
        assert not _known(store)
    assert list((settings.outputs_dir / "drafts" / LESSON).iterdir()) == []  # not even its staging folder


def _known(store: ReviewStore) -> bool:
    from generator.errors import NotFoundError

    try:
        store.lesson_state(LESSON)
    except NotFoundError:
        return False
    return True
