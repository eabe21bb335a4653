"""The request contract (`shared/contract/README.md`) as msgspec Structs: API bodies only.

Types and required fields live here; the guideline's rules beyond types (checksums, lead-unit
rules, text limits in 字) are checked in a separate pass over the decoded data.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "ATTACHMENT_IDS",
    "MAX_ROWS",
    "PLAN_KEYS",
    "AnnualReport",
    "Application",
    "AttachmentId",
    "Community",
    "IndustryAnalysis",
    "JobRequest",
    "SupplyDemand",
    "TalentForecast",
]

AttachmentId = Literal[
    "industry_analysis", "talent_forecast", "supply_demand", "annual_report", "application"
]
ATTACHMENT_IDS: tuple[AttachmentId, ...] = (
    "industry_analysis",
    "talent_forecast",
    "supply_demand",
    "annual_report",
    "application",
)
MemberCategory = Literal[
    "school", "research_institute", "enterprise", "industry_association", "other"
]
Degree = Literal["master", "doctorate"]

# A short free string: education levels, posts, majors are written as the community writes them.
Label = Annotated[str, Meta(min_length=1, max_length=100)]
# A long text; "\n" separates paragraphs.
Text = Annotated[str, Meta(min_length=1, max_length=20_000)]
Count = Annotated[int, Meta(ge=0)]
# Every list has a cap, so that a body's size alone bounds the work: 20,000 rows per table (the
# contract; communities publish 500–3,000), fewer where the form has few places.
MAX_ROWS = 20_000


class _Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Unknown fields are refused: a misspelt key must not silently drop a section."""


class Person(_Body, frozen=True):
    name: Label
    title: Label
    phone: Label


class Contact(_Body, frozen=True):
    name: Label
    organization: Label
    title: Label
    phone: Label
    email: Label


class LeadEnterprise(_Body, frozen=True):
    name: Label
    address: Label
    credit_code: Label
    province: Label


class LeadUniversity(_Body, frozen=True):
    name: Label
    address: Label
    school_code: Label
    province: Label
    degree_granting: Annotated[list[Degree], Meta(max_length=2)]


class LeadVocationalSchool(_Body, frozen=True):
    name: Label
    address: Label
    school_code: Label
    province: Label
    training_institution: Label


class Member(_Body, frozen=True):
    category: MemberCategory
    name: Label
    province: Label
    code: Label
    proof: Label | None = None


class Community(_Body, frozen=True):
    name: Label
    industry: Label
    established_on: dt.date
    recommending_province: Label
    head: Person
    contact: Contact
    lead_enterprise: LeadEnterprise
    lead_university: LeadUniversity
    lead_vocational_school: LeadVocationalSchool
    members: Annotated[list[Member], Meta(min_length=1, max_length=2_000)]


class IndustryAnalysis(_Body, frozen=True):
    overview: Text
    current_state: Text
    trends: Text
    signed_on: dt.date


class Survey(_Body, frozen=True):
    plan: Text
    implementation: Text


class PostCount(_Body, frozen=True):
    post: Label
    count: Count


class LevelCount(_Body, frozen=True):
    level: Label
    count: Count


class Demand(_Body, frozen=True):
    major: Label
    education_level: Label
    skill_level: Label
    count: Count


class TalentForecast(_Body, frozen=True):
    survey: Survey
    workforce_total: Count
    post_distribution: Annotated[list[PostCount], Meta(max_length=MAX_ROWS)]
    education_structure: Annotated[list[LevelCount], Meta(max_length=MAX_ROWS)]
    skill_level_structure: Annotated[list[LevelCount], Meta(max_length=MAX_ROWS)]
    training: Text
    demand: Annotated[list[Demand], Meta(max_length=MAX_ROWS)]
    conclusions: Text
    signed_on: dt.date


class TalentDemandRow(_Body, frozen=True):
    organization: Label
    major: Label
    education_level: Label
    count: Count
    description: Text
    contact_name: Label
    contact_phone: Label


class TalentSupplyRow(_Body, frozen=True):
    organization: Label
    majors: Label
    education_level: Label
    count: Count
    description: Text
    contact_name: Label
    contact_phone: Label


