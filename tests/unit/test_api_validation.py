"""What a platform sees over HTTP for each family of rules: status, path, code, warnings."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.fakes import ApiFakes

Change = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Change:
    """A change to the sample: `a.b[2].c` set to `value`."""

    def change(data: dict[str, Any]) -> None:
        keys: list[str | int] = []
        for part in path.split("."):
            name, _, rest = part.partition("[")
            keys.append(name)
            keys += [int(i) for i in rest.rstrip("]").split("][") if i]
        target: Any = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def post(client: TestClient[Any], data: dict[str, Any], url: str = "/v1/jobs") -> Any:
    return client.post(url, content=json.dumps(data, ensure_ascii=False).encode())


# One rule of each family; its failing path and code (the rules' own unit tests cover the rest).
RULE_FAMILIES = {
    "credit code": (
        _set("community.lead_enterprise.credit_code", "914302004649799588"),
        "community.lead_enterprise.credit_code",
        "credit_code.checksum",
    ),
    "school code": (
        _set("community.members[3].code", "4199169099"),
        "community.members[3].code",
        "school_code.province",
    ),
    "province": (
        _set("community.members[2].province", "火星省"),
        "community.members[2].province",
        "province.unknown",
    ),
    "recommending province": (
        _set("community.recommending_province", "北京市"),
        "community.recommending_province",
        "recommending_province.not_lead",
    ),
    "lead units": (
        _set("community.lead_university.degree_granting", ["master"]),
        "community.lead_university.degree_granting",
        "lead.degrees",
    ),
    "members": (
        _set("community.members[13].code", "91320100308757261Q"),
        "community.members[13].code",
        "member.duplicate_code",
    ),
    "phone": (
        _set("community.contact.phone", "+86 138 0731 0001"),
        "community.contact.phone",
        "phone.invalid",
    ),
    "email": (_set("notify.emails", ["lina at example.cn"]), "notify.emails[0]", "email.invalid"),
    "plan years": (
        _set("application.plan_years", [2026, 2026, 2027]),
        "application.plan_years",
        "plan_years.not_consecutive",
    ),
    "plan values": (
        _set("application.plan.core_courses", [1, 2, 3, 4]),
        "application.plan.core_courses",
        "list.length",
    ),
    "funding": (
        _set("application.plan.innovation_center_funding[2]", 0.125),
        "application.plan.innovation_center_funding[2]",
        "amount.decimals",
    ),
    "字数": (
        _set("application.support", "保" * 501),
        "application.support",
        "text.too_long",
    ),
    "characters": (
        _set("annual_report.problems", "问题\x1b[0m"),
        "annual_report.problems",
        "char.control",
    ),
    "types": (
        _set("talent_forecast.workforce_total", "213000人"),
        "talent_forecast.workforce_total",
        "type.expected_int",
    ),
    "caps": (_set("community.industry", "轨" * 101), "community.industry", "string.too_long"),
    "dates": (
        _set("community.established_on", "2024-02-30"),
        "community.established_on",
        "date.invalid",
    ),
}


@pytest.mark.parametrize("family", RULE_FAMILIES)
def test_a_broken_rule_is_a_422_problem_naming_path_and_code(
    client: TestClient[Any], fakes: ApiFakes, sample_dict: dict[str, Any], family: str
) -> None:
    change, path, code = RULE_FAMILIES[family]
    change(sample_dict)
    response = post(client, sample_dict)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= body.keys()
    assert [(e["path"], e["code"]) for e in body["errors"]] == [(path, code)]
    assert body["errors"][0]["message"] and body["errors"][0]["message_en"]
    assert fakes.enqueuer.messages == []  # nothing was queued


def test_validate_gives_the_same_findings_with_200(
    client: TestClient[Any], sample_dict: dict[str, Any]
) -> None:
    for family, (change, path, code) in RULE_FAMILIES.items():
        data = json.loads(json.dumps(sample_dict))
        change(data)
        response = post(client, data, "/v1/validate")
        assert response.status_code == 200, family
        body = response.json()
        assert body["valid"] is False
        assert [(e["path"], e["code"]) for e in body["errors"]] == [(path, code)], family


def test_every_error_comes_in_one_answer(
    client: TestClient[Any], sample_dict: dict[str, Any]
) -> None:
    for change, _, _ in RULE_FAMILIES.values():
        change(sample_dict)
    body = post(client, sample_dict).json()
    found = {(e["path"], e["code"]) for e in body["errors"]}
    # The type error hides the rest of talent_forecast; every other family is reported.
    assert {(path, code) for _, path, code in RULE_FAMILIES.values()} <= found


def test_a_lone_surrogate_is_a_422_with_its_code_point(
    client: TestClient[Any], sample_bytes: bytes
) -> None:
    body = sample_bytes.replace("李娜".encode(), b"\\udc00", 1)
    response = client.post("/v1/jobs", content=body)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert (error["path"], error["code"]) == ("community.contact.name", "char.surrogate")
    assert "U+DC00" in error["message"]


def test_warnings_are_answered_with_the_job_and_kept_on_it(
    client: TestClient[Any], sample_dict: dict[str, Any]
) -> None:
    sample_dict["industry_analysis"]["signed_on"] = "2026-05-06"
    sample_dict["industry_analysis"]["trends"] = "智能化 🚄 高速化"
    response = post(client, sample_dict)
    assert response.status_code == 202
    expected = [
        ("industry_analysis.signed_on", "date.outside_calendar"),
        ("industry_analysis.trends", "char.emoji"),
    ]
    assert [(w["path"], w["code"]) for w in response.json()["warnings"]] == expected
    job = client.get(response.headers["location"].removeprefix("https://docs.example.cn")).json()
    assert [(w["path"], w["code"]) for w in job["warnings"]] == expected
    assert all(w["message"] and w["message_en"] for w in job["warnings"])


def test_a_refused_request_also_shows_its_warnings(
    client: TestClient[Any], sample_dict: dict[str, Any]
) -> None:
    sample_dict["community"]["head"]["phone"] = "110"
    sample_dict["application"]["filled_on"] = "2026-12-01"
    body = post(client, sample_dict).json()
    assert [e["code"] for e in body["errors"]] == ["phone.invalid"]
    assert [w["code"] for w in body["warnings"]] == ["date.outside_calendar"]


def test_short_province_names_are_stored_in_full(
    client: TestClient[Any], fakes: ApiFakes, sample_dict: dict[str, Any]
) -> None:
    sample_dict["community"]["recommending_province"] = "湖南"
    job_id = post(client, sample_dict).json()["id"]
    job, _ = fakes.jobs.get(job_id) or (None, None)
    assert job is not None
    stored = json.loads(fakes.store.get(job.input_key) or b"{}")
    assert stored["community"]["recommending_province"] == "湖南省"


def test_the_job_carries_an_indicator_summary_and_links_the_full_figures(
    client: TestClient[Any], sample_bytes: bytes
) -> None:
    job = client.post("/v1/jobs", content=sample_bytes).json()
    summary = job["indicators"]
    assert summary["members_total"] == 18
    assert summary["provinces_covered"] == 10
    assert summary["plan_years"] == [2026, 2027, 2028]
    assert set(summary["plan_totals"]) == {
        "teaching_resources",
        "joint_training",
        "innovation",
        "support",
    }
    assert summary["url"] == f"https://docs.example.cn/v1/jobs/{job['id']}/indicators"
    full = client.get(f"/v1/jobs/{job['id']}/indicators")
    assert full.status_code == 200
    figures = full.json()
    assert figures["members"]["by_category"]["school"] == 8
    assert figures["plan"]["groups"][0]["label"] == "开发产教资源"
    assert [t["path"] for t in figures["texts"]][-1] == "annual_report"


def test_indicators_of_an_unknown_job_are_a_404_problem(client: TestClient[Any]) -> None:
    response = client.get("/v1/jobs/nope/indicators")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "job.not_found"


def test_validate_answers_valid_data_with_warnings_and_indicators(
    client: TestClient[Any], fakes: ApiFakes, sample_bytes: bytes
) -> None:
    response = client.post("/v1/validate", content=sample_bytes)
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True
    assert (body["errors"], body["warnings"]) == ([], [])
    assert body["indicators"]["provinces"]["covered"] == 10
    assert fakes.jobs.jobs == {} and fakes.enqueuer.messages == []  # nothing recorded


def test_validate_of_wrong_types_has_no_indicators(
    client: TestClient[Any], sample_dict: dict[str, Any]
) -> None:
    sample_dict["community"]["members"] = "many"
    body = post(client, sample_dict, "/v1/validate").json()
    assert body["valid"] is False and body["indicators"] is None


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [(b'{"year": 2026,', 400, "json.malformed"), (b"[]", 200, "type.expected_object")],
)
def test_validate_of_what_is_not_a_request(
    client: TestClient[Any], content: bytes, status: int, code: str
) -> None:
    response = client.post("/v1/validate", content=content)
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code


def test_deep_nesting_is_refused_without_a_crash(client: TestClient[Any]) -> None:
    for depth in (40, 5_000):
        body = b'{"community":' + b"[" * depth + b"]" * depth + b"}"
        response = client.post("/v1/jobs", content=body)
        assert response.status_code in (400, 422), depth
        assert response.json()["errors"][0]["code"] == "json.too_deep"


def test_a_body_over_32_mib_is_a_413_for_validate_too(client: TestClient[Any]) -> None:
    response = client.post("/v1/validate", content=b" " * (32 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
