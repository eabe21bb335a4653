"""Whatever a body holds, validation answers: a verdict that encodes, or a 400 for non-JSON.

The sample with random values of any JSON type (strings of any code point, lone surrogates
included, escaped or raw) put at random paths.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from docgen.errors import RequestInvalid
from docgen.glyphs import FontCoverage
from docgen.settings import load_settings
from docgen.validation import check_job_request

SAMPLE = json.loads(
    (Path(__file__).resolve().parents[2] / "samples" / "community.example.json").read_bytes()
)
GLYPHS = FontCoverage(load_settings({}).converter.fontconfig_file)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _paths(item, (*path, key))


PATHS = list(_paths(SAMPLE))[1:]
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=5,
)


def _fits(target: Any, key: Any) -> bool:
    if isinstance(target, dict):
        return key in target
    return isinstance(target, list) and isinstance(key, int) and key < len(target)


def _changed(changes: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    """The sample with each value put at its path, where an earlier change left that path."""
    data: dict[str, Any] = copy.deepcopy(SAMPLE)
    for path, value in changes:
        target: Any = data
        for key in path[:-1]:
            target = target[key] if _fits(target, key) else None
        if _fits(target, path[-1]):
            target[path[-1]] = value
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    changes=st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES), min_size=1, max_size=4),
    escaped=st.booleans(),
)
def test_any_change_to_a_request_gets_an_answer_that_encodes(
    changes: list[tuple[tuple[Any, ...], Any]], escaped: bool
) -> None:
    # Raw lone surrogates make invalid UTF-8 (a 400); escaped ones are JSON (a 422 naming them).
    body = json.dumps(_changed(changes), ensure_ascii=escaped).encode("utf-8", "surrogatepass")
    try:
        verdict = check_job_request(body, GLYPHS)
    except RequestInvalid as refused:
        assert refused.status == 400
        return
    msgspec.json.encode([verdict.errors, verdict.warnings, verdict.indicators])
    assert verdict.valid == (verdict.request is not None)
    if verdict.request is not None:
        msgspec.json.encode(verdict.request)  # what would be stored for the worker
