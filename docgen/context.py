"""Template contexts: exactly the data each .docx may use, already formatted for people.

One Struct per attachment (DESIGN §5.3: the template-context family, separate from API bodies);
a template may use its Struct's fields and nothing else, which a test checks against docxtpl's
list of the template's variables. Long texts become lists of paragraphs; dates and numbers are
written the Chinese way here, so that templates hold no formatting logic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec

from docgen import schema
from docgen.schema import AttachmentId, JobRequest

__all__ = [
    "ATTACHMENT_NUMBERS",
    "CATEGORY_LABELS",
    "CONTEXT_TYPES",
    "Chart",
    "Context",
    "DocumentProperties",
    "amount_text",
    "build_context",
    "chinese_date",
    "count_text",
    "document_properties",
    "paragraphs",
    "percentages",
]

CATEGORY_LABELS: dict[str, str] = {
    "school": "学校（含中等职业学校、高等职业学校、本科层次职业学校、普通高等学校）",
    "research_institute": "科研机构",
    "enterprise": "上下游企业",
    "industry_association": "行业组织",
    "other": "其他单位",
}
_ORDINALS = "一二三四五六七八九十"


def chinese_date(day: dt.date) -> str:
    """2026-03-25 → 2026年3月25日, as dates are written on official documents."""
    return f"{day.year}年{day.month}月{day.day}日"


def paragraphs(text: str) -> list[str]:
    """A long text's paragraphs: `\\n` separates them; blank lines are not paragraphs."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def count_text(n: int) -> str:
    """412000 → 412,000."""
    return f"{n:,}"


def amount_text(x: float) -> str:
    """万元 amounts with two decimals and thousands separators: 1200.5 → 1,200.50."""
    return f"{x:,.2f}"


def percentages(counts: Sequence[int]) -> list[str]:
    """Shares to one decimal that add up to exactly 100.0% (largest-remainder rounding)."""
    total = sum(counts)
    if total == 0:
        return ["0.0%" for _ in counts]
    exact = [c * 1000 / total for c in counts]  # in tenths of a percent
    floors = [int(e) for e in exact]
    short = 1000 - sum(floors)
    by_remainder = sorted(range(len(counts)), key=lambda i: exact[i] - floors[i], reverse=True)
    for i in by_remainder[:short]:
        floors[i] += 1
    return [f"{tenths / 10:.1f}%" for tenths in floors]


def ordinal(n: int) -> str:
    """1 → （一）; beyond ten, plain numbers read better than composed numerals."""
    return f"（{_ORDINALS[n - 1]}）" if n <= len(_ORDINALS) else f"（{n}）"


class Chart(msgspec.Struct, frozen=True):
    """The data of one bar chart; `docgen.charts` draws it, the renderer inserts the picture."""

    labels: list[str]
    counts: list[int]
    shares: list[str]


class Context(msgspec.Struct, frozen=True, kw_only=True):
    """What every template may use: the community (as sent) and the report year."""

    community: dict[str, Any]
    year: int


class IndustryAnalysisContext(Context, frozen=True, kw_only=True):
    overview: list[str]
    current_state: list[str]
    trends: list[str]
    signed_on: str


class ShareRow(msgspec.Struct, frozen=True):
    label: str
    count: str
    percent: str


class Share(msgspec.Struct, frozen=True):
    """One structure table of 附件2: rows with counts and shares, and their total."""

    rows: list[ShareRow]
    total: str


class DemandRow(msgspec.Struct, frozen=True):
    index: int
    major: str
    education_level: str
    skill_level: str
    count: str


class TalentForecastContext(Context, frozen=True, kw_only=True):
    survey_plan: list[str]
    survey_implementation: list[str]
    workforce_total: str
    post_distribution: Share
    education_structure: Share
    skill_level_structure: Share
    training: list[str]
    demand: list[DemandRow]
    demand_total: str
    conclusions: list[str]
    signed_on: str
    # Drawn by the renderer; the template's `{{ charts.x }}` receives the picture.
    charts: dict[str, Chart]


