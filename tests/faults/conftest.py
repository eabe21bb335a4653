"""What every fault scenario needs: its own restartable Redis and S3, the service as processes,
the LibreOffice instances of a worker, and the end-of-scenario checks.

The checks (`Outcome.check`) are the issue's invariants: every job ends `succeeded`, `partial` or
`failed` with a reason on each failed document; no job is lost; no document has two versions
(version numbers 1..n without gaps, one version per identity, each succeeded document pointing
at a complete version); and `docgen fsck --json` finds the store consistent.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from docgen.devstack import start_redis, start_seaweedfs
from docgen.heartbeat import HEARTBEAT_TTL_S
from docgen.objectstore import S3Store
from docgen.processes import ManagedProcess, free_port, wait_until
from docgen.settings import load_settings
from docgen.storage import document_prefix, versions
from tests.conftest import S3Server
from tests.stack import CLIENT, DOCGEN, FINISHED, ROOT, Service, office_groups

# -- servers a scenario may break --------------------------------------------------------------


class _OwnServer:
    """A server process a scenario kills (SIGKILL: no shutdown, as a crash) and starts again."""

    process: ManagedProcess | None

    def kill(self) -> None:
        if self.process is not None:
            self.process.signal_group(signal.SIGKILL)
            self.process.stop()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


class OwnRedis(_OwnServer):
    """A Redis of one scenario (AOF, `appendfsync everysec`), restartable on its port and dir;
    killed, it keeps what the AOF holds."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.process: ManagedProcess | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process, _ = start_redis(self.workdir, self.port)


class OwnS3(_OwnServer):
    """A SeaweedFS S3 of one scenario, restartable on its S3 port with its data."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.access_key, self.secret_key = "docgen-faults", secrets.token_hex(16)
        self.port = free_port()
        self.process: ManagedProcess | None = None
        self.start()

    @property
    def server(self) -> S3Server:
        return S3Server(f"127.0.0.1:{self.port}", self.access_key, self.secret_key)

    def start(self) -> None:
        self.process, _ = start_seaweedfs(
            self.workdir, self.access_key, self.secret_key, s3_port=self.port
        )


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path / "redis")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_s3(tmp_path: Path) -> Iterator[OwnS3]:
    server = OwnS3(tmp_path / "s3")
    try:
        yield server
    finally:
        server.stop()


# -- the service and its LibreOffice instances --------------------------------------------------


@contextlib.contextmanager
def running(env: dict[str, str], logs: Path) -> Iterator[Service]:
    """The API and a worker; everything stopped at the end, killed workers' LibreOffice too."""
    service = Service(env, logs)
    workers = [service.worker]
    original = service.start_worker

    def start_worker(*args: Any, **kwargs: Any) -> ManagedProcess:
        worker = original(*args, **kwargs)
        workers.append(worker)
        return worker

    service.start_worker = start_worker  # type: ignore[method-assign]
    try:
        yield service
    finally:
        for worker in workers:
            if worker is not None:
                groups = office_groups(worker.pid)
                worker.stop()
                for group in groups:  # orphaned when their worker was SIGKILLed
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(group, signal.SIGKILL)
        service.api.stop()


def _listen_port(group: int) -> int | None:
    """The XML-RPC port of the unoserver leading `group` (its `--port`)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        argv = Path(f"/proc/{group}/cmdline").read_bytes().decode().split("\0")
        return int(argv[argv.index("--port") + 1])
    return None


def _established_local_ports() -> set[int]:
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "01":  # ESTABLISHED
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def busy_office_group(worker_pid: int) -> int | None:
    """The group of an instance converting now: the worker's XML-RPC call to it is an open
    connection on its port, held for the whole conversion (docgen.convert.UnoserverConverter)."""
    established = _established_local_ports()
    for group in office_groups(worker_pid):
        if _listen_port(group) in established:
            return group
    return None


def wait_for_busy_office(worker_pid: int, timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        group = busy_office_group(worker_pid)
        if group is not None:
            return group
        time.sleep(0.02)  # polling interval: conversions of the test documents take seconds
    raise TimeoutError("no LibreOffice instance started converting")


def pool_stats_reaching(redis_url: str, **least: int) -> dict[str, Any]:
    """The pool counts once every count named in `least` has reached its value. Workers
    publish them in heartbeats every 5 s (docgen.heartbeat): a job may finish before the beat
    that counts its conversions."""
    stats: dict[str, Any] = {}

    def reached() -> bool:
        stats.update(pool_stats(redis_url))
        return all(stats.get(name, 0) >= value for name, value in least.items())

    with contextlib.suppress(TimeoutError):
        wait_until(reached, 3 * HEARTBEAT_TTL_S, "pool counts in the heartbeats")
    return stats


def pool_stats(redis_url: str) -> dict[str, Any]:
    """The pool counts the workers publish in their heartbeats, summed."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        total: dict[str, Any] = {}
        for key in client.scan_iter("docgen:worker:*"):
            raw = client.get(key)
            pool = (json.loads(raw) if raw else {}).get("pool") or {}
            for name in ("conversions", "failures", "timeouts", "restarts"):
                total[name] = total.get(name, 0) + pool.get(name, 0)
        return total
    finally:
        client.close()


# -- jobs ------------------------------------------------------------------------------------------


def job_body(sample: dict[str, Any], community_id: str, attachments: list[str]) -> dict[str, Any]:
    body = json.loads(json.dumps(sample))
    body["community_id"] = community_id
    body["attachments"] = attachments
    body["notify"] = None
    return body


