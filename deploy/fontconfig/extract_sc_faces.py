"""Write the Simplified Chinese faces of Debian's Noto CJK collections as standalone fonts.

Why: Debian ships Noto Serif/Sans CJK only as collections (.ttc) whose faces (JP, KR, SC, TC, HK)
share one CFF table, and that table names its glyph groups `NotoSerifCJKjp-…`. LibreOffice names
an embedded font after those groups, so a PDF set in the SC face lists `NotoSerifCJKjp-…` in
pdffonts: a reviewer cannot tell the mainland forms were used, and neither can a test. A
standalone SC face whose CFF names say `sc` makes the PDF say what it uses; `fonts.conf` then
rejects the collections, so no JP/KR/TC face can be picked at all.

The copy is raw (tables are not decoded): the SC face's own tables, with `CJKjp-` renamed to
`CJKsc-` inside the CFF table — equal lengths, so every offset stays valid — and the checksums
recomputed. It takes a second per face; decoding and re-encoding the CFF with fontTools takes
over a minute.

Usage: python extract_sc_faces.py OUT_DIR
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

NOTO = Path("/usr/share/fonts/opentype/noto")
COLLECTIONS = (
    "NotoSerifCJK-Regular.ttc",
    "NotoSerifCJK-Bold.ttc",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJK-Bold.ttc",
)
_HEAD_MAGIC = 0xB1B0AFBA  # OpenType: head.checkSumAdjustment = magic - sum(file)


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(padded) // 4}L", padded)) & 0xFFFFFFFF


def _faces(data: bytes) -> list[int]:
    tag, _, count = struct.unpack(">4sLL", data[:12])
    if tag != b"ttcf":
        raise ValueError("not a font collection")
    return list(struct.unpack(f">{count}L", data[12 : 12 + 4 * count]))


def _tables(data: bytes, base: int) -> dict[bytes, bytes]:
    (count,) = struct.unpack(">H", data[base + 4 : base + 6])
    tables = {}
    for i in range(count):
        entry = base + 12 + 16 * i
        tag, _, offset, length = struct.unpack(">4sLLL", data[entry : entry + 16])
        tables[tag] = data[offset : offset + length]
    return tables


def _postscript_name(name_table: bytes) -> str:
    """Name ID 6 (PostScript name), from the Windows Unicode record."""
    _, count, strings = struct.unpack(">HHH", name_table[:6])
    for i in range(count):
        platform, _, _, name_id, length, offset = struct.unpack(
            ">6H", name_table[6 + 12 * i : 18 + 12 * i]
        )
        if platform == 3 and name_id == 6:
            raw = name_table[strings + offset : strings + offset + length]
            return raw.decode("utf-16-be")
    raise ValueError("no PostScript name")


def _sfnt(sfnt_version: bytes, tables: dict[bytes, bytes]) -> bytes:
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(
        ">4sHHHH", sfnt_version, count, power * 16, power.bit_length() - 1, count * 16 - power * 16
    )
    directory, body = b"", b""
    offset = 12 + 16 * count
    head = bytearray(tables[b"head"])
    head[8:12] = b"\0\0\0\0"
    tables = {**tables, b"head": bytes(head)}
    head_at = 0
    for tag in sorted(tables):
        table = tables[tag]
        directory += struct.pack(">4sLLL", tag, _checksum(table), offset, len(table))
        body += table + b"\0" * (-len(table) % 4)
        head_at = offset if tag == b"head" else head_at
        offset += len(table) + (-len(table) % 4)
    font = bytearray(header + directory + body)
    adjustment = (_HEAD_MAGIC - _checksum(bytes(font))) & 0xFFFFFFFF
    font[head_at + 8 : head_at + 12] = struct.pack(">L", adjustment)
    return bytes(font)


def extract(collection: Path, out_dir: Path) -> Path:
    data = collection.read_bytes()
    for base in _faces(data):
        tables = _tables(data, base)
        name = _postscript_name(tables[b"name"])
        if "CJKsc-" in name and "Mono" not in name:
            tables[b"CFF "] = tables[b"CFF "].replace(b"CJKjp-", b"CJKsc-")
            out = out_dir / f"{name}.otf"
            out.write_bytes(_sfnt(data[base : base + 4], tables))
            return out
    raise ValueError(f"{collection}: no Simplified Chinese face")


def main() -> None:
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in COLLECTIONS:
        print("wrote", extract(NOTO / name, out_dir))


if __name__ == "__main__":
    main()