class SupplyDemandContext(Context, frozen=True, kw_only=True):
    # Rows as sent, plus `index` (序号) and counts written with separators.
    talent_demand: list[dict[str, Any]]
    talent_supply: list[dict[str, Any]]
    technology_demand: list[dict[str, Any]]
    technology_supply: list[dict[str, Any]]


class CaseContext(msgspec.Struct, frozen=True):
    ordinal: str
    title: str
    paragraphs: list[str]


class AnnualReportContext(Context, frozen=True, kw_only=True):
    introduction: list[str]
    operations: dict[str, list[str]]
    problems: list[str]
    next_steps: list[str]
    cases: list[CaseContext]
    signed_on: str


class MemberRow(msgspec.Struct, frozen=True):
    name: str
    province: str
    code: str
    proof: str


class MemberGroup(msgspec.Struct, frozen=True):
    label: str
    members: list[MemberRow]


class ApplicationContext(Context, frozen=True, kw_only=True):
    plan_years: list[int]
    plan: dict[str, list[str]]
    member_groups: list[MemberGroup]
    established_on: str
    overall_approach: list[str]
    governance: list[str]
    key_tasks: list[str]
    support: list[str]
    filled_on: str


CONTEXT_TYPES: dict[AttachmentId, type[Context]] = {
    "industry_analysis": IndustryAnalysisContext,
    "talent_forecast": TalentForecastContext,
    "supply_demand": SupplyDemandContext,
    "annual_report": AnnualReportContext,
    "application": ApplicationContext,
}

_STRUCTURES = ("post_distribution", "education_structure", "skill_level_structure")


def _share(items: Sequence[schema.PostCount | schema.LevelCount]) -> tuple[Share, list[str]]:
    counts = [item.count for item in items]
    labels = [item.post if isinstance(item, schema.PostCount) else item.level for item in items]
    shares = percentages(counts)
    rows = [
        ShareRow(label, count_text(c), p)
        for label, c, p in zip(labels, counts, shares, strict=True)
    ]
    return Share(rows, count_text(sum(counts))), shares


def _numbered(rows: Sequence[msgspec.Struct]) -> list[dict[str, Any]]:
    numbered = []
    for index, row in enumerate(rows, start=1):
        data = msgspec.to_builtins(row)
        data["index"] = index
        if "count" in data:
            data["count"] = count_text(data["count"])
        numbered.append(data)
    return numbered


def _industry_analysis(request: JobRequest, s: schema.IndustryAnalysis) -> Context:
    return IndustryAnalysisContext(
        **_common(request),
        overview=paragraphs(s.overview),
        current_state=paragraphs(s.current_state),
        trends=paragraphs(s.trends),
        signed_on=chinese_date(s.signed_on),
    )


def _talent_forecast(request: JobRequest, s: schema.TalentForecast) -> Context:
    structures: dict[str, Share] = {}
    charts: dict[str, Chart] = {}
    for name in _STRUCTURES:
        items = getattr(s, name)
        structures[name], shares = _share(items)
        charts[name] = Chart(
            [row.label for row in structures[name].rows],
            [item.count for item in items],
            shares,
        )
    return TalentForecastContext(
        **_common(request),
        survey_plan=paragraphs(s.survey.plan),
        survey_implementation=paragraphs(s.survey.implementation),
        workforce_total=count_text(s.workforce_total),
        post_distribution=structures["post_distribution"],
        education_structure=structures["education_structure"],
        skill_level_structure=structures["skill_level_structure"],
        training=paragraphs(s.training),
        demand=[
            DemandRow(i, d.major, d.education_level, d.skill_level, count_text(d.count))
            for i, d in enumerate(s.demand, start=1)
        ],
        demand_total=count_text(sum(d.count for d in s.demand)),
        conclusions=paragraphs(s.conclusions),
        signed_on=chinese_date(s.signed_on),
        charts=charts,
    )