def long_list_body(sample: dict[str, Any], community_id: str, rows: int) -> dict[str, Any]:
    """附件3 alone with `rows` rows of talent demand: a conversion of seconds, long enough to
    be caught in the middle (200 rows ≈ 1.2 s, 1,000 ≈ 4.5 s idle: DESIGN §4)."""
    body = job_body(sample, community_id, ["supply_demand"])
    demand = body["supply_demand"]["talent_demand"]
    body["supply_demand"]["talent_demand"] = [
        {**demand[n % len(demand)], "count": 1 + n % 50} for n in range(rows)
    ]
    return body


def submit(service: Service, body: dict[str, Any]) -> str:
    answer = httpx.post(f"{service.url}/v1/jobs", json=body, headers=CLIENT, timeout=30)
    assert answer.status_code == 202, answer.text
    return str(answer.headers["location"])


def wait_for_jobs(locations: list[str], timeout_s: float) -> list[dict[str, Any]]:
    """Poll until every job finished; their bodies (fails with the unfinished ones named)."""
    deadline = time.monotonic() + timeout_s
    pending = dict.fromkeys(locations)
    done: dict[str, dict[str, Any]] = {}
    with httpx.Client(headers=CLIENT, timeout=10) as client:
        while pending and time.monotonic() < deadline:
            for location in list(pending):
                with contextlib.suppress(httpx.HTTPError):
                    job = client.get(location).json()
                    pending[location] = job
                    if job.get("status") in FINISHED:
                        done[location] = job
                        del pending[location]
            if pending:
                time.sleep(0.5)  # polling interval
    if pending:
        summary = {loc.rsplit("/", 1)[1]: (job or {}).get("status") for loc, job in pending.items()}
        raise TimeoutError(f"{len(pending)} jobs unfinished after {timeout_s} s: {summary}")
    return [done[location] for location in locations]


def fsck(env: dict[str, str]) -> dict[str, Any]:
    """`docgen fsck --json` against the service's Redis and S3."""
    result = subprocess.run(
        [*DOCGEN, "fsck", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if "invalid choice: 'fsck'" in result.stderr:
        pytest.fail("`docgen fsck` is missing: merge branch faults-core (issue 9)")
    try:
        report: dict[str, Any] = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"fsck printed no JSON (exit {result.returncode}):\n{result.stderr[-2000:]}")
    assert report["ok"] is (result.returncode == 0), report
    return report


class Outcome:
    """The end-of-scenario checks, with the figures a scenario prints."""

    def __init__(self, service: Service, locations: list[str], timeout_s: float = 300) -> None:
        started = time.monotonic()
        self.service = service
        self.jobs = wait_for_jobs(locations, timeout_s)
        self.waited_s = time.monotonic() - started
        self.documents = [doc for job in self.jobs for doc in job["documents"]]

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for job in self.jobs:
            counts[job["status"]] = counts.get(job["status"], 0) + 1
        return counts

    def attempts(self) -> dict[tuple[str, str], int]:
        """Attempts at each (job id, attachment), from the job records in Redis (the API does
        not show them): more than one means a retry or redelivery started the work again."""
        import redis

        from docgen.jobs import RedisJobStore

        client = redis.Redis.from_url(self.service.env["DOCGEN_REDIS_URL"])
        try:
            store = RedisJobStore(client)
            found = {}
            for job in self.jobs:
                record = store.get(job["id"])
                assert record is not None, f"job {job['id']} lost from Redis"
                for doc in record[1]:
                    found[(job["id"], doc.attachment)] = doc.attempts
            return found
        finally:
            client.close()

    def retries(self) -> int:
        """Document attempts beyond the first, over every job."""
        return sum(max(0, n - 1) for n in self.attempts().values())

    def check(self) -> dict[str, Any]:
        """Every invariant of issue 9; returns fsck's report."""
        for job in self.jobs:
            assert job["status"] in FINISHED, job
            for doc in job["documents"]:
                if doc["status"] == "failed":
                    error = doc.get("error") or {}
                    assert error.get("code") and error.get("message"), doc
                else:
                    assert doc["status"] == "succeeded" and doc["version"], doc
        self._no_duplicate_versions()
        report = fsck(self.service.env)
        assert report["ok"], json.dumps(report, ensure_ascii=False, indent=1)
        return report

    def _no_duplicate_versions(self) -> None:
        settings = load_settings(self.service.env)
        store = S3Store(settings.s3)
        seen: dict[str, list[Any]] = {}
        for job in self.jobs:
            for doc in job["documents"]:
                prefix = document_prefix("dev", job["community_id"], job["year"], doc["attachment"])
                if prefix not in seen:
                    seen[prefix] = versions(store, prefix)
                manifests = seen[prefix]
                numbers = [m.version for m in manifests]
                assert numbers == list(range(1, len(numbers) + 1)), (prefix, numbers)
                identities = [m.identity for m in manifests]
                assert len(set(identities)) == len(identities), (prefix, identities)
                if doc["status"] == "succeeded":
                    made = [m for m in manifests if m.version == doc["version"]]
                    assert made, (prefix, doc)
                    if not doc.get("reused"):
                        assert made[0].job_id == job["id"], (prefix, doc, made[0].job_id)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def report(scenario: str, **figures: Any) -> None:
    """One line of figures, for docs/RELIABILITY.md (shown with `pytest -s`)."""
    shown = " ".join(f"{name}={value}" for name, value in figures.items())
    print(f"\n[faults] {scenario}: {shown} load={load_average()}")
