"""4. End to end for the whole sample request: POST → every document stored, over HTTP.

Real processes in a temp folder: Redis, SeaweedFS (with identities), one worker with a pool of
K = cores instances, the API. Each run POSTs the sample with another 理事长 name (which every
attachment shows), so that all five documents are rendered and converted again instead of
reused; a run whose documents come back `reused` is an error. The clock runs from the POST to
the answer that shows the job finished (`GET …?wait=`: answered as each document changes).

Bound (issue 6): max(longest raw conversion, sum of raw conversions / K), the raw times measured
on the same five DOCX with unoserver called directly, between the runs (`BoundProbe`). Goal: p50 and
p95 ≤ 1.2 × bound + rendering, where rendering is the sum of the five docxtpl renders (they run
on the worker's K threads, but in one Python process: they do not overlap much).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from typing import Any

import httpx
import msgspec

from bench.common import (
    ROOT,
    Bench,
    as_request,
    load_sample,
    median,
    percentile,
    render_attachment_docx,
    say,
    timed,
)
from docgen.devstack import start_redis, start_seaweedfs
from docgen.keys import ApiKey, hash_key
from docgen.processes import ManagedProcess, free_port, wait_until

AUTH = {"Authorization": "Bearer dev-client-key"}
KEYS = msgspec.json.encode([ApiKey("bench", "dev", "client", hash_key("dev-client-key"))]).decode()
# 理事长 names, one per run: each changes every attachment's content (and so its identity).
GIVEN = "国民华军平志明建伟强磊洋勇涛斌超鹏辉杰刚波峰林海"


def request_body(run: int) -> dict[str, Any]:
    data = load_sample()
    data["notify"] = None  # no email, no webhook: only loopback traffic, nothing but documents
    data["community"]["head"]["name"] = "张" + GIVEN[run % len(GIVEN)] + GIVEN[run // len(GIVEN)]
    return data


class BoundProbe:
    """Raw conversions and renders of the five attachments, measured between the runs.

    The machine's load drifts (it is shared): measured once before the service starts, the bound
    would be taken under other conditions than the runs. One pass after every few runs (and one
    before) puts both under the same load; the bound uses each attachment's median.
    """

    def __init__(self, bench: Bench) -> None:
        self.request = as_request(request_body(0))
        self.catalogue = bench.catalogue
        self.folder = bench.folder("e2e-docx")
        self.office = bench.raw_office("e2e-raw")
        self.raw: dict[str, list[float]] = {}
        self.render: dict[str, list[float]] = {}
        try:
            self.measure()  # warm-up, not kept
        except BaseException:
            self.office.stop()
            raise
        self.raw, self.render = {}, {}

    def measure(self) -> None:
        for a in self.request.requested_attachments():
            docx, seconds = timed(
                lambda a=a: render_attachment_docx(self.request, a, self.catalogue)
            )
            self.render.setdefault(a, []).append(seconds)
            path = self.folder / f"{a}.docx"
            path.write_bytes(docx)
            self.raw.setdefault(a, []).append(timed(lambda p=path: self.office.to_pdf(p))[1])

    def medians(self) -> tuple[dict[str, float], dict[str, float]]:
        return (
            {a: median(t) for a, t in self.raw.items()},
            {a: median(t) for a, t in self.render.items()},
        )

    def stop(self) -> None:
        self.office.stop()


class Arm(msgspec.Struct, frozen=True):
    """One configuration of the service, measured interleaved with the others."""

    name: str
    render_threads: int  # the worker's DOCGEN_RENDER_THREADS
    tree: str | None = None  # run the API and the worker from this source tree (a revision)


def arms(bench: Bench, size: int) -> list[Arm]:
    """The worker's default against K threads; with BENCH_E2E_BASELINE=<git rev>, instead that
    revision's service (API and worker, its templates) against this tree's, both with the
    default threads: an A/B of a change, interleaved, on a host whose speed drifts."""
    default = bench.settings.converter.render_threads
    baseline = os.environ.get("BENCH_E2E_BASELINE")
    if not baseline:
        return [Arm(f"threads {size}", size), Arm(f"threads {default} (default)", default)]
    tree = bench.folder(f"e2e-{baseline.replace('/', '-')}")
    found = subprocess.run(["git", "-C", str(ROOT), "archive", baseline], capture_output=True)
    if found.returncode != 0:
        raise RuntimeError(f"BENCH_E2E_BASELINE={baseline!r}: {found.stderr.decode().strip()}")
    archive = found.stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return [Arm(f"{baseline}, threads {default}", default, str(tree)), Arm("this tree", default)]


def run(bench: Bench) -> None:
    # 20 jobs per arm, as issue 6 asks: p95 is then the 19th fastest, where with 10 it was the
    # slowest job. The bound is probed after every fourth round: 6 passes in all.
    rounds, probe_every = (3, 1) if bench.quick else (20, 4)
    size = bench.cores
    configs = arms(bench, size)  # first: a bad baseline must fail before LibreOffice starts
    probe = BoundProbe(bench)
    folder = bench.folder("e2e")
    started: list[ManagedProcess | BoundProbe] = [probe]
    latencies: dict[str, list[float]] = {a.name: [] for a in configs}
    posts: list[float] = []
    try:
        probe.measure()
        redis_process, redis_url = start_redis(folder / "redis")
        started.append(redis_process)
        access, secret = "docgen-bench", secrets.token_hex(16)
        s3_process, endpoint = start_seaweedfs(folder / "s3", access, secret)
        started.append(s3_process)
        services: list[tuple[Arm, str]] = []
        for number, arm in enumerate(configs):
            # One Redis database and one bucket per arm: their queues and versions stay apart.
            port = free_port()
            env = {
                **os.environ,
                "DOCGEN_REDIS_URL": f"{redis_url.rsplit('/', 1)[0]}/{number}",
                "DOCGEN_S3_ENDPOINT": endpoint,
                "DOCGEN_S3_ACCESS_KEY": access,
                "DOCGEN_S3_SECRET_KEY": secret,
                "DOCGEN_S3_BUCKET": f"docgen-bench-{number}",
                "DOCGEN_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                "DOCGEN_LINK_SECRET": secrets.token_hex(32),
                "DOCGEN_CONVERTER_POOL_SIZE": str(size),
                "DOCGEN_RENDER_THREADS": str(arm.render_threads),
                "DOCGEN_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
                "DOCGEN_API_KEYS": KEYS,
                # A revision's tree has no LibreOffice venv or extracted fonts: this tree's.
                "DOCGEN_UNOSERVER_BIN": bench.settings.converter.unoserver_bin,
                "DOCGEN_FONTCONFIG_FILE": bench.settings.converter.fontconfig_file,
            }
            if arm.tree:
                env["PYTHONPATH"] = arm.tree
            command = [sys.executable, "-m", "commands.main"]
            worker = ManagedProcess(
                f"worker-{number}",
                [*command, "worker"],
                env=env,
                cwd=arm.tree or ROOT,
                log_path=folder / f"worker-{number}.log",
            )
            started.append(worker)
            api = ManagedProcess(
                f"api-{number}",
                [*command, "serve", "--port", str(port)],
                env=env,
                cwd=arm.tree or ROOT,
                log_path=folder / f"api-{number}.log",
            )
            started.append(api)
            services.append((arm, f"http://127.0.0.1:{port}"))
        for arm, url in services:
            with httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:
                wait_until(lambda c=client: _ready(c), 300, f"api and worker of {arm.name}")  # type: ignore[misc]
                _one_job(client, request_body(0))  # warms this arm's worker up, not counted
        job = 0
        for round_ in range(rounds):
            # Interleaved: one job per arm per round, the arms' order reversed every other round.
            for arm, url in services if round_ % 2 == 0 else services[::-1]:
                job += 1
                with httpx.Client(base_url=url, headers=AUTH, timeout=30) as client:
                    seconds, post_s = _one_job(client, request_body(job))
                latencies[arm.name].append(seconds)
                posts.append(post_s)
            if (round_ + 1) % probe_every == 0:
                probe.measure()  # between jobs: the workers are idle
    finally:
        for process in reversed(started):
            process.stop()

    raw_s, render_s = probe.medians()
    bound = max(max(raw_s.values()), sum(raw_s.values()) / size)
    rendering = sum(render_s.values())
    target = 1.2 * bound + rendering
    say(
        f"raw conversions (s, median of {len(probe.raw['application'])} passes between the "
        "runs): "
        + ", ".join(f"{a} {s:.2f}" for a, s in raw_s.items())
        + f"; renders {rendering:.2f} s in all"
    )
    say(
        f"bound max(longest {max(raw_s.values()):.2f}, sum {sum(raw_s.values()):.2f} / K={size}) "
        f"= {bound:.2f} s; goal ≤ 1.2 × bound + rendering = {target:.2f} s"
    )
    by_arm: dict[str, dict[str, float]] = {}
    for name, values in latencies.items():
        p50, p95 = percentile(values, 50), percentile(values, 95)
        by_arm[name] = {"p50_s": p50, "p95_s": p95}
        say(
            f"{name:<34} {len(values)} jobs, K={size}: p50 {p50:.2f} s ({p50 / target:.2f} × "
            f"goal: {'met' if p50 <= target else 'missed'}), p95 {p95:.2f} s "
            f"({p95 / target:.2f} ×), min {min(values):.2f}, max {max(values):.2f}"
        )
    if len(configs) == 2 and configs[0].tree:
        # Paired by round: both arms' jobs of a round ran under the same load.
        before, after = (latencies[a.name] for a in configs)
        ratios = [b / a for a, b in zip(before, after, strict=True)]
        say(
            f"this tree / {configs[0].name}, round by round: median {median(ratios):.3f}, "
            f"faster in {sum(r < 1 for r in ratios)} of {len(ratios)} rounds"
        )
    say(
        f"of which the POST's answer (validate, store input, enqueue): median {median(posts):.2f} s"
    )
    bench.results["end_to_end"] = {
        "rounds": rounds,
        "k": size,
        "arms": [msgspec.to_builtins(a) for a in configs],
        "latencies_s": latencies,
        "by_arm": by_arm,
        "raw_s": raw_s,
        "render_s": render_s,
        "bound_s": bound,
        "target_s": target,
        "post_s": posts,
    }


def _ready(client: httpx.Client) -> bool:
    try:
        return client.get("/ready").status_code == 200
    except httpx.HTTPError:
        return False


def _one_job(client: httpx.Client, body: dict[str, Any]) -> tuple[float, float]:
    """Seconds until the job is seen finished, and seconds until the POST was answered."""
    started = time.perf_counter()
    response = client.post("/v1/jobs", json=body)
    post_s = time.perf_counter() - started
    if response.status_code != 202:
        raise RuntimeError(f"POST /v1/jobs: {response.status_code} {response.text[:500]}")
    location = response.headers["location"]
    deadline = started + 300
    while time.perf_counter() < deadline:
        # Answered when a document changes (the worker's announcement), as a client should
        # follow a job: polling every 20 ms cost the API and this process ≈0.25 s of CPU per
        # job, taken from the two cores the job runs on (docs/BENCHMARKS.md §4).
        job: dict[str, Any] = client.get(location, params={"wait": 10}).json()
        if job["status"] in ("succeeded", "partial", "failed"):
            seconds = time.perf_counter() - started
            if job["status"] != "succeeded":
                raise RuntimeError(f"job {job['id']} {job['status']}: {job['documents']}")
            if any(d["reused"] for d in job["documents"]):
                raise RuntimeError(f"job {job['id']} reused documents: nothing was rendered")
            return seconds, post_s
    raise TimeoutError(f"job {location} not finished after 300 s")
