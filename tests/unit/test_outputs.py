"""The job's extra outputs, read back as a person's tools read them: the PDF bundle (pypdf), the ZIP
(zipfile, and its raw headers) and the 附件3 workbook (openpyxl)."""

from __future__ import annotations

import datetime as dt
import io
import struct
import time
import zipfile
from typing import Any

import msgspec
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader, PdfWriter
from pypdf.generic import BooleanObject, Destination

from docgen.bundle import BUNDLE_CREATOR, bundle_pdf, bundle_zip
from docgen.errors import DocgenError
from docgen.schema import JobRequest, SupplyDemand
from docgen.spreadsheet import SHEETS, WORKBOOK_CREATOR, supply_demand_xlsx
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


def workbook_of(data: bytes) -> Any:
    return load_workbook(io.BytesIO(data))


HEADERS = {
    "人才需求清单": [
        "序号",
        "单位名称",
        "需求说明",
        "需求专业",
        "学历层次",
        "需求人数",
        "联系人",
        "联系方式",
    ],
    "人才供给清单": [
        "序号",
        "单位名称",
        "人才供给简介",
        "专业分布",
        "学历层次",
        "供给人数",
        "联系人",
        "联系方式",
    ],
    "技术需求清单": ["序号", "单位名称", "技术服务需求", "联系人", "联系方式"],
    "技术供给清单": ["序号", "单位名称", "可提供的技术服务简介", "联系人", "联系方式"],
}


@pytest.fixture(scope="module")
def sample_xlsx(sample_request: JobRequest) -> bytes:
    assert sample_request.supply_demand is not None
    return supply_demand_xlsx(
        sample_request.supply_demand, sample_request.community.name, sample_request.year
    )


def test_the_workbook_has_one_sheet_per_list_with_the_documents_columns(
    sample_xlsx: bytes,
) -> None:
    book = workbook_of(sample_xlsx)

    assert book.sheetnames == list(HEADERS)
    for name, headers in HEADERS.items():
        sheet = book[name]
        assert [cell.value for cell in sheet[3]] == headers
        assert sheet.freeze_panes == "A4"  # title, community and header rows stay in view
        assert sheet.auto_filter.ref.startswith("A3:")


def test_each_sheet_names_its_list_and_the_community(
    sample_request: JobRequest, sample_xlsx: bytes
) -> None:
    sheet = workbook_of(sample_xlsx)["人才需求清单"]

    assert sheet["A1"].value == "行业人才需求清单"
    assert (
        sheet["A2"].value
        == f"共同体名称：{sample_request.community.name}（{sample_request.year}年度）"
    )


def test_the_header_row_is_bold_filled_bordered_centred_and_wrapped(sample_xlsx: bytes) -> None:
    for sheet in workbook_of(sample_xlsx):
        for cell in sheet[3]:
            assert cell.font.b
            assert cell.fill.fill_type == "solid"
            assert cell.fill.fgColor.rgb == "00D9E1F2"
            assert cell.border.left.style == cell.border.bottom.style == "thin"
            assert cell.alignment.horizontal == "center"
            assert cell.alignment.wrap_text


def test_a_row_holds_the_entrys_values_with_counts_as_numbers_and_phones_as_text(
    sample_request: JobRequest, sample_xlsx: bytes
) -> None:
    assert sample_request.supply_demand is not None
    first = sample_request.supply_demand.talent_supply[0]
    book = workbook_of(sample_xlsx)

    row = [cell.value for cell in book["人才供给清单"][4]]

    assert row == [
        1,
        first.organization,
        first.description,
        first.majors,
        first.education_level,
        first.count,
        first.contact_name,
        first.contact_phone,
    ]
    index, count, phone = (book["人才供给清单"][f"{c}4"] for c in "AFH")
    assert (index.data_type, count.data_type) == ("n", "n")
    assert isinstance(count.value, int)
    assert count.number_format == "#,##0"
    assert phone.data_type == "s"
    assert phone.value.startswith("0")  # the sample's landline keeps its area code's zero
    assert phone.number_format == "@"


def test_every_entry_of_every_list_is_a_row(sample_request: JobRequest, sample_xlsx: bytes) -> None:
    assert sample_request.supply_demand is not None
    book = workbook_of(sample_xlsx)

    for spec in SHEETS:
        entries = getattr(sample_request.supply_demand, spec.list_field)
        sheet = book[spec.name]
        assert sheet.max_row == 3 + len(entries)
        assert [sheet.cell(3 + n, 1).value for n in range(1, len(entries) + 1)] == list(
            range(1, len(entries) + 1)
        )
        last = entries[-1]
        assert sheet.cell(sheet.max_row, 2).value == last.organization
        assert sheet.cell(sheet.max_row, len(spec.columns)).value == last.contact_phone


