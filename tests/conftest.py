"""Shared fixtures. Servers are started by the tests themselves on free ports in temp dirs,
waited for by polling, and stopped at the end of the session."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
import redis

from docgen.schema import JobRequest
from docgen.settings import load_settings

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "community.example.json"


@pytest.fixture(scope="session")
def sample_bytes() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture
def sample_dict(sample_bytes: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample_bytes)
    return data


@pytest.fixture(scope="session")
def sample_request(sample_bytes: bytes) -> JobRequest:
    return msgspec.json.decode(sample_bytes, type=JobRequest)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from docgen.devstack import start_redis

    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    process.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of the session's Redis, whose database is emptied before and after the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class S3Server(msgspec.Struct, frozen=True):
    endpoint: str
    access_key: str
    secret_key: str


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    from docgen.devstack import start_seaweedfs

    access, secret = "docgen-test", secrets.token_hex(16)
    process, endpoint = start_seaweedfs(tmp_path_factory.mktemp("s3"), access, secret)
    yield S3Server(endpoint, access, secret)
    process.stop()


@pytest.fixture(scope="session")
def unoserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from docgen.convert import UnoserverProcess

    settings = load_settings({})
    office = UnoserverProcess(
        settings.converter.unoserver_bin,
        tmp_path_factory.mktemp("office"),
        settings.converter.fontconfig_file,
    )
    office.wait_ready()
    yield office
    office.stop()
