"""3. The 3,000-row 人才需求清单: one plain conversion against docgen's split path.

The request is the sample with its 人才需求清单 (`supply_demand.talent_demand`) repeated to
3,000 rows (the other three lists as in the sample), rendered as 附件3. Measured:

- render: docxtpl, as `docgen.pipeline` renders it;
- plain: one conversion of that DOCX by unoserver called directly (the issue's ≈23 s);
- split path: `docgen.pipeline.render_attachment` through a pool of K = cores, end to end
  (render, page-aligned parts converted side by side — the first and last from DOCX, those
  between as ODT written from a prototype (docgen.listodt) — merge, page facts, the XLSX):
  above `docgen.longlists.SPLIT_MIN_ROWS` rows it takes the split path by itself. Run
  `ROUNDS` times; the fonts' metrics are read once per process before (as a worker does at its
  first long list) and reported apart. LibreOffice's CPU seconds (both instances) are printed
  too: on this shared machine they say more than wall time about the work done.

Goal (issue 6): ≤ 6 s for the 3,000-row list on this 2-core machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from bench.common import (
    Bench,
    as_request,
    load_average,
    load_sample,
    pages,
    render_attachment_docx,
    say,
    stopping,
    timed,
)
from docgen.longlists import ROWS_PER_ODT_PART, SPLIT_MIN_ROWS, warm_up
from docgen.pipeline import render_attachment
from docgen.schema import JobRequest

GOAL_S = 6.0
ROUNDS = 2
PLAIN_TIMEOUT_S = 900.0


def _group_cpu_s(pgids: list[int]) -> float:
    """CPU seconds (user + system) of every process in the given process groups."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) in pgids:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def long_request(rows: int) -> JobRequest:
    """The sample with its talent-demand list repeated to `rows` rows, each a little different."""
    data = load_sample()
    data["attachments"] = ["supply_demand"]
    data["notify"] = None
    seed: list[dict[str, Any]] = data["supply_demand"]["talent_demand"]
    data["supply_demand"]["talent_demand"] = [
        {**seed[i % len(seed)], "count": 1 + i % 97, "contact_phone": f"138{i:08d}"}
        for i in range(rows)
    ]
    return as_request(data)


def run(bench: Bench) -> None:
    rows = 1_000 if bench.quick else 3_000
    request = long_request(rows)
    catalogue = bench.catalogue
    docx, render_s = timed(lambda: render_attachment_docx(request, "supply_demand", catalogue))
    path = bench.folder("long-list") / "supply_demand.docx"
    path.write_bytes(docx)
    say(
        f"{rows} rows of 人才需求清单 (附件3), DOCX {len(docx) / 1e6:.1f} MB, rendered in {render_s:.2f} s"
    )

    # The service's 120 s conversion timeout is not the point here: under heavy load the plain
    # conversion of 3,000 rows took longer (unoserver gave up), and its time is the reference.
    raw = bench.raw_office("long-list-raw", timeout_s=PLAIN_TIMEOUT_S)
    with stopping(raw):
        cpu_before = _group_cpu_s([raw.process.process.pid])
        pdf, plain_s = timed(lambda: raw.to_pdf(path))
        plain_cpu = _group_cpu_s([raw.process.process.pid]) - cpu_before
    page_count = pages(pdf)
    say(
        f"plain conversion (unoserver directly): {plain_s:6.2f} s  {page_count} pages"
        f"  (LibreOffice CPU {plain_cpu:.1f} s)  [load {load_average()}]"
    )

    pool = bench.pool(bench.cores, "long-list-pool")
    split: list[dict[str, Any]] = []
    with stopping(pool):
        _, fonts_s = timed(lambda: warm_up(pool.fontconfig_file))
        say(f"fonts' metrics read once per process: {fonts_s:.2f} s (not counted below)")
        for _ in range(ROUNDS):
            pgids = pool.instance_pids()
            cpu_before = _group_cpu_s(pgids)
            conversions_before = pool.stats.conversions
            rendered, split_s = timed(
                lambda: render_attachment(request, "supply_demand", catalogue, pool)
            )
            split_cpu = _group_cpu_s(pgids) - cpu_before
            parts = pool.stats.conversions - conversions_before
            say(
                f"split path, render_attachment (K={bench.cores}): {split_s:6.2f} s"
                f"  {rendered.pages} pages  {parts} conversion(s)  (LibreOffice CPU {split_cpu:.1f} s)"
                f"  [load {load_average()}]"
            )
            split.append(
                {"s": split_s, "pages": rendered.pages, "parts": parts, "lo_cpu_s": split_cpu}
            )
    best = min(r["s"] for r in split)
    verdict = "met" if best <= GOAL_S else f"missed by {best - GOAL_S:.1f} s ({best / GOAL_S:.1f}×)"
    say(
        f"ratio split / plain (best): {best / plain_s:.2f}; goal ≤ {GOAL_S:.0f} s: {verdict}"
        f"  (split above {SPLIT_MIN_ROWS} rows; middle parts as ODT, ≈{ROWS_PER_ODT_PART} rows each)"
    )
    if bench.quick:
        say("(--quick: 1,000 rows; the goal is for 3,000)")
    bench.results["long_list"] = {
        "rows": rows,
        "render_s": render_s,
        "plain_s": plain_s,
        "plain_lo_cpu_s": plain_cpu,
        "pages": page_count,
        "split": split,
        "goal_s": GOAL_S,
        "fonts_s": fonts_s,
    }
