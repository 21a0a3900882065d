"""The quality report: drafts a sample offline, runs every check, measures overlap, writes QUALITY.md."""

from __future__ import annotations

from generator.quality import jaccard, trigrams


def test_overlap_ignores_the_address_form_but_not_the_content():
    a = trigrams("Ông bà mở Zalo và chạm Cá nhân rồi chạm Cài đặt", "ông bà")
    b = trigrams("Em mở Zalo và chạm Cá nhân rồi chạm Cài đặt", "em")
    c = trigrams("Em mở Facebook và chọn Bạn bè thay vì Công khai", "em")
    assert jaccard(a, b) == 1.0  # only the address differs: the same lesson
    assert jaccard(a, c) < 0.2


def test_quality_command_writes_a_report_with_checks_overlap_and_showcase(cli, tmp_path):
    out = tmp_path / "Q.md"
    result = cli("quality", "-c", "4.2", "-g", "elderly", "-g", "farmers", "-l", "1", "-l", "3",
                 "--lang", "vi", "--out", str(out))
    assert result.exit_code in (0, 3), result.stderr
    text = out.read_text(encoding="utf-8")
    assert "## Checks" in text and "| register |" in text and "## Overlap between groups" in text
    assert "| 1 and 3 |" in text
    assert "### elderly · 4.2 level 1 · vi" in text  # the showcase lesson, in full
    assert "lessons pass every check" in result.stdout
