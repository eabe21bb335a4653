"""附件3 行业人才、技术供需清单 as an XLSX workbook, for people who sort, filter and merge lists.

One sheet per list, with the document's columns in the document's order. Written in openpyxl's
write-only mode, which streams rows instead of keeping every cell: the contract allows 20,000 rows
per list.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from collections.abc import Sequence
from typing import Any, Literal, cast
from unicodedata import east_asian_width

import msgspec
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from docgen.bundle import ZIP_EPOCH, bundle_zip
from docgen.errors import DocgenError
from docgen.schema import SupplyDemand

__all__ = [
    "FIRST_DATA_ROW",
    "FORMULA_TRIGGERS",
    "HEADER_ROW",
    "SHEETS",
    "WORKBOOK_CREATOR",
    "Column",
    "Sheet",
    "supply_demand_xlsx",
]

WORKBOOK_CREATOR = "行业产教融合共同体文档服务"

# How a column's values are written. "index" and "count": numbers people can sum and sort;
# "phone": text, so that 0731-… keeps its leading zero and is never shown as 7.31E+10.
Kind = Literal["index", "text", "count", "phone"]


class Column(msgspec.Struct, frozen=True):
    header: str
    field: str  # the row's attribute in docgen.schema; "" for 序号, which is the row's position
    kind: Kind
    width: float  # in Excel's character widths; a Han character takes about two


class Sheet(msgspec.Struct, frozen=True):
    name: str  # the sheet tab
    title: str  # the document's heading of this list
    list_field: str  # the list in docgen.schema.SupplyDemand
    columns: tuple[Column, ...]


_INDEX = Column("序号", "", "index", 6)
_ORGANIZATION = Column("单位名称", "organization", "text", 30)
_CONTACT = (
    Column("联系人", "contact_name", "text", 10),
    # A landline with area code and extension, 0731-22880000-123, fits in 18.
    Column("联系方式", "contact_phone", "phone", 18),
)

# The seed's four lists, with the columns of the 附件3 template (doc_templates/build.py).
SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "人才需求清单",
        "行业人才需求清单",
        "talent_demand",
        (
            _INDEX,
            _ORGANIZATION,
            Column("需求说明", "description", "text", 50),
            Column("需求专业", "major", "text", 22),
            Column("学历层次", "education_level", "text", 12),
            Column("需求人数", "count", "count", 10),
            *_CONTACT,
        ),
    ),
    Sheet(
        "人才供给清单",
        "行业人才供给清单",
        "talent_supply",
        (
            _INDEX,
            _ORGANIZATION,
            Column("人才供给简介", "description", "text", 50),
            Column("专业分布", "majors", "text", 22),
            Column("学历层次", "education_level", "text", 12),
            Column("供给人数", "count", "count", 10),
            *_CONTACT,
        ),
    ),
    Sheet(
        "技术需求清单",
        "行业技术需求清单",
        "technology_demand",
        (_INDEX, _ORGANIZATION, Column("技术服务需求", "need", "text", 70), *_CONTACT),
    ),
    Sheet(
        "技术供给清单",
        "行业技术供给清单",
        "technology_supply",
        (_INDEX, _ORGANIZATION, Column("可提供的技术服务简介", "offer", "text", 70), *_CONTACT),
    ),
)

# Row 1: the list's title; row 2: the community, as the document's "共同体名称：…" line; row 3:
# the column headers. Rows 1–3 stay in view while scrolling and repeat on every printed page.
HEADER_ROW = 3
FIRST_DATA_ROW = HEADER_ROW + 1

# Characters that make a spreadsheet read a typed entry as a formula (OWASP "CSV injection"),
# and their full-width forms, which a Chinese input method types and some spreadsheet programs
# take as the same signs; a quote prefix on a harmless cell costs nothing.
FORMULA_TRIGGERS = frozenset("=+-@\t\r＝＋－＠")

# Height of one line of 11-point text, in points: Excel's default row height; Chinese text
# at 11 points takes 14.25 in Excel and less in LibreOffice, so lines never overlap.
LINE_PT = 15.0
MAX_ROW_PT = 409.0  # Excel's largest row height; a longer text scrolls inside its cell

_THIN = Side(style="thin", color="808080")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_MIDDLE = "center"  # vertical alignment of every cell: a row of wrapped text reads level


def _styles() -> dict[Kind | Literal["header"], NamedStyle]:
    """The header's look and each column kind's, as named styles (Excel's 单元格样式).

    A fresh set per workbook: a named style binds to the workbook it is added to.
    """
    return {
        "header": NamedStyle(
            "附件3 表头",
            font=Font(name="黑体", bold=True, size=11),
            fill=PatternFill(fill_type="solid", start_color="D9E1F2", end_color="D9E1F2"),
            border=_GRID,
            alignment=Alignment(horizontal="center", vertical=_MIDDLE, wrap_text=True),
        ),
        "index": NamedStyle(
            "附件3 序号",
            border=_GRID,
            alignment=Alignment(horizontal="center", vertical=_MIDDLE),
            number_format="0",
        ),
        "text": NamedStyle(
            "附件3 文字",
            border=_GRID,
            alignment=Alignment(horizontal="left", vertical=_MIDDLE, wrap_text=True),
            number_format="@",  # Excel's Text format: an edited cell stays text
        ),
        "count": NamedStyle(
            "附件3 人数",
            border=_GRID,
            alignment=Alignment(horizontal="right", vertical=_MIDDLE),
            number_format="#,##0",  # 412,000, as the document writes counts
        ),
        "phone": NamedStyle(
            "附件3 联系方式",
            border=_GRID,
            alignment=Alignment(horizontal="center", vertical=_MIDDLE),
            number_format="@",  # an edited phone stays text, leading zero and all
        ),
    }


def supply_demand_xlsx(
    section: SupplyDemand,
    community_name: str,
    year: int,
    *,
    created: dt.datetime = ZIP_EPOCH,
) -> bytes:
    """The four lists of 附件3 as an XLSX workbook: one sheet per list, in `SHEETS` order.

    Each sheet: the list's title and a "共同体名称：…（year年度）" line, then the header row
    (`HEADER_ROW`: bold, filled, bordered, centred, wrapped), then one row per entry, numbered
    from 1 (序号) in the order sent. Rows above `FIRST_DATA_ROW` are frozen and repeat on
    printed pages; the header row carries an auto-filter. 序号 and counts are numbers; every
    other value is text, never a formula, and reads exactly as sent.

    Deterministic: the same arguments give the same bytes. `created` (time-zone aware; the
    job's time, say) becomes the workbook's created and modified times and the time of its ZIP
    entries. XLSX wants both times; without `created` they are 1980-01-01 00:00 Beijing time,
    the ZIP format's earliest, which reads as "no date" rather than as the time of the call.

    Raises `DocgenError` `xlsx.illegal_character` when a value holds a control character,
    which XLSX cannot store (the contract refuses them in requests).
    """
    _refuse_control_characters(section)
    workbook = Workbook(write_only=True)
    styles = _styles()
    for style in styles.values():
        workbook.add_named_style(style)
    properties = workbook.properties
    properties.creator = properties.lastModifiedBy = WORKBOOK_CREATOR
    properties.title = f"{community_name} 行业人才、技术供需清单（{year}年度）"
    properties.created = properties.modified = _utc(created)
    for sheet in SHEETS:
        worksheet = workbook.create_sheet(sheet.name)
        rows: Sequence[Any] = getattr(section, sheet.list_field)
        _write_sheet(worksheet, sheet, rows, f"共同体名称：{community_name}（{year}年度）", styles)
    return _save(workbook, created)


def _refuse_control_characters(section: SupplyDemand) -> None:
    """Refuse what openpyxl would refuse half-way through a sheet, before the first row.

    A write-only sheet that stops with an error leaves its temporary file behind until the
    process exits, and its generator complaining when collected.
    """
    for sheet in SHEETS:
        texts = [c for c in sheet.columns if c.kind in ("text", "phone")]
        for number, row in enumerate(getattr(section, sheet.list_field), 1):
            for column in texts:
                if ILLEGAL_CHARACTERS_RE.search(getattr(row, column.field)):
                    raise DocgenError(
                        "xlsx.illegal_character",
                        f"{sheet.title}第{number}行的“{column.header}”含有表格无法保存的控制字符",
                        f"{column.header} in row {number} of {sheet.title} holds a control"
                        " character XLSX cannot store",
                    )


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("created must be time-zone aware")
    # openpyxl writes the time as given with a "Z" appended: it must already be UTC.
    return moment.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)


def _write_sheet(
    worksheet: WriteOnlyWorksheet,
    sheet: Sheet,
    rows: Sequence[Any],
    community_line: str,
    styles: dict[Kind | Literal["header"], NamedStyle],
) -> None:
    columns = sheet.columns
    # A write-only sheet has a normal sheet's layout attributes (openpyxl's Worksheet._setup
    # gives them), which the type stubs leave out; it takes them before its first row.
    layout = cast(Worksheet, worksheet)
    for number, column in enumerate(columns, 1):
        layout.column_dimensions[get_column_letter(number)].width = column.width
    layout.freeze_panes = f"A{FIRST_DATA_ROW}"
    layout.print_title_rows = f"1:{HEADER_ROW}"
    layout.page_setup.orientation = "landscape"  # as the document's 附件3
    layout.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    layout.page_setup.fitToWidth = 1
    layout.page_setup.fitToHeight = 0  # as many pages down as the rows need
    layout.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)

    title = _cell(worksheet, sheet.title)
    title.font = Font(name="黑体", bold=True, size=14)
    layout.row_dimensions[1].height = 2 * LINE_PT
    worksheet.append([title])
    worksheet.append([_cell(worksheet, community_line)])
    worksheet.append([_cell(worksheet, c.header, styles["header"]) for c in columns])
    looks = [styles[c.kind] for c in columns]
    wrapped = [(i, c.width) for i, c in enumerate(columns) if c.kind == "text"]
    for number, row in enumerate(rows, 1):
        values = [number, *(getattr(row, c.field) for c in columns[1:])]
        lines = max(_lines(values[i], width) for i, width in wrapped)
        if lines > 1:
            layout.row_dimensions[HEADER_ROW + number].height = min(lines * LINE_PT, MAX_ROW_PT)
        worksheet.append([_cell(worksheet, v, look) for v, look in zip(values, looks, strict=True)])
    last = f"{get_column_letter(len(columns))}{HEADER_ROW + max(len(rows), 1)}"
    layout.auto_filter.ref = f"A{HEADER_ROW}:{last}"


def _lines(text: str, width: float) -> int:
    """How many lines `text` takes in a column `width` wide, wrapped, as Excel measures it.

    Spreadsheet programs do not all fit a row's height to wrapped text on opening (LibreOffice
    converting this workbook did not; its wrapped lines overlapped the next row), so the
    height is set from this estimate. A Han character or full-width mark is two units wide,
    other characters one; a unit of the column is kept as margin.
    """
    room = max(width - 1, 1)
    total = 0
    for paragraph in text.split("\n"):
        if 2 * len(paragraph) <= room:  # fits even if every character is wide
            total += 1
            continue
        units = sum(2 if east_asian_width(ch) in "WF" else 1 for ch in paragraph)
        total += max(1, math.ceil(units / room))
    return total


def _cell(worksheet: WriteOnlyWorksheet, value: str | int, look: NamedStyle | None = None) -> Cell:
    """A cell of `value` in `look`; a string stays text whatever its first character.

    openpyxl stores a string starting with "=" as a formula; forcing the string type ("s")
    stores it as the text the submitter wrote. A string cell is never evaluated when the file
    opens, but a person editing it (F2, Enter) would have Excel re-read "=…", "+…", "-…" or
    "@…" as a formula, so such cells also get Excel's quote prefix: the mark a typed leading
    apostrophe leaves, which keeps an edited cell text and is never shown. OWASP's advice to
    prepend an apostrophe to the value is for CSV; in a cell it would show, and a phone "-" or
    a description "-…" must read exactly as sent.
    """
    # The named style's array handed to Cell: for 20,000 rows of 人才需求, setting font, border,
    # alignment and format per cell took 14 s (each is hashed to find its index), assigning
    # `cell.style = name` 6.3 s (a lookup by name per cell), this 3.6 s.
    # row=1, column=1 as openpyxl's WriteOnlyCell: the sheet gives the real place on append.
    cell = Cell(
        worksheet, row=1, column=1, value=value, style_array=look.as_tuple() if look else None
    )
    if isinstance(value, str):
        cell.data_type = "s"
        if value[:1] in FORMULA_TRIGGERS:
            cell.quotePrefix = True
    return cell


def _save(workbook: Workbook, created: dt.datetime) -> bytes:
    raw = io.BytesIO()
    # Not workbook.save(): it stamps the time of the call as the modified time.
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    # openpyxl's ZIP entries carry the time of writing; repacked with one fixed time, the same
    # data give the same bytes.
    with zipfile.ZipFile(raw) as archive:
        parts = [(name, archive.read(name)) for name in archive.namelist()]
    return bundle_zip(parts, modified=created)
