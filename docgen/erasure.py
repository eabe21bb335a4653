"""Removing what the service keeps: a community's year on request, and what passed retention.

Erasure (`DELETE /v1/communities/{id}?year=`) removes the year's inputs, versions, bundles, job
records and version counters of one community. Retention (`docgen expire`, daily) removes what
is older than `DOCGEN_RETENTION_DAYS`, except what a community still needs: the latest version
of each attachment and the inputs the latest pointers name (a year-end batch regenerates from
them).

Order matters for readers: pointers and manifests go first, so that a version is never seen
half-removed (a version without its manifest does not exist for `storage.versions`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import msgspec

from docgen.errors import DocgenError
from docgen.jobs import DocumentRecord, JobRecord, JobStore, iter_jobs, job_status
from docgen.objectstore import ObjectStore
from docgen.schema import ATTACHMENT_IDS
from docgen.storage import LatestInput, VersionCounter, document_prefix

__all__ = [
    "Erased",
    "Expiry",
    "apply_expiry",
    "community_jobs",
    "erase_community",
    "plan_expiry",
]

# {tenant}/communities/{community}/{year}/{attachment}/v{n}/{file}
_VERSION_FILE = re.compile(r"^(?P<prefix>[^/]+/communities/[^/]+/\d+/[^/]+/)v(?P<n>\d+)/")
_BUNDLE_FILE = re.compile(r"^(?P<bundle>[^/]+/communities/[^/]+/\d+/bundles/[^/]+/)")
_INPUT = re.compile(r"^(?P<tenant>[^/]+)/inputs/[0-9a-f]{64}\.json$")


class Erased(msgspec.Struct, frozen=True):
    """What `erase_community` removed (the API's answer)."""

    community_id: str
    year: int
    jobs: int
    versions: int
    inputs: int
    objects: int  # every stored object removed: files, manifests, pointers, bundles, inputs


def community_jobs(
    jobs: JobStore, tenant: str, community_id: str, year: int
) -> list[tuple[JobRecord, list[DocumentRecord]]]:
    """The tenant's jobs for one community and year, with their documents (read through the
    tenant's list)."""
    return [
        (job, documents)
        for job, documents in iter_jobs(jobs, tenant)
        if job.community_id == community_id and job.year == year
    ]


# A job whose documents are done is finished by another message (bundle, emails, webhook),
# normally within seconds; one that has waited longer than this was lost (the reconciler's
# business) and must not block an erasure forever.
FINISHING_GRACE = dt.timedelta(minutes=10)


def _busy(jobs: JobStore, job_id: str, documents: list[DocumentRecord], now: dt.datetime) -> bool:
    """The job may still write: documents queued or running, or its finishing still to come."""
    if job_status(documents) in ("queued", "running"):
        return True
    done = [d.finished_at for d in documents if d.finished_at is not None]
    if not done or max(done) < now - FINISHING_GRACE:
        return False
    delivery = jobs.get_delivery(job_id)
    unbundled = delivery.bundle is None and any(d.status == "succeeded" for d in documents)
    return unbundled or any(n.status == "queued" for n in delivery.notifications)


def erase_community(
    store: ObjectStore,
    jobs: JobStore,
    counter: VersionCounter,
    tenant: str,
    community_id: str,
    year: int,
    now: dt.datetime | None = None,
) -> Erased | None:
    """Remove everything of `community_id`'s `year`; None when nothing was kept.

    Refuses (`community.busy`) while one of its jobs may still write: documents queued or
    running, or the bundle and notifications of a just-finished job still to come.
    """
    now = now or dt.datetime.now(dt.UTC)
    found = community_jobs(jobs, tenant, community_id, year)
    for job, documents in found:
        if _busy(jobs, job.id, documents, now):
            raise DocgenError(
                "community.busy",
                "该共同体本年度仍有文档在生成，请在任务结束后再删除",
                "A job of this community and year is still running; delete after it finishes",
                retryable=True,
                detail=job.id,
            )
    pointers = list(store.list(f"{tenant}/inputs/latest/{year}/{community_id}/"))
    stored = list(store.list(f"{tenant}/communities/{community_id}/{year}/"))
    records = [job for job, _ in found]
    if not (records or pointers or stored):
        return None

    input_keys = {job.input_key for job in records}
    for key in pointers:
        raw = store.get(key)
        if raw is not None:
            input_keys.add(msgspec.json.decode(raw, type=LatestInput).input_key)
    inputs = sorted(key for key in input_keys if store.get(key) is not None)
    manifests = [key for key in stored if key.endswith("/manifest.json")]
    rest = [key for key in stored if not key.endswith("/manifest.json")]

    store.delete(pointers)  # a batch no longer finds the community
    store.delete(manifests)  # the versions stop existing for every reader
    store.delete(rest)
    store.delete(inputs)
    for job in records:
        jobs.delete(job)
    for attachment in ATTACHMENT_IDS:
        # Numbering starts again at v1, and no reservation points at an erased version.
        counter.forget(document_prefix(tenant, community_id, year, attachment))
    return Erased(
        community_id,
        year,
        jobs=len(records),
        versions=sum(1 for key in manifests if _VERSION_FILE.match(key)),
        inputs=len(inputs),
        objects=len(pointers) + len(stored) + len(inputs),
    )


class Expiry(msgspec.Struct, frozen=True):
    """What retention would remove, in removal order; `apply_expiry` removes it."""

    cutoff: dt.datetime
    versions: int
    bundles: int
    inputs: int
    keys: list[str]  # manifests first, then the versions' files, bundles, inputs
    jobs: list[JobRecord]


def plan_expiry(store: ObjectStore, jobs: JobStore, now: dt.datetime, days: int) -> Expiry:
    """Everything last written before `now - days`, and finished job records created before
    it — except each attachment's latest version, the inputs named by latest pointers, and
    whatever a kept job record still points at (its input, the versions it made or reused)."""
    if days < 1:
        raise ValueError("retention must be at least one day")
    cutoff = now - dt.timedelta(days=days)
    old_jobs, kept_inputs, kept_versions = _expired_jobs(jobs, cutoff)
    written = {obj.key: obj.modified for obj in store.list_objects("")}

    # version prefix → number → its keys; the latest complete version of each prefix stays.
    versions: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    bundles: dict[str, list[str]] = defaultdict(list)
    for key in written:
        if match := _VERSION_FILE.match(key):
            versions[match["prefix"]][int(match["n"])].append(key)
        elif match := _BUNDLE_FILE.match(key):
            bundles[match["bundle"]].append(key)
        elif "/inputs/latest/" in key and (raw := store.get(key)) is not None:
            kept_inputs.add(msgspec.json.decode(raw, type=LatestInput).input_key)

    manifests: list[str] = []
    files: list[str] = []
    for prefix, numbers in versions.items():
        complete = [n for n, keys in numbers.items() if f"{prefix}v{n}/manifest.json" in keys]
        latest = max(complete, default=0)
        expired = [
            n
            for n in complete
            if n < latest
            and written[f"{prefix}v{n}/manifest.json"] < cutoff
            and (prefix, n) not in kept_versions
        ]
        identities = _identities(store, prefix) if expired else {}
        for n in expired:
            manifests.append(f"{prefix}v{n}/manifest.json")
            files += [k for k in numbers[n] if not k.endswith("/manifest.json")]
            # Nothing should point at a removed version (a job would not reuse it anyway:
            # its manifest is gone).
            files += identities.get(n, [])
    old_bundles = [keys for keys in bundles.values() if max(written[k] for k in keys) < cutoff]
    inputs = [
        key
        for key, moment in written.items()
        if _INPUT.match(key) and moment < cutoff and key not in kept_inputs
    ]
    return Expiry(
        cutoff,
        versions=len(manifests),
        bundles=len(old_bundles),
        inputs=len(inputs),
        keys=manifests + files + [k for keys in old_bundles for k in keys] + inputs,
        jobs=old_jobs,
    )


def _expired_jobs(
    jobs: JobStore, cutoff: dt.datetime
) -> tuple[list[JobRecord], set[str], set[tuple[str, int]]]:
    """Finished jobs created before `cutoff`; the inputs and (prefix, version) of the others.

    Every record is read once: a kept job may point at an old input (a batch's job reads the
    input a pointer named) or an old version (the same data again reuses it).
    """
    expired, inputs, versions = [], set(), set()
    for job, documents in iter_jobs(jobs):
        if job.created_at < cutoff and job_status(documents) not in ("queued", "running"):
            expired.append(job)
            continue
        inputs.add(job.input_key)
        for doc in documents:
            if doc.version is not None:
                prefix = document_prefix(job.tenant, job.community_id, job.year, doc.attachment)
                versions.add((prefix, doc.version))
    return expired, inputs, versions


def _identities(store: ObjectStore, prefix: str) -> dict[int, list[str]]:
    """The identity records of `prefix`, by the version each names."""
    found: dict[int, list[str]] = defaultdict(list)
    for key in store.list(f"{prefix}identities/"):
        raw = store.get(key)
        if raw is not None:
            found[msgspec.json.decode(raw, type=dict[str, int])["version"]].append(key)
    return found


def apply_expiry(store: ObjectStore, jobs: JobStore, expiry: Expiry) -> None:
    store.delete(expiry.keys)
    for job in expiry.jobs:
        jobs.delete(job)
