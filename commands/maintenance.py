"""`docgen fsck` and `docgen reconcile`: check the store, recover lost work (reads Redis and S3)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

import msgspec

from docgen.errors import DocgenError
from docgen.fsck import DEFAULT_GRACE, FsckReport, check_store
from docgen.settings import Settings

__all__ = ["add_maintenance_commands", "run_fsck", "run_reconcile"]


def add_maintenance_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fsck = sub.add_parser(
        "fsck",
        help="check versions, manifests, files and job records; exit 1 when inconsistent",
    )
    fsck.add_argument("--tenant", help="only this tenant's objects and jobs")
    fsck.add_argument(
        "--repair",
        action="store_true",
        help="remove the files of half-written versions older than --grace",
    )
    fsck.add_argument("--json", action="store_true", help="one JSON object on stdout")
    fsck.add_argument(
        "--grace",
        type=float,
        default=DEFAULT_GRACE.total_seconds(),
        help="seconds: younger half-written versions and finishing are left alone (default 900)",
    )
    again = sub.add_parser(
        "reconcile",
        help="one pass of the reconciler: re-enqueue jobs whose messages or finishing were lost",
    )
    again.add_argument("--tenant", help="only this tenant's jobs")
    again.add_argument(
        "--after",
        type=float,
        help="seconds untouched before work counts as lost (default DOCGEN_RECONCILE_AFTER)",
    )
    again.add_argument("--json", action="store_true", help="one JSON object on stdout")


def run_fsck(args: argparse.Namespace, settings: Settings) -> int:
    """0: consistent; 1: problems remain; 2: Redis or S3 could not be read."""
    import redis

    from docgen.jobs import RedisJobStore
    from docgen.objectstore import S3Store

    store = S3Store(settings.s3)
    jobs = RedisJobStore(redis.Redis.from_url(settings.redis_url, socket_timeout=10))
    try:
        report = check_store(
            store,
            jobs,
            tenant=args.tenant,
            repair=args.repair,
            grace=dt.timedelta(seconds=args.grace),
        )
    except DocgenError as exc:
        print(f"fsck: {exc.message} / {exc.message_en} ({exc.detail})", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(msgspec.json.encode(report).decode() + "\n")
    else:
        _print_fsck(report)
    return 0 if report.ok else 1


def _print_fsck(report: FsckReport) -> None:
    for item in report.repaired:
        print(f"repaired  {item.code:<28} {item.key}  {item.message_zh} / {item.message}")
    for item in report.problems:
        print(f"PROBLEM   {item.code:<28} {item.key}  {item.message_zh} / {item.message}")
    counts = ", ".join(f"{name} {count}" for name, count in sorted(report.checked.items()))
    verdict = "consistent" if report.ok else f"{len(report.problems)} problem(s)"
    print(f"fsck: {verdict} — checked {counts}; repaired {len(report.repaired)}")


def run_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    """0: the pass ran (whatever it re-enqueued); 2: Redis could not be reached."""
    import redis

    from docgen.jobs import RedisJobStore
    from docgen.queue import (
        BATCH_QUEUE,
        NOTIFY_QUEUE,
        RENDER_QUEUE,
        DramatiqEnqueuer,
        RedisPendingMessages,
    )
    from docgen.reconcile import reconcile
    from docgen.wakeup import WakingRedisBroker

    client = redis.Redis.from_url(settings.redis_url, socket_timeout=10)
    broker = WakingRedisBroker(client=client, middleware=[])
    after = settings.reconcile_after_s if args.after is None else args.after
    try:
        done = reconcile(
            RedisJobStore(client),
            RedisPendingMessages(client, (RENDER_QUEUE, BATCH_QUEUE, NOTIFY_QUEUE)),
            DramatiqEnqueuer(broker),
            after=dt.timedelta(seconds=after),
            tenant=args.tenant,
        )
    except DocgenError as exc:
        print(f"reconcile: {exc.message} / {exc.message_en} ({exc.detail})", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(msgspec.json.encode({"reconciled": done}).decode() + "\n")
        return 0
    for item in done:
        print(f"{item.action:<9} {item.job_id}  {item.what}")
    print(f"reconcile: {len(done)} action(s)")
    return 0
