"""The job's extra outputs, read back as a person's tools read them: the PDF bundle (pypdf) and the
ZIP (zipfile, and its raw headers)."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import BooleanObject, Destination

from docgen.bundle import BUNDLE_CREATOR, bundle_pdf, bundle_zip
from docgen.errors import DocgenError
from tests.fakes import blank_pdf

A4 = (595.0, 842.0)
A4_LANDSCAPE = (842.0, 595.0)
B5 = (499.0, 709.0)


def pdf_of(pages: int, size: tuple[float, float], headings: tuple[str, ...] = ()) -> bytes:
    """A PDF of blank pages of one size, with a bookmark per heading on its first page."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(*size)
    for heading in headings:
        writer.add_outline_item(title=heading, page_number=0)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def outline_of(reader: PdfReader) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """Top-level bookmarks as (title, page index, [(child title, page index)])."""
    items: list[tuple[str, int, list[tuple[str, int]]]] = []
    for item in reader.outline:
        if isinstance(item, Destination):
            items.append((item.title or "", reader.get_destination_page_number(item), []))
        else:
            children = items[-1][2]
            for child in item:
                assert isinstance(child, Destination)
                children.append((child.title or "", reader.get_destination_page_number(child)))
    return items


ATTACHMENTS = [
    ("附件1 行业发展分析报告", pdf_of(2, A4)),
    ("附件3 行业人才、技术供需清单", pdf_of(1, A4_LANDSCAPE, ("一、行业人才需求清单",))),
    ("附件5 行业产教融合共同体申报书", pdf_of(3, B5)),
]


def test_the_bundle_has_every_page_in_order_and_a_bookmark_on_each_attachments_first_page() -> None:
    reader = PdfReader(io.BytesIO(bundle_pdf(ATTACHMENTS)))

    assert len(reader.pages) == 2 + 1 + 3
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    assert sizes == [A4, A4, A4_LANDSCAPE, B5, B5, B5]
    assert outline_of(reader) == [
        ("附件1 行业发展分析报告", 0, []),
        # The attachment's own bookmarks stay, beneath its own.
        ("附件3 行业人才、技术供需清单", 2, [("一、行业人才需求清单", 2)]),
        ("附件5 行业产教融合共同体申报书", 3, []),
    ]


def test_a_rotated_page_keeps_its_rotation_in_the_bundle() -> None:
    writer = PdfWriter()
    writer.add_blank_page(*A4).rotate(90)
    rotated = io.BytesIO()
    writer.write(rotated)

    reader = PdfReader(
        io.BytesIO(bundle_pdf([("附件1", blank_pdf()), ("附件3", rotated.getvalue())]))
    )

    assert [page.rotation for page in reader.pages] == [0, 90]


def test_the_bundle_is_titled_and_opens_on_its_bookmarks() -> None:
    reader = PdfReader(io.BytesIO(bundle_pdf(ATTACHMENTS, title="示例共同体 2026年度材料")))

    assert reader.metadata is not None
    assert reader.metadata.title == "示例共同体 2026年度材料"
    assert reader.metadata.creator == BUNDLE_CREATOR
    assert reader.page_mode == "/UseOutlines"
    assert reader.viewer_preferences is not None
    assert reader.viewer_preferences["/DisplayDocTitle"] == BooleanObject(True)


def test_the_same_attachments_give_the_same_bundle_bytes() -> None:
    first = bundle_pdf(ATTACHMENTS, title="材料")

    assert bundle_pdf(ATTACHMENTS, title="材料") == first
    assert bundle_pdf(ATTACHMENTS[::-1], title="材料") != first


def test_the_bundle_declares_the_newest_pdf_version_of_its_attachments() -> None:
    writer = PdfWriter()
    writer.add_blank_page(*A4)
    writer.pdf_header = "%PDF-1.7"
    newer = io.BytesIO()
    writer.write(newer)

    bundle = bundle_pdf([("附件1", blank_pdf()), ("附件2", newer.getvalue())])

    assert bundle.startswith(b"%PDF-1.7\n")


@pytest.mark.parametrize(
    ("parts", "code"),
    [
        ([], "bundle.empty"),
        ([("附件1", b"not a pdf")], "bundle.part_unreadable"),
        ([("附件1", blank_pdf()), ("附件2", pdf_of(0, A4))], "bundle.part_empty"),
    ],
)
def test_a_bundle_that_cannot_be_made_says_why(parts: list[tuple[str, bytes]], code: str) -> None:
    with pytest.raises(DocgenError) as caught:
        bundle_pdf(parts)
    assert caught.value.code == code


FILES = [
    ("附件1-行业发展分析报告.pdf", blank_pdf(2)),
    ("附件1-行业发展分析报告.docx", b"PK\x03\x04 a docx is a zip too" * 50),
    ("附件3-行业人才、技术供需清单.xlsx", bytes(range(256)) * 8),
    ("manifest.json", b"{}"),
]


def local_header_flags_and_name(archive: bytes, info: zipfile.ZipInfo) -> tuple[int, bytes]:
    """The flags and raw name bytes of an entry's local file header (PKWARE APPNOTE 4.3.7)."""
    offset = info.header_offset
    signature, _version, flags = struct.unpack_from("<IHH", archive, offset)
    assert signature == 0x04034B50
    name_length = struct.unpack_from("<H", archive, offset + 26)[0]
    return flags, archive[offset + 30 : offset + 30 + name_length]


def test_the_zip_holds_every_file_in_order_with_its_bytes() -> None:
    archive = bundle_zip(FILES)

    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert z.testzip() is None
        assert [(i.filename, z.read(i)) for i in z.infolist()] == FILES
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}


def test_chinese_names_are_stored_as_utf8_with_the_utf8_flag() -> None:
    archive = bundle_zip(FILES)

    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        for info in z.infolist():
            flags, raw_name = local_header_flags_and_name(archive, info)
            assert raw_name == info.filename.encode("utf-8")
            if info.filename.isascii():
                continue  # ASCII reads the same in every encoding; zipfile leaves the flag off
            assert info.flag_bits & 0x800, "central directory"
            assert flags & 0x800, "local header"


def test_the_same_files_give_the_same_zip_bytes_with_one_fixed_time() -> None:
    archive = bundle_zip(FILES)

    assert bundle_zip(FILES) == archive
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in z.infolist()} == {0o100644}


def test_a_given_time_is_stored_as_beijing_time() -> None:
    noon_utc = dt.datetime(2026, 5, 1, 4, 30, 0, tzinfo=dt.UTC)

    with zipfile.ZipFile(io.BytesIO(bundle_zip(FILES, modified=noon_utc))) as z:
        assert {i.date_time for i in z.infolist()} == {(2026, 5, 1, 12, 30, 0)}


@pytest.mark.parametrize(
    "name", ["", "/etc/passwd", "../附件1.pdf", "a/../../b.pdf", "附件1\\x.pdf", "folder/"]
)
def test_a_name_that_unpacks_badly_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        bundle_zip([(name, b"x")])


def test_a_repeated_name_is_refused() -> None:
    with pytest.raises(ValueError, match="repeated"):
        bundle_zip([("附件1.pdf", b"a"), ("附件1.pdf", b"b")])
