"""The converter pool under trouble: a killed instance, a hung one, recycling — real LibreOffice."""

from __future__ import annotations

import io
import os
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import pytest
from docx import Document

from docgen.pool import ConverterPool, PoolSettings
from docgen.processes import wait_until
from docgen.settings import load_settings

pytestmark = pytest.mark.integration


def table_docx(rows: int) -> bytes:
    """A list long enough to keep LibreOffice busy for a few seconds."""
    doc = Document()
    table = doc.add_table(rows=rows, cols=4)
    for i, row in enumerate(table.rows):
        for j, cell in enumerate(row.cells):
            cell.text = f"第{i}行 第{j}列 轨道交通装备"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# Rows that keep one LibreOffice busy for seconds, not fractions of one: 200 rows converted in
# 0.37 s on a faster host (4 Dec 2026), before the test could kill or stop the instance.
LONG = 1000


def group_cpu_s(pgid: int) -> float:
    ticks = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid:
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def make_pool(tmp_path: Path, **overrides: object) -> ConverterPool:
    settings = load_settings({})
    return ConverterPool(
        settings.converter.unoserver_bin,
        settings.converter.fontconfig_file,
        PoolSettings(**{"size": 2, "timeout_s": 60.0, **overrides}),  # type: ignore[arg-type]
        workdir=tmp_path / "pool",
    ).start()


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[ConverterPool]:
    # The hang test waits this out once; a retried conversion on a machine loaded 10× its cores
    # (CI shares it) needed more than 20 s.
    converter = make_pool(tmp_path, timeout_s=40.0)
    yield converter
    converter.stop()


def convert_in_background(pool: ConverterPool, docx: bytes) -> Future[bytes]:
    future: Future[bytes] = Future()

    def run() -> None:
        try:
            future.set_result(pool.to_pdf(docx))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, daemon=True).start()
    return future


def busy_converting(pool: ConverterPool) -> int:
    """Wait until an instance is taken and its LibreOffice is working; its process group."""
    taken: list[int] = []
    wait_until(lambda: bool(taken.extend(pool.busy_pids()) or taken), 30, "a busy instance")
    pgid = taken[0]
    start = group_cpu_s(pgid)
    wait_until(lambda: group_cpu_s(pgid) > start + 0.3, 30, "LibreOffice converting")
    return pgid


def test_a_killed_instance_is_replaced_and_the_document_still_converts(
    pool: ConverterPool,
) -> None:
    future = convert_in_background(pool, table_docx(LONG))
    victim = busy_converting(pool)
    os.killpg(victim, signal.SIGKILL)
    assert future.result(timeout=120).startswith(b"%PDF")
    wait_until(lambda: pool.ready_count() == 2, 60, "the replacement")
    assert victim not in pool.instance_pids()
    assert pool.stats.restarts == 1 and pool.stats.failures == 1


def test_a_hung_instance_times_out_is_replaced_and_the_pool_keeps_serving(
    pool: ConverterPool,
) -> None:
    future = convert_in_background(pool, table_docx(LONG))
    victim = busy_converting(pool)
    os.killpg(victim, signal.SIGSTOP)  # a hang: the process is there and answers nothing
    try:
        assert future.result(timeout=120).startswith(b"%PDF")  # retried on the other one
    finally:
        os.killpg(victim, signal.SIGCONT) if victim in pool.instance_pids() else None
    assert pool.stats.timeouts == 1
    wait_until(lambda: pool.ready_count() == 2, 60, "the replacement")
    assert victim not in pool.instance_pids()
    assert pool.to_pdf(table_docx(5)).startswith(b"%PDF")


def test_an_instance_is_recycled_after_its_conversions(tmp_path: Path) -> None:
    pool = make_pool(tmp_path, size=1, max_conversions=3)
    try:
        first = pool.instance_pids()
        for _ in range(3):
            assert pool.to_pdf(table_docx(3)).startswith(b"%PDF")
        assert pool.to_pdf(table_docx(3)).startswith(b"%PDF")  # on the fresh instance
        assert pool.stats.recycles == 1
        assert pool.instance_pids() != first
    finally:
        pool.stop()


def test_an_instance_past_its_memory_limit_is_recycled(tmp_path: Path) -> None:
    pool = make_pool(tmp_path, size=1, max_memory_mb=1)  # every LibreOffice is heavier
    try:
        first = pool.instance_pids()
        assert pool.to_pdf(table_docx(3)).startswith(b"%PDF")
        assert pool.to_pdf(table_docx(3)).startswith(b"%PDF")  # on the fresh instance
        assert pool.stats.recycles >= 1
        assert pool.instance_pids() != first
    finally:
        pool.stop()


def test_a_document_that_is_not_one_fails_without_harming_the_instance(
    pool: ConverterPool,
) -> None:
    from docgen.errors import DocgenError

    before = pool.instance_pids()
    with pytest.raises(DocgenError) as failed:
        pool.to_pdf(b"PK\x03\x04 not a document")
    assert failed.value.code == "conversion.failed"
    assert pool.instance_pids() == before and pool.stats.restarts == 0
