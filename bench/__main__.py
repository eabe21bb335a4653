"""`make bench` / `python -m bench [NAME ...] [--quick] [--json FILE]`: the benchmarks of issue 6.

Each benchmark prints its ratios measured side by side in this run; the machine's facts come
first, the load average before and after each benchmark (this machine is shared: see
docs/BENCHMARKS.md for ranges over several runs). Results also go to a JSON file under out/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import attachments, carbone, end_to_end, long_list, memory, throughput
from bench.common import ROOT, Bench, load_average, machine_facts, say

BENCHMARKS: dict[str, tuple[str, Callable[[Bench], None]]] = {
    "attachments": ("1. per attachment: pool vs unoserver directly", attachments.run),
    "throughput": ("2. throughput of 50 mixed attachments, K=1 vs K=cores", throughput.run),
    "long-list": ("3. the 3,000-row 人才需求清单", long_list.run),
    "e2e": ("4. end to end: POST → all documents stored", end_to_end.run),
    "carbone": ("5. peer: Carbone 3 vs docgen, same document and LibreOffice", carbone.run),
    "memory": ("6. memory and temp files over 500 conversions with recycling", memory.run),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"of {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds and rows (≈3 min)")
    parser.add_argument(
        "--json", type=Path, help="where to write the results (default: out/bench/)"
    )
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}"
        )

    # Stopped by a signal, the benchmarks still stop what they started (`finally` blocks): a
    # background job ignores SIGINT unless told, and SIGTERM would end Python without cleanup.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # Recycles are counted in the output; only errors of the pool need a line of their own.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s %(message)s")
    workdir = Path(tempfile.mkdtemp(prefix="docgen-bench-"))
    bench = Bench(quick=args.quick, workdir=workdir)
    facts = machine_facts()
    bench.results["machine"] = facts
    bench.results["quick"] = args.quick
    say(
        f"docgen benchmarks — {facts['cores']} cores ({facts['cpu']}), "
        f"{facts['memory_gb']} GB, LibreOffice {facts['libreoffice']}, "
        f"unoserver {facts['unoserver']}, commit {facts['commit']}"
        + (" — QUICK" if args.quick else "")
    )
    failed = []
    started = time.monotonic()
    try:
        for name in names:
            title, run = BENCHMARKS[name]
            say(f"\n== {title}  [load {load_average()}]")
            begun = time.monotonic()
            try:
                run(bench)
            except Exception:
                traceback.print_exc()
                failed.append(name)
            say(f"   ({time.monotonic() - begun:.0f} s, load after {load_average()})")
    finally:
        if os.environ.get("BENCH_KEEP"):  # the servers' logs, for a timeline of one job
            say(f"kept {workdir} (BENCH_KEEP)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    bench.results["seconds"] = time.monotonic() - started
    bench.results["failed"] = failed
    out = args.json or ROOT / "out" / "bench" / f"{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(bench.results, indent=1, ensure_ascii=False, default=str))
    say(f"\n{len(names) - len(failed)}/{len(names)} benchmarks in {bench.results['seconds']:.0f} s")
    say(f"results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    if failed:
        say(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
