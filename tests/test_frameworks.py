"""Loading and validating frameworks, groups and equivalences; every refusal with its message."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from generator.errors import DataError, NotFoundError
from generator.frameworks import Library, check_content
from generator.importers import digcomp3_from_jsonld, import_framework
from generator.schema import Framework, TargetGroup
from generator.yamlio import load_model

REPO = Path(__file__).resolve().parent.parent
JSONLD = REPO / "frameworks/sources/digcomp-3.0-data-supplement-2025-11-24.jsonld"


def test_vn_framework_shape(library):
    fw = library.framework("vn-dcf-2025")
    assert (len(fw.domains), len(fw.competences), len(fw.levels)) == (6, 24, 8)
    assert fw.tiers == {"Cơ bản": [1, 2], "Trung cấp": [3, 4], "Nâng cao": [5, 6], "Chuyên sâu": [7, 8]}
    assert all(c.name.vi and c.name.en for c in fw.competences)
    assert all(set(c.levels) == set(range(1, 9)) for c in fw.competences)
    assert [d.id for d in fw.descriptors("4.2", 1)] == ["4.2-L1-a", "4.2-L1-b", "4.2-L1-c"]
    assert fw.source and fw.licence and fw.verified is False


def test_vietnamese_text_is_nfc(library):
    fw = library.framework("vn-dcf-2025")
    text = fw.competence("4.2").descriptors(1)[0].text.vi
    assert unicodedata.is_normalized("NFC", text)
    assert "dữ liệu cá nhân" in text


def test_digcomp_frameworks(library):
    assert len(library.framework("digcomp-2.2").competences) == 21
    dc3 = library.framework("digcomp-3.0")
    assert len(dc3.competences) == 21 and dc3.outcome_count == 523 and dc3.statement_count == 362
    assert dc3.level(1).tier.en == "Basic"
    assert all(o.id.startswith("LO") for o in dc3.descriptors("4.2", 1) if o.id.startswith("L"))


def test_equivalence_by_code(library):
    assert library.equivalent("vn-dcf-2025", "4.2", "digcomp-2.2") == "4.2"
    assert library.equivalent("digcomp-3.0", "5.4", "vn-dcf-2025") == "5.4"
    assert library.equivalent("vn-dcf-2025", "6.1", "digcomp-2.2") is None


def test_at_least_twelve_groups_with_real_profiles(library):
    groups = library.groups
    assert len(groups) >= 12
    for g in groups.values():
        assert len(g.situations) >= 5 and g.sources and g.source and g.licence
        assert 20 <= g.reading.max_words_per_sentence["vi"] and 16 <= g.reading.max_words_per_sentence["en"]
    assert groups["elderly"].accessibility.font_scale > groups["university-students"].accessibility.font_scale


def test_importer_reads_the_real_jrc_file(tmp_path):
    fw, out = import_framework(JSONLD, "digcomp-3.0", tmp_path)
    assert out == tmp_path / "digcomp-3.0.yaml"
    again = load_model(out, Framework)
    assert again.outcome_count == 523 and again.statement_count == 362
    comp = again.competence("1.1")
    tiers = {o.tier for o in comp.outcomes}
    assert tiers == {"Basic", "Intermediate", "Advanced", "Highly advanced"}
    assert "CC BY 4.0" in again.licence
    assert len(again.glossary) == 126


def test_shipped_digcomp3_matches_a_fresh_import(library):
    fresh = digcomp3_from_jsonld(JSONLD)
    shipped = library.framework("digcomp-3.0")
    assert [c.model_dump() for c in fresh.competences] == [c.model_dump() for c in shipped.competences]


def test_importer_refuses_other_json(tmp_path):
    bad = tmp_path / "x.jsonld"
    bad.write_text('{"hello": 1}')
    with pytest.raises(DataError, match="no '@graph' list"):
        digcomp3_from_jsonld(bad)
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        digcomp3_from_jsonld(bad)


def test_offline_content_cross_checks_clean(library):
    codes = library.content_codes("vn-dcf-2025")
    assert len(codes) == 24
    problems = [p for code in codes for p in check_content(library, "vn-dcf-2025", code)]
    assert problems == []


# -- refusals, each with its message ---------------------------------------------------------------

MINI = """\
id: mini
title: {vi: Khung thử}
source: test
licence: test
verified: false
levels:
  - {level: 1, tier: {vi: Cơ bản}}
