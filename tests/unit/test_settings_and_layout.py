"""Settings report every problem at once; the core stays free of the web framework."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from docgen.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_need_no_environment() -> None:
    settings = load_settings({})
    assert settings.tenant == "default"
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
