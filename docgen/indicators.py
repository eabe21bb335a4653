"""监测指标: the figures the guideline's monitoring section says reviewers look at.

三、监测指标 asks about the spread of the construction units across provinces (一), the supply and
demand lists (二, 四), the plan's training, innovation, teaching-resource and policy figures
(三–六) — so: members by category, provinces covered, plan totals per group and year with growth,
the lists' sizes, and each limited text's 字数 against its limit.

Pure functions of a validated `JobRequest`. Group totals add figures of one unit only: the
innovation group's 万元 funding is reported on its own, not added to its counts of 项.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from typing import Any

import msgspec

from docgen.schema import JobRequest
from docgen.wordcount import (
    ANNUAL_REPORT_LIMIT,
    APPLICATION_TEXT_LIMITS,
    annual_report_texts,
    word_count,
)

__all__ = ["PLAN_GROUPS", "Indicators", "compute_indicators", "indicator_summary"]

CATEGORIES = ("school", "research_institute", "enterprise", "industry_association", "other")

# 二、建设计划's four groups, in the form's order. `innovation_center_funding` (万元) is apart.
PLAN_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "teaching_resources": (
        "开发产教资源",
        ("core_courses", "practice_projects", "teaching_equipment_sets"),
    ),
    "joint_training": (
        "联合人才培养",
        (
            "commissioned_students",
            "order_students",
            "apprenticeship_students",
            "teachers_in_enterprise_practice",
            "enterprise_part_time_teachers",
            "graduates_employed_in_industry",
            "vocational_graduates_hired",
            "university_graduates_hired",
            "vocational_graduates_to_bachelor",
            "frontline_staff_to_bachelor",
            "vocational_graduates_to_professional_master",
            "frontline_staff_to_professional_master",
            "vocational_school_trainees",
            "university_trainees",
        ),
    ),
    "innovation": (
        "协同创新能力",
        ("upgrade_projects", "provincial_achievements", "national_achievements"),
    ),
    "support": (
        "强化支持保障",
        (
            "policies_lead_enterprise",
            "policies_lead_university",
            "policies_lead_vocational_school",
            "policies_members",
        ),
    ),
}
FUNDING_KEY = "innovation_center_funding"

_TEXT_LABELS = {
    "application.overall_approach": "总体建设思路",
    "application.governance": "管理及运行机制",
    "application.key_tasks": "重点建设任务",
    "application.support": "保障支持",
    "annual_report": "年度总结报告",
}


class MemberCounts(msgspec.Struct, frozen=True):
    total: int  # participating units (the three lead units are not members)
    by_category: dict[str, int]  # every category, in the form's order, 0 when none


class ProvinceSpread(msgspec.Struct, frozen=True):
    covered: int  # provinces of the lead units and members together
    units_by_province: dict[str, int]  # most units first


class Funding(msgspec.Struct, frozen=True):
    totals: list[float]  # 万元, one per plan year
    growth_percent: list[float | None]  # year over year; None for the first year or from 0


class PlanGroup(msgspec.Struct, frozen=True):
    group: str
    label: str
    totals: list[int]  # one per plan year
    growth_percent: list[float | None]


class PlanFigures(msgspec.Struct, frozen=True):
    years: list[int]
    groups: list[PlanGroup]
    innovation_center_funding: Funding


class TextLength(msgspec.Struct, frozen=True):
    path: str
    label: str
    count: int  # 字数, counted as Word counts
    limit: int


class SupplyDemandLists(msgspec.Struct, frozen=True):
    talent_demand_rows: int
    talent_demand_people: int
    talent_supply_rows: int
    talent_supply_people: int
    technology_demand_rows: int
    technology_supply_rows: int


class Indicators(msgspec.Struct, frozen=True):
    members: MemberCounts
    provinces: ProvinceSpread
    plan: PlanFigures | None  # with the 申报书 only
    supply_demand: SupplyDemandLists | None  # with 附件3 only
    texts: list[TextLength]


def _growth(totals: Sequence[float]) -> list[float | None]:
    growth: list[float | None] = [None]
    for previous, current in itertools.pairwise(totals):
        growth.append(round((current - previous) * 100 / previous, 1) if previous else None)
    return growth


def _plan(request: JobRequest) -> PlanFigures | None:
    application = request.application
    if application is None:
        return None
    plan = application.plan
    groups = []
    for group, (label, keys) in PLAN_GROUPS.items():
        totals = [sum(getattr(plan, key)[year] for key in keys) for year in range(3)]
        groups.append(PlanGroup(group, label, totals, _growth(totals)))
    funding = [float(x) for x in getattr(plan, FUNDING_KEY)]
    return PlanFigures(list(application.plan_years), groups, Funding(funding, _growth(funding)))


def _texts(request: JobRequest) -> list[TextLength]:
    texts = []
    if request.application is not None:
        for name, limit in APPLICATION_TEXT_LIMITS.items():
            path = f"application.{name}"
            count = word_count(getattr(request.application, name))
            texts.append(TextLength(path, _TEXT_LABELS[path], count, limit))
    if request.annual_report is not None:
        count = sum(word_count(t) for t in annual_report_texts(request.annual_report))
        texts.append(
            TextLength("annual_report", _TEXT_LABELS["annual_report"], count, ANNUAL_REPORT_LIMIT)
        )
    return texts


def _supply_demand(request: JobRequest) -> SupplyDemandLists | None:
    lists = request.supply_demand
    if lists is None:
        return None
    return SupplyDemandLists(
        talent_demand_rows=len(lists.talent_demand),
        talent_demand_people=sum(r.count for r in lists.talent_demand),
        talent_supply_rows=len(lists.talent_supply),
        talent_supply_people=sum(r.count for r in lists.talent_supply),
        technology_demand_rows=len(lists.technology_demand),
        technology_supply_rows=len(lists.technology_supply),
    )


def compute_indicators(request: JobRequest) -> Indicators:
    """The monitoring figures of a request (provinces as normalised by validation)."""
    community = request.community
    categories: Counter[str] = Counter(m.category for m in community.members)
    leads = (
        community.lead_enterprise,
        community.lead_university,
        community.lead_vocational_school,
    )
    provinces = Counter([u.province for u in leads] + [m.province for m in community.members])
    return Indicators(
        members=MemberCounts(len(community.members), {c: categories[c] for c in CATEGORIES}),
        provinces=ProvinceSpread(len(provinces), dict(provinces.most_common())),
        plan=_plan(request),
        supply_demand=_supply_demand(request),
        texts=_texts(request),
    )


def indicator_summary(indicators: Indicators) -> dict[str, Any]:
    """The few figures a job's body carries; the rest is at `/v1/jobs/{id}/indicators`."""
    plan = indicators.plan
    return {
        "members_total": indicators.members.total,
        "members_by_category": indicators.members.by_category,
        "provinces_covered": indicators.provinces.covered,
        "plan_years": plan.years if plan else None,
        "plan_totals": {g.group: g.totals for g in plan.groups} if plan else None,
        "innovation_center_funding": plan.innovation_center_funding.totals if plan else None,
    }
