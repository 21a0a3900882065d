"""The compiled catalogs kept in the user's cache: same answers as a fresh compilation, a new file when the
.po changes, and a broken or unwritable cache only costs the compilation."""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

import pytest

from generator import i18n


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    i18n.translations.cache_clear()
    yield
    i18n.translations.cache_clear()


def _cached(tmp_path: Path, lang: str) -> list[Path]:
    return sorted((tmp_path / "cache" / "hocvu" / "locale").glob(f"{lang}-*.mo"))


def test_cached_catalog_answers_as_a_fresh_compilation(tmp_path: Path) -> None:
    fresh = gettext.GNUTranslations(BytesIO(i18n.compile_catalog(i18n.catalog_path("vi").read_bytes(), "vi")))
    first = i18n.translations("vi")
    assert len(_cached(tmp_path, "vi")) == 1
    i18n.translations.cache_clear()
    second = i18n.translations("vi")  # read back from the cache file
    msgids = [m for m in fresh._catalog if isinstance(m, str) and m][:200]  # type: ignore[attr-defined]
    assert len(msgids) == 200
    for msgid in msgids:
        assert first.gettext(msgid) == second.gettext(msgid) == fresh.gettext(msgid)
    assert any(second.gettext(m) != m for m in msgids)  # the Vietnamese really came back


def test_a_changed_catalog_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    i18n.translations("vi")
    po = tmp_path / "hocvu.po"
    po.write_bytes(i18n.catalog_path("vi").read_bytes().replace(
        b'msgid ""\nmsgstr ""', b'msgid "zz-test"\nmsgstr "da doi"\n\nmsgid ""\nmsgstr ""', 1))
    monkeypatch.setattr(i18n, "catalog_path", lambda lang: po)
    i18n.translations.cache_clear()
    assert i18n.translations("vi").gettext("zz-test") == "da doi"
    assert len(_cached(tmp_path, "vi")) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_broken_cache_file_is_compiled_again_and_replaced(tmp_path: Path, damage: str) -> None:
    good = i18n.translations("vi")
    (path,) = _cached(tmp_path, "vi")
    data = path.read_bytes()
    path.write_bytes(b"not a catalog" if damage == "garbage" else data[: len(data) // 3])
    i18n.translations.cache_clear()
    again = i18n.translations("vi")
    msgids = [m for m in good._catalog if isinstance(m, str) and m][:50]  # type: ignore[attr-defined]
    assert [again.gettext(m) for m in msgids] == [good.gettext(m) for m in msgids]
    assert path.read_bytes() == data  # the damaged file was replaced by the compiled catalog


def test_an_unwritable_cache_still_translates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the folder would go
    fresh = gettext.GNUTranslations(BytesIO(i18n.compile_catalog(i18n.catalog_path("vi").read_bytes(), "vi")))
    msgid = next(m for m in fresh._catalog if isinstance(m, str) and m)  # type: ignore[attr-defined]
    assert i18n.translations("vi").gettext(msgid) == fresh.gettext(msgid)
