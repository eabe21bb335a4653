"""3. The 3,000-row 人才需求清单: one plain conversion, docgen's path, and (to come) the split path.

The request is the sample with its 人才需求清单 (`supply_demand.talent_demand`) repeated to
3,000 rows (the other three lists as in the sample), rendered as 附件3. Measured:

- render: docxtpl, as `docgen.pipeline` renders it;
- plain: one conversion of that DOCX by unoserver called directly (the issue's ≈23 s);
- docgen: `docgen.pipeline.render_attachment` through a pool of K = cores, end to end (render,
  convert, page facts, the XLSX of 附件3): today one plain conversion inside; if the long-lists
  work makes `render_attachment` split long lists, this line measures the split path;
- split: the hook below, for a split path that is not reached through `render_attachment`.

Goal (issue 6): ≤ 6 s for the 3,000-row list on this 2-core machine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.common import (
    Bench,
    as_request,
    load_sample,
    pages,
    render_attachment_docx,
    say,
    stopping,
    timed,
)
from docgen.pipeline import render_attachment
from docgen.pool import ConverterPool
from docgen.schema import JobRequest
from docgen.templates import TemplateCatalogue

GOAL_S = 6.0

# ---------------------------------------------------------------------------------------------
# TODO(long-lists): the split-and-merge path of branch long-lists is wired here after the merge,
# unless `render_attachment` already takes it for long lists (then the "docgen" line measures
# it and this stays None). Set it to a function (request, catalogue, pool) -> PDF bytes; its time
# is printed as "split path" against the plain conversion and the 6 s goal.
SPLIT_PATH: Callable[[JobRequest, TemplateCatalogue, ConverterPool], bytes] | None = None
# ---------------------------------------------------------------------------------------------


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

    raw = bench.raw_office("long-list-raw")
    with stopping(raw):
        pdf, plain_s = timed(lambda: raw.to_pdf(path))
    page_count = pages(pdf)
    say(f"plain conversion (unoserver directly): {plain_s:6.2f} s  {page_count} pages")

    pool = bench.pool(bench.cores, "long-list-pool")
    with stopping(pool):
        rendered, docgen_s = timed(
            lambda: render_attachment(request, "supply_demand", catalogue, pool)
        )
        convert_s = pool.stats.seconds_total  # readiness probes are not counted
        split_s = None
        if SPLIT_PATH is not None:
            split = SPLIT_PATH
            split_pdf, split_s = timed(lambda: split(request, catalogue, pool))
            say(f"split path: {split_s:6.2f} s  {pages(split_pdf)} pages")
    say(
        f"docgen render_attachment (K={bench.cores}): {docgen_s:6.2f} s  {rendered.pages} pages"
        f"  (conversion {convert_s:.2f} s, {pool.stats.conversions} conversion(s))"
    )
    if SPLIT_PATH is None:
        say("split path: not wired yet — TODO(long-lists) in bench/long_list.py")
    best = min(s for s in (docgen_s, split_s) if s is not None)
    verdict = "met" if best <= GOAL_S else f"missed by {best - GOAL_S:.1f} s ({best / GOAL_S:.1f}×)"
    say(f"ratio docgen / plain: {docgen_s / plain_s:.2f}; goal ≤ {GOAL_S:.0f} s: {verdict}")
    if bench.quick:
        say("(--quick: 1,000 rows; the goal is for 3,000)")
    bench.results["long_list"] = {
        "rows": rows,
        "render_s": render_s,
        "plain_s": plain_s,
        "pages": page_count,
        "docgen_s": docgen_s,
        "docgen_pages": rendered.pages,
        "docgen_conversions": pool.stats.conversions,
        "split_s": split_s,
        "goal_s": GOAL_S,
    }
