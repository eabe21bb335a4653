"""字数 counted as Word counts it (the contract's rule)."""

from __future__ import annotations

import pytest

from docgen.wordcount import word_count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("共同体", 3),
        ("Industry 4.0", 2),
        ("共同体 Industry 4.0，发展", 8),
        ("AI赋能", 3),
        ("R&D“创新”", 5),
        ("《指南》要求：一、二。", 11),
        ("第一段\n\n第二段", 6),
        ("  \n\t ", 0),
        ("全角　空格", 4),  # U+3000 is a space: 0
        ("ＡＢＣ", 3),  # full-width letters are one each
        ("𠮷野家", 3),  # Extension B counts like any Han character
        ("www.moe.gov.cn/jyb", 1),
        ("", 0),
    ],
)
def test_word_count(text: str, count: int) -> None:
    assert word_count(text) == count
