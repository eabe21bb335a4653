"""The job's bundles: one PDF of every rendered attachment, and one ZIP of every file.

Pure functions from bytes to bytes; storing and linking the bundles is the caller's business.
Both are deterministic: the same parts in the same order give the same bytes (on the same pypdf
and zlib versions), so a bundle's checksum can name it like any other output (DESIGN §5.4).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import BooleanObject, NameObject

from docgen.errors import DocgenError

__all__ = ["BUNDLE_CREATOR", "BUNDLE_TITLE", "ZIP_EPOCH", "bundle_pdf", "bundle_zip"]

BUNDLE_CREATOR = "行业产教融合共同体文档服务"
BUNDLE_TITLE = "行业产教融合共同体材料"
# China has one time zone and no daylight saving; ZIP entries carry wall-clock time only, so the
# time people should see in their archive tool is Beijing time.
CHINA_TIME = dt.timezone(dt.timedelta(hours=8), "CST")
# The earliest time a ZIP entry can hold, and what archive tools read as "no date given".
ZIP_EPOCH = dt.datetime(1980, 1, 1, tzinfo=CHINA_TIME)


def bundle_pdf(parts: Sequence[tuple[str, bytes]], *, title: str = BUNDLE_TITLE) -> bytes:
    """One PDF of `parts` in the given order, with one top-level bookmark per part.

    `parts` are `(bookmark title, PDF bytes)`, e.g. `("附件1 行业发展分析报告", pdf)`. Each part's
    bookmark points at its first page; the part's own bookmarks (LibreOffice exports headings as
    bookmarks) are kept beneath it. Pages keep their size and orientation (附件3 is landscape).
    `title` becomes the document title, which viewers show instead of the file name, and the
    viewer opens with the bookmarks shown.

    Deterministic: no creation date and no random file identifier (/ID, optional outside
    encryption and PDF/A) are written. The bundle is not PDF/A even if the parts are: merging
    drops each part's XMP metadata and output intent.

    Raises `DocgenError` (`bundle.empty`, `bundle.part_unreadable`, `bundle.part_empty`).
    """
    if not parts:
        raise DocgenError("bundle.empty", "没有可合并的文档", "There are no documents to bundle")
    writer = PdfWriter()
    for name, pdf in parts:
        reader = _read_part(name, pdf)
        # import_outline keeps the part's bookmarks, nested under the one named here.
        writer.append(reader, outline_item=name, import_outline=True)
    writer.add_metadata({"/Title": title, "/Creator": BUNDLE_CREATOR})
    # Through the dictionary: pypdf's typed property for this flag does not type-check.
    writer.create_viewer_preferences()[NameObject("/DisplayDocTitle")] = BooleanObject(True)
    writer.page_mode = "/UseOutlines"
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _read_part(name: str, pdf: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        pages = len(reader.pages)
    except PyPdfError as exc:
        raise DocgenError(
            "bundle.part_unreadable",
            f"无法读取文档「{name}」的 PDF",
            f"The PDF of {name!r} cannot be read",
            detail=str(exc),
        ) from exc
    if pages == 0:
        # A bookmark needs a first page to point at.
        raise DocgenError(
            "bundle.part_empty", f"文档「{name}」没有页面", f"The PDF of {name!r} has no pages"
        )
    return reader


def bundle_zip(files: Sequence[tuple[str, bytes]], *, modified: dt.datetime = ZIP_EPOCH) -> bytes:
    """A deflated ZIP of `files` (`(name in the archive, bytes)`), in the given order.

    Every entry carries the same time, `modified` (time-zone aware; stored as Beijing wall-clock
    time, since ZIP has no time zones), and the same Unix permissions, so the same files give the
    same bytes. Names that are not ASCII are stored as UTF-8 with the UTF-8 flag (bit 11) set,
    which Windows Explorer and macOS Archive Utility honour; Python's zipfile sets it itself.

    Names are paths inside the archive: `/` separates folders; empty, absolute, `..`, backslash
    and repeated names are refused with `ValueError` (they unpack differently, or dangerously,
    on different systems).
    """
    if modified.tzinfo is None:
        raise ValueError("modified must be time-zone aware")
    wall_clock = modified.astimezone(CHINA_TIME).timetuple()[:6]
    seen: set[str] = set()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, data in files:
            _check_name(name, seen)
            entry = zipfile.ZipInfo(name, date_time=wall_clock)
            entry.compress_type = zipfile.ZIP_DEFLATED
            # ZipInfo picks the creating system from the platform it runs on; fix it to Unix with
            # rw-r--r-- so the bytes do not depend on where the bundle was made.
            entry.create_system = 3
            entry.external_attr = 0o100644 << 16
            archive.writestr(entry, data, compresslevel=6)
    return out.getvalue()


def _check_name(name: str, seen: set[str]) -> None:
    if not name or name.startswith("/") or "\\" in name or ".." in name.split("/"):
        raise ValueError(f"unsafe name in archive: {name!r}")
    if name.endswith("/"):
        raise ValueError(f"a file name cannot end with '/': {name!r}")
    if name in seen:
        raise ValueError(f"name repeated in archive: {name!r}")
    seen.add(name)
