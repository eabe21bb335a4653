"""The API with in-memory stores behind it, and the real fonts of this machine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from docgen.glyphs import FontCoverage
from docgen.keys import DEV_KEYS
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


# The documented development keys: tenant `dev` (client), `other` (client), and an admin.
CLIENT = {"Authorization": "Bearer dev-client-key"}
OTHER = {"X-API-Key": "dev-other-key"}
ADMIN = {"Authorization": "Bearer dev-admin-key"}
NO_KEY = {"Authorization": ""}

TEST_ENV = {
    "DOCGEN_PUBLIC_BASE_URL": "https://docs.example.cn",
    "DOCGEN_API_KEYS": msgspec.json.encode(list(DEV_KEYS)).decode(),
}


@pytest.fixture
def client(fakes: ApiFakes) -> Iterator[TestClient[Any]]:
    """A client of tenant `dev` (its key on every request unless a test sends another)."""
    with TestClient(create_app(load_settings(TEST_ENV), fakes.services)) as client:
        client.headers.update(CLIENT)
        yield client