def _supply_demand(request: JobRequest, s: schema.SupplyDemand) -> Context:
    return SupplyDemandContext(
        **_common(request),
        talent_demand=_numbered(s.talent_demand),
        talent_supply=_numbered(s.talent_supply),
        technology_demand=_numbered(s.technology_demand),
        technology_supply=_numbered(s.technology_supply),
    )


def _annual_report(request: JobRequest, s: schema.AnnualReport) -> Context:
    ops = s.operations
    return AnnualReportContext(
        **_common(request),
        introduction=paragraphs(s.introduction),
        operations={name: paragraphs(getattr(ops, name)) for name in ops.__struct_fields__},
        problems=paragraphs(s.problems),
        next_steps=paragraphs(s.next_steps),
        cases=[
            CaseContext(ordinal(i), case.title, paragraphs(case.body))
            for i, case in enumerate(s.cases, start=1)
        ],
        signed_on=chinese_date(s.signed_on),
    )


def _application(request: JobRequest, s: schema.Application) -> Context:
    plan: dict[str, list[str]] = {}
    for key in schema.PLAN_KEYS:
        values = getattr(s.plan, key)
        plan[key] = [amount_text(v) if isinstance(v, float) else count_text(v) for v in values]
    groups = []
    for category, label in CATEGORY_LABELS.items():
        members = [
            MemberRow(m.name, m.province, m.code, m.proof or "")
            for m in request.community.members
            if m.category == category
        ]
        # The form lists every category, even one without members: an empty row.
        groups.append(MemberGroup(label, members or [MemberRow("", "", "", "")]))
    return ApplicationContext(
        **_common(request),
        plan_years=list(s.plan_years),
        plan=plan,
        member_groups=groups,
        established_on=chinese_date(request.community.established_on),
        overall_approach=paragraphs(s.overall_approach),
        governance=paragraphs(s.governance),
        key_tasks=paragraphs(s.key_tasks),
        support=paragraphs(s.support),
        filled_on=chinese_date(s.filled_on),
    )


class DocumentProperties(msgspec.Struct, frozen=True):
    """What the DOCX's core properties say, and LibreOffice copies into the PDF's metadata."""

    title: str
    author: str
    subject: str
    keywords: str


def document_properties(
    request: JobRequest, attachment: AttachmentId, title: str
) -> DocumentProperties:
    """Title: the community and the attachment; author: the lead enterprise that signs it."""
    community = request.community
    number = f"附件{ATTACHMENT_NUMBERS[attachment]}"
    return DocumentProperties(
        title=f"{community.name} {title}",
        author=community.lead_enterprise.name,
        subject=f"行业产教融合共同体 {request.year}年度 {number} {title}",
        keywords=", ".join(("行业产教融合共同体", community.industry, number, str(request.year))),
    )


ATTACHMENT_NUMBERS: dict[AttachmentId, int] = {
    "industry_analysis": 1,
    "talent_forecast": 2,
    "supply_demand": 3,
    "annual_report": 4,
    "application": 5,
}


def _common(request: JobRequest) -> dict[str, Any]:
    return {"community": msgspec.to_builtins(request.community), "year": request.year}


_BUILDERS: dict[AttachmentId, Any] = {
    "industry_analysis": _industry_analysis,
    "talent_forecast": _talent_forecast,
    "supply_demand": _supply_demand,
    "annual_report": _annual_report,
    "application": _application,
}


def build_context(request: JobRequest, attachment: AttachmentId) -> Context:
    """The context one attachment's template renders with.

    Raises `ValueError` when the request has no section for `attachment` (validation prevents it).
    """
    section = getattr(request, attachment)
    if section is None:
        raise ValueError(f"request has no {attachment} section")
    context: Context = _BUILDERS[attachment](request, section)
    return context
