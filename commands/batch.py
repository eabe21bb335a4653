"""`docgen batch start|status`: an operator's view of a year-end batch, through the API.

Talks HTTP only (the API may be on another host): `--api` or `DOCGEN_API_URL`, and the key in
`DOCGEN_API_KEY` (an admin key: batches are operators' work). Shows a live progress bar and ends with a summary.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

__all__ = ["add_batch_commands", "run_batch_command"]

_FINAL = ("finished", "cancelled")


def add_batch_commands(sub: Any) -> None:
    batch = sub.add_parser("batch", help="start or follow a year-end batch (through the API)")
    batch.add_argument("--api", default=os.environ.get("DOCGEN_API_URL", "http://127.0.0.1:8000"))
    verbs = batch.add_subparsers(dest="verb", required=True)
    start = verbs.add_parser("start", help="regenerate stored communities' documents")
    start.add_argument("--year", type=int, required=True)
    start.add_argument("--tenant", help="whose communities (default: the admin key's tenant)")
    start.add_argument("--province", action="append", default=[], help="推荐省份, repeatable")
    start.add_argument("--community", action="append", default=[], help="community id, repeatable")
    start.add_argument("--attachment", action="append", default=[], help="attachment id")
    start.add_argument("--reason", default="")
    start.add_argument("--force", action="store_true", help="new versions even if unchanged")
    start.add_argument("--notify-submitters", action="store_true")
    start.add_argument("--webhook-url")
    start.add_argument("--no-follow", action="store_true", help="print the id and return")
    status = verbs.add_parser("status", help="show a batch's progress")
    status.add_argument("batch_id")
    status.add_argument("--no-follow", action="store_true", help="one look, no live bar")


def _client(args: argparse.Namespace) -> httpx.Client:
    key = os.environ.get("DOCGEN_API_KEY")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=args.api, headers=headers, timeout=30)


def run_batch_command(args: argparse.Namespace, console: Console | None = None) -> int:
    console = console or Console()
    with _client(args) as client:
        if args.verb == "start":
            body = {
                "year": args.year,
                "tenant": args.tenant,
                "filter": {
                    "provinces": args.province,
                    "community_ids": args.community,
                    "attachments": args.attachment,
                },
                "reason": args.reason,
                "force": args.force,
                "notify_submitters": args.notify_submitters,
                "webhook_url": args.webhook_url,
            }
            answer = client.post("/v1/batches", json=body)
            if answer.status_code != 202:
                console.print(f"[red]{answer.status_code}[/red] {answer.text}")
                return 1
            batch = answer.json()
            console.print(
                f"批量任务 / batch [bold]{batch['id']}[/bold]: {batch['communities']} 个共同体"
            )
            if args.no_follow:
                return 0
            return _follow(client, batch["id"], console)
        if args.no_follow:
            batch = _get(client, args.batch_id)
            if batch is None:
                console.print(f"[red]没有这个批量任务 / no batch {args.batch_id}[/red]")
                return 1
            _summary(client, batch, console)
            return 0
        return _follow(client, args.batch_id, console)


def _get(client: httpx.Client, batch_id: str) -> dict[str, Any] | None:
    answer = client.get(f"/v1/batches/{batch_id}")
    return answer.json() if answer.status_code == 200 else None


def _follow(client: httpx.Client, batch_id: str, console: Console) -> int:
    batch = _get(client, batch_id)
    if batch is None:
        console.print(f"[red]没有这个批量任务 / no batch {batch_id}[/red]")
        return 1
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "新 {task.fields[done]} · 复用 {task.fields[reused]} · 失败 {task.fields[failed]}"
        ),
        TextColumn("ETA {task.fields[eta]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(
            batch_id, total=batch["total"] or None, done=0, reused=0, failed=0, eta="—"
        )
        while True:
            finished = batch["done"] + batch["reused"] + batch["failed"]
            eta = f"{batch['eta_s']:.0f} s" if batch.get("eta_s") is not None else "—"
            progress.update(
                task,
                total=batch["total"] or None,
                completed=finished,
                done=batch["done"],
                reused=batch["reused"],
                failed=batch["failed"],
                eta=eta,
            )
            if batch["state"] in _FINAL and batch["running"] == 0 and batch["queued"] == 0:
                break
            time.sleep(1)  # the refresh interval of the display
            batch = _get(client, batch_id) or batch
    _summary(client, batch, console)
    return 0 if batch["failed"] == 0 else 3


def _summary(client: httpx.Client, batch: dict[str, Any], console: Console) -> None:
    table = Table(title=f"批量任务 {batch['id']}（{batch['year']}年度）{batch['reason']}")
    for column in (
        "状态 state",
        "共同体",
        "文档 total",
        "新版本 done",
        "复用 reused",
        "失败 failed",
        "进行中 running",
        "排队 queued",
    ):
        table.add_column(column, justify="right")
    table.add_row(
        batch["state"],
        str(batch["communities"]),
        str(batch["total"]),
        str(batch["done"]),
        str(batch["reused"]),
        str(batch["failed"]),
        str(batch["running"]),
        str(batch["queued"]),
    )
    console.print(table)
    if batch["failed"]:
        failures = client.get(f"/v1/batches/{batch['id']}/failures").json()["failures"]
        listed = Table(title="失败 / failures")
        for column in ("community", "attachment", "code", "原因"):
            listed.add_column(column)
        for row in failures[:20]:
            listed.add_row(row["community_id"], row["attachment"], row["code"], row["message"])
        console.print(listed)
        if len(failures) > 20:
            console.print(f"… {len(failures) - 20} more: {batch['links']['failures_csv']}")
