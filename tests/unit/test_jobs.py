"""A job's status follows from its documents."""

from __future__ import annotations

import pytest

from docgen.jobs import DocumentRecord, job_status


def docs(*statuses: str) -> list[DocumentRecord]:
    return [DocumentRecord("application", status) for status in statuses]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("queued", "queued"), "queued"),
        (("running", "queued"), "running"),
        (("succeeded", "queued"), "running"),
        (("succeeded", "succeeded"), "succeeded"),
        (("succeeded", "failed"), "partial"),
        (("failed", "failed"), "failed"),
        (("failed", "running"), "running"),
    ],
)
def test_job_status_is_derived_from_documents(statuses: tuple[str, ...], expected: str) -> None:
    assert job_status(docs(*statuses)) == expected
