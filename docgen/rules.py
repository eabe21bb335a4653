"""The guideline's rules beyond types, on the pieces of a request that type-checked.

Errors and warnings go into a `Findings`. Each rule runs when the pieces it needs are there
(`docgen.parts`): a wrong type elsewhere does not keep it from judging what it can.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Sequence

from docgen.codes import credit_code_problem, school_code_problem, school_code_province_digits
from docgen.contacts import email_problem, phone_problem, webhook_url_problem
from docgen.errors import FieldProblem
from docgen.findings import Findings, quote
from docgen.parts import LEAD_UNITS, Parts
from docgen.provinces import PROVINCES, code_matches_province
from docgen.wordcount import (
    ANNUAL_REPORT_LIMIT,
    APPLICATION_TEXT_LIMITS,
    annual_report_texts,
    word_count,
)

__all__ = ["CATEGORY_NAMES", "check_rules"]

# The member categories in the words of the guideline and the form.
CATEGORY_NAMES: dict[str, str] = {
    "school": "学校",
    "research_institute": "科研机构",
    "enterprise": "上下游企业",
    "industry_association": "行业组织",
    "other": "其他单位",
}
# The guideline: "广泛吸收相关行业组织、学校、科研机构、上下游企业等单位参与建设". 其他单位 is optional.
_EXPECTED_CATEGORIES = ("industry_association", "school", "research_institute", "enterprise")

# What people write when a school has no training institution; the guideline requires one.
_NONE_WRITTEN = frozenset(
    {"无", "没有", "暂无", "未设", "未设立", "无独立机构", "—", "-", "/", "n/a"}
)

_LEAD_NAMES = {
    "lead_enterprise": "牵头企业",
    "lead_university": "牵头高水平高等学校",
    "lead_vocational_school": "牵头职业学校",
}


def check_rules(parts: Parts, findings: Findings) -> None:
    """Check every rule whose pieces are in `parts`."""
    _provinces(parts, findings)
    _lead_units(parts, findings)
    _contacts(parts, findings)
    _members(parts, findings)
    _spread(parts, findings)
    _plan(parts, findings)
    _text_limits(parts, findings)
    _calendar(parts, findings)


def _add(findings: Findings, problem: FieldProblem | None) -> None:
    if problem is not None:
        findings.error(problem.path, problem.code, problem.message, problem.message_en)


def _province_problem(findings: Findings, path: str, written: str) -> None:
    """Provinces were normalised before (docgen.parts): what is not a full name is unknown."""
    if written not in PROVINCES:
        findings.error(
            path,
            "province.unknown",
            f"「{quote(written)}」不是省级行政区名称：请写全称，如 湖南省、广西壮族自治区、"
            "香港特别行政区 或 新疆生产建设兵团",
            f"'{quote(written)}' is not a province-level division: write its full name, e.g. "
            "湖南省, 广西壮族自治区, 香港特别行政区 or 新疆生产建设兵团",
        )


def _provinces(parts: Parts, findings: Findings) -> None:
    if parts.recommending_province is not None:
        path = "community.recommending_province"
        _province_problem(findings, path, parts.recommending_province)
    for name in LEAD_UNITS:
        lead = getattr(parts, name)
        if lead is not None:
            _province_problem(findings, f"community.{name}.province", lead.province)
    for i, member in parts.members.items():
        _province_problem(findings, f"community.members[{i}].province", member.province)


def _school_code(findings: Findings, path: str, code: str, province: str) -> None:
    problem = school_code_problem(path, code)
    if problem is not None:
        _add(findings, problem)
        return
    digits = school_code_province_digits(code)
    if province in PROVINCES and not code_matches_province(digits, province):
        findings.warn(
            path,
            "school_code.province_mismatch",
            f"学校标识码第 3–4 位「{digits}」与所在省份「{province}」的区划代码不一致，请核对",
            f"Digits 3–4 of the school code, '{digits}', are not the code of the declared "
            f"province '{province}'; please check",
        )


def _lead_units(parts: Parts, findings: Findings) -> None:
    le, lu, lv = parts.lead_enterprise, parts.lead_university, parts.lead_vocational_school
    if le is not None:
        path = "community.lead_enterprise.credit_code"
        _add(findings, credit_code_problem(path, le.credit_code))
    if lu is not None:
        path = "community.lead_university"
        _school_code(findings, f"{path}.school_code", lu.school_code, lu.province)
        _lead_university_degrees(findings, lu.degree_granting, f"{path}.degree_granting")
    if lv is not None:
        path = "community.lead_vocational_school"
        _school_code(findings, f"{path}.school_code", lv.school_code, lv.province)
        if lv.training_institution.lower() in _NONE_WRITTEN:
            findings.error(
                f"{path}.training_institution",
                "lead.no_training_institution",
                "牵头职业学校须设有独立的社会培训机构或继续教育机构，请填写其名称",
                "The lead vocational school must have an independent training or continuing "
                "education institution; give its name",
            )
    if lu is not None and lv is not None and lu.school_code == lv.school_code:
        findings.error(
            "community.lead_vocational_school.school_code",
            "lead.duplicate",
            "牵头职业学校与牵头高水平高等学校的学校标识码相同：两者须为不同的学校",
            "The lead vocational school has the lead university's school code: they must be "
            "two different schools",
        )
    recommending = parts.recommending_province
    if le is None or lu is None or lv is None or recommending is None:
        return
    lead_provinces = list(dict.fromkeys([le.province, lu.province, lv.province]))
    known = recommending in PROVINCES and all(p in PROVINCES for p in lead_provinces)
    if known and recommending not in lead_provinces:
        findings.error(
            "community.recommending_province",
            "recommending_province.not_lead",
            f"推荐省份须为牵头企业、牵头高水平高等学校或牵头职业学校所在省份之一"
            f"（{'、'.join(lead_provinces)}），不能是「{recommending}」",
            f"The recommending province must be the province of one of the three lead "
            f"units ({', '.join(lead_provinces)}), not '{recommending}'",
        )


def _lead_university_degrees(findings: Findings, degrees: Sequence[str], path: str) -> None:
    missing = [d for d in ("master", "doctorate") if d not in degrees]
    if missing:
        names = "、".join({"master": "硕士", "doctorate": "博士"}[d] for d in missing)
        findings.error(
            path,
            "lead.degrees",
            f"牵头高水平高等学校须有硕士学位、博士学位授予权（缺少：{names}）",
            f"The lead university must grant both master's and doctoral degrees "
            f"(missing: {', '.join(missing)})",
        )


def _contacts(parts: Parts, findings: Findings) -> None:
    if parts.head is not None:
        _add(findings, phone_problem("community.head.phone", parts.head.phone))
    if parts.contact is not None:
        _add(findings, phone_problem("community.contact.phone", parts.contact.phone))
        _add(findings, email_problem("community.contact.email", parts.contact.email))
    for path, email in parts.notify_emails.items():
        _add(findings, email_problem(path, email))
    if parts.webhook_url is not None:
        _add(findings, webhook_url_problem("notify.webhook_url", parts.webhook_url))
    for path, phone in parts.row_phones.items():
        _add(findings, phone_problem(path, phone))


def _members(parts: Parts, findings: Findings) -> None:
    lead_codes: dict[str, str] = {}
    lead_names: dict[str, str] = {}
    for name in LEAD_UNITS:
        lead = getattr(parts, name)
        if lead is not None:
            code = lead.credit_code if name == "lead_enterprise" else lead.school_code
            lead_codes[code] = name
            lead_names[lead.name] = name
    first_with_code: dict[str, int] = {}
    for i, m in sorted(parts.members.items()):
        path = f"community.members[{i}]"
        if m.category == "school":
            _school_code(findings, f"{path}.code", m.code, m.province)
        else:
            _add(findings, credit_code_problem(f"{path}.code", m.code))
        lead = lead_codes.get(m.code) or lead_names.get(m.name)
        if lead is not None:
            findings.error(
                f"{path}.code" if m.code in lead_codes else f"{path}.name",
                "member.is_lead_unit",
                f"{_LEAD_NAMES[lead]}不应再列为参与单位（与 community.{lead} 相同）",
                f"A lead unit is not also a participating unit (same as community.{lead})",
            )
        elif m.code in first_with_code:
            first = first_with_code[m.code]
            findings.error(
                f"{path}.code",
                "member.duplicate_code",
                f"单位代码与 community.members[{first}] 重复：每个参与单位只列一次",
                f"Same code as community.members[{first}]: list each unit once",
            )
        else:
            first_with_code[m.code] = i


def _spread(parts: Parts, findings: Findings) -> None:
    """The first monitoring indicator: units of every kind, across provinces."""
    leads = [parts.lead_enterprise, parts.lead_university, parts.lead_vocational_school]
    if not parts.all_members or any(lead is None for lead in leads):
        return  # a verdict on the spread needs every unit
    members = parts.members.values()
    provinces = {lead.province for lead in leads if lead} | {m.province for m in members}
    if len(provinces) == 1:
        (only,) = provinces
        findings.warn(
            "community.members",
            "members.single_province",
            f"全部建设单位都在「{only}」：监测指标重点考核建设单位的跨省域分布",
            f"Every unit is in '{only}': the monitoring indicators look at the distribution "
            "across provinces",
        )
    present = {m.category for m in members}
    for category in _EXPECTED_CATEGORIES:
        if category not in present:
            name = CATEGORY_NAMES[category]
            findings.warn(
                "community.members",
                "members.category_missing",
                f"参与单位中没有「{name}」：指南要求广泛吸收行业组织、学校、科研机构、上下游企业等参与建设",
                f"No participating unit of the category {category}: the guideline asks for "
                "industry associations, schools, research institutes and enterprises",
            )


def _plan(parts: Parts, findings: Findings) -> None:
    years = parts.plan_years
    if years is not None and any(b != a + 1 for a, b in itertools.pairwise(years)):
        findings.error(
            "application.plan_years",
            "plan_years.not_consecutive",
            f"建设计划的三个年度须连续（如 2026、2027、2028），实为 {'、'.join(map(str, years))}",
            f"The three plan years must be consecutive (e.g. 2026, 2027, 2028), got "
            f"{', '.join(map(str, years))}",
        )
    for i, amount in enumerate(parts.funding or []):
        exponent = decimal.Decimal(repr(amount)).as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            findings.error(
                f"application.plan.innovation_center_funding[{i}]",
                "amount.decimals",
                f"经费以万元计，最多保留两位小数（{amount!r}）",
                f"Amounts in 万元 have at most two decimals ({amount!r})",
            )


def _text_limits(parts: Parts, findings: Findings) -> None:
    for name, text in parts.application_texts.items():
        limit = APPLICATION_TEXT_LIMITS[name]
        _text_limit(findings, f"application.{name}", word_count(text), limit)
    if parts.annual_report is not None:
        count = sum(word_count(text) for text in annual_report_texts(parts.annual_report))
        _text_limit(findings, "annual_report", count, ANNUAL_REPORT_LIMIT)


def _text_limit(findings: Findings, path: str, count: int, limit: int) -> None:
    if count > limit:
        findings.error(
            path,
            "text.too_long",
            f"字数 {count}，超出上限 {limit} 字（按 Word 字数统计：汉字和中文标点各计 1，"
            "连续的字母数字计 1，空格不计）",
            f"{count} 字, more than the limit of {limit} (counted as Word counts: each CJK "
            "character or punctuation mark 1, each run of letters and digits 1, spaces 0)",
        )


def _calendar(parts: Parts, findings: Findings) -> None:
    """The guideline's yearly calendar (warnings: a late document is still a document)."""
    year = parts.year
    if year is None:
        return
    first_quarter = (dt.date(year, 1, 1), dt.date(year, 3, 31), "每年第一季度完成编制与发布")
    # 注册填报: 2023 年 7 月 30 日–10 月 31 日, from 2024 on 1 月 1 日–10 月 31 日.
    registration_opens = dt.date(2023, 7, 30) if year == 2023 else dt.date(year, 1, 1)
    windows = {
        "industry_analysis.signed_on": first_quarter,
        "talent_forecast.signed_on": first_quarter,
        "annual_report.signed_on": (
            dt.date(year, 1, 1),
            dt.date(year, 12, 15),
            "每年 12 月 15 日前完成年度总结报告",
        ),
        "application.filled_on": (registration_opens, dt.date(year, 10, 31), "共同体注册填报时间"),
    }
    for path, day in parts.dates.items():
        start, end, rule = windows[path]
        if not start <= day <= end:
            findings.warn(
                path,
                "date.outside_calendar",
                f"日期 {day.isoformat()} 不在指南规定的时间内：{rule}（{year} 年为 "
                f"{start.month} 月 {start.day} 日至 {end.month} 月 {end.day} 日）",
                f"{day.isoformat()} is outside the guideline's calendar for {year}: "
                f"{start.isoformat()} to {end.isoformat()}",
            )
