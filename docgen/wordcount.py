"""字数 as Word counts it, the way the guideline's limits (≤ 500 字, ≤ 5000 字) are read.

The contract's rule: every CJK character or CJK/full-width punctuation mark is 1; every maximal run
of other non-space characters is 1 (`Industry 4.0` is 2); spaces and line breaks are 0.

"CJK" here is what East Asian typography sets full-width: characters whose East Asian Width is
Wide or Fullwidth (Han ideographs of every extension, kana, hangul, 。，、；：？！（）《》【】「」,
full-width letters) and the punctuation Chinese text uses from the General Punctuation block, whose
width is "ambiguous" in Unicode but which Chinese fonts set full-width: “”‘’…—·.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from docgen.schema import AnnualReport

__all__ = [
    "ANNUAL_REPORT_LIMIT",
    "APPLICATION_TEXT_LIMITS",
    "annual_report_texts",
    "is_cjk",
    "word_count",
]

# Ambiguous-width punctuation that Chinese text uses as full-width marks (GB/T 15834).
_CHINESE_PUNCTUATION = frozenset("“”‘’…—–·‧")


@lru_cache(maxsize=65536)
def is_cjk(ch: str) -> bool:
    """Whether `ch` counts as one 字 on its own."""
    if ch.isspace():  # U+3000 IDEOGRAPHIC SPACE is full-width but still a space
        return False
    return unicodedata.east_asian_width(ch) in ("W", "F") or ch in _CHINESE_PUNCTUATION


def word_count(text: str) -> int:
    """The 字数 of `text`: `word_count("共同体 Industry 4.0，发展")` is 3 + 2 + 1 + 2 = 8."""
    count = 0
    in_run = False
    for ch in text:
        if ch.isspace():
            in_run = False
        elif is_cjk(ch):
            count += 1
            in_run = False
        elif not in_run:
            count += 1
            in_run = True
    return count


# The guideline's limits for the 申报书's texts (三 ≤ 500, 四 ≤ 600, 五 ≤ 3000, 六 ≤ 500 字).
APPLICATION_TEXT_LIMITS: dict[str, int] = {
    "overall_approach": 500,
    "governance": 600,
    "key_tasks": 3000,
    "support": 500,
}
# 附件4 年度总结报告: "不超过 5000 字" for the whole report.
ANNUAL_REPORT_LIMIT = 5000


def annual_report_texts(report: AnnualReport) -> list[str]:
    """The texts the annual report's 5000 字 cover: every section, every case's title and body."""
    ops = report.operations
    return [
        report.introduction,
        *(getattr(ops, name) for name in ops.__struct_fields__),
        report.problems,
        report.next_steps,
        *(text for case in report.cases for text in (case.title, case.body)),
    ]
