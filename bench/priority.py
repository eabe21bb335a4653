"""An interactive job's latency while a large batch runs, against its latency on an idle service.

`python -m bench.priority [--communities 500] [--samples 10]`: one worker with a pool of K =
cores; ten one-attachment jobs (附件1) timed on the idle service, then a forced batch of N
communities started and ten more jobs timed while it runs. The goal (issue 7): p50 within 2×.
"""

from __future__ import annotations

import argparse
import os
import statistics

from bench.services import Stack, load_average


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=500)
    parser.add_argument("--samples", type=int, default=10)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"cores {cores}, load {load_average()}, batch of {args.communities} communities")
    stack = Stack()
    try:
        ids = stack.seed(args.communities)
        stack.start_worker("worker", cpus=None, pool_size=cores)
        stack.wait_ready(1)
        stack.interactive_latency(-1)  # warm-up: first imports and first conversion
        idle = [stack.interactive_latency(n) for n in range(args.samples)]
        batch_id = stack.run_batch(ids)
        busy = []
        for n in range(args.samples):
            busy.append(stack.interactive_latency(1000 + n))
        progress = stack.batch(batch_id)
        finished = progress["done"] + progress["reused"] + progress["failed"]
        still_running = progress["total"] - finished
        p50_idle, p50_busy = statistics.median(idle), statistics.median(busy)
        print(f"idle     p50 {p50_idle:.2f} s  max {max(idle):.2f} s")
        print(
            f"in batch p50 {p50_busy:.2f} s  max {max(busy):.2f} s "
            f"({still_running} of {progress['total']} batch documents still to do)"
        )
        print(
            f"ratio p50 {p50_busy / p50_idle:.2f}×  max {max(busy) / max(idle):.2f}× "
            f"(goal ≤ 2×; load {load_average()})"
        )
        stack.wait_batch(batch_id)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
