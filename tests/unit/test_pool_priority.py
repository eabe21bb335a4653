"""The pool's queue: interactive callers go before batch callers (fake instances, real threads)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from docgen.pool import ConverterPool, PoolSettings
from docgen.processes import wait_until


class _Process:
    pid = os.getpid()  # a real process group for the memory reading: ours

    def alive(self) -> bool:
        return True


class _GatedConverter:
    """Converts only when the test opens the gate; records who converted, in order."""

    def __init__(self, order: list[bytes]) -> None:
        self.gate = threading.Event()
        self.order = order

    def to_pdf(self, docx: bytes, *, pdf_a: bool = False) -> bytes:
        self.gate.wait(30)
        self.order.append(docx)
        return b"%PDF-" + docx


class _FakeOffice:
    def __init__(self, converter: _GatedConverter) -> None:
        self.converter = converter
        self.process = _Process()
        self.address = "fake"

    def wait_ready(self) -> None:
        return None

    def stop(self) -> None:
        return None


def test_an_interactive_caller_is_served_before_batch_callers_that_came_earlier(
    tmp_path: Path,
) -> None:
    order: list[bytes] = []
    converter = _GatedConverter(order)
    pool = ConverterPool(
        "unused",
        "unused",
        PoolSettings(size=1, max_memory_mb=10**6),
        workdir=tmp_path,
        starter=lambda _: _FakeOffice(converter),  # type: ignore[arg-type,return-value]
    ).start()
    batch = pool.low_priority()
    threads: list[threading.Thread] = []

    def call(name: bytes, convert: Any) -> None:
        thread = threading.Thread(target=convert, args=(name,), daemon=True)
        thread.start()
        threads.append(thread)

    call(b"batch-1", batch.to_pdf)  # takes the only instance, waits at the gate
    wait_until(lambda: pool.busy_pids() != [], 10, "the first conversion")
    call(b"batch-2", batch.to_pdf)
    call(b"batch-3", batch.to_pdf)
    call(b"person", pool.to_pdf)
    wait_until(lambda: pool._interactive_waiting == 1, 10, "the interactive caller waiting")
    converter.gate.set()
    for thread in threads:
        thread.join(10)
    assert order[:2] == [b"batch-1", b"person"]
    assert sorted(order[2:]) == [b"batch-2", b"batch-3"]
    pool.stop()
