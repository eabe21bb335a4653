"""Characters that must not reach a document, and those the fonts cannot show."""

from __future__ import annotations

import pytest

from docgen.characters import character_problems
from docgen.glyphs import FONT_FAMILIES, FontCoverage
from docgen.settings import load_settings


@pytest.mark.parametrize(
    ("text", "code", "code_point", "position"),
    [
        ("共同\x00体", "char.control", "U+0000", 3),
        ("第一行\x0b第二行", "char.control", "U+000B", 4),  # (\r\n is normalised before)
        ("a\x85b", "char.control", "U+0085", 2),
        ("坏\ud800字", "char.surrogate", "U+D800", 2),
        ("非\ufffe字", "char.noncharacter", "U+FFFE", 2),
        ("非\ufdd0字", "char.noncharacter", "U+FDD0", 2),
        ("非\U0010ffff字", "char.noncharacter", "U+10FFFF", 2),
    ],
)
def test_forbidden_characters_are_reported_with_path_and_code_point(
    text: str, code: str, code_point: str, position: int
) -> None:
    problems = list(character_problems({"a": [{"b": "ok"}, {"b": text}]}))
    assert [(p.path, p.code) for p in problems] == [("a[1].b", code)]
    assert code_point in problems[0].message and code_point in problems[0].message_en
    assert f"第 {position} 个字符" in problems[0].message


def test_line_breaks_tabs_and_any_script_are_fine() -> None:
    assert list(character_problems({"t": "第一段\n\t第二段 𠮷 䶮 😀 é ١٢٣"})) == []


def test_each_forbidden_character_is_reported_once_per_field() -> None:
    problems = list(character_problems({"t": "\x00\x00\x01"}))
    assert len(problems) == 2
    assert "U+0000" in problems[0].message and "U+0001" in problems[1].message


@pytest.fixture(scope="module")
def coverage() -> FontCoverage:
    return FontCoverage(load_settings({}).converter.fontconfig_file)


def test_the_document_fonts_are_all_installed(coverage: FontCoverage) -> None:
    assert [f.family for f in coverage.fonts] == list(FONT_FAMILIES)


@pytest.mark.parametrize(
    "text", ["全国轨道交通装备", "𠮷野家", "䶮", "R&D <投入> \"30%\" 'x' {{ a }} {% b %}", "★✓①"]
)
def test_chinese_text_and_extension_b_characters_are_drawable(
    coverage: FontCoverage, text: str
) -> None:
    assert coverage.undrawable(text) == []


def test_characters_without_a_glyph_are_named_with_their_position(coverage: FontCoverage) -> None:
    # U+1FBF0 (SEGMENTED DIGIT ZERO) and U+E000 (private use) are in none of the fonts.
    assert coverage.undrawable("零\U0001fbf0一\ue000") == [(2, "\U0001fbf0"), (4, "\ue000")]


def test_spaces_and_invisible_format_characters_need_no_glyph(coverage: FontCoverage) -> None:
    assert coverage.undrawable("a b\n\tc\u200b\u200d\ufe0f\u3000") == []


def test_without_any_font_the_check_says_it_is_unavailable() -> None:
    nothing = FontCoverage(None, ("No Such Family For Docgen",))
    assert not nothing.available
    assert nothing.undrawable("\U0001fbf0") == []
