"""What the benchmarks share: the sample, machine facts, statistics, LibreOffice instances.

Every LibreOffice here is started the way the service starts it (`UnoserverProcess`: the
project's fontconfig, the hardened profile, its own ports), so that "raw" and "pool" differ only
in what sits between the caller and unoserver.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from pypdf import PdfReader
from unoserver.client import UnoClient

from docgen.context import build_context, document_properties
from docgen.convert import UnoserverProcess, ipc_socket
from docgen.pool import ConverterPool, PoolSettings
from docgen.render import render_docx
from docgen.schema import AttachmentId, JobRequest
from docgen.settings import Settings, load_settings
from docgen.templates import TemplateCatalogue, load_catalogue

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "community.example.json"
T = TypeVar("T")


@dataclass
class Bench:
    """One `make bench` run: options, a private temp folder, and the results for the JSON file."""

    quick: bool
    workdir: Path
    settings: Settings = field(default_factory=lambda: load_settings({}))
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def catalogue(self) -> TemplateCatalogue:
        return load_catalogue(self.settings.templates_dir)

    def folder(self, name: str) -> Path:
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def pool(self, size: int, name: str, **overrides: Any) -> ConverterPool:
        """A started pool of `size` instances, as the worker makes it (recycling at defaults)."""
        settings = PoolSettings(size=size, timeout_s=self.settings.converter.timeout_s)
        return ConverterPool(
            self.settings.converter.unoserver_bin,
            self.settings.converter.fontconfig_file,
            msgspec.structs.replace(settings, **overrides),
            workdir=self.folder(name),
        ).start()

    def raw_office(self, name: str, timeout_s: float | None = None) -> RawOffice:
        process = UnoserverProcess(
            self.settings.converter.unoserver_bin,
            self.folder(name),
            self.settings.converter.fontconfig_file,
            timeout_s or self.settings.converter.timeout_s,
            hidden=False,  # the peer as its users run it; docgen's pool opens documents hidden
        )
        try:
            process.wait_ready()
        except BaseException:
            process.stop()
            raise
        return RawOffice(process)


class RawOffice:
    """unoserver called directly, as its users do: its own client, a DOCX file on disk.

    `update_index=False` as in our converter, so that both sides ask LibreOffice for the same
    work (DESIGN §4: the index refresh is a second layout pass).
    """

    def __init__(self, process: UnoserverProcess) -> None:
        self.process = process
        self.client = UnoClient("127.0.0.1", str(process.port))

    def to_pdf(self, path: Path) -> bytes:
        pdf = self.client.convert(inpath=str(path), convert_to="pdf", update_index=False)
        assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF"), "unoserver gave no PDF"
        return pdf

    def stop(self) -> None:
        self.process.stop()


@contextlib.contextmanager
def stopping(*things: Any) -> Iterator[None]:
    """Stop pools and processes at the end, whatever happens in between."""
    try:
        yield
    finally:
        for thing in reversed(things):
            with contextlib.suppress(Exception):
                thing.stop()


def load_sample() -> dict[str, Any]:
    data: dict[str, Any] = msgspec.json.decode(SAMPLE.read_bytes())
    return data


def as_request(data: dict[str, Any]) -> JobRequest:
    return msgspec.json.decode(msgspec.json.encode(data), type=JobRequest)


def render_attachment_docx(
    request: JobRequest, attachment: AttachmentId, catalogue: TemplateCatalogue
) -> bytes:
    """The DOCX that `docgen.pipeline` sends to the converter (same template, context, properties)."""
    template = catalogue[attachment]
    properties = document_properties(request, attachment, template.title)
    return render_docx(
        template.read(), build_context(request, attachment), template.file, properties
    )


def timed(action: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def run_stream(convert: Callable[[T], Any], items: Sequence[T], callers: int) -> float:
    """Seconds for `callers` threads to work through `items` (like the worker's K threads)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(callers) as pool:
        for _ in pool.map(convert, items):
            pass
    return time.perf_counter() - started


def pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile: p95 of 20 runs is the 19th fastest."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine_facts() -> dict[str, Any]:
    def first(command: list[str]) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(command, capture_output=True, text=True, timeout=30).stdout
            return out.strip().splitlines()[0] if out.strip() else "?"
        return "?"

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(memory_gb, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "libreoffice": first(["dpkg-query", "-W", "-f=${Version}", "libreoffice-writer-nogui"]),
        "unoserver": metadata.version("unoserver"),
        "docxtpl": metadata.version("docxtpl"),
        "node": first(["node", "--version"]) if shutil.which("node") else None,
        "commit": first(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "load_average_at_start": load_average(),
    }


def remove_office_sockets(profile_urls: Sequence[Path]) -> int:
    """Remove LibreOffice's /tmp sockets of profiles we made (a killed soffice leaves them)."""
    removed = 0
    for profile in profile_urls:
        with contextlib.suppress(OSError):
            ipc_socket(profile).unlink()
            removed += 1
    return removed


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def say(text: str = "") -> None:
    print(text, flush=True)
