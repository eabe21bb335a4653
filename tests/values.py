"""What of a request must appear in each attachment, written as the documents write it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from docgen.context import CATEGORY_LABELS, amount_text, chinese_date, count_text, paragraphs

# Fields the official forms have no place for (contract README): used for checks and delivery.
NOT_SHOWN = {
    "community_id",
    "industry",
    "email",
    "degree_granting",
    "training_institution",
    "notify",
    "pdf_a",
    "attachments",
    "year",
    "plan_years",
}


def _leaves(value: Any, key: str = "") -> Iterator[str]:
    if key in NOT_SHOWN:
        return
    if key == "category":  # written as the form's label, e.g. 科研机构
        yield CATEGORY_LABELS[value]
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "province" and "address" in value:  # a lead unit's province
                continue
            yield from _leaves(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, key)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        yield count_text(value)
    elif isinstance(value, float):
        yield amount_text(value)
    elif isinstance(value, str):
        try:
            yield chinese_date(dt.date.fromisoformat(value))
        except ValueError:
            yield from paragraphs(value)


def expected_values(request: dict[str, Any], attachment: str) -> list[str]:
    """Every string that must be readable in `attachment`'s document."""
    community = request["community"]
    values = [community["name"]]
    if attachment == "application":
        values += list(_leaves(community))
    elif attachment != "supply_demand":
        values.append(community["lead_enterprise"]["name"])
    values += list(_leaves(request[attachment]))
    return values
