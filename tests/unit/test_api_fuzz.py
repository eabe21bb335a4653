"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis).

Bodies valid and invalid by the schema, path parameters of every shape: the API must never
answer 5xx for what a client sent, and every 4xx is problem+json in the contract's shape.
In-process (ASGI) against in-memory stores; the number of examples is bounded so that it stays
part of `make test`.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from docgen.glyphs import FontCoverage
from docgen.settings import load_settings
from service.app import create_app
from tests.fakes import api_fakes

EXAMPLES_PER_OPERATION = 100

# Built at collection: schemathesis reads the document to make one test per operation. Nothing
# connects here (in-memory stores; the fonts load on first use).
_settings = load_settings({})
_app = create_app(_settings, api_fakes(FontCoverage(_settings.converter.fontconfig_file)).services)
# The coverage phase alone sends ≈1,700 boundary cases per body operation (≈35 s here); the
# examples and fuzzing phases, positive and negative, keep the run bounded.
_config = SchemathesisConfig.from_dict(
    {"phases": {"coverage": {"enabled": False}}, "generation": {"mode": "all"}}
)
schema = schemathesis.openapi.from_asgi("/schema/openapi.json", _app, config=_config)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same examples on every run: a failure here is reproducible
)
def test_no_server_errors_and_every_client_error_is_a_problem(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, response.content[:500]
    if 400 <= response.status_code < 500:
        assert response.headers["content-type"] == ["application/problem+json"]
        problem = response.json()
        assert {"type", "title", "status", "detail", "errors"} <= problem.keys()
        assert problem["status"] == response.status_code
        for item in problem["errors"]:
            assert {"path", "code", "message", "message_en"} <= item.keys()
