"""A request is decoded into the contract's types, or refused with the failing path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from docgen.errors import RequestInvalid
from docgen.schema import ATTACHMENT_IDS
from docgen.validation import decode_job_request


def refused(data: dict[str, Any] | bytes) -> RequestInvalid:
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    with pytest.raises(RequestInvalid) as caught:
        decode_job_request(body)
    return caught.value


def test_the_sample_decodes_with_all_five_attachments(sample_bytes: bytes) -> None:
    request = decode_job_request(sample_bytes)
    assert request.requested_attachments() == ATTACHMENT_IDS
    assert request.community.established_on.isoformat() == "2024-03-18"
    assert request.application is not None
    assert request.application.plan.innovation_center_funding == [1200.5, 1500, 1850.25]


def test_a_string_where_a_number_belongs_names_the_contract_path(
    sample_dict: dict[str, Any],
) -> None:
    sample_dict["application"]["plan"]["core_courses"][1] = "十五"
    error = refused(sample_dict)
    assert error.status == 422
    assert [(p.path, p.code) for p in error.problems] == [
        ("application.plan.core_courses[1]", "type.expected_int")
    ]
    assert error.problems[0].message and error.problems[0].message_en


def test_an_unknown_field_is_refused_not_dropped(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["lead_enterprize"] = sample_dict["community"]["lead_enterprise"]
    error = refused(sample_dict)
    assert [(p.path, p.code) for p in error.problems] == [
        ("community.lead_enterprize", "field.unknown")
    ]


def test_a_missing_required_field_names_its_path(sample_dict: dict[str, Any]) -> None:
    del sample_dict["community"]["members"][3]["code"]
    error = refused(sample_dict)
    assert [(p.path, p.code) for p in error.problems] == [
        ("community.members[3].code", "field.missing")
    ]


def test_an_unknown_attachment_id_is_refused(sample_dict: dict[str, Any]) -> None:
    sample_dict["attachments"] = ["industry_analysis", "budget"]
    error = refused(sample_dict)
    assert [(p.path, p.code) for p in error.problems] == [("attachments[1]", "value.not_allowed")]


def test_an_unknown_member_category_is_refused(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["members"][0]["category"] = "university"
    assert refused(sample_dict).problems[0].path == "community.members[0].category"


def test_a_requested_attachment_needs_its_section(sample_dict: dict[str, Any]) -> None:
    del sample_dict["annual_report"]
    error = refused(sample_dict)
    assert [(p.path, p.code) for p in error.problems] == [("annual_report", "section.missing")]


def test_omitted_attachments_mean_every_present_section(sample_dict: dict[str, Any]) -> None:
    del sample_dict["attachments"]
    del sample_dict["talent_forecast"]
    request = decode_job_request(json.dumps(sample_dict).encode())
    assert "talent_forecast" not in request.requested_attachments()
    assert len(request.requested_attachments()) == 4


@pytest.mark.parametrize("body", [b"{", b"", b"\xff\xfe", b'{"a": 1,}'])
def test_malformed_json_is_a_400(body: bytes) -> None:
    error = refused(body)
    assert error.status == 400
    assert error.problems[0].code == "json.malformed"


def test_a_json_array_is_not_a_request() -> None:
    error = refused(b"[1, 2]")
    assert (error.status, error.problems[0].code) == (422, "type.expected_object")


def test_dates_must_be_real_iso_dates(sample_dict: dict[str, Any]) -> None:
    sample_dict["industry_analysis"]["signed_on"] = "2026-02-30"
    error = refused(sample_dict)
    assert (error.problems[0].path, error.problems[0].code) == (
        "industry_analysis.signed_on",
        "date.invalid",
    )


def test_labels_and_counts_have_limits(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["name"] = "共" * 101
    assert refused(sample_dict).problems[0].code == "string.too_long"
    sample_dict["community"]["name"] = "全国轨道交通装备行业产教融合共同体"
    sample_dict["talent_forecast"]["workforce_total"] = -1
    assert refused(sample_dict).problems[0].path == "talent_forecast.workforce_total"


def test_strings_are_trimmed_and_nfc_normalised(sample_dict: dict[str, Any]) -> None:
    sample_dict["community"]["head"]["name"] = "  张建国\n"
    sample_dict["community"]["head"]["title"] = "Cafe\u0301"
    request = decode_job_request(json.dumps(sample_dict).encode())
    assert request.community.head.name == "张建国"
    assert request.community.head.title == "Caf\u00e9"


def test_line_breaks_from_a_browsers_text_area_become_newlines(
    sample_dict: dict[str, Any],
) -> None:
    sample_dict["annual_report"]["problems"] = "第一段。\r\n第二段。\r第三段。"
    request = decode_job_request(json.dumps(sample_dict).encode())
    assert request.annual_report is not None
    assert request.annual_report.problems == "第一段。\n第二段。\n第三段。"
