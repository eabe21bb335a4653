"""统一社会信用代码, 学校标识码 and province names, with valid and invalid examples."""

from __future__ import annotations

import pytest
from stdnum.cn import uscc

from docgen.codes import credit_code_problem, school_code_problem
from docgen.provinces import PROVINCES, code_matches_province, normalise_province

# Published on the enterprise's business licence and widely used as the textbook example.
PUBLISHED_CREDIT_CODE = "91350100M000100Y43"


def test_a_published_credit_code_is_valid() -> None:
    assert uscc.is_valid(PUBLISHED_CREDIT_CODE)
    assert credit_code_problem("c", PUBLISHED_CREDIT_CODE) is None


@pytest.mark.parametrize("position", range(18))
def test_changing_any_one_character_of_a_credit_code_is_caught(position: int) -> None:
    original = PUBLISHED_CREDIT_CODE[position]
    replacement = "7" if original != "7" else "8"
    changed = PUBLISHED_CREDIT_CODE[:position] + replacement + PUBLISHED_CREDIT_CODE[position + 1 :]
    problem = credit_code_problem("c", changed)
    assert problem is not None and problem.code == "credit_code.checksum"


def test_a_wrong_check_character_names_the_right_one() -> None:
    problem = credit_code_problem("community.lead_enterprise.credit_code", "91350100M000100Y44")
    assert problem is not None
    assert problem.code == "credit_code.checksum"
    assert "应为「3」" in problem.message and "'3'" in problem.message_en
    assert problem.path == "community.lead_enterprise.credit_code"


@pytest.mark.parametrize(
    ("code", "expected", "names"),
    [
        ("9135010M000100Y43", "credit_code.length", "17"),
        ("91350100M0O0100Y43", "credit_code.character", "第 11 位「O」"),
        ("91350100m000100Y43", "credit_code.character", "须大写"),
        ("91350100M000100S43", "credit_code.character", "第 16 位「S」"),
        ("9135010AM000100Y43", "credit_code.region", "第 8 位"),
    ],
)
def test_a_malformed_credit_code_says_which_character_is_wrong(
    code: str, expected: str, names: str
) -> None:
    problem = credit_code_problem("c", code)
    assert problem is not None and problem.code == expected
    assert names in problem.message


def test_national_registrations_and_letter_authorities_are_valid() -> None:
    # Region 100000 is a national-level registration (the sample's research institute).
    assert credit_code_problem("c", "1210000057639900X4") is None
    # GB 32100-2015 gives registering authorities letters too (N 农业); stdnum's validate() would
    # refuse this, the contract accepts the whole alphabet in positions 1–2.
    body = "N2350100MA00100Y4"
    assert credit_code_problem("c", body + uscc.calc_check_digit(body)) is None


@pytest.mark.parametrize("code", ["4143010533", "4111010001", "4165010759"])
def test_real_school_codes_are_valid(code: str) -> None:
    assert school_code_problem("s", code) is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("414301053", "school_code.format"),
        ("41430105331", "school_code.format"),
        ("41430105X3", "school_code.format"),
        ("41430１0533", "school_code.format"),  # a full-width digit
        ("4199010533", "school_code.province"),
        ("4100010533", "school_code.province"),
    ],
)
def test_invalid_school_codes_are_refused(code: str, expected: str) -> None:
    problem = school_code_problem("s", code)
    assert problem is not None and problem.code == expected


@pytest.mark.parametrize(
    ("written", "full"),
    [
        ("湖南省", "湖南省"),
        ("湖南", "湖南省"),
        ("北京", "北京市"),
        ("广西", "广西壮族自治区"),
        ("新疆", "新疆维吾尔自治区"),
        ("内蒙古", "内蒙古自治区"),
        ("香港", "香港特别行政区"),
        ("新疆生产建设兵团", "新疆生产建设兵团"),
    ],
)
def test_provinces_are_normalised_to_their_full_names(written: str, full: str) -> None:
    assert normalise_province(written) == full


@pytest.mark.parametrize("written", ["火星省", "湖南市", "长沙市", "", "Hunan"])
def test_names_that_are_not_provinces_are_not_normalised(written: str) -> None:
    assert normalise_province(written) is None


def test_every_province_level_division_is_known() -> None:
    assert len(PROVINCES) == 35  # 34 divisions of GB/T 2260 and 新疆生产建设兵团


def test_the_corps_shares_xinjiangs_code() -> None:
    assert code_matches_province("65", "新疆生产建设兵团")
    assert code_matches_province("43", "湖南省")
    assert not code_matches_province("43", "湖北省")
