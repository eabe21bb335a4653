"""2. Throughput of the pool at K = 1 and K = cores on a stream of 50 mixed attachments.

The sample's five attachments, pre-rendered, ten times each in a fixed shuffled order, sent by K
caller threads (as the worker's K rendering threads do). One warm-up pass per instance first;
pool start-up is not counted. The ratio K=cores / K=1 is the scaling (ideal: the core count,
less whatever else runs on the machine).
"""

from __future__ import annotations

import random

from bench.common import (
    Bench,
    as_request,
    load_sample,
    render_attachment_docx,
    run_stream,
    say,
    stopping,
)

STREAM = 50


def run(bench: Bench) -> None:
    request = as_request(load_sample())
    catalogue = bench.catalogue
    documents = [
        render_attachment_docx(request, a, catalogue) for a in request.requested_attachments()
    ]
    stream = [documents[i % len(documents)] for i in range(STREAM if not bench.quick else 20)]
    random.Random(6).shuffle(stream)
    sizes = sorted({1, bench.cores})
    rates: dict[int, float] = {}
    for size in sizes:
        pool = bench.pool(size, f"throughput-k{size}")
        with stopping(pool):
            run_stream(pool.to_pdf, documents * size, size)  # warm-up: every instance
            seconds = run_stream(pool.to_pdf, stream, size)
            assert pool.stats.failures == 0, pool.stats
        rates[size] = len(stream) / seconds
        say(f"K={size}: {len(stream)} conversions in {seconds:6.2f} s  {rates[size]:5.2f} docs/s")
    scaling = rates[max(sizes)] / rates[1]
    say(f"scaling K={max(sizes)} / K=1: {scaling:.2f} (cores: {bench.cores})")
    bench.results["throughput"] = {
        "stream": len(stream),
        "docs_per_s": {str(k): v for k, v in rates.items()},
        "scaling": scaling,
    }
