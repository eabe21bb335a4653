"""The API with in-memory stores behind it, and the real fonts of this machine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from docgen.glyphs import FontCoverage
from docgen.settings import load_settings
from service.app import create_app
from tests.fakes import ApiFakes, api_fakes


@pytest.fixture(scope="session")
def glyphs() -> FontCoverage:
    """The fonts the documents use: files on this machine (not a service), read once."""
    return FontCoverage(load_settings({}).converter.fontconfig_file)


@pytest.fixture
def fakes(glyphs: FontCoverage) -> ApiFakes:
    return api_fakes(glyphs)


@pytest.fixture
def client(fakes: ApiFakes) -> Iterator[TestClient[Any]]:
    settings = load_settings({"DOCGEN_PUBLIC_BASE_URL": "https://docs.example.cn"})
    with TestClient(create_app(settings, fakes.services)) as client:
        yield client
