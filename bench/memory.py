"""6. Memory and temp files over 500 conversions through the pool, with recycling.

A pool of K = cores with `max_conversions` 100, fed by K threads that render and convert the
sample's five attachments in turn (what a worker does), in a process of its own (so that what
the other benchmarks left in memory does not count). Every 50 conversions, with every instance
up again: that process's resident memory (the worker's part: Python, docxtpl, matplotlib, the
pool) and each LibreOffice instance's (its whole process group: `docgen.pool.group_rss_mb`),
and the files in the instances' temp folders. The system temp
folder is listed before and after; the LibreOffice sockets named after our instances' profiles
are counted apart from what other processes on the machine made meanwhile.

Verdict "flat": over the second half of the run (the first fills the worker's heap) the worker
grows < 10 %, and no LibreOffice in the second half peaks > 15 % above the first half's peak.
"""

from __future__ import annotations

import ctypes
import gc
import io
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pypdf import PdfWriter

from bench.common import (
    ROOT,
    Bench,
    as_request,
    load_average,
    load_sample,
    render_attachment_docx,
    rss_mb,
    say,
)
from docgen.convert import ipc_socket
from docgen.pdfinfo import pdf_facts
from docgen.pool import group_rss_mb
from docgen.processes import wait_until
from docgen.settings import load_settings
from docgen.spreadsheet import supply_demand_xlsx
from docgen.templates import load_catalogue


