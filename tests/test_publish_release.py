"""Publishing: approved versions only, the manifest and its verification, immutability, the static site
and the SCORM 1.2 packages."""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile
from xml.etree import ElementTree

import pytest

from generator.config import load_settings
from generator.errors import PublishError
from generator.publish.manifest import verify_release
from generator.publish.release import build_release, release_path
from generator.review.store import ReviewStore
from generator.versions import make_version
from tests.support.drafts import offline_lesson
from tests.support.fakes import FakeTTS

IMSCP = "{http://www.imsproject.org/xsd/imscp_rootv1p1p2}"
ADLCP = "{http://www.adlnet.org/xsd/adlcp_rootv1p2}"


@pytest.fixture(scope="module")
def drafts(library):  # type: ignore[no-untyped-def]
    return {
        name: offline_lesson(library, competence=c, group=g)
        for name, (c, g) in {
            "approved": ("4.2", "elderly"),
            "farmers": ("2.3", "farmers"),
            "in_review": ("4.1", "elderly"),
            "changes": ("2.3", "elderly"),
            "rejected": ("6.2", "elderly"),
            "edited": ("1.1", "elderly"),
        }.items()
    }


@pytest.fixture
def env(workspace, library, drafts):  # type: ignore[no-untyped-def]
    """A store holding lessons in every state; the approved ones rendered with audio and downloads."""
    settings = load_settings()
    store = ReviewStore.open(settings)
    for name, role in (("ed", "editor"), ("rev", "reviewer"), ("boss", "admin")):
        store.add_user(name, role)

    def add(key, formats):  # type: ignore[no-untyped-def]
        d = drafts[key]
        make_version(
            d, library, settings, store, author="ed", kind="draft", formats=formats, tts=FakeTTS(seconds=0.2)
        )
        return d.lesson.id

    ids = {
        "approved": add("approved", ["handout", "audio", "page"]),
        "farmers": add("farmers", []),  # no renders: the page is made at publish time
        "in_review": add("in_review", ["page"]),
        "changes": add("changes", ["page"]),
        "rejected": add("rejected", ["page"]),
        "edited": add("edited", ["page"]),
    }
    store.approve(ids["approved"], "rev")
    store.approve(ids["farmers"], "rev")
    store.request_changes(ids["changes"], "rev", "Sửa ví dụ")
    store.reject(ids["rejected"], "rev", "Trùng bài khác")
    store.approve(ids["edited"], "rev")
    d = drafts["edited"]
    store.submit_version(d.lesson.model_copy(update={"summary": "Tóm tắt đã sửa."}), d.checks, {}, "ed", 1)
    yield settings, store, ids
    store.close()


def publish(env, library, name="r1", **kw):  # type: ignore[no-untyped-def]
    settings, store, _ = env
    return build_release(store, library, settings, name, by="boss", **kw)


def test_publish_includes_approved_versions_only(env, library, workspace):
    settings, store, ids = env
    result = publish(env, library)
    root = workspace / "outputs/published/r1"
    assert result.path == root and root.is_dir()
    assert sorted(e["id"] for e in result.lessons) == sorted([ids["approved"], ids["farmers"]])
    assert sorted(p.name for p in (root / "lessons").iterdir()) == sorted([ids["approved"], ids["farmers"]])
    assert sorted(p.name for p in (root / "scorm").iterdir()) == sorted([ids["approved"], ids["farmers"]])
    folder = root / "lessons" / ids["approved"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "handout.docx",
        "index.html",
        "lesson.json",
        "narration.mp3",
        "scorm.js",  # the page loads the LMS bridge, which does nothing outside an LMS
    ]
    assert (folder / "narration.mp3").read_bytes() == store.get_version(ids["approved"]).artifacts[
        "narration.mp3"
    ].path.read_bytes()
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert 'src="narration.mp3"' in page and 'href="handout.docx"' in page
    made = (root / "lessons" / ids["farmers"] / "index.html").read_text(encoding="utf-8")
    assert drafts_title(store, ids["farmers"]) in made
    # states moved to published; the others untouched
    states = {k: store.lesson_state(v).status for k, v in ids.items()}
    assert states == {
        "approved": "published",
        "farmers": "published",
        "in_review": "in_review",
        "changes": "changes_requested",
        "rejected": "rejected",
        "edited": "in_review",
    }
    events = store.history(ids["approved"])
    assert (events[-1].action, events[-1].actor, events[-1].comment) == ("publish", "boss", "release r1")
    rec = store.get_release("r1")
    assert {(i.lesson_id, i.version) for i in rec.items} == {(ids["approved"], 1), (ids["farmers"], 1)}
    assert not list((workspace / "outputs/published").glob(".incoming-*"))


