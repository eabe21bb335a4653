"""`docgen expire`: remove what retention no longer keeps (run it daily: deploy/ has a timer)."""

from __future__ import annotations

import argparse
import datetime as dt

from docgen.settings import Settings

__all__ = ["add_expire_command", "run_expire"]


def add_expire_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    expire = sub.add_parser(
        "expire",
        help="remove versions, bundles, inputs and job records older than the retention",
    )
    expire.add_argument("--days", type=int, help="instead of DOCGEN_RETENTION_DAYS")
    expire.add_argument("--dry-run", action="store_true", help="say what would go; remove nothing")


def run_expire(args: argparse.Namespace, settings: Settings) -> int:
    import redis

    from docgen.erasure import apply_expiry, plan_expiry
    from docgen.jobs import RedisJobStore
    from docgen.objectstore import S3Store

    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        print("保留期未设置（DOCGEN_RETENTION_DAYS=0）：不删除任何内容 / retention is off")
        return 0
    store = S3Store(settings.s3)
    jobs = RedisJobStore(redis.Redis.from_url(settings.redis_url, socket_timeout=5))
    expiry = plan_expiry(store, jobs, dt.datetime.now(dt.UTC), days)
    verb = "would remove" if args.dry_run else "removed"
    if not args.dry_run:
        apply_expiry(store, jobs, expiry)
    print(
        f"{verb} (older than {expiry.cutoff:%Y-%m-%d %H:%M} UTC): {expiry.versions} versions, "
        f"{expiry.bundles} bundles, {expiry.inputs} inputs, {len(expiry.jobs)} job records, "
        f"{len(expiry.keys)} objects in all"
    )
    return 0
