"""监测指标 computed from a request: members, provinces, plan totals and growth, 字数."""

from __future__ import annotations

import json
from typing import Any

from docgen.indicators import PLAN_GROUPS, compute_indicators, indicator_summary
from docgen.schema import PLAN_KEYS
from docgen.validation import decode_job_request


def indicators_of(data: dict[str, Any]) -> Any:
    return compute_indicators(decode_job_request(json.dumps(data, ensure_ascii=False).encode()))


def test_the_plan_groups_cover_every_indicator_but_funding_once() -> None:
    grouped = [key for _, keys in PLAN_GROUPS.values() for key in keys]
    assert sorted(grouped) == sorted(k for k in PLAN_KEYS if k != "innovation_center_funding")
    assert len(grouped) == len(set(grouped))


def test_members_are_counted_by_category(sample_dict: dict[str, Any]) -> None:
    members = indicators_of(sample_dict).members
    assert members.total == 18
    assert members.by_category == {
        "school": 8,
        "research_institute": 2,
        "enterprise": 6,
        "industry_association": 1,
        "other": 1,
    }


def test_provinces_covered_count_lead_units_and_members_once_per_province(
    sample_dict: dict[str, Any],
) -> None:
    sample_dict["community"]["members"][1]["province"] = "四川"  # normalised: still 四川省
    provinces = indicators_of(sample_dict).provinces
    assert provinces.covered == 10
    assert provinces.units_by_province["湖南省"] == 7  # three leads and four members
    assert provinces.units_by_province["四川省"] == 2
    assert next(iter(provinces.units_by_province)) == "湖南省"  # most units first


def test_plan_totals_per_group_and_year_with_growth(sample_dict: dict[str, Any]) -> None:
    plan = sample_dict["application"]["plan"]
    plan["core_courses"] = [10, 20, 20]
    plan["practice_projects"] = [0, 0, 0]
    plan["teaching_equipment_sets"] = [0, 0, 10]
    for key in PLAN_GROUPS["support"][1]:
        plan[key] = [0, 0, 1]
    plan["innovation_center_funding"] = [100, 150.5, 150.5]
    figures = indicators_of(sample_dict).plan
    assert figures.years == [2026, 2027, 2028]
    groups = {g.group: g for g in figures.groups}
    assert list(groups) == ["teaching_resources", "joint_training", "innovation", "support"]
    assert groups["teaching_resources"].label == "开发产教资源"
    assert groups["teaching_resources"].totals == [10, 20, 30]
    assert groups["teaching_resources"].growth_percent == [None, 100.0, 50.0]
    assert groups["support"].growth_percent == [None, None, None]  # growth from 0 is undefined
    assert figures.innovation_center_funding.totals == [100.0, 150.5, 150.5]
    assert figures.innovation_center_funding.growth_percent == [None, 50.5, 0.0]


def test_text_lengths_stand_against_their_limits(sample_dict: dict[str, Any]) -> None:
    sample_dict["application"]["support"] = "保障 Industry 4.0"
    texts = {t.path: t for t in indicators_of(sample_dict).texts}
    assert (texts["application.support"].count, texts["application.support"].limit) == (4, 500)
    assert texts["annual_report"].limit == 5000
    assert [t.label for t in texts.values()] == [
        "总体建设思路",
        "管理及运行机制",
        "重点建设任务",
        "保障支持",
        "年度总结报告",
    ]


def test_sections_not_sent_have_no_figures(sample_dict: dict[str, Any]) -> None:
    del sample_dict["attachments"]
    for section in ("application", "supply_demand", "annual_report"):
        del sample_dict[section]
    indicators = indicators_of(sample_dict)
    assert indicators.plan is None and indicators.supply_demand is None
    assert indicators.texts == []
    assert indicator_summary(indicators)["plan_totals"] is None


def test_the_supply_and_demand_lists_are_counted(sample_dict: dict[str, Any]) -> None:
    lists = indicators_of(sample_dict).supply_demand
    assert lists.talent_demand_rows == len(sample_dict["supply_demand"]["talent_demand"])
    assert lists.talent_demand_people == sum(
        r["count"] for r in sample_dict["supply_demand"]["talent_demand"]
    )