def drafts_title(store, lesson_id):  # type: ignore[no-untyped-def]
    return store.get_version(lesson_id).lesson.title


def test_manifest_lists_every_file_and_verifies(env, library, workspace):
    settings, store, ids = env
    result = publish(env, library)
    root = result.path
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    from generator import __version__

    assert manifest["release"] == "r1" and manifest["hocvu_version"] == __version__
    entry = next(e for e in manifest["lessons"] if e["id"] == ids["approved"])
    v = store.get_version(ids["approved"])
    assert {
        k: entry[k]
        for k in (
            "version",
            "content_hash",
            "framework",
            "competence",
            "level",
            "group",
            "language",
            "approved_by",
        )
    } == {
        "version": 1,
        "content_hash": v.content_hash,
        "framework": "vn-dcf-2025",
        "competence": "4.2",
        "level": 1,
        "group": "elderly",
        "language": "vi",
        "approved_by": "rev",
    }
    assert entry["approved_at"].startswith("20")
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert sorted([*manifest["files"], "manifest.json"]) == on_disk
    import hashlib

    for rel, meta in manifest["files"].items():
        assert meta["sha256"] == hashlib.sha256((root / rel).read_bytes()).hexdigest()
    path, expected = release_path(settings, store, "r1")
    assert path == root and expected == store.get_release("r1").manifest_sha256
    report = verify_release(root, expected)
    assert report.ok and report.checked == len(manifest["files"])