def run(bench: Bench) -> None:
    total, every, recycle = (100, 10, 20) if bench.quick else (500, 50, 100)
    size = bench.cores
    system_tmp = tempfile.gettempdir()
    tmp_before = set(os.listdir(system_tmp))
    root = bench.workdir / "memory-pool"
    config = {"root": str(root), "size": size, "total": total, "every": every, "recycle": recycle}
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.memory", json.dumps(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    samples: list[dict[str, Any]] = []
    end: dict[str, Any] = {}
    assert child.stdout is not None
    try:
        for line in child.stdout:
            sample = json.loads(line)
            if "failures" in sample:
                end = sample
                continue
            samples.append(sample)
            say(
                f"{sample['conversions']:>4} conversions  worker {sample['worker_mb']:6.0f} MB  "
                + "LibreOffice "
                + "  ".join(f"{mb:5.0f}" for mb in sample["office_mb"])
                + f" MB  temp files {sample['instance_temp_files']:>3}"
                + f"  recycles {sample['recycles']}"
            )
    finally:
        if child.poll() is None:  # interrupted: the child stops its pool on SIGTERM
            child.terminate()
            child.wait(60)
    if child.wait() != 0 or not end:
        raise RuntimeError(f"the memory benchmark's worker process failed ({child.returncode})")

    launched = range(1, size + 2 * total // recycle + 20)  # instance folders are i{slot}-{n}
    ours = [
        str(ipc_socket(root / f"i{n}-{m}" / "profile"))
        for n in range(size)
        for m in launched
        if ipc_socket(root / f"i{n}-{m}" / "profile").exists()
    ]
    new_entries = set(os.listdir(system_tmp)) - tmp_before
    say(
        f"system temp ({system_tmp}): {len(tmp_before)} entries before, "
        f"{len(tmp_before) + len(new_entries)} after; ours left: {len(ours)}; "
        f"new from other processes on the machine: {len(new_entries) - len(ours)}"
    )
    say(f"pool folder left after stop: {root.exists()}; failed conversions: {end['failures']}")

    # The worker fills its heap and malloc arenas over the first few hundred conversions; a
    # trend is judged on the second half. LibreOffice is judged on its peaks, half against half.
    half = len(samples) // 2
    worker = [s["worker_mb"] for s in samples[half:]]
    offices = [s["office_mb"] for s in samples[1:]]
    first_half = max(max(o) for o in offices[: len(offices) // 2])
    second_half = max(max(o) for o in offices[len(offices) // 2 :])
    worker_growth = worker[-1] / worker[0] - 1
    slope = statistics.linear_regression(range(len(worker)), worker).slope * 100 / every
    flat = worker_growth < 0.10 and second_half <= 1.15 * first_half
    say(
        f"worker {samples[1]['worker_mb']:.0f} MB after {every} conversions; over the second "
        f"half {worker[0]:.0f} → {worker[-1]:.0f} MB ({worker_growth:+.0%}, {slope:+.1f} MB per "
        f"100 conversions); LibreOffice peak first half {first_half:.0f} MB, second half "
        f"{second_half:.0f} MB → {'flat' if flat else 'UPWARD TREND'}"
    )
    bench.results["memory"] = {
        **config,
        "samples": samples,
        "worker_growth": worker_growth,
        "worker_slope_mb_per_100": slope,
        "office_max_first_half_mb": first_half,
        "office_max_second_half_mb": second_half,
        "flat": flat,
        "failures": end["failures"],
        "system_temp_ours_left": ours,
        "system_temp_new_other": len(new_entries) - len(ours),
    }


def worker(config: dict[str, Any]) -> None:
    """The worker's side, in its own process: one JSON line per sample on stdout."""
    root, size, every = Path(config["root"]), config["size"], config["every"]
    bench = Bench(quick=False, workdir=root.parent)
    request = as_request(load_sample())
    catalogue = bench.catalogue
    attachments = request.requested_attachments()
    pool = bench.pool(size, root.name, max_conversions=config["recycle"])

    def produce(i: int) -> None:
        a = attachments[i % len(attachments)]
        pool.to_pdf(render_attachment_docx(request, a, catalogue))

    # Long-lived threads, as the worker's (matplotlib caches its fonts per thread: fresh threads
    # every sample would each fill that cache again).
    threads = ThreadPoolExecutor(size)
    try:
        for done in range(0, config["total"] + 1, every):
            if done:
                list(threads.map(produce, range(done - every, done)))
            wait_until(lambda: pool.ready_count() == size, 120, "recycled instances")
            sample = {
                "conversions": done,
                "worker_mb": rss_mb(),
                "office_mb": [group_rss_mb(pid) for pid in pool.instance_pids()],
                "instance_temp_files": sum(1 for p in root.glob("*/tmp/**/*") if p.is_file()),
                "recycles": pool.stats.recycles,
            }
            print(json.dumps(sample), flush=True)
    finally:
        threads.shutdown()
        pool.stop()
    print(json.dumps({"failures": pool.stats.failures}), flush=True)


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in [
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        ]
    ]


def render_only(total: int, threads: int = 2, every: int = 100) -> None:
    """The worker's own work without LibreOffice, `total` times on long-lived threads.

    Rendering (docxtpl, matplotlib), the PDF's facts (pypdf, on a blank 7-page PDF) and 附件3's
    XLSX, as `docgen.pipeline` does them. Every `every` documents: resident memory, what malloc
    has handed out and not got back ("in use"), what it keeps freed ("kept free"; glibc's
    mallinfo2, every arena), and the count of Python objects. A leak grows "in use" and the
    objects; memory malloc keeps grows only "kept free".
    """
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    request = as_request(load_sample())
    catalogue = load_catalogue(load_settings({}).templates_dir)
    attachments = request.requested_attachments()
    blank = PdfWriter()
    for _ in range(7):
        blank.add_blank_page(595, 842)
    pdf = io.BytesIO()
    blank.write(pdf)

    def produce(i: int) -> None:
        a = attachments[i % len(attachments)]
        render_attachment_docx(request, a, catalogue)
        pdf_facts(pdf.getvalue())
        if a == "supply_demand" and request.supply_demand is not None:
            supply_demand_xlsx(request.supply_demand, request.community.name, request.year)

    say(
        f"MALLOC_ARENA_MAX={os.environ.get('MALLOC_ARENA_MAX', '-')} "
        f"MALLOC_MMAP_THRESHOLD_={os.environ.get('MALLOC_MMAP_THRESHOLD_', '-')}, {threads} threads"
    )
    with ThreadPoolExecutor(threads) as pool:
        for done in range(0, total + 1, every):
            if done:
                list(pool.map(produce, range(done - every, done)))
            gc.collect()
            m = libc.mallinfo2()
            say(
                f"{done:>5} documents  RSS {rss_mb():6.1f} MB  malloc in use "
                f"{(m.uordblks + m.hblkhd) / 2**20:5.1f} MB  kept free {m.fordblks / 2**20:6.1f} MB"
                f"  Python objects {len(gc.get_objects())}  load {load_average()}"
            )


if __name__ == "__main__":
    logging.basicConfig(level=logging.ERROR)
    if sys.argv[1] == "render-only":  # python -m bench.memory render-only [TOTAL [THREADS]]
        render_only(*(int(a) for a in sys.argv[2:]))
        sys.exit(0)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # `finally`: the pool is stopped
    worker(json.loads(sys.argv[1]))