class TechnologyDemandRow(_Body, frozen=True):
    organization: Label
    need: Text
    contact_name: Label
    contact_phone: Label


class TechnologySupplyRow(_Body, frozen=True):
    organization: Label
    offer: Text
    contact_name: Label
    contact_phone: Label


class SupplyDemand(_Body, frozen=True):
    talent_demand: Annotated[list[TalentDemandRow], Meta(max_length=MAX_ROWS)]
    talent_supply: Annotated[list[TalentSupplyRow], Meta(max_length=MAX_ROWS)]
    technology_demand: Annotated[list[TechnologyDemandRow], Meta(max_length=MAX_ROWS)]
    technology_supply: Annotated[list[TechnologySupplyRow], Meta(max_length=MAX_ROWS)]


class Operations(_Body, frozen=True):
    supply_demand_matching: Text
    teaching_resources: Text
    joint_training: Text
    joint_research: Text
    policy_support: Text
    other_innovation: Text


class Case(_Body, frozen=True):
    title: Label
    body: Text


class AnnualReport(_Body, frozen=True):
    introduction: Text
    operations: Operations
    problems: Text
    next_steps: Text
    # 5000 字 in all leave room for a few dozen cases; a thousand is a generous cap.
    cases: Annotated[list[Case], Meta(max_length=1_000)]
    signed_on: dt.date


Three = Annotated[list[Count], Meta(min_length=3, max_length=3)]
# 万元 with decimals; "at most two decimals" is a rule of the validation pass.
ThreeAmounts = Annotated[list[Annotated[float, Meta(ge=0)]], Meta(min_length=3, max_length=3)]


class Plan(_Body, frozen=True):
    """The 25 indicators of 二、建设计划, in the form's row order, one number per plan year."""

    core_courses: Three
    practice_projects: Three
    teaching_equipment_sets: Three
    commissioned_students: Three
    order_students: Three
    apprenticeship_students: Three
    teachers_in_enterprise_practice: Three
    enterprise_part_time_teachers: Three
    graduates_employed_in_industry: Three
    vocational_graduates_hired: Three
    university_graduates_hired: Three
    vocational_graduates_to_bachelor: Three
    frontline_staff_to_bachelor: Three
    vocational_graduates_to_professional_master: Three
    frontline_staff_to_professional_master: Three
    vocational_school_trainees: Three
    university_trainees: Three
    innovation_center_funding: ThreeAmounts
    upgrade_projects: Three
    provincial_achievements: Three
    national_achievements: Three
    policies_lead_enterprise: Three
    policies_lead_university: Three
    policies_lead_vocational_school: Three
    policies_members: Three


PLAN_KEYS: tuple[str, ...] = Plan.__struct_fields__


class Application(_Body, frozen=True):
    plan_years: Annotated[
        list[Annotated[int, Meta(ge=2000, le=2200)]], Meta(min_length=3, max_length=3)
    ]
    plan: Plan
    overall_approach: Text
    governance: Text
    key_tasks: Text
    support: Text
    filled_on: dt.date


class Notify(_Body, frozen=True):
    emails: Annotated[list[Label], Meta(max_length=50)] = []
    webhook_url: Annotated[str, Meta(max_length=2_000)] | None = None


class JobRequest(_Body, frozen=True):
    community_id: Annotated[str, Meta(pattern=r"^[a-z0-9-]{3,64}$")]
    year: Annotated[int, Meta(ge=2023, le=2100)]
    community: Community
    attachments: Annotated[list[AttachmentId], Meta(max_length=len(ATTACHMENT_IDS))] | None = None
    notify: Notify | None = None
    pdf_a: bool = False
    industry_analysis: IndustryAnalysis | None = None
    talent_forecast: TalentForecast | None = None
    supply_demand: SupplyDemand | None = None
    annual_report: AnnualReport | None = None
    application: Application | None = None

    def requested_attachments(self) -> tuple[AttachmentId, ...]:
        """The attachments to render: those listed, or every one whose section is present."""
        if self.attachments is not None:
            return tuple(a for a in ATTACHMENT_IDS if a in self.attachments)
        return tuple(a for a in ATTACHMENT_IDS if getattr(self, a) is not None)
