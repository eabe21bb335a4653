"""Every rule of the contract on a whole request: valid and invalid examples, paths and codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stdnum.cn import uscc

from docgen.context import build_context
from docgen.glyphs import FontCoverage
from docgen.validation import Verdict, check_job_request


def check(data: dict[str, Any], glyphs: FontCoverage | None = None) -> Verdict:
    return check_job_request(json.dumps(data, ensure_ascii=False).encode(), glyphs)


def errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in check(data).errors]


def warnings(data: dict[str, Any], glyphs: FontCoverage | None = None) -> list[tuple[str, str]]:
    return [(p.path, p.code) for p in check(data, glyphs).warnings]


def test_the_sample_is_valid_without_warnings(
    sample_dict: dict[str, Any], glyphs: FontCoverage
) -> None:
    verdict = check(sample_dict, glyphs)
    assert (verdict.errors, verdict.warnings) == ([], [])
    assert verdict.request is not None and verdict.indicators is not None


# --- codes -------------------------------------------------------------------------------------


def test_a_wrong_credit_code_check_character_is_an_error(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["lead_enterprise"]["credit_code"] = "914302004649799588"
    verdict = check(sample_dict)
    assert [(p.path, p.code) for p in verdict.errors] == [
        ("community.lead_enterprise.credit_code", "credit_code.checksum")
    ]
    assert "应为「7」" in verdict.errors[0].message
    assert verdict.request is None


def test_a_published_credit_code_is_accepted_for_a_member(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["members"][10]["code"] = "91350100M000100Y43"
    assert errors(sample_dict) == []


def test_members_codes_follow_their_category(sample_dict: dict[str, Any]) -> None:
    members = sample_dict["community"]["members"]
    members[0]["code"] = "91350100M000100Y43"  # a school with a credit code
    members[8]["code"] = "4143010533"  # a research institute with a school code
    members[1]["code"] = "4199423017"  # no province 99
    assert errors(sample_dict) == [
        ("community.members[0].code", "school_code.format"),
        ("community.members[1].code", "school_code.province"),
        ("community.members[8].code", "credit_code.length"),
    ]


def test_a_school_code_of_another_province_is_a_warning(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["members"][1]["province"] = "湖北省"  # its code says 51 四川
    sample_dict["community"]["lead_university"]["school_code"] = "4142449449"  # 42 湖北, lead: 湖南
    verdict = check(sample_dict)
    assert verdict.valid
    assert [(p.path, p.code) for p in verdict.warnings] == [
        ("community.lead_university.school_code", "school_code.province_mismatch"),
        ("community.members[1].code", "school_code.province_mismatch"),
    ]


# --- provinces ---------------------------------------------------------------------------------


def test_short_province_names_are_written_in_full_in_what_is_rendered(
    sample_dict: dict[str, Any],
) -> None:
    community = sample_dict["community"]
    community["recommending_province"] = "湖南"
    community["lead_enterprise"]["province"] = "湖南"
    community["members"][1]["province"] = "四川"
    community["members"][12]["province"] = "新疆"
    community["members"][12]["code"] = "91650100MA00100Y4" + uscc.calc_check_digit(
        "91650100MA00100Y4"
    )
    verdict = check(sample_dict)
    assert verdict.errors == []
    assert verdict.request is not None
    assert verdict.request.community.recommending_province == "湖南省"
    assert verdict.request.community.members[12].province == "新疆维吾尔自治区"
    context = build_context(verdict.request, "application")
    provinces = [m.province for g in context.member_groups for m in g.members]  # type: ignore[attr-defined]
    assert "新疆维吾尔自治区" in provinces and "四川省" in provinces and "四川" not in provinces


def test_an_unknown_province_is_an_error(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["members"][2]["province"] = "火星省"
    assert errors(sample_dict) == [("community.members[2].province", "province.unknown")]


def test_the_corps_is_a_province(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["members"][2]["province"] = "新疆生产建设兵团"
    sample_dict["community"]["members"][2]["code"] = "4165010759"
    assert errors(sample_dict) == []


# --- lead units --------------------------------------------------------------------------------


def test_the_recommending_province_is_a_lead_units_province(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["recommending_province"] = "北京市"
    assert errors(sample_dict) == [
        ("community.recommending_province", "recommending_province.not_lead")
    ]
    sample_dict["community"]["lead_vocational_school"]["province"] = "北京"
    sample_dict["community"]["lead_vocational_school"]["school_code"] = "4111074956"
    assert errors(sample_dict) == []


def test_the_lead_university_grants_masters_and_doctorates(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["lead_university"]["degree_granting"] = ["master"]
    verdict = check(sample_dict)
    assert [(p.path, p.code) for p in verdict.errors] == [
        ("community.lead_university.degree_granting", "lead.degrees")
    ]
    assert "博士" in verdict.errors[0].message


def test_the_lead_vocational_school_names_its_training_institution(
    sample_dict: dict[str, Any],
) -> None:
    sample_dict["community"]["lead_vocational_school"]["training_institution"] = "无"
    assert errors(sample_dict) == [
        ("community.lead_vocational_school.training_institution", "lead.no_training_institution")
    ]
    sample_dict["community"]["lead_vocational_school"]["training_institution"] = ""
    assert errors(sample_dict) == [
        ("community.lead_vocational_school.training_institution", "string.empty")
    ]


def test_the_two_lead_schools_are_different_schools(sample_dict: dict[str, Any]) -> None:
    lead = sample_dict["community"]["lead_university"]["school_code"]
    sample_dict["community"]["lead_vocational_school"]["school_code"] = lead
    assert errors(sample_dict) == [
        ("community.lead_vocational_school.school_code", "lead.duplicate")
    ]


def test_no_member_code_is_repeated(sample_dict: dict[str, Any]) -> None:
    members = sample_dict["community"]["members"]
    members[13]["code"] = members[11]["code"]
    assert errors(sample_dict) == [("community.members[13].code", "member.duplicate_code")]


def test_a_lead_unit_is_not_repeated_as_a_member(sample_dict: dict[str, Any]) -> None:
    community = sample_dict["community"]
    community["members"][10]["code"] = community["lead_enterprise"]["credit_code"]
    community["members"][0]["name"] = community["lead_vocational_school"]["name"]
    assert errors(sample_dict) == [
        ("community.members[0].name", "member.is_lead_unit"),
        ("community.members[10].code", "member.is_lead_unit"),
    ]


# --- phones, emails ----------------------------------------------------------------------------


def test_phones_are_checked_wherever_they_are(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["head"]["phone"] = "0731 28880001"
    sample_dict["supply_demand"]["technology_supply"][2]["contact_phone"] = "12345"
    assert errors(sample_dict) == [
        ("community.head.phone", "phone.invalid"),
        ("supply_demand.technology_supply[2].contact_phone", "phone.invalid"),
    ]


def test_emails_are_checked(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["contact"]["email"] = "lina.rail-community.cn"
    sample_dict["notify"]["emails"] = ["ok@example.cn", "not an email"]
    assert errors(sample_dict) == [
        ("community.contact.email", "email.invalid"),
        ("notify.emails[1]", "email.invalid"),
    ]


# --- the plan ----------------------------------------------------------------------------------


def test_plan_years_are_consecutive(sample_dict: dict[str, Any]) -> None:
    sample_dict["application"]["plan_years"] = [2026, 2027, 2029]
    assert errors(sample_dict) == [("application.plan_years", "plan_years.not_consecutive")]


def test_each_indicator_has_exactly_three_non_negative_integers(
    sample_dict: dict[str, Any],
) -> None:
    plan = sample_dict["application"]["plan"]
    plan["core_courses"] = [12, 15]
    plan["order_students"][1] = -3
    plan["upgrade_projects"][2] = 2.5
    assert errors(sample_dict) == [
        ("application.plan.core_courses", "list.length"),
        ("application.plan.order_students[1]", "value.too_small"),
        ("application.plan.upgrade_projects[2]", "type.expected_int"),
    ]


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (1200, []),
        (1200.5, []),
        (0.01, []),
        (1850.255, [("application.plan.innovation_center_funding[0]", "amount.decimals")]),
        (-1, [("application.plan.innovation_center_funding[0]", "value.too_small")]),
    ],
)
def test_funding_is_non_negative_with_at_most_two_decimals(
    sample_dict: dict[str, Any], amount: float, expected: list[tuple[str, str]]
) -> None:
    sample_dict["application"]["plan"]["innovation_center_funding"][0] = amount
    assert errors(sample_dict) == expected


def test_a_number_beyond_a_double_names_its_field(sample_bytes: bytes) -> None:
    body = sample_bytes.replace(b"1200.5", b"1e400", 1)
    verdict = check_job_request(body)
    assert [(p.path, p.code) for p in verdict.errors] == [
        ("application.plan.innovation_center_funding[0]", "number.out_of_range")
    ]


# --- 字数 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "limit"),
    [("overall_approach", 500), ("governance", 600), ("key_tasks", 3000), ("support", 500)],
)
def test_application_texts_are_limited_in_word_count(
    sample_dict: dict[str, Any], name: str, limit: int
) -> None:
    # Half Han characters, half Latin words: both count one each.
    sample_dict["application"][name] = "共同 " * (limit // 2)
    assert errors(sample_dict) == []
    sample_dict["application"][name] += "Industry 4.0"
    verdict = check(sample_dict)
    assert [(p.path, p.code) for p in verdict.errors] == [(f"application.{name}", "text.too_long")]
    assert f"字数 {limit + 2}" in verdict.errors[0].message
    assert f"{limit}" in verdict.errors[0].message_en


def test_the_annual_report_is_limited_to_5000_in_all(sample_dict: dict[str, Any]) -> None:
    report = sample_dict["annual_report"]
    report["introduction"] = "字" * 1000
    report["operations"] = {name: "字" * 500 for name in report["operations"]}  # six: 3000
    report["problems"] = report["next_steps"] = "字" * 100
    report["cases"] = [{"title": "案例一", "body": "字" * 797}]  # titles count too: 5000 in all
    assert errors(sample_dict) == []
    report["cases"][0]["body"] += "。"
    verdict = check(sample_dict)
    assert [(p.path, p.code) for p in verdict.errors] == [("annual_report", "text.too_long")]
    assert "字数 5001" in verdict.errors[0].message


# --- characters and caps -----------------------------------------------------------------------


def test_control_characters_are_refused_with_path_and_code_point(
    sample_dict: dict[str, Any],
) -> None:
    sample_dict["industry_analysis"]["trends"] = "趋势\x0c向好"
    verdict = check(sample_dict)
    assert [(p.path, p.code) for p in verdict.errors] == [
        ("industry_analysis.trends", "char.control")
    ]
    assert "U+000C" in verdict.errors[0].message


def test_a_lone_surrogate_escape_is_a_field_error_not_malformed_json(sample_bytes: bytes) -> None:
    body = sample_bytes.replace("张建国".encode(), b"\\ud842", 1)
    verdict = check_job_request(body)
    assert [(p.path, p.code) for p in verdict.errors] == [("community.head.name", "char.surrogate")]
    assert "U+D842" in verdict.errors[0].message


def test_labels_texts_and_lists_have_caps(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["name"] = "共" * 101
    sample_dict["industry_analysis"]["overview"] = "字" * 20_001
    row = sample_dict["supply_demand"]["technology_demand"][0]
    sample_dict["supply_demand"]["technology_demand"] = [row] * 20_001
    assert errors(sample_dict) == [
        ("community.name", "string.too_long"),
        ("industry_analysis.overview", "string.too_long"),
        ("supply_demand.technology_demand", "list.length"),
    ]


def test_nesting_beyond_the_contract_is_refused() -> None:
    body = b'{"community": ' + b"[" * 40 + b"]" * 40 + b"}"
    assert [(p.path, p.code) for p in check_job_request(body).errors] == [("", "json.too_deep")]


# --- all at once -------------------------------------------------------------------------------


def test_every_error_of_every_section_comes_in_one_answer(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["lead_enterprise"]["credit_code"] = "914302004649799588"
    sample_dict["community"]["contact"]["phone"] = "1380731"
    sample_dict["talent_forecast"]["workforce_total"] = "很多"  # a type error in one section
    sample_dict["application"]["plan_years"] = [2026, 2028, 2030]
    sample_dict["annual_report"]["cases"][0]["body"] = "案例\x00"
    sample_dict["notify"]["emails"] = ["@"]
    assert sorted(errors(sample_dict)) == sorted(
        [
            ("annual_report.cases[0].body", "char.control"),
            ("talent_forecast.workforce_total", "type.expected_int"),
            ("community.lead_enterprise.credit_code", "credit_code.checksum"),
            ("community.contact.phone", "phone.invalid"),
            ("notify.emails[0]", "email.invalid"),
            ("application.plan_years", "plan_years.not_consecutive"),
        ]
    )


def test_type_errors_are_all_reported_not_only_the_first(sample_dict: dict[str, Any]) -> None:
    sample_dict["year"] = "2026"
    del sample_dict["community"]["head"]
    sample_dict["community"]["members"][4]["category"] = "university"
    sample_dict["industry_analysis"]["signed_on"] = "2026/03/20"
    sample_dict["pdf_a"] = "no"
    sample_dict["supply_demand"]["talent_demand"][3]["extra"] = 1
    # In the order of the body (the sample has pdf_a before community).
    assert errors(sample_dict) == [
        ("year", "type.expected_int"),
        ("pdf_a", "type.expected_bool"),
        ("community.members[4].category", "value.not_allowed"),
        ("community.head", "field.missing"),
        ("industry_analysis.signed_on", "date.invalid"),
        ("supply_demand.talent_demand[3].extra", "field.unknown"),
    ]


def test_a_wrong_type_hides_only_the_piece_around_it(sample_dict: dict[str, Any]) -> None:
    community = sample_dict["community"]
    community["established_on"] = "2024/03/18"  # a type error in the community…
    community["lead_enterprise"]["credit_code"] = "914302004649799588"  # …hides no rule
    community["members"][5]["code"] = 4121376009  # a type error in one member…
    community["members"][6]["province"] = "秦"  # …hides no other member
    sample_dict["supply_demand"]["talent_demand"][0]["count"] = "五"  # nor one row another
    sample_dict["supply_demand"]["talent_demand"][1]["contact_phone"] = "5"
    assert errors(sample_dict) == [
        ("community.established_on", "date.invalid"),
        ("community.members[5].code", "type.expected_str"),
        ("supply_demand.talent_demand[0].count", "type.expected_int"),
        ("community.members[6].province", "province.unknown"),
        ("community.lead_enterprise.credit_code", "credit_code.checksum"),
        ("supply_demand.talent_demand[1].contact_phone", "phone.invalid"),
    ]


def test_a_flood_of_errors_is_capped_and_counted(sample_dict: dict[str, Any]) -> None:
    row = dict(sample_dict["supply_demand"]["technology_demand"][0], contact_phone="x")
    sample_dict["supply_demand"]["technology_demand"] = [row] * 1500
    problems = check(sample_dict).errors
    assert len(problems) == 1001
    assert problems[-1].code == "problems.truncated" and "500" in problems[-1].message


# --- warnings ----------------------------------------------------------------------------------


def test_units_all_in_one_province_are_a_warning(sample_dict: dict[str, Any]) -> None:
    community = sample_dict["community"]
    community["members"] = [
        m for m in community["members"] if m["province"] == "湖南省"
    ]  # schools, research institute, enterprise, other: all 湖南省
    assert ("community.members", "members.single_province") in warnings(sample_dict)
    assert errors(sample_dict) == []


def test_a_missing_member_category_is_a_warning(sample_dict: dict[str, Any]) -> None:
    community = sample_dict["community"]
    community["members"] = [m for m in community["members"] if m["category"] != "enterprise"]
    verdict = check(sample_dict)
    assert verdict.valid
    assert [(p.path, p.code) for p in verdict.warnings] == [
        ("community.members", "members.category_missing")
    ]
    assert "上下游企业" in verdict.warnings[0].message


@pytest.mark.parametrize(
    ("path", "date", "late"),
    [
        (("industry_analysis", "signed_on"), "2026-03-31", False),
        (("industry_analysis", "signed_on"), "2026-04-01", True),
        (("talent_forecast", "signed_on"), "2025-12-31", True),
        (("annual_report", "signed_on"), "2026-12-15", False),
        (("annual_report", "signed_on"), "2026-12-16", True),
        (("application", "filled_on"), "2026-01-01", False),
        (("application", "filled_on"), "2026-11-01", True),
    ],
)
def test_dates_outside_the_guidelines_calendar_are_warnings(
    sample_dict: dict[str, Any], path: tuple[str, str], date: str, late: bool
) -> None:
    sample_dict[path[0]][path[1]] = date
    verdict = check(sample_dict)
    assert verdict.valid
    expected = [(".".join(path), "date.outside_calendar")] if late else []
    assert [(p.path, p.code) for p in verdict.warnings] == expected


def test_registration_in_2023_opened_on_30_july(sample_dict: dict[str, Any]) -> None:
    sample_dict["year"] = 2023
    for section in ("industry_analysis", "talent_forecast"):
        sample_dict[section]["signed_on"] = "2023-03-01"
    sample_dict["annual_report"]["signed_on"] = "2023-12-01"
    sample_dict["application"]["filled_on"] = "2023-07-29"
    assert warnings(sample_dict) == [("application.filled_on", "date.outside_calendar")]
    sample_dict["application"]["filled_on"] = "2023-07-30"
    assert warnings(sample_dict) == []


def test_characters_the_pdf_cannot_show_are_warnings_never_dropped(
    sample_dict: dict[str, Any], glyphs: FontCoverage
) -> None:
    sample_dict["community"]["lead_enterprise"]["name"] = "𠮷野家轨道装备有限公司"
    sample_dict["community"]["head"]["name"] = "李䶮"
    sample_dict["industry_analysis"]["overview"] = "发展迅速😀，前景\ue000广阔\U0001fbf0。"
    verdict = check(sample_dict, glyphs)
    assert verdict.valid
    assert [(p.path, p.code) for p in verdict.warnings] == [
        ("industry_analysis.overview", "char.emoji"),
        ("industry_analysis.overview", "char.private_use"),
        ("industry_analysis.overview", "char.no_glyph"),
    ]
    messages = " ".join(p.message for p in verdict.warnings)
    assert "U+1F600" in messages and "U+E000" in messages and "U+1FBF0" in messages
    assert "😀" in messages


def test_without_fonts_the_answer_says_characters_were_not_checked(
    sample_dict: dict[str, Any],
) -> None:
    nothing = FontCoverage(None, ("No Such Family For Docgen",))
    assert warnings(sample_dict, nothing) == [("", "char.unchecked")]
