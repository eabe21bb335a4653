"""Consistency check of the object store and the job records (`docgen fsck`).

What must hold (docgen/storage.py writes it this way):
- every version `…/{attachment}/v{n}/` has a `manifest.json` (written last), and every file the
  manifest lists exists with the recorded size and SHA-256; nothing else is in the folder;
- per (tenant, community, year, attachment) the version numbers run from the oldest kept (1, unless
  retention removed older ones) to n without a gap, and no two
  versions hold one identity (a redelivered message reuses the version, never makes another);
- an identity record points at the version holding that identity;
- every stored job points at its input, and each succeeded document at an existing version and
  its files; a job's bundle files exist; a job finished longer than the grace period ago has its
  bundle (when a document succeeded) and a notification record per recipient.

`repair` removes only what cannot be anyone's work in progress: the files of a version without a
manifest whose newest file is older than the grace period (a worker's retry rewrites a version
within minutes: conversion timeout 120 s, retries back off to 30 s). Everything else is reported;
lost messages and finishing are the reconciler's business (docgen/reconcile.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import defaultdict
from typing import Protocol

import msgspec

from docgen.jobs import (
    Delivery,
    DocumentRecord,
    JobPages,
    JobRecord,
    NotificationRecord,
    iter_jobs,
    job_finished_at,
)
from docgen.objectstore import ObjectStore, StoredObject
from docgen.storage import Manifest, document_prefix

__all__ = ["DEFAULT_GRACE", "FsckReport", "JobIndex", "Problem", "check_store"]

# Longer than any write still in flight (a conversion's 120 s timeout, its retry, the finishing
# queue's backoff): what is older than this and incomplete is abandoned, not in progress.
DEFAULT_GRACE = dt.timedelta(minutes=15)

_VERSION_FILE = re.compile(
    r"^(?P<prefix>[^/]+/communities/[^/]+/\d+/[^/]+/)v(?P<n>\d+)/(?P<name>[^/]+)$"
)
_IDENTITY = re.compile(
    r"^(?P<prefix>[^/]+/communities/[^/]+/\d+/[^/]+/)identities/(?P<id>[^/]+)\.json$"
)
_BUNDLE = re.compile(r"^[^/]+/communities/[^/]+/\d+/bundles/")
_LATEST_INPUT = re.compile(r"^[^/]+/inputs/latest/")


class Problem(msgspec.Struct, frozen=True):
    """One inconsistency (or, in `repaired`, one repair): a stable code, the object key or job
    id it is about, and what it means in Chinese and English."""

    code: str
    key: str
    message_zh: str
    message: str


class FsckReport(msgspec.Struct):
    ok: bool
    checked: dict[str, int]
    problems: list[Problem]
    repaired: list[Problem]


class JobIndex(JobPages, Protocol):
    """The job records fsck reads (docgen.jobs.RedisJobStore, MemoryJobStore)."""

    def get_delivery(self, job_id: str) -> Delivery: ...


_MESSAGES = {
    "fsck.manifest_invalid": ("版本清单无法解析", "The version's manifest cannot be read"),
    "fsck.manifest_version": (
        "版本清单记录的版本号与所在目录不符",
        "The manifest's version number differs from its folder's",
    ),
    "fsck.file_missing": ("版本清单列出的文件不存在", "A file the manifest lists is missing"),
    "fsck.file_size": ("文件大小与版本清单不符", "A file's size differs from the manifest"),
    "fsck.file_checksum": (
        "文件的 SHA-256 与版本清单不符",
        "A file's SHA-256 differs from the manifest",
    ),
    "fsck.file_unlisted": (
        "版本目录中有版本清单未列出的文件",
        "A file in the version folder is not in its manifest",
    ),
    "fsck.version_incomplete": (
        "版本没有版本清单（写入未完成）",
        "A version has no manifest (a half-written version)",
    ),
    "fsck.version_gap": ("版本号不连续，缺少此版本", "Version numbers skip this one"),
    "fsck.version_duplicate": (
        "同一份文档生成了多个版本",
        "One document identity is stored as more than one version",
    ),
    "fsck.identity_dangling": (
        "文档标识记录指向不存在的版本",
        "An identity record points at a version that does not exist",
    ),
    "fsck.identity_mismatch": (
        "文档标识记录指向的版本属于另一份文档",
        "An identity record points at a version of another identity",
    ),
    "fsck.input_missing": ("任务的输入数据不存在", "A job's (or latest) input is missing"),
    "fsck.job_version_missing": (
        "任务记录的文档版本不存在或不完整",
        "A job's document points at a version that is missing or incomplete",
    ),
    "fsck.job_file_missing": (
        "任务记录的文档文件不存在",
        "A job's document points at a file that is missing",
    ),
    "fsck.job_unreadable": ("任务记录无法解析", "A job record cannot be read"),
    "fsck.job_unfinished": (
        "任务超过宽限期仍未完成",
        "A job is still unfinished after the grace period",
    ),
    "fsck.bundle_missing": (
        "任务已完成但没有合订本",
        "A finished job has no bundle",
    ),
    "fsck.bundle_file_missing": ("合订本文件不存在", "A bundle file is missing"),
    "fsck.notification_missing": (
        "任务已完成但没有给接收方的通知记录",
        "A finished job has no notification record for a recipient",
    ),
    "fsck.notification_pending": (
        "任务完成后通知仍在排队",
        "A finished job's notification is still queued after the grace period",
    ),
    "fsck.incomplete_removed": (
        "已删除未完成版本的残留文件",
        "Removed the files of a half-written version",
    ),
}


def _problem(code: str, key: str, detail: str = "") -> Problem:
    zh, en = _MESSAGES[code]
    return Problem(
        code, key, f"{zh}（{detail}）" if detail else zh, f"{en} ({detail})" if detail else en
    )


def check_store(
    store: ObjectStore,
    jobs: JobIndex | None,
    *,
    tenant: str | None = None,
    repair: bool = False,
    grace: dt.timedelta = DEFAULT_GRACE,
    now: dt.datetime | None = None,
) -> FsckReport:
    """Walk the store (and the job records, when given) and report every inconsistency.

    Reads every file a manifest lists to hash it: the cost is the store's size.
    """
    now = now or dt.datetime.now(dt.UTC)
    objects = {o.key: o for o in store.list_objects(f"{tenant}/" if tenant else "")}
    checker = _Checker(store, objects, now, grace, repair)
    checker.check_versions()
    checker.check_identities()
    checker.check_latest_inputs()
    if jobs is not None:
        checker.check_jobs(jobs, tenant)
    return FsckReport(not checker.problems, checker.checked, checker.problems, checker.repaired)


class _Checker:
    def __init__(
        self,
        store: ObjectStore,
        objects: dict[str, StoredObject],
        now: dt.datetime,
        grace: dt.timedelta,
        repair: bool,
    ) -> None:
        self.store, self.objects, self.now, self.grace, self.repair = (
            store,
            objects,
            now,
            grace,
            repair,
        )
        self.problems: list[Problem] = []
        self.repaired: list[Problem] = []
        self.checked: dict[str, int] = defaultdict(int)
        self.checked["objects"] = len(objects)
        self.manifests: dict[str, Manifest] = {}  # "…/v{n}/" → its manifest

    def report(self, code: str, key: str, detail: str = "") -> None:
        self.problems.append(_problem(code, key, detail))

    # -- versions ---------------------------------------------------------------------------

    def check_versions(self) -> None:
        folders: dict[str, dict[int, list[StoredObject]]] = defaultdict(lambda: defaultdict(list))
        for key, obj in self.objects.items():
            if _BUNDLE.match(key):
                continue
            if m := _VERSION_FILE.match(key):
                folders[m["prefix"]][int(m["n"])].append(obj)
        for prefix in sorted(folders):
            self.checked["documents"] += 1
            present: list[int] = []
            identities: dict[str, list[int]] = defaultdict(list)
            for number in sorted(folders[prefix]):
                files = folders[prefix][number]
                base = f"{prefix}v{number}/"
                self.checked["versions"] += 1
                if f"{base}manifest.json" not in self.objects:
                    if self.remove_abandoned(base, files):
                        continue
                    newest = max(f.modified for f in files)
                    detail = f"{len(files)} file(s), newest {newest:%Y-%m-%dT%H:%M:%SZ}"
                    self.report("fsck.version_incomplete", base, detail)
                    present.append(number)
                    continue
                manifest = self.check_version(base, number, files)
                present.append(number)
                if manifest is not None:
                    identities[manifest.identity].append(number)
            # From the oldest kept: retention (docgen/erasure.py) removes the oldest versions.
            for number in range(min(present, default=1), max(present, default=0) + 1):
                if number not in present:
                    self.report("fsck.version_gap", f"{prefix}v{number}/")
            for identity, numbers in identities.items():
                if len(numbers) > 1:
                    detail = f"identity {identity[:12]}…: v" + ", v".join(map(str, numbers))
                    self.report("fsck.version_duplicate", prefix, detail)

    def check_version(self, base: str, number: int, files: list[StoredObject]) -> Manifest | None:
        """The version's manifest after checking its files; None when it cannot be read."""
        raw = self.store.get(f"{base}manifest.json") or b""
        try:
            manifest = msgspec.json.decode(raw, type=Manifest)
        except msgspec.DecodeError as exc:
            self.report("fsck.manifest_invalid", f"{base}manifest.json", str(exc))
            return None
        self.manifests[base] = manifest
        if manifest.version != number:
            self.report("fsck.manifest_version", f"{base}manifest.json", f"v{manifest.version}")
        listed = {entry.key for entry in manifest.files.values()}
        for entry in manifest.files.values():
            self.checked["files"] += 1
            obj = self.objects.get(entry.key)
            if obj is None:
                self.report("fsck.file_missing", entry.key)
            elif obj.size != entry.size:
                self.report("fsck.file_size", entry.key, f"{obj.size} ≠ {entry.size}")
            else:
                data = self.store.get(entry.key)
                if data is None:
                    self.report("fsck.file_missing", entry.key)
                elif hashlib.sha256(data).hexdigest() != entry.sha256:
                    self.report("fsck.file_checksum", entry.key)
        for obj in files:
            if obj.key != f"{base}manifest.json" and obj.key not in listed:
                self.report("fsck.file_unlisted", obj.key)
        return manifest

    def remove_abandoned(self, base: str, files: list[StoredObject]) -> bool:
        """With `repair`: remove a version without manifest once nobody can be writing it."""
        if not self.repair or max(f.modified for f in files) > self.now - self.grace:
            return False
        for obj in files:
            self.store.delete([obj.key])
            del self.objects[obj.key]
        self.repaired.append(_problem("fsck.incomplete_removed", base, f"{len(files)} file(s)"))
        return True

    # -- identities and inputs --------------------------------------------------------------

    def check_identities(self) -> None:
        for key in sorted(self.objects):
            m = _IDENTITY.match(key)
            if m is None:
                continue
            self.checked["identities"] += 1
            raw = self.store.get(key)
            try:
                version = msgspec.json.decode(raw or b"", type=dict[str, int])["version"]
            except (msgspec.DecodeError, KeyError):
                self.report("fsck.identity_dangling", key, "unreadable")
                continue
            manifest = self.manifests.get(f"{m['prefix']}v{version}/")
            if manifest is None:
                self.report("fsck.identity_dangling", key, f"v{version}")
            elif manifest.identity != m["id"]:
                self.report("fsck.identity_mismatch", key, f"v{version}")

    def check_latest_inputs(self) -> None:
        for key in sorted(self.objects):
            if not _LATEST_INPUT.match(key):
                continue
            self.checked["latest_inputs"] += 1
            raw = self.store.get(key) or b"{}"
            try:
                input_key = msgspec.json.decode(raw, type=dict[str, object]).get("input_key")
            except msgspec.DecodeError:
                input_key = None
            if not isinstance(input_key, str) or input_key not in self.objects:
                self.report("fsck.input_missing", key, str(input_key))

    # -- job records ------------------------------------------------------------------------

    def check_jobs(self, jobs: JobIndex, tenant: str | None) -> None:
        settled = self.now - self.grace

        def unreadable(job_id: str, exc: Exception) -> None:
            self.report("fsck.job_unreadable", job_id, str(exc))

        for job, documents in iter_jobs(jobs, tenant, unreadable=unreadable):
            self.checked["jobs"] += 1
            if job.input_key not in self.objects:
                self.report("fsck.input_missing", job.id, job.input_key)
            for doc in documents:
                if doc.status == "succeeded":
                    self.check_job_document(job, doc)
            finished = job_finished_at(documents)
            final = all(d.status in ("succeeded", "failed") for d in documents)
            if not final:
                if job.created_at < settled:
                    self.report("fsck.job_unfinished", job.id)
                continue
            delivery = jobs.get_delivery(job.id)
            if delivery.bundle is not None:
                self.checked["bundles"] += 1
                for key in (delivery.bundle.pdf_key, delivery.bundle.zip_key):
                    if key not in self.objects:
                        self.report("fsck.bundle_file_missing", key, job.id)
            if finished is None or finished > settled:
                continue  # its finishing may still be running
            if delivery.bundle is None and any(d.status == "succeeded" for d in documents):
                self.report("fsck.bundle_missing", job.id)
            notes: dict[tuple[str, str], NotificationRecord] = {
                (n.channel, n.target): n for n in delivery.notifications
            }
            targets = [("email", e) for e in job.notify_emails]
            targets += [("webhook", job.webhook_url)] if job.webhook_url else []
            for channel, target in targets:
                note = notes.get((channel, target))
                self.checked["notifications"] += 1
                # Name the channel, not the address (PIPL): the job id finds the record.
                if note is None:
                    self.report("fsck.notification_missing", job.id, channel)
                elif note.status == "queued":
                    self.report("fsck.notification_pending", job.id, channel)

    def check_job_document(self, job: JobRecord, doc: DocumentRecord) -> None:
        base = f"{document_prefix(job.tenant, job.community_id, job.year, doc.attachment)}v{doc.version}/"
        if doc.version is None or base not in self.manifests:
            self.report("fsck.job_version_missing", job.id, f"{doc.attachment} v{doc.version}")
        for key in (doc.pdf_key, doc.docx_key, doc.xlsx_key):
            if key is not None and key not in self.objects:
                self.report("fsck.job_file_missing", job.id, key)
