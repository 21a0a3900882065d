"""Extensions take one path: a format installed as a plugin (a package on ``sys.path`` with a
``hocvu.formats`` entry point) and a backend registered by the registry's own call are valid everywhere
a built-in is, with no other edit."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator import registry
from generator.batch.build import plan_build, run_build
from generator.batch.spec import BatchSpec, load_spec
from generator.config import Settings, load_settings
from generator.errors import DataError
from generator.frameworks import Library
from generator.review.store import ReviewStore
from tests.support.drafts import REPO

POSTER = '''\
"""A test plugin: a one-page text poster of the lesson."""

from generator.fsutil import write_text_atomic
from generator.render.base import FormatSpec


class PosterRenderer:
    format = "poster"
    suffix = ".txt"

    def render(self, lesson, group, out_dir, ctx):
        path = out_dir / "poster.txt"
        write_text_atomic(path, lesson.title + "\\n\\n" + lesson.summary + "\\n")
        return path


POSTER = FormatSpec("poster", "poster.txt", PosterRenderer, pictured=False,
                    labels={"vi": "Áp phích (.txt)", "en": "Poster (.txt)"})
'''

SPEC = """\
name: plug
framework: vn-dcf-2025
groups: [elderly]
competences: ["4.2"]
levels: [1]
formats: {formats}
backend: {backend}
"""
LESSON = "vn-dcf-2025.4.2.L1.elderly.vi"


@pytest.fixture
def poster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The 'poster' format, installed as a distribution whose entry point names it."""
    import sys

    site = tmp_path / "site-packages"
    (site / "hocvu_poster").mkdir(parents=True)
    (site / "hocvu_poster" / "__init__.py").write_text(POSTER, encoding="utf-8")
    info = site / "hocvu_poster-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hocvu-poster\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[hocvu.formats]\nposter = hocvu_poster:POSTER\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    registry.reload_plugins()
    yield "poster"
    monkeypatch.undo()
    sys.modules.pop("hocvu_poster", None)
    registry.reload_plugins()
    assert "poster" not in registry.formats


def _spec(workspace: Path, formats: str = "group", backend: str = "offline") -> BatchSpec:
    path = workspace / "spec.yaml"
    path.write_text(SPEC.format(formats=formats, backend=backend), encoding="utf-8")
    return load_spec(path)


