"""`docgen keys`: a created key works once loaded, rotation retires the old one, lists hide keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from commands.main import main
from docgen.keys import KeyRing
from docgen.settings import load_settings


def _printed_key(out: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith("key "))
    return line.split(": ", 1)[1]


def test_created_keys_authenticate_rotation_retires_the_old_and_list_shows_no_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = tmp_path / "keys.jsonl"
    assert main(["keys", "--file", str(keys), "create", "--tenant", "gd"]) == 0
    first = _printed_key(capsys.readouterr().out)
    assert main(["keys", "--file", str(keys), "create", "--tenant", "ops", "--role", "admin"]) == 0
    capsys.readouterr()
    ring = KeyRing(load_settings({"DOCGEN_API_KEYS_FILE": str(keys)}).api_keys)
    caller = ring.identify(first)
    assert caller is not None and (caller.key_id, caller.tenant) == ("gd-client-1", "gd")
    assert first not in keys.read_text("utf-8")  # only its hash is kept

    assert main(["keys", "--file", str(keys), "rotate", "gd-client-1"]) == 0
    second = _printed_key(capsys.readouterr().out)
    ring = KeyRing(load_settings({"DOCGEN_API_KEYS_FILE": str(keys)}).api_keys)
    assert ring.identify(first) is None and ring.identify(second) is not None

    assert main(["keys", "--file", str(keys), "list"]) == 0
    listed = capsys.readouterr().out
    assert "gd-client-1" in listed and "ops-admin-1" in listed and second not in listed
    assert main(["keys", "--file", str(keys), "create", "--tenant", "Bad/Tenant"]) == 2
