"""`GET /v1/jobs/{id}?wait=`: the answer comes when a document changes, or when the time is up.

The announcements here are stand-ins; tests/integration/test_job_events.py has the real ones
(Redis pub/sub), and the e2e tests wait for their jobs this way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from docgen.jobevents import JobEvents
from docgen.jobs import DocumentRecord
from docgen.settings import load_settings
from service.app import create_app
from tests.fakes import ApiFakes
from tests.unit.conftest import CLIENT, NO_KEY, OTHER, TEST_ENV


class WorkerDuringWait(JobEvents):
    """While the request waits, a worker starts 附件5 and announces it."""

    def __init__(self, fakes: ApiFakes) -> None:
        super().__init__(None)
        self.fakes = fakes
        self.waits: list[tuple[str, float]] = []

    async def wait(self, job_id: str, timeout_s: float) -> bool:
        self.waits.append((job_id, timeout_s))
        self.fakes.jobs.put_document(job_id, DocumentRecord("application", "running"))
        return True


class NeverWait(JobEvents):
    async def wait(self, job_id: str, timeout_s: float) -> bool:
        raise AssertionError("this request should have been answered at once")


def _client(fakes: ApiFakes, events: JobEvents) -> TestClient[Any]:
    services = msgspec.structs.replace(fakes.services, job_events=events)
    client = TestClient(create_app(load_settings(TEST_ENV), services))
    client.headers.update(CLIENT)
    return client


@pytest.fixture
def job_id(fakes: ApiFakes, sample_bytes: bytes) -> Iterator[str]:
    with _client(fakes, NeverWait(None)) as client:
        response = client.post("/v1/jobs", content=sample_bytes)
        assert response.status_code == 202, response.text
        yield response.json()["id"]


def test_a_waiting_request_is_answered_when_a_document_changes(
    fakes: ApiFakes, job_id: str
) -> None:
    events = WorkerDuringWait(fakes)
    with _client(fakes, events) as client:
        body = client.get(f"/v1/jobs/{job_id}", params={"wait": 30}).json()
    assert body["status"] == "running"
    assert next(d for d in body["documents"] if d["attachment"] == "application")["status"] == (
        "running"
    )
    # One wait, announced: not a poll. Each wait is at most a second long, so that an
    # announcement lost while Redis reconnects delays the answer by a second, not 30.
    assert len(events.waits) == 1
    assert events.waits[0][0] == job_id and 0 < events.waits[0][1] <= 1


def test_without_a_change_the_answer_comes_when_the_time_is_up(
    fakes: ApiFakes, job_id: str
) -> None:
    with _client(fakes, JobEvents(None)) as client:  # nothing is announced
        response = client.get(f"/v1/jobs/{job_id}", params={"wait": 0.2})
    assert response.status_code == 200
    assert response.json()["status"] == "queued"


def test_a_finished_job_is_answered_at_once(fakes: ApiFakes, job_id: str) -> None:
    for attachment in fakes.jobs.jobs[job_id].attachments:
        fakes.jobs.put_document(job_id, DocumentRecord(attachment, "succeeded", version=1))
    with _client(fakes, NeverWait(None)) as client:
        assert client.get(f"/v1/jobs/{job_id}?wait=30").json()["status"] == "succeeded"


def test_when_too_many_requests_wait_the_next_is_answered_at_once(
    fakes: ApiFakes, job_id: str
) -> None:
    with _client(fakes, NeverWait(None, max_waiters=0)) as client:
        assert client.get(f"/v1/jobs/{job_id}?wait=30").json()["status"] == "queued"


def test_another_tenants_job_is_not_waited_on(fakes: ApiFakes, job_id: str) -> None:
    with _client(fakes, NeverWait(None)) as client:
        response = client.get(f"/v1/jobs/{job_id}?wait=30", headers={**NO_KEY, **OTHER})
    assert response.status_code == 404


@pytest.mark.parametrize("value", ["-1", "31", "abc", "nan", "inf"])
def test_a_wait_outside_0_to_30_seconds_is_refused_naming_the_parameter(
    fakes: ApiFakes, job_id: str, value: str
) -> None:
    with _client(fakes, NeverWait(None)) as client:
        response = client.get(f"/v1/jobs/{job_id}", params={"wait": value})
    assert response.status_code == 400
    [problem] = response.json()["errors"]
    assert problem["path"] == "wait" and problem["code"] == "request.bad"
    assert problem["message"] == "参数 wait 的值无效"
