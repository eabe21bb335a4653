"""Hostile documents: LibreOffice must not fetch URLs, read local files, or see our secrets.

The same documents converted by a LibreOffice with a default profile do fetch the URL and embed
the local file (checked by hand when these tests were written: DESIGN §4); with the service's
profile (`BlockUntrustedRefererLinks`, macros off) neither happens.
"""

from __future__ import annotations

import io
import os
import re
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.shared import Cm
from PIL import Image

from tests.pdftext import pdf_images

pytestmark = pytest.mark.integration


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(out, "PNG")
    return out.getvalue()


def linked_image_docx(target: str) -> bytes:
    """A .docx whose picture is not embedded but linked (`r:link`, TargetMode External)."""
    doc = Document()
    doc.add_paragraph("图片链接测试 / linked picture")
    doc.add_picture(io.BytesIO(_png((200, 30, 30))), width=Cm(3))
    raw = io.BytesIO()
    doc.save(raw)
    src, out = zipfile.ZipFile(io.BytesIO(raw.getvalue())), io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("word/media/"):
                continue
            if info.filename == "word/document.xml":
                data = data.replace(b"r:embed=", b"r:link=")
            if info.filename == "word/_rels/document.xml.rels":
                data = re.sub(
                    rb'Target="media/[^"]+"',
                    b'Target="' + target.encode() + b'" TargetMode="External"',
                    data,
                )
            dst.writestr(info, data)
    return out.getvalue()


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()
            self.wfile.write(_png((0, 0, 200)))

        do_HEAD = do_GET

        def do_OPTIONS(self) -> None:
            requests.append("OPTIONS " + self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


def test_a_picture_linked_to_a_url_is_not_fetched(
    unoserver: Any, http_server: tuple[str, list[str]]
) -> None:
    url, requests = http_server
    pdf = unoserver.converter.to_pdf(linked_image_docx(f"{url}/tracker.png"))
    assert pdf.startswith(b"%PDF")
    assert requests == []
    assert pdf_images(pdf) == []


def test_a_picture_linked_to_a_local_file_is_not_read_into_the_pdf(
    unoserver: Any, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(_png((0, 200, 0)))
    pdf = unoserver.converter.to_pdf(linked_image_docx(secret.as_uri()))
    assert pdf.startswith(b"%PDF")
    assert pdf_images(pdf) == []


def test_libreoffice_runs_without_the_service_s_environment(unoserver: Any) -> None:
    # The converter's environment is built from scratch (CVE-2024-12426 read variables
    # through document URLs): no DOCGEN_* settings, no credentials, nothing from ours.
    pgid = unoserver.process.pid
    seen = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[2]) != pgid:
            continue
        seen += 1
        names = {e.split(b"=", 1)[0].decode() for e in environ if e}
        # Only what UnoserverProcess sets, and what LibreOffice's start script adds itself.
        allowed = {"PATH", "HOME", "LANG", "TMPDIR", "FONTCONFIG_FILE", "PWD", "OLDPWD", "SHLVL"}
        own = {n for n in names if n.startswith(("SAL_", "LD_", "JAVA_", "UNO_", "URE_"))}
        assert names <= allowed | own, sorted(names - allowed - own)
        assert not any(n.startswith(("DOCGEN_", "AWS_", "REDIS")) for n in names)
    assert seen >= 2  # unoserver and soffice.bin at least
