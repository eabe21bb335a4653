"""`docgen render FILE --out DIR`: the embedded main job — no Redis, no S3, its own LibreOffice."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from docgen.convert import UnoserverProcess
from docgen.errors import DocgenError, FieldProblem, RequestInvalid
from docgen.glyphs import FontCoverage
from docgen.pipeline import render_attachment
from docgen.settings import Settings
from docgen.templates import load_catalogue
from docgen.validation import INVALID_TITLE, check_job_request


def _print_problems(heading: str, problems: list[FieldProblem]) -> None:
    print(heading, file=sys.stderr)
    for p in problems:
        print(f"  {p.path or '(body)'}  [{p.code}]  {p.message} / {p.message_en}", file=sys.stderr)


def render_file(settings: Settings, request_path: Path, out_dir: Path) -> int:
    glyphs = FontCoverage(settings.converter.fontconfig_file)
    try:
        verdict = check_job_request(request_path.read_bytes(), glyphs)
    except RequestInvalid as exc:
        _print_problems(f"{request_path}: {exc.title}", exc.problems)
        return 2
    if verdict.warnings:
        _print_problems(f"{request_path}: 警告 / warnings", verdict.warnings)
    request = verdict.request
    if request is None:
        _print_problems(f"{request_path}: {INVALID_TITLE}", verdict.errors)
        return 2
    catalogue = load_catalogue(settings.templates_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docgen-render-") as workdir:
        started = time.monotonic()
        office = UnoserverProcess(
            settings.converter.unoserver_bin,
            Path(workdir),
            settings.converter.fontconfig_file,
            settings.converter.timeout_s,
        )
        try:
            office.wait_ready()
            print(f"LibreOffice ready in {time.monotonic() - started:.1f} s")
            rows = []
            failed = 0
            for attachment in request.requested_attachments():
                t0 = time.monotonic()
                try:
                    doc = render_attachment(request, attachment, catalogue, office.converter)
                except DocgenError as exc:
                    failed += 1
                    rows.append(
                        (
                            attachment,
                            "-",
                            f"失败 {exc.code}: {exc.message}",
                            "",
                            time.monotonic() - t0,
                        )
                    )
                    continue
                pdf_path = out_dir / f"{doc.stem}.pdf"
                docx_path = out_dir / f"{doc.stem}.docx"
                docx_path.write_bytes(doc.docx)
                pdf_path.write_bytes(doc.pdf)
                if doc.xlsx is not None:
                    (out_dir / f"{doc.stem}.xlsx").write_bytes(doc.xlsx)
                rows.append(
                    (
                        attachment,
                        str(doc.pages),
                        str(pdf_path),
                        str(docx_path),
                        time.monotonic() - t0,
                    )
                )
        finally:
            office.stop()
    _print_table(rows)
    return 1 if failed else 0


def _print_table(rows: list[tuple[str, str, str, str, float]]) -> None:
    headers = ("attachment", "pages", "pdf", "docx", "seconds")
    cells = [headers] + [(a, p, pdf, docx, f"{s:.2f}") for a, p, pdf, docx, s in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
