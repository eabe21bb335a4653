"""The guideline's rules beyond types, checked on the sections of a request that type-checked.

Errors and warnings go into a `Findings`; the community comes back with its provinces written in
full (湖南 → 湖南省), which is what the documents print and the indicators count.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Sequence

import msgspec

from docgen.codes import credit_code_problem, school_code_problem, school_code_province_digits
from docgen.contacts import email_problem, phone_problem, webhook_url_problem
from docgen.errors import FieldProblem
from docgen.findings import Findings, field, index, quote
from docgen.provinces import PROVINCES, code_matches_province, normalise_province
from docgen.schema import (
    AnnualReport,
    Application,
    Community,
    IndustryAnalysis,
    Member,
    Notify,
    SupplyDemand,
    TalentForecast,
)
from docgen.wordcount import (
    ANNUAL_REPORT_LIMIT,
    APPLICATION_TEXT_LIMITS,
    annual_report_texts,
    word_count,
)

__all__ = ["CATEGORY_NAMES", "Parts", "check_rules"]

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

_LEADS = (
    ("lead_enterprise", "牵头企业"),
    ("lead_university", "牵头高水平高等学校"),
    ("lead_vocational_school", "牵头职业学校"),
)


class Parts(msgspec.Struct, frozen=True):
    """The parts of a request that type-checked; None where absent or wrongly typed."""

    year: int | None = None
    community: Community | None = None
    notify: Notify | None = None
    industry_analysis: IndustryAnalysis | None = None
    talent_forecast: TalentForecast | None = None
    supply_demand: SupplyDemand | None = None
    annual_report: AnnualReport | None = None
    application: Application | None = None


def check_rules(parts: Parts, findings: Findings) -> Community | None:
    """Check every rule that applies to `parts`; return the community with provinces in full."""
    community = _community(parts.community, findings) if parts.community else None
    if parts.notify is not None:
        _notify(parts.notify, findings)
    if parts.supply_demand is not None:
        _supply_demand(parts.supply_demand, findings)
    if parts.application is not None:
        _application(parts.application, findings)
    if parts.annual_report is not None:
        _annual_report(parts.annual_report, findings)
    if parts.year is not None:
        _calendar(parts, parts.year, findings)
    return community


def _add(findings: Findings, problem: FieldProblem | None) -> None:
    if problem is not None:
        findings.error(problem.path, problem.code, problem.message, problem.message_en)


def _province(findings: Findings, path: str, written: str) -> str:
    full = normalise_province(written)
    if full is None:
        findings.error(
            path,
            "province.unknown",
            f"「{quote(written)}」不是省级行政区名称：请写全称，如 湖南省、广西壮族自治区、"
            "香港特别行政区 或 新疆生产建设兵团",
            f"'{quote(written)}' is not a province-level division: write its full name, e.g. "
            "湖南省, 广西壮族自治区, 香港特别行政区 or 新疆生产建设兵团",
        )
        return written
    return full


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


def _community(c: Community, findings: Findings) -> Community:
    base = "community"
    le, lu, lv = c.lead_enterprise, c.lead_university, c.lead_vocational_school
    le_path, lu_path, lv_path = (field(base, name) for name, _ in _LEADS)

    recommending = _province(
        findings, field(base, "recommending_province"), c.recommending_province
    )
    le = msgspec.structs.replace(
        le, province=_province(findings, f"{le_path}.province", le.province)
    )
    lu = msgspec.structs.replace(
        lu, province=_province(findings, f"{lu_path}.province", lu.province)
    )
    lv = msgspec.structs.replace(
        lv, province=_province(findings, f"{lv_path}.province", lv.province)
    )
    members = [
        msgspec.structs.replace(
            m, province=_province(findings, f"{base}.members[{i}].province", m.province)
        )
        for i, m in enumerate(c.members)
    ]

    _add(findings, phone_problem(f"{base}.head.phone", c.head.phone))
    _add(findings, phone_problem(f"{base}.contact.phone", c.contact.phone))
    _add(findings, email_problem(f"{base}.contact.email", c.contact.email))

    _add(findings, credit_code_problem(f"{le_path}.credit_code", le.credit_code))
    _school_code(findings, f"{lu_path}.school_code", lu.school_code, lu.province)
    _school_code(findings, f"{lv_path}.school_code", lv.school_code, lv.province)
    if lu.school_code == lv.school_code:
        findings.error(
            f"{lv_path}.school_code",
            "lead.duplicate",
            "牵头职业学校与牵头高水平高等学校的学校标识码相同：两者须为不同的学校",
            "The lead vocational school has the lead university's school code: they must be "
            "two different schools",
        )
    _lead_university_degrees(findings, lu.degree_granting, f"{lu_path}.degree_granting")
    if lv.training_institution.lower() in _NONE_WRITTEN:
        findings.error(
            f"{lv_path}.training_institution",
            "lead.no_training_institution",
            "牵头职业学校须设有独立的社会培训机构或继续教育机构，请填写其名称",
            "The lead vocational school must have an independent training or continuing "
            "education institution; give its name",
        )

    lead_provinces = [le.province, lu.province, lv.province]
    known = recommending in PROVINCES and all(p in PROVINCES for p in lead_provinces)
    if known and recommending not in lead_provinces:
        choices = "、".join(dict.fromkeys(lead_provinces))
        findings.error(
            field(base, "recommending_province"),
            "recommending_province.not_lead",
            f"推荐省份须为牵头企业、牵头高水平高等学校或牵头职业学校所在省份之一（{choices}），"
            f"不能是「{recommending}」",
            f"The recommending province must be the province of one of the three lead "
            f"units ({', '.join(dict.fromkeys(lead_provinces))}), not '{recommending}'",
        )

    _members(members, c, findings)
    _spread(lead_provinces, members, findings)
    return msgspec.structs.replace(
        c,
        recommending_province=recommending,
        lead_enterprise=le,
        lead_university=lu,
        lead_vocational_school=lv,
        members=members,
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


def _members(members: list[Member], c: Community, findings: Findings) -> None:
    lead_codes = {
        c.lead_enterprise.credit_code: "lead_enterprise",
        c.lead_university.school_code: "lead_university",
        c.lead_vocational_school.school_code: "lead_vocational_school",
    }
    lead_names = {getattr(c, name).name: name for name, _ in _LEADS}
    lead_labels = dict(_LEADS)
    first_with_code: dict[str, int] = {}
    for i, m in enumerate(members):
        path = index("community.members", i)
        if m.category == "school":
            _school_code(findings, f"{path}.code", m.code, m.province)
        else:
            _add(findings, credit_code_problem(f"{path}.code", m.code))
        lead = lead_codes.get(m.code) or lead_names.get(m.name)
        if lead is not None:
            findings.error(
                f"{path}.code" if m.code in lead_codes else f"{path}.name",
                "member.is_lead_unit",
                f"{lead_labels[lead]}不应再列为参与单位（与 community.{lead} 相同）",
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


def _spread(lead_provinces: list[str], members: list[Member], findings: Findings) -> None:
    """The first monitoring indicator: units of every kind, across provinces."""
    provinces = set(lead_provinces) | {m.province for m in members}
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


def _notify(notify: Notify, findings: Findings) -> None:
    for i, email in enumerate(notify.emails):
        _add(findings, email_problem(index("notify.emails", i), email))
    if notify.webhook_url is not None:
        _add(findings, webhook_url_problem("notify.webhook_url", notify.webhook_url))


def _supply_demand(section: SupplyDemand, findings: Findings) -> None:
    for name in ("talent_demand", "talent_supply", "technology_demand", "technology_supply"):
        for i, row in enumerate(getattr(section, name)):
            path = f"supply_demand.{name}[{i}].contact_phone"
            _add(findings, phone_problem(path, row.contact_phone))


def _application(section: Application, findings: Findings) -> None:
    years = section.plan_years
    if any(later != earlier + 1 for earlier, later in itertools.pairwise(years)):
        findings.error(
            "application.plan_years",
            "plan_years.not_consecutive",
            f"建设计划的三个年度须连续（如 2026、2027、2028），实为 {'、'.join(map(str, years))}",
            f"The three plan years must be consecutive (e.g. 2026, 2027, 2028), got "
            f"{', '.join(map(str, years))}",
        )
    for i, amount in enumerate(section.plan.innovation_center_funding):
        exponent = decimal.Decimal(repr(amount)).as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            findings.error(
                f"application.plan.innovation_center_funding[{i}]",
                "amount.decimals",
                f"经费以万元计，最多保留两位小数（{amount!r}）",
                f"Amounts in 万元 have at most two decimals ({amount!r})",
            )
    for name, limit in APPLICATION_TEXT_LIMITS.items():
        _text_limit(findings, f"application.{name}", word_count(getattr(section, name)), limit)


def _annual_report(section: AnnualReport, findings: Findings) -> None:
    count = sum(word_count(text) for text in annual_report_texts(section))
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


def _calendar(parts: Parts, year: int, findings: Findings) -> None:
    """The guideline's yearly calendar (warnings: a late document is still a document)."""
    first_quarter = (dt.date(year, 1, 1), dt.date(year, 3, 31), "每年第一季度完成编制与发布")
    dates: list[tuple[str, dt.date, tuple[dt.date, dt.date, str]]] = []
    if parts.industry_analysis is not None:
        dates.append(
            ("industry_analysis.signed_on", parts.industry_analysis.signed_on, first_quarter)
        )
    if parts.talent_forecast is not None:
        dates.append(("talent_forecast.signed_on", parts.talent_forecast.signed_on, first_quarter))
    if parts.annual_report is not None:
        window = (dt.date(year, 1, 1), dt.date(year, 12, 15), "每年 12 月 15 日前完成年度总结报告")
        dates.append(("annual_report.signed_on", parts.annual_report.signed_on, window))
    if parts.application is not None:
        # 注册填报: 2023 年 7 月 30 日–10 月 31 日, from 2024 on 1 月 1 日–10 月 31 日.
        opens = dt.date(2023, 7, 30) if year == 2023 else dt.date(year, 1, 1)
        window = (opens, dt.date(year, 10, 31), "共同体注册填报时间")
        dates.append(("application.filled_on", parts.application.filled_on, window))
    for path, day, (start, end, rule) in dates:
        if not start <= day <= end:
            findings.warn(
                path,
                "date.outside_calendar",
                f"日期 {day.isoformat()} 不在指南规定的时间内：{rule}（{year} 年为 "
                f"{start.month} 月 {start.day} 日至 {end.month} 月 {end.day} 日）",
                f"{day.isoformat()} is outside the guideline's calendar for {year}: "
                f"{start.isoformat()} to {end.isoformat()}",
            )
