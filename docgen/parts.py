"""The pieces of a request the guideline's rules judge, each taken only if it type-checked.

A wrong type hides only the smallest piece around it — one member, one row's phone, one text —
so that a date typed as 2024/03/18 in `community` does not keep the lead enterprise's credit code
from being checked. `broken` is the set of every path at or above a type error
(`type_error_prefixes`); a piece whose path is in it is left out, and its own error says why.

Provinces are normalised here too, on the decoded body before anything else reads it, so that
the types, the rules, the stored request and the rendered documents all see 湖南省 for 湖南.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec

from docgen.provinces import normalise_province
from docgen.schema import (
    AnnualReport,
    Contact,
    LeadEnterprise,
    LeadUniversity,
    LeadVocationalSchool,
    Member,
    Person,
)

__all__ = [
    "LEAD_UNITS",
    "SUPPLY_DEMAND_LISTS",
    "Parts",
    "normalise_provinces",
    "parts_of",
    "type_error_prefixes",
]

T = TypeVar("T")

LEAD_UNITS = ("lead_enterprise", "lead_university", "lead_vocational_school")
SUPPLY_DEMAND_LISTS = ("talent_demand", "talent_supply", "technology_demand", "technology_supply")
APPLICATION_TEXTS = ("overall_approach", "governance", "key_tasks", "support")
# The dates the guideline's calendar speaks of: section → field.
CALENDAR_DATES = {
    "industry_analysis": "signed_on",
    "talent_forecast": "signed_on",
    "annual_report": "signed_on",
    "application": "filled_on",
}

_STEP = re.compile(r"\.|(?=\[)")


class Parts(msgspec.Struct, frozen=True):
    """Everything the rules judge, keyed by contract path where there are many."""

    year: int | None = None
    recommending_province: str | None = None
    head: Person | None = None
    contact: Contact | None = None
    lead_enterprise: LeadEnterprise | None = None
    lead_university: LeadUniversity | None = None
    lead_vocational_school: LeadVocationalSchool | None = None
    members: dict[int, Member] = {}
    all_members: bool = False  # every member type-checked (the spread warnings need them all)
    notify_emails: dict[str, str] = {}
    webhook_url: str | None = None
    row_phones: dict[str, str] = {}  # the supply and demand lists' contact_phone
    plan_years: list[int] | None = None
    funding: list[float] | None = None  # application.plan.innovation_center_funding
    application_texts: dict[str, str] = {}  # name → text
    annual_report: AnnualReport | None = None  # its 5000 字 need every text
    dates: dict[str, dt.date] = {}  # CALENDAR_DATES that type-checked, by path


def type_error_prefixes(paths: Iterable[str]) -> frozenset[str]:
    """Every path at or above one of `paths`: `a.b[1].c` gives `a`, `a.b`, `a.b[1]`, `a.b[1].c`."""
    prefixes: set[str] = set()
    for path in paths:
        prefixes.add(path)
        for match in _STEP.finditer(path):
            prefixes.add(path[: match.start()])
    return frozenset(prefixes)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def normalise_provinces(raw: dict[str, Any]) -> None:
    """Write every province the contract has in full (湖南 → 湖南省), in place."""

    def fix(obj: Any, key: str) -> None:
        if isinstance(obj, dict) and isinstance(obj.get(key), str):
            obj[key] = normalise_province(obj[key]) or obj[key]

    community = _dict(raw.get("community"))
    fix(community, "recommending_province")
    for lead in LEAD_UNITS:
        fix(community.get(lead), "province")
    for member in _list(community.get("members")):
        fix(member, "province")


def parts_of(raw: dict[str, Any], broken: frozenset[str]) -> Parts:
    """The pieces of `raw` (decoded, normalised) that have no type error at or below them."""

    def piece(value: Any, path: str, kind: type[T]) -> T | None:
        if value is None or path in broken:
            return None
        try:
            return msgspec.convert(value, kind)
        except msgspec.ValidationError:  # the type pass reports it; rules skip it
            return None

    community = _dict(raw.get("community"))
    members: dict[int, Member] = {}
    for i, value in enumerate(_list(community.get("members"))):
        if (member := piece(value, f"community.members[{i}]", Member)) is not None:
            members[i] = member
    notify = _dict(raw.get("notify"))
    emails = {
        f"notify.emails[{i}]": email
        for i, value in enumerate(_list(notify.get("emails")))
        if (email := piece(value, f"notify.emails[{i}]", str)) is not None
    }
    row_phones: dict[str, str] = {}
    lists = _dict(raw.get("supply_demand"))
    for name in SUPPLY_DEMAND_LISTS:
        for i, row in enumerate(_list(lists.get(name))):
            path = f"supply_demand.{name}[{i}].contact_phone"
            if (phone := piece(_dict(row).get("contact_phone"), path, str)) is not None:
                row_phones[path] = phone
    application = _dict(raw.get("application"))
    texts = {
        name: text
        for name in APPLICATION_TEXTS
        if (text := piece(application.get(name), f"application.{name}", str)) is not None
    }
    dates = {
        f"{section}.{name}": day
        for section, name in CALENDAR_DATES.items()
        if (day := piece(_dict(raw.get(section)).get(name), f"{section}.{name}", dt.date))
        is not None
    }
    funding_path = "application.plan.innovation_center_funding"
    return Parts(
        year=piece(raw.get("year"), "year", int),
        recommending_province=piece(
            community.get("recommending_province"), "community.recommending_province", str
        ),
        head=piece(community.get("head"), "community.head", Person),
        contact=piece(community.get("contact"), "community.contact", Contact),
        lead_enterprise=piece(
            community.get("lead_enterprise"), "community.lead_enterprise", LeadEnterprise
        ),
        lead_university=piece(
            community.get("lead_university"), "community.lead_university", LeadUniversity
        ),
        lead_vocational_school=piece(
            community.get("lead_vocational_school"),
            "community.lead_vocational_school",
            LeadVocationalSchool,
        ),
        members=members,
        all_members="community.members" not in broken and bool(members),
        notify_emails=emails,
        webhook_url=piece(notify.get("webhook_url"), "notify.webhook_url", str),
        row_phones=row_phones,
        plan_years=piece(application.get("plan_years"), "application.plan_years", list[int]),
        funding=piece(
            _dict(application.get("plan")).get("innovation_center_funding"),
            funding_path,
            list[float],
        ),
        application_texts=texts,
        annual_report=piece(raw.get("annual_report"), "annual_report", AnnualReport),
        dates=dates,
    )
