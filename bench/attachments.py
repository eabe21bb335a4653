"""1. Per attachment: the pool against unoserver called directly, on the same DOCX files.

The sample's five attachments are rendered once as `docgen.pipeline` renders them and written to
disk. Each round converts every file twice, once per side, interleaved, so that a burst of load
from elsewhere on the machine falls on both. The pool runs one instance: this measures what the
pool adds to one conversion (a queue hand-off, bytes over XML-RPC instead of a path, the memory
check after each conversion), not parallelism. Expected ratio ≈ 1.0.
"""

from __future__ import annotations

from bench.common import (
    Bench,
    as_request,
    load_sample,
    median,
    pages,
    render_attachment_docx,
    say,
    stopping,
    timed,
)


def run(bench: Bench) -> None:
    rounds = 3 if bench.quick else 7
    request = as_request(load_sample())
    catalogue = bench.catalogue
    folder = bench.folder("attachments")
    attachments = request.requested_attachments()
    docx, render_s = {}, {}
    for attachment in attachments:
        times = []
        for _ in range(3):
            docx[attachment], seconds = timed(
                lambda a=attachment: render_attachment_docx(request, a, catalogue)
            )
            times.append(seconds)
        render_s[attachment] = median(times)
        (folder / f"{attachment}.docx").write_bytes(docx[attachment])

    raw = bench.raw_office("attachments-raw")
    pool = bench.pool(1, "attachments-pool")
    with stopping(raw, pool):
        page_count = {a: pages(pool.to_pdf(docx[a])) for a in attachments}  # warm-up
        for a in attachments:
            raw.to_pdf(folder / f"{a}.docx")
        raw_s: dict[str, list[float]] = {a: [] for a in attachments}
        pool_s: dict[str, list[float]] = {a: [] for a in attachments}
        for round_number in range(rounds):
            for a in attachments:
                # Alternate which side goes first, so neither always follows the other.
                for side in ("raw", "pool") if round_number % 2 == 0 else ("pool", "raw"):
                    if side == "raw":
                        raw_s[a].append(timed(lambda a=a: raw.to_pdf(folder / f"{a}.docx"))[1])
                    else:
                        pool_s[a].append(timed(lambda a=a: pool.to_pdf(docx[a]))[1])

    say(f"median of {rounds} rounds, seconds per conversion, one LibreOffice each side")
    say(f"{'attachment':<20}{'pages':>6}{'render':>9}{'raw':>9}{'pool':>9}{'pool/raw':>10}")
    rows = {}
    for a in attachments:
        r, p = median(raw_s[a]), median(pool_s[a])
        rows[a] = {
            "pages": page_count[a],
            "render_s": render_s[a],
            "raw_s": r,
            "pool_s": p,
            "ratio": p / r,
            "raw_all_s": raw_s[a],
            "pool_all_s": pool_s[a],
        }
        say(f"{a:<20}{page_count[a]:>6}{render_s[a]:>9.3f}{r:>9.3f}{p:>9.3f}{p / r:>10.2f}")
    raw_sum = sum(v["raw_s"] for v in rows.values())
    pool_sum = sum(v["pool_s"] for v in rows.values())
    render_sum = sum(render_s.values())
    say(
        f"{'all five':<20}{'':>6}{render_sum:>9.3f}{raw_sum:>9.3f}{pool_sum:>9.3f}"
        f"{pool_sum / raw_sum:>10.2f}"
    )
    say("render = docxtpl (docgen.render), not part of either conversion; pool/raw ≈ 1.0 expected")
    bench.results["attachments"] = {
        "rounds": rounds,
        "per_attachment": rows,
        "raw_sum_s": raw_sum,
        "pool_sum_s": pool_sum,
        "render_sum_s": render_sum,
        "ratio": pool_sum / raw_sum,
    }
