"""Unit codes: 统一社会信用代码 (GB 32100-2015) and 学校标识码.

The check character is computed by python-stdnum (`stdnum.cn.uscc`). Its `validate` is not used as
the verdict: it requires positions 1–2 to be digits, while GB 32100-2015 also gives registering
authorities letters (A 中央军委改革和编制办公室, N 农业, Y 其他), and the contract accepts the whole
31-character alphabet there. The format is checked here, position by position, so that the message
can say which character is wrong.
"""

from __future__ import annotations

from stdnum.cn import uscc

from docgen.errors import FieldProblem
from docgen.findings import quote
from docgen.provinces import province_of_code

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "credit_code_problem",
    "school_code_problem",
    "school_code_province_digits",
]

# GB 32100-2015: digits and capital letters without I, O, S, V, Z.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_REGION = range(2, 8)  # positions 3–8 (0-based 2..7): the registering authority's region code


def credit_code_problem(path: str, code: str) -> FieldProblem | None:
    """What is wrong with a 统一社会信用代码, or None when it is valid."""
    if len(code) != 18:
        return FieldProblem(
            path,
            "credit_code.length",
            f"统一社会信用代码应为 18 位，「{quote(code)}」为 {len(code)} 位",
            f"A unified social credit code has 18 characters; '{quote(code)}' has {len(code)}",
        )
    for i, ch in enumerate(code):
        position = i + 1
        if i in _REGION and not (ch.isascii() and ch.isdigit()):
            return FieldProblem(
                path,
                "credit_code.region",
                f"统一社会信用代码第 3–8 位是登记管理机关行政区划码，应为数字；第 {position} 位为「{quote(ch)}」",
                f"Positions 3–8 of a unified social credit code are the region code and must be "
                f"digits; position {position} is '{quote(ch)}'",
            )
        if ch not in CREDIT_CODE_ALPHABET:
            hint_zh, hint_en = (
                ("（字母须大写）", " (letters must be capitals)")
                if ch.upper() in CREDIT_CODE_ALPHABET
                else ("", "")
            )
            return FieldProblem(
                path,
                "credit_code.character",
                f"统一社会信用代码第 {position} 位「{quote(ch)}」不是有效字符：只用数字和除 I、O、S、V、Z "
                f"以外的大写字母{hint_zh}",
                f"Position {position} of the unified social credit code, '{quote(ch)}', is not "
                f"allowed: digits and capital letters except I, O, S, V, Z only{hint_en}",
            )
    expected = uscc.calc_check_digit(code[:17])
    if code[17] != expected:
        return FieldProblem(
            path,
            "credit_code.checksum",
            f"统一社会信用代码校验位错误：第 18 位为「{quote(code[17])}」，按前 17 位计算应为「{quote(expected)}」；"
            "请核对代码是否抄错",
            f"Check character wrong: position 18 is '{quote(code[17])}', the first 17 characters "
            f"give '{quote(expected)}'; check the code for a typing error",
        )
    return None


def school_code_province_digits(code: str) -> str:
    """Digits 3–4 of a 学校标识码: its GB/T 2260 province code."""
    return code[2:4]


def school_code_problem(path: str, code: str) -> FieldProblem | None:
    """What is wrong with a 学校标识码 (10 digits, digits 3–4 a province code), or None."""
    if len(code) != 10 or not (code.isascii() and code.isdigit()):
        return FieldProblem(
            path,
            "school_code.format",
            f"学校标识码应为 10 位数字，「{quote(code)}」不是",
            f"A school identification code is 10 digits; '{quote(code)}' is not",
        )
    digits = school_code_province_digits(code)
    if province_of_code(digits) is None:
        return FieldProblem(
            path,
            "school_code.province",
            f"学校标识码第 3–4 位「{quote(digits)}」不是 GB/T 2260 省级行政区划代码",
            f"Digits 3–4 of the school code, '{quote(digits)}', are not a GB/T 2260 province code",
        )
    return None