def test_render_takes_a_plugin_format_and_the_page_links_it(poster, cli, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.lesson_samples import vi_lesson

    lesson_json = workspace / "otp.json"
    lesson_json.write_text(vi_lesson().model_dump_json(), encoding="utf-8")
    result = cli("render", str(lesson_json), "--formats", "poster,page")
    assert result.exit_code == 0, result.output
    assert (workspace / "poster.txt").read_text(encoding="utf-8").startswith(vi_lesson().title)
    page = (workspace / "index.html").read_text(encoding="utf-8")
    assert 'href="poster.txt"' in page and "Áp phích (.txt)" in page
    unknown = cli("render", str(lesson_json), "--formats", "posterr")
    assert unknown.exit_code == 2 and "choose one of: handout, guide, slides, audio, page, video, card, poster" \
        in unknown.stderr


def test_a_plugin_format_is_built_from_group_defaults_published_and_downloaded(poster, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from generator.publish.release import build_release
    from tests.support.web import PASSWORD, make_app, sign_in

    groups = workspace / "frameworks" / "groups"
    groups.mkdir(parents=True)
    shipped = (REPO / "frameworks" / "groups" / "elderly.yaml").read_text(encoding="utf-8")
    assert "default_formats: [handout, audio, slides, card, page]" in shipped
    (groups / "elderly.yaml").write_text(
        shipped.replace("default_formats: [handout, audio, slides, card, page]", "default_formats: [page, poster]"),
        encoding="utf-8")
    settings, library = load_settings(workspace), Library(workspace)
    assert library.group("elderly").default_formats == ["page", "poster"]
    assert _spec(workspace, "[poster, handout]").formats_for([]) == ["handout", "poster"]
    with pytest.raises(DataError, match="formats"):
        _spec(workspace, "[posterr]")

    with ReviewStore.open(settings) as store:
        plan = plan_build(_spec(workspace), library, settings, store)
        assert [p.formats for p in plan.lessons] == [["page", "poster"]]
        report = run_build(plan, library, settings, store, "batch-bot", 1)
        assert report.count("generated") == 1
        assert "poster.txt" in store.get_version(LESSON).artifacts
        store.add_user("rv1", "reviewer", PASSWORD)
        store.add_user("boss", "admin", PASSWORD)
        store.approve(LESSON, "rv1")
        release = build_release(store, library, settings, "r1", by="boss")

    folder = release.path / "lessons" / LESSON
    assert (folder / "poster.txt").is_file()
    assert 'href="poster.txt"' in (folder / "index.html").read_text(encoding="utf-8")
    index = (release.path / "index.html").read_text(encoding="utf-8")
    assert f'href="lessons/{LESSON}/poster.txt">Áp phích (.txt)</a>' in index
    package = release.path / "scorm" / LESSON  # the SCORM package is a folder of links to the site's files
    assert (package / "poster.txt").is_file()
    assert 'href="poster.txt"' in (package / "imsmanifest.xml").read_text(encoding="utf-8")

    app = make_app(workspace, library=library)
    try:
        with TestClient(app, follow_redirects=False) as client:
            sign_in(client, "rv1")
            html = client.get(f"/lessons/{LESSON}").text
            assert f'/lessons/{LESSON}/versions/1/files/poster" download>Áp phích (.txt)</a>' in html
            r = client.get(f"/lessons/{LESSON}/versions/1/files/poster")
            assert r.status_code == 200 and r.text.startswith(store_title(settings))
    finally:
        app.state.web.store.close()


def store_title(settings: Settings) -> str:
    """The title of the built lesson, as recorded."""
    with ReviewStore.open(settings) as store:
        return store.get_version(LESSON).lesson.title


# -- a backend ------------------------------------------------------------------------------------
def _echo_class():  # type: ignore[no-untyped-def]
    """A backend hocvu's code has never heard of: it drafts what the offline composer would, under its
    own name, model and prompt hash."""
    from generator.drafting.backend import Backend, DraftResult
    from generator.drafting.offline import OfflineBackend

    class Echo(Backend):
        name = "echo"
        prompt_hash_now = "echo-prompt-1"

        def __init__(self, library: Library) -> None:
            self.inner = OfflineBackend(library)
            self.model = "echo-1"

        @classmethod
        def create(cls, settings, library, model):  # type: ignore[no-untyped-def]
            return cls(library)

        @classmethod
        def model_for(cls, settings, model):  # type: ignore[no-untyped-def]
            return "echo-1"

        @classmethod
        def prompt_hash(cls, workspace, task="lesson"):  # type: ignore[no-untyped-def]
            return cls.prompt_hash_now

        async def adraft(self, request):  # type: ignore[no-untyped-def]
            composed = await self.inner.adraft(request)
            return DraftResult(draft=composed.draft, backend=self.name, model=self.model,
                               prompt_hash=self.prompt_hash_now)

    return Echo


@pytest.fixture
def echo():  # type: ignore[no-untyped-def]
    """Backend 'echo', registered by the registry's own call (as a plugin module would on import)."""
    cls = _echo_class()
    registry.backends.register("echo", cls)
    yield cls
    registry.backends.unregister("echo")


def test_a_plugin_backend_drafts_through_the_setting_and_a_batch_spec(echo, cli, workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from generator.review.outdated import OutdatedChecker

    monkeypatch.setenv("HOCVU_BACKEND", "echo")
    result = cli("draft", "-f", "vn-dcf-2025", "-c", "4.2", "-l", "1", "-g", "elderly", "--formats", "none")
    assert result.exit_code == 0, result.output
    settings = load_settings(workspace)
    with ReviewStore.open(settings) as store:
        prov = store.get_version(LESSON).lesson.provenance
        assert (prov.backend, prov.model, prov.prompt_hash) == ("echo", "echo-1", "echo-prompt-1")
        assert prov.content_verified is None  # not composed from the content library, so not verified by it

    monkeypatch.delenv("HOCVU_BACKEND")
    library = Library(workspace)
    spec = _spec(workspace, "[page]", "echo")
    dry = cli("build", str(workspace / "spec.yaml"), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "plan: plug (echo, echo-1)" in dry.output and "estimate: 0 tokens, $0 (echo drafter, no model calls)" \
        in dry.output
    with ReviewStore.open(settings) as store:
        plan = plan_build(spec, library, settings, store)
        assert (plan.backend, plan.model, plan.calls_model, plan.est_cost_usd) == ("echo", "echo-1", False, 0.0)
        report = run_build(plan, library, settings, store, "batch-bot", 1)
        assert report.count("generated") == 1
        assert plan_build(spec, library, settings, store).count("cached") == 1
        version = store.get_version(LESSON)
        assert version.number == 2 and version.lesson.provenance.backend == "echo"
        checker = OutdatedChecker(library)
        assert checker.reasons(version, "vn-dcf-2025", "4.2", "elderly") == []
        echo.prompt_hash_now = "echo-prompt-2"
        assert OutdatedChecker(library).reasons(version, "vn-dcf-2025", "4.2", "elderly") == ["the prompt changed"]


def test_unknown_backends_are_refused_with_the_plugins_listed(echo) -> None:  # type: ignore[no-untyped-def]
    from generator.errors import ConfigError

    with pytest.raises(ConfigError, match="Input should be 'auto', 'offline', 'openai' or 'echo'"):
        load_settings(backend="ollama")
    assert Settings(backend="echo").backend == "echo"
