"""`docgen keys create|rotate|list`: API keys in the keys file (`DOCGEN_API_KEYS_FILE`).

The file holds only hashes; a new key is printed once, here, and nowhere else. The API reads the
file at start: restart it (or roll its replicas) after a change.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

import msgspec

from docgen.keys import ApiKey, hash_key, new_key, parse_key_lines, valid_tenant

__all__ = ["add_key_commands", "run_key_command"]


def add_key_commands(sub: Any) -> None:
    keys = sub.add_parser("keys", help="create, rotate or list API keys (in the keys file)")
    keys.add_argument(
        "--file",
        type=Path,
        default=os.environ.get("DOCGEN_API_KEYS_FILE") or None,
        help="the JSON-lines keys file (default: DOCGEN_API_KEYS_FILE)",
    )
    verbs = keys.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create", help="a new key for a tenant; printed once")
    create.add_argument("--tenant", required=True)
    create.add_argument("--role", choices=("client", "admin"), default="client")
    create.add_argument("--id", help="a name for the key (default: tenant-role-N)")
    rotate = verbs.add_parser("rotate", help="replace a key's secret; the old one stops working")
    rotate.add_argument("id")
    verbs.add_parser("list", help="ids, tenants and roles (never the keys)")


def _read(path: Path) -> list[ApiKey]:
    if not path.exists():
        return []
    keys, problems = parse_key_lines(path.read_text("utf-8"), str(path))
    if problems:
        raise SystemExit("\n".join(problems))
    return keys


def _write(path: Path, keys: list[ApiKey]) -> None:
    lines = [msgspec.json.encode(k).decode() for k in keys]
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text("".join(f"{line}\n" for line in lines), "utf-8")
    temporary.replace(path)  # atomic: the API never reads half a file


def run_key_command(args: argparse.Namespace) -> int:
    if args.file is None:
        print("no keys file: pass --file or set DOCGEN_API_KEYS_FILE")
        return 2
    path: Path = args.file
    keys = _read(path)
    if args.verb == "list":
        print(f"{'id':<24} {'tenant':<16} role")
        for key in keys:
            print(f"{key.id:<24} {key.tenant:<16} {key.role}")
        return 0
    secret = new_key()
    if args.verb == "create":
        if not valid_tenant(args.tenant):
            print(f"tenant {args.tenant!r}: 1–64 of a-z 0-9 - _")
            return 2
        taken = {k.id for k in keys}
        key_id = args.id or _next_id(f"{args.tenant}-{args.role}", taken)
        if key_id in taken or not re.fullmatch(r"[\w.-]{1,64}", key_id):
            print(f"key id {key_id!r} is taken or not 1–64 of letters, digits, . _ -")
            return 2
        keys.append(ApiKey(key_id, args.tenant, args.role, hash_key(secret)))
    else:
        found = next((k for k in keys if k.id == args.id), None)
        if found is None:
            print(f"no key {args.id!r} in {path}")
            return 1
        keys = [
            ApiKey(k.id, k.tenant, k.role, hash_key(secret)) if k.id == args.id else k for k in keys
        ]
        key_id = args.id
    _write(path, keys)
    print(f"key {key_id}: {secret}")
    print("只显示这一次，请妥善保存 / shown this once; restart the API to load it")
    return 0


def _next_id(stem: str, taken: set[str]) -> str:
    n = 1
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"
