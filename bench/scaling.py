"""Two worker groups (each pinned to its own core) against one, draining one batch.

`python -m bench.scaling [--communities 120]`: stored inputs for N communities (附件1), a forced
batch drained by one worker group pinned to core 0 (pool of 1), then another forced batch
drained by two groups — separate processes, pools and temp dirs, pinned to cores 0 and 1 — as
workers on two hosts sharing Redis and S3 would. Prints seconds and the ratio.
"""

from __future__ import annotations

import argparse
import os
import time

from bench.services import Stack, load_average


def drain(stack: Stack, ids: list[str]) -> tuple[float, dict[str, object]]:
    started = time.monotonic()
    batch = stack.wait_batch(stack.run_batch(ids))
    return time.monotonic() - started, batch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=120)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(f"cores {cores}, load {load_average()}, {args.communities} communities (附件1)")
    stack = Stack()
    try:
        ids = stack.seed(args.communities)
        stack.start_worker("group-a", cpus="0", pool_size=1)
        stack.wait_ready(1)
        one, batch = drain(stack, ids)
        print(
            f"one group  (core 0):      {one:7.1f} s  {batch['done']} new, {batch['failed']} failed"
        )
        stack.start_worker("group-b", cpus="1" if cores > 1 else "0", pool_size=1)
        stack.wait_ready(2)
        two, batch = drain(stack, ids)
        print(
            f"two groups (cores 0, 1):  {two:7.1f} s  {batch['done']} new, {batch['failed']} failed"
        )
        print(f"speed-up: {one / two:.2f}× (load after: {load_average()})")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
