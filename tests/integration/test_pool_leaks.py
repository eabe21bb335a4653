"""The pool leaves nothing behind: no temp files after 1,000 conversions with recycling (slow: a
few minutes, `make slow`), no LibreOffice when it stops in the middle of a recycle (issue 6).
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from docgen.context import build_context, document_properties
from docgen.convert import ipc_socket
from docgen.pool import ConverterPool, PoolSettings
from docgen.processes import wait_until
from docgen.render import render_docx
from docgen.schema import JobRequest
from docgen.settings import load_settings
from docgen.templates import load_catalogue

pytestmark = pytest.mark.integration

CONVERSIONS = 1_000
SIZE = 2
MAX_CONVERSIONS = 100  # ten recycles per run: replaced instances must not leave files either


def sample_docx(request: JobRequest) -> list[bytes]:
    settings = load_settings({})
    catalogue = load_catalogue(settings.templates_dir)
    out = []
    for attachment in request.requested_attachments():
        template = catalogue[attachment]
        properties = document_properties(request, attachment, template.title)
        context = build_context(request, attachment)
        out.append(render_docx(template.read(), context, template.file, properties))
    return out


def pool_root(pool: ConverterPool) -> Path:
    """The pool's own folder: each unoserver runs in its instance's folder inside it."""
    return Path(os.readlink(f"/proc/{pool.instance_pids()[0]}/cwd")).parent


def files_in_instance_temp_dirs(root: Path) -> int:
    return sum(1 for path in root.glob("*/tmp/**/*") if path.is_file())


@pytest.mark.slow
def test_a_thousand_conversions_leave_no_temp_files_behind(sample_request: JobRequest) -> None:
    documents = sample_docx(sample_request)
    settings = load_settings({})
    pool = ConverterPool(
        settings.converter.unoserver_bin,
        settings.converter.fontconfig_file,
        PoolSettings(size=SIZE, max_conversions=MAX_CONVERSIONS, timeout_s=60.0),
    ).start()
    root = pool_root(pool)
    try:
        assert root.parent == Path(tempfile.gettempdir()).resolve()
        # A fresh instance's own files (LibreOffice's certificate store, unoserver's profile
        # folder) after one conversion each: the most an instance may ever hold.
        with ThreadPoolExecutor(SIZE) as callers:
            list(callers.map(pool.to_pdf, documents[:SIZE]))
        baseline = files_in_instance_temp_dirs(root)
        most = baseline
        with ThreadPoolExecutor(SIZE) as callers:
            for block in range(CONVERSIONS // 100):
                stream = [documents[(block * 100 + i) % len(documents)] for i in range(100)]
                assert all(p.startswith(b"%PDF") for p in callers.map(pool.to_pdf, stream))
                most = max(most, files_in_instance_temp_dirs(root))
        assert pool.stats.conversions == CONVERSIONS + SIZE
        assert pool.stats.recycles >= CONVERSIONS // MAX_CONVERSIONS - 1
        assert most <= baseline, f"instance temp dirs grew from {baseline} to {most} files"
    finally:
        pool.stop()
    assert not root.exists(), f"{root} is left behind"
    # Every instance ever started, the recycled ones too, named its socket after its profile.
    profiles = [root / f"i{n}-{m}" / "profile" for n in range(SIZE) for m in range(1, 200)]
    left = [str(ipc_socket(p)) for p in profiles if ipc_socket(p).exists()]
    assert left == [], f"LibreOffice sockets left in the system temp dir: {left}"


def processes_using(folder: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if str(folder).encode() in command:
                found.append(int(entry))
    return found


def test_a_pool_stopped_while_an_instance_restarts_leaves_no_libreoffice_running(
    tmp_path: Path,
) -> None:
    settings = load_settings({})
    root = tmp_path / "pool"
    pool = ConverterPool(
        settings.converter.unoserver_bin,
        settings.converter.fontconfig_file,
        PoolSettings(size=1, max_conversions=1, timeout_s=60.0),
        workdir=root,
    ).start()
    try:
        assert pool.to_pdf(sample_probe()).startswith(b"%PDF")  # worn out: replaced in background
        # The replacement is starting: its LibreOffice has made its profile.
        wait_until(lambda: (root / "i0-2" / "profile" / "user").is_dir(), 60, "the replacement")
    finally:
        pool.stop()
    assert processes_using(root) == []
    assert not root.exists()
    assert not ipc_socket(root / "i0-2" / "profile").exists()


def sample_probe() -> bytes:
    return (Path(__file__).resolve().parents[2] / "docgen" / "probe.docx").read_bytes()
