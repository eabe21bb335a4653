"""Template contexts: exactly the data each .docx may use, already formatted for people.

One Struct family per attachment; templates read them as plain dicts (`msgspec.to_builtins`).
Long texts become lists of paragraphs; dates and numbers are written the Chinese way here, so that
templates hold no formatting logic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec

from docgen import schema
from docgen.schema import AttachmentId, JobRequest

__all__ = ["CATEGORY_LABELS", "build_context", "chinese_date", "paragraphs", "percentages"]

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
    return f"{n:,}"


def amount_text(x: float) -> str:
    """万元 amounts: 1500.0 → 1500, 1850.25 → 1850.25 (never exponent notation)."""
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}".rstrip("0").rstrip(".")


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


class ShareRow(msgspec.Struct, frozen=True):
    label: str
    count: str
    percent: str


def _share_rows(items: Sequence[schema.PostCount | schema.LevelCount]) -> list[ShareRow]:
    counts = [item.count for item in items]
    labels = [item.post if isinstance(item, schema.PostCount) else item.level for item in items]
    return [
        ShareRow(label, count_text(c), p)
        for label, c, p in zip(labels, counts, percentages(counts), strict=True)
    ]


def _community(request: JobRequest) -> dict[str, Any]:
    return msgspec.to_builtins(request.community)  # type: ignore[no-any-return]


def _numbered(rows: Sequence[msgspec.Struct]) -> list[dict[str, Any]]:
    numbered = []
    for index, row in enumerate(rows, start=1):
        data = msgspec.to_builtins(row)
        data["index"] = index
        if "count" in data:
            data["count"] = count_text(data["count"])
        numbered.append(data)
    return numbered


def _industry_analysis(section: schema.IndustryAnalysis) -> dict[str, Any]:
    return {
        "overview": paragraphs(section.overview),
        "current_state": paragraphs(section.current_state),
        "trends": paragraphs(section.trends),
        "signed_on": chinese_date(section.signed_on),
    }


def _talent_forecast(section: schema.TalentForecast) -> dict[str, Any]:
    context: dict[str, Any] = {
        "survey_plan": paragraphs(section.survey.plan),
        "survey_implementation": paragraphs(section.survey.implementation),
        "workforce_total": count_text(section.workforce_total),
        "training": paragraphs(section.training),
        "demand": _numbered(section.demand),
        "demand_total": count_text(sum(d.count for d in section.demand)),
        "conclusions": paragraphs(section.conclusions),
        "signed_on": chinese_date(section.signed_on),
    }
    for name in ("post_distribution", "education_structure", "skill_level_structure"):
        items = getattr(section, name)
        context[name] = msgspec.to_builtins(_share_rows(items))
        context[f"{name}_total"] = count_text(sum(item.count for item in items))
    return context


def _supply_demand(section: schema.SupplyDemand) -> dict[str, Any]:
    return {
        name: _numbered(getattr(section, name))
        for name in ("talent_demand", "talent_supply", "technology_demand", "technology_supply")
    }


def _annual_report(section: schema.AnnualReport) -> dict[str, Any]:
    ops = section.operations
    return {
        "introduction": paragraphs(section.introduction),
        "operations": {name: paragraphs(getattr(ops, name)) for name in ops.__struct_fields__},
        "problems": paragraphs(section.problems),
        "next_steps": paragraphs(section.next_steps),
        "cases": [
            {"ordinal": ordinal(i), "title": case.title, "paragraphs": paragraphs(case.body)}
            for i, case in enumerate(section.cases, start=1)
        ],
        "signed_on": chinese_date(section.signed_on),
    }


def _application(section: schema.Application, request: JobRequest) -> dict[str, Any]:
    plan: dict[str, list[str]] = {}
    for key in schema.PLAN_KEYS:
        values = getattr(section.plan, key)
        plan[key] = [amount_text(v) if isinstance(v, float) else count_text(v) for v in values]
    groups = []
    for category, label in CATEGORY_LABELS.items():
        members = [
            {"name": m.name, "province": m.province, "code": m.code, "proof": m.proof or ""}
            for m in request.community.members
            if m.category == category
        ]
        # The form lists every category, even one without members.
        groups.append(
            {
                "label": label,
                "members": members or [{"name": "", "province": "", "code": "", "proof": ""}],
            }
        )
    return {
        "plan_years": list(section.plan_years),
        "plan": plan,
        "member_groups": groups,
        "established_on": chinese_date(request.community.established_on),
        "overall_approach": paragraphs(section.overall_approach),
        "governance": paragraphs(section.governance),
        "key_tasks": paragraphs(section.key_tasks),
        "support": paragraphs(section.support),
        "filled_on": chinese_date(section.filled_on),
    }


def build_context(request: JobRequest, attachment: AttachmentId) -> dict[str, Any]:
    """The context one attachment's template renders with.

    Raises `ValueError` when the request has no section for `attachment` (validation prevents it).
    """
    section = getattr(request, attachment)
    if section is None:
        raise ValueError(f"request has no {attachment} section")
    context: dict[str, Any] = {"community": _community(request), "year": request.year}
    if attachment == "industry_analysis":
        context |= _industry_analysis(section)
    elif attachment == "talent_forecast":
        context |= _talent_forecast(section)
    elif attachment == "supply_demand":
        context |= _supply_demand(section)
    elif attachment == "annual_report":
        context |= _annual_report(section)
    else:
        context |= _application(section, request)
    return context