def supply_demand_with(sample_request: JobRequest, **first_rows: dict[str, Any]) -> SupplyDemand:
    """The sample's 附件3 section with fields of each named list's first row replaced."""
    assert sample_request.supply_demand is not None
    section = sample_request.supply_demand
    changed = {
        name: [msgspec.structs.replace(getattr(section, name)[0], **fields)]
        for name, fields in first_rows.items()
    }
    return msgspec.structs.replace(section, **changed)


FORMULA_LIKE = {
    "talent_demand": {"organization": '=HYPERLINK("http://x","点此")', "description": "-"},
    "talent_supply": {"description": "- 应届毕业生", "contact_phone": "-"},
    "technology_demand": {"need": "@SUM(A1:A9)", "contact_phone": "+8613800000000"},
    "technology_supply": {"offer": "=cmd|' /C calc'!A0", "contact_name": "＝1+1"},
}


def test_a_value_that_looks_like_a_formula_stays_the_text_sent(sample_request: JobRequest) -> None:
    data = supply_demand_xlsx(supply_demand_with(sample_request, **FORMULA_LIKE), "共同体", 2026)
    book = workbook_of(data)

    for spec in SHEETS:
        sheet = book[spec.name]
        for field, sent in FORMULA_LIKE[spec.list_field].items():
            column = next(i for i, c in enumerate(spec.columns, 1) if c.field == field)
            cell = sheet.cell(4, column)
            assert cell.value == sent  # reads exactly as written: no apostrophe, nothing dropped
            assert cell.data_type == "s"
            assert cell.quotePrefix  # an edited cell stays text
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and not any(b"<f>" in xml or b"<f " in xml for xml in sheets)


def test_plain_text_carries_no_quote_prefix(sample_xlsx: bytes) -> None:
    sheet = workbook_of(sample_xlsx)["人才需求清单"]

    assert not any(cell.quotePrefix for cell in sheet[4])


def test_the_same_data_give_the_same_workbook_bytes_and_fixed_properties(
    sample_request: JobRequest, sample_xlsx: bytes
) -> None:
    assert sample_request.supply_demand is not None
    section, name = sample_request.supply_demand, sample_request.community.name
    made_at = dt.datetime(2026, 5, 1, 10, 0, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    assert supply_demand_xlsx(section, name, sample_request.year) == sample_xlsx
    dated = supply_demand_xlsx(section, name, sample_request.year, created=made_at)
    assert supply_demand_xlsx(section, name, sample_request.year, created=made_at) == dated
    properties = workbook_of(dated).properties
    assert properties.creator == WORKBOOK_CREATOR
    assert properties.created == properties.modified == dt.datetime(2026, 5, 1, 2, 0, 0)
    assert name in properties.title


def test_a_control_character_is_refused_with_the_row_it_is_in(sample_request: JobRequest) -> None:
    section = supply_demand_with(sample_request, technology_supply={"offer": "可提供\x07检测服务"})

    with pytest.raises(DocgenError) as caught:
        supply_demand_xlsx(section, "共同体", 2026)
    assert caught.value.code == "xlsx.illegal_character"
    assert "第1行" in caught.value.message


def test_empty_lists_give_sheets_with_headers_only(sample_request: JobRequest) -> None:
    empty = SupplyDemand(
        talent_demand=[], talent_supply=[], technology_demand=[], technology_supply=[]
    )

    book = workbook_of(supply_demand_xlsx(empty, "共同体", 2026))

    assert [book[name].max_row for name in HEADERS] == [3, 3, 3, 3]


@pytest.mark.slow
def test_a_list_of_twenty_thousand_rows_is_written_in_seconds(sample_request: JobRequest) -> None:
    """The contract's longest list, in the widest sheet; the lists are written independently."""
    assert sample_request.supply_demand is not None
    rows = sample_request.supply_demand.talent_demand
    longest = SupplyDemand(
        talent_demand=[rows[i % len(rows)] for i in range(20_000)],
        talent_supply=[],
        technology_demand=[],
        technology_supply=[],
    )

    started = time.perf_counter()
    data = supply_demand_xlsx(longest, "共同体", 2026)
    seconds = time.perf_counter() - started

    # Measured at 3.5–5 s on the 2 shared cores of a development machine; the bound catches a
    # slide into work that grows faster than the rows, not a slow day.
    assert seconds < 30, seconds
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = z.read("xl/worksheets/sheet1.xml")
    assert b'<row r="20003"' in xml  # title, community, header, then 20,000 entries
    assert b'<row r="20004"' not in xml
