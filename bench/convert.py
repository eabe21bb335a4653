"""Conversion throughput of the sample's five attachments: our pipeline vs. the raw converter.

Prints docs/s for (a) the raw converter on pre-rendered DOCX (unoserver, update_index off),
(b) the full render+convert pipeline, and their ratio. Run with `make bench`.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docgen.context import build_context  # noqa: E402
from docgen.convert import UnoserverProcess  # noqa: E402
from docgen.pipeline import render_attachment  # noqa: E402
from docgen.render import render_docx  # noqa: E402
from docgen.schema import JobRequest  # noqa: E402
from docgen.settings import load_settings  # noqa: E402
from docgen.templates import load_catalogue  # noqa: E402

ROUNDS = 5


def main() -> None:
    settings = load_settings({})
    request = msgspec.json.decode(
        (ROOT / "samples/community.example.json").read_bytes(), type=JobRequest
    )
    catalogue = load_catalogue(settings.templates_dir)
    attachments = request.requested_attachments()
    rendered = {
        a: render_docx(catalogue[a].read(), build_context(request, a), catalogue[a].file)
        for a in attachments
    }
    with tempfile.TemporaryDirectory() as workdir:
        office = UnoserverProcess(
            settings.converter.unoserver_bin, Path(workdir), settings.converter.fontconfig_file
        )
        try:
            office.wait_ready()
            for a in attachments:  # warm-up
                office.converter.to_pdf(rendered[a])
            raw, full = [], []
            for _ in range(ROUNDS):
                t0 = time.perf_counter()
                for a in attachments:
                    office.converter.to_pdf(rendered[a])
                raw.append(len(attachments) / (time.perf_counter() - t0))
                t0 = time.perf_counter()
                for a in attachments:
                    render_attachment(request, a, catalogue, office.converter)
                full.append(len(attachments) / (time.perf_counter() - t0))
        finally:
            office.stop()
    raw_rate, full_rate = statistics.median(raw), statistics.median(full)
    print(f"sample, 5 attachments, {ROUNDS} rounds, one LibreOffice (median docs/s)")
    print(f"  raw converter (unoserver, pre-rendered DOCX)  {raw_rate:6.2f} docs/s")
    print(f"  docgen render + convert + page count        {full_rate:6.2f} docs/s")
    print(f"  ratio docgen / raw converter                {full_rate / raw_rate:6.2f}")


if __name__ == "__main__":
    main()
