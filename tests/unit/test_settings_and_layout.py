"""Settings report every problem at once; the core stays free of the web framework."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from docgen.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings.api_keys == ()  # `docgen serve` then refuses to start (require_api_keys)
    assert settings.limits.jobs_per_minute == 60
    assert settings.converter.timeout_s == 120.0
    assert settings.s3.public_endpoint == settings.s3.endpoint


def test_every_invalid_variable_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            {
                "DOCGEN_S3_ENDPOINT": "no-port",
                "DOCGEN_CONVERSION_TIMEOUT": "soon",
                "DOCGEN_S3_SECURE": "maybe",
                "DOCGEN_PUBLIC_BASE_URL": "docs.example.cn",
            }
        )
    named = " ".join(caught.value.problems)
    for variable in (
        "DOCGEN_S3_ENDPOINT",
        "DOCGEN_CONVERSION_TIMEOUT",
        "DOCGEN_S3_SECURE",
        "DOCGEN_PUBLIC_BASE_URL",
    ):
        assert variable in named


def imported_modules(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_imports_go_one_way() -> None:
    assert imported_modules("docgen").isdisjoint({"litestar", "service", "workers", "commands"})
    assert imported_modules("service").isdisjoint({"workers", "commands"})
    assert imported_modules("workers").isdisjoint({"service", "litestar", "commands"})


# The namespaces of the codes clients see in `errors` and `warnings` (log events are others).
_CODE_NAMESPACES = {
    "json", "body", "type", "field", "value", "date", "string", "list", "number", "section",
    "attachments", "char", "credit_code", "school_code", "province", "recommending_province",
    "lead", "member", "members", "phone", "email", "url", "plan_years", "amount", "text",
    "problems", "job", "indicators", "link", "idempotency_key", "document", "webhook", "mail", "batch",
}  # fmt: skip


def _codes(text: str, quote: str) -> set[str]:
    found = re.findall(f"{quote}([a-z_]+\\.[a-z_]+){quote}", text)
    return {code for code in found if code.split(".")[0] in _CODE_NAMESPACES}


def test_every_error_and_warning_code_is_in_the_readme_and_the_readme_invents_none() -> None:
    sources = "".join(
        path.read_text("utf-8")
        for folder in ("docgen", "service")
        for path in (ROOT / folder).glob("*.py")
    )
    in_code = _codes(sources, '"')
    documented = _codes((ROOT / "README.md").read_text("utf-8"), "`")
    assert in_code - documented == set()
    # type.expected_* are composed from the JSON type's name in docgen/typecheck.py.
    assert {c for c in documented - in_code if not c.startswith("type.expected_")} == set()