domains:
  - {code: '1', name: {vi: Miền một}}
competences:
  - code: '1.1'
    domain: '1'
    name: {vi: Năng lực một}
    levels:
      1:
        - {id: 1.1-L1-a, text: {vi: Làm được việc đơn giản.}}
"""


def _framework_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "mini.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_valid_minimal_framework_loads(tmp_path):
    assert load_model(_framework_file(tmp_path, MINI), Framework).competences[0].code == "1.1"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.replace("title: {vi: Khung thử}", "title: {vi: Khung thử"), r"mini.yaml: line \d+: malformed YAML"),  # noqa: E501
        (lambda t: t.replace("source: test\n", ""), r"mini.yaml:1: source: required field is missing"),
        (lambda t: t.replace("domain: '1'", "domain: '9'"), r"mini.yaml:\d+: competences.0.domain: competence 1.1 refers to unknown domain '9'"),  # noqa: E501
        (lambda t: t.replace("{level: 1,", "{level: 9,"), r"mini.yaml:\d+: levels.0.level: Input should be less than or equal to 8"),  # noqa: E501
        (lambda t: t + t[t.index("  - code: '1.1'"):], r"duplicate competence code '1.1'"),
        (lambda t: t.replace("verified: false", "verified: false\ncolour: blue"), r"mini.yaml:\d+: colour: unknown field"),  # noqa: E501
        (lambda t: t.replace("1.1-L1-a", "2.1-L1-a"), r"descriptor id '2.1-L1-a' must start with '1.1-L1-'"),
    ],
    ids=["malformed", "missing-field", "unknown-domain", "level-range", "duplicate-code", "unknown-field", "bad-id"],
)
def test_framework_refusals(tmp_path, mutate, message):
    with pytest.raises(DataError, match=message):
        load_model(_framework_file(tmp_path, mutate(MINI)), Framework)


def test_refusal_names_the_line_of_the_field(tmp_path):
    text = MINI.replace("{level: 1,", "{level: 9,")
    with pytest.raises(DataError) as info:
        load_model(_framework_file(tmp_path, text), Framework)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "level: 9" in row)
    assert f"mini.yaml:{line}:" in str(info.value)


def test_group_refusals(tmp_path, library):
    good = (REPO / "frameworks/groups/elderly.yaml").read_text(encoding="utf-8")
    p = tmp_path / "elderly.yaml"
    p.write_text(good.replace("speech_rate_wpm:", "speech_rate_wpm: 20 #"), encoding="utf-8")
    with pytest.raises(DataError, match=r"accessibility.speech_rate_wpm: Input should be greater than or equal to 80"):
        load_model(p, TargetGroup)
    p.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="the file is empty"):
        load_model(p, TargetGroup)


def test_workspace_frameworks_add_and_override(workspace):
    (workspace / "frameworks").mkdir()
    (workspace / "frameworks" / "mini.yaml").write_text(MINI, encoding="utf-8")
    lib = Library(workspace)
    assert "mini" in lib.frameworks and "vn-dcf-2025" in lib.frameworks
    (workspace / "frameworks" / "groups").mkdir()
    src = (REPO / "frameworks/groups/elderly.yaml").read_text(encoding="utf-8")
    (workspace / "frameworks/groups/elderly.yaml").write_text(
        src.replace("session_minutes:", "session_minutes: 30 #"), encoding="utf-8")
    assert Library(workspace).group("elderly").session_minutes == 30


def test_file_name_must_match_id(workspace):
    (workspace / "frameworks").mkdir()
    (workspace / "frameworks" / "other.yaml").write_text(MINI, encoding="utf-8")
    with pytest.raises(DataError, match="must match the file name"):
        _ = Library(workspace).frameworks


def test_unknown_names_list_valid_choices(library):
    with pytest.raises(NotFoundError, match="unknown framework 'nope'; choose one of: digcomp-2.2, digcomp-3.0"):
        library.framework("nope")
    with pytest.raises(NotFoundError, match="choose one of: 1.1, 1.2"):
        library.framework("vn-dcf-2025").competence("7.7")
    with pytest.raises(NotFoundError, match="unknown group 'x'"):
        library.group("x")