def test_a_tampered_release_is_reported(env, library):
    settings, store, ids = env
    root = publish(env, library).path
    expected = store.get_release("r1").manifest_sha256
    page = root / "lessons" / ids["approved"] / "index.html"
    page.write_text(page.read_text(encoding="utf-8").replace("</h1>", " (sửa)</h1>"), encoding="utf-8")
    (root / "scorm" / ids["farmers"] / "imsmanifest.xml").unlink()
    (root / "extra.html").write_text("<p>x</p>", encoding="utf-8")
    report = verify_release(root, expected)
    assert not report.ok
    # the page and the SCORM package's are one file on disk: edited in place, both names are reported
    assert report.changed == [f"lessons/{ids['approved']}/index.html", f"scorm/{ids['approved']}/index.html"]
    assert report.missing == [f"scorm/{ids['farmers']}/imsmanifest.xml"]
    assert report.extra == ["extra.html"]
    data = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    data["files"][f"lessons/{ids['approved']}/index.html"]["sha256"] = "0" * 64
    (root / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    assert verify_release(root, expected).manifest_changed
    assert "manifest.json differs" in verify_release(root, expected).problems()[0]


def test_releases_are_immutable(env, library, workspace):
    publish(env, library)
    before = sorted(p.as_posix() for p in (workspace / "outputs/published").rglob("*"))
    with pytest.raises(PublishError, match="already exists; releases are immutable"):
        publish(env, library)
    with pytest.raises(PublishError, match="invalid release name"):
        publish(env, library, name="../escape")
    assert sorted(p.as_posix() for p in (workspace / "outputs/published").rglob("*")) == before
    # a second release takes the published lessons again
    second = publish(env, library, name="r2", group="elderly")
    assert [e["group"] for e in second.lessons] == ["elderly"]


def test_filters_and_empty_selection(env, library):
    settings, store, ids = env
    assert [e["id"] for e in publish(env, library, name="farm", group="farmers").lessons] == [ids["farmers"]]
    assert [e["id"] for e in publish(env, library, name="c42", competence="4.2").lessons] == [ids["approved"]]
    with pytest.raises(PublishError, match="no approved lessons in group teachers"):
        publish(env, library, name="none", group="teachers")


def test_a_changed_file_or_content_blocks_publishing(env, library, workspace):
    settings, store, ids = env
    art = store.get_version(ids["approved"]).artifacts["handout.docx"]
    art.path.write_bytes(art.path.read_bytes() + b"x")
    with pytest.raises(PublishError, match="handout.docx changed since it was recorded"):
        publish(env, library)
    assert not (workspace / "outputs/published/r1").exists()
    assert store.lesson_state(ids["approved"]).status == "approved"


def test_content_altered_after_approval_blocks_publishing(env, library, workspace):
    settings, store, ids = env
    with sqlite3.connect(workspace / ".hocvu" / "hocvu.db") as conn:
        conn.execute("update versions set content_hash = ? where lesson_id = ?", ("f" * 64, ids["farmers"]))
    with pytest.raises(PublishError, match="no longer matches the content that was approved"):
        publish(env, library)


def test_site_index_links_every_lesson_relatively(env, library):
    settings, store, ids = env
    root = publish(env, library).path
    html = (root / "index.html").read_text(encoding="utf-8")
    ElementTree.fromstring(html.split("\n", 1)[1])  # well-formed (after the doctype)
    assert '<html lang="vi-VN"' in html and 'name="viewport"' in html
    assert html.index(">Người cao tuổi</h2>") < html.index(">Nông dân và người dân nông thôn</h2>")
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and all("://" not in h and not h.startswith("/") for h in hrefs)
    for h in hrefs:
        if not h.startswith("#"):
            assert (root / h).is_file(), h
    assert f"lessons/{ids['approved']}/index.html" in hrefs and f"scorm/{ids['farmers']}/imsmanifest.xml" in hrefs
    assert f"lessons/{ids['approved']}/narration.mp3" in hrefs
    assert "4.2 · Bảo vệ dữ liệu cá nhân và quyền riêng tư" in html


def test_scorm_packages(env, library, tmp_path):
    from generator.publish.scorm import zip_scorm

    settings, store, ids = env
    root = publish(env, library).path
    for lid in (ids["approved"], ids["farmers"]):
        made = zip_scorm(root / "scorm" / lid, tmp_path / f"{lid}.zip")
        assert zip_scorm(root / "scorm" / lid, tmp_path / "again.zip").read_bytes() == made.read_bytes()
        with zipfile.ZipFile(made) as zf:
            names = zf.namelist()
            assert names[0] == "imsmanifest.xml"
            manifest = ElementTree.fromstring(zf.read("imsmanifest.xml"))
            assert manifest.tag == f"{IMSCP}manifest"
            assert manifest.findtext(f"{IMSCP}metadata/{IMSCP}schemaversion") == "1.2"
            orgs = manifest.find(f"{IMSCP}organizations")
            item = orgs.find(f"{IMSCP}organization/{IMSCP}item")
            (resource,) = manifest.findall(f"{IMSCP}resources/{IMSCP}resource")
            assert orgs.get("default") == orgs.find(f"{IMSCP}organization").get("identifier")
            assert item.get("identifierref") == resource.get("identifier")
            assert resource.get(f"{ADLCP}scormtype") == "sco" and resource.get("href") == "index.html"
            files = [f.get("href") for f in resource.findall(f"{IMSCP}file")]
            assert "index.html" in files and "scorm.js" in files
            for href in files:
                assert href in names, href
            page = zf.read("index.html").decode("utf-8")
            assert page.rstrip().endswith("</html>") and '<script src="scorm.js"></script>' in page
            for link in re.findall(r'(?:href|src)="([^"#]+)"', page):
                assert link.startswith("data:image/png;base64,") or link in names, link  # pictures are inline
            js = zf.read("scorm.js").decode("utf-8")
            for call in ("window.API", "LMSInitialize", "cmi.core.score.raw", "LMSFinish"):
                assert call in js.replace("win.API", "window.API")
    with zipfile.ZipFile(tmp_path / f"{ids['approved']}.zip") as zf:
        assert {"narration.mp3", "handout.docx"} <= set(zf.namelist())


def test_scorm_files_are_the_sites_own_bytes_on_disk_once(env, library):
    settings, store, ids = env
    root = publish(env, library).path
    site, package = root / "lessons" / ids["approved"], root / "scorm" / ids["approved"]
    for name in ("narration.mp3", "handout.docx", "index.html", "scorm.js"):
        assert (package / name).stat().st_ino == (site / name).stat().st_ino  # one file, two names
    unique = {(p.stat().st_ino): p.stat().st_size for p in root.rglob("*") if p.is_file()}
    listed = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert sum(unique.values()) < 0.6 * listed  # pages and media are on disk once, not twice
    assert verify_release(root).checked == len(json.loads((root / "manifest.json").read_text())["files"])
    (site / "narration.mp3").write_bytes(b"changed")  # in place: both names change, and both are reported
    report = verify_release(root)
    assert report.changed == [f"lessons/{ids['approved']}/narration.mp3", f"scorm/{ids['approved']}/narration.mp3"]


def test_release_path_accepts_a_folder_copied_elsewhere(env, library, tmp_path):
    import shutil

    settings, store, _ = env
    root = publish(env, library).path
    copy = tmp_path / "usb" / "r1"
    shutil.copytree(root, copy)
    path, expected = release_path(settings, None, str(copy))
    assert path == copy and expected is None and verify_release(path).ok
    with pytest.raises(PublishError, match="no release 'nope'"):
        release_path(settings, store, "nope")
