"""Reading a PDF's text the way a reviewer does: values in table cells may wrap onto lines."""

from __future__ import annotations

import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from functools import cache

_SPACE = re.compile(r"\s+")


def pdf_lines(pdf: bytes) -> list[str]:
    """Every text line of the PDF (poppler's `pdftotext -bbox-layout`), whitespace removed."""
    raw = subprocess.run(
        ["pdftotext", "-bbox-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout
    # The <head> repeats the PDF's metadata, and poppler writes characters beyond the BMP there
    # as two encoded surrogates (invalid UTF-8); only the <body> holds the page text.
    head_end = raw.find(b"</head>")
    if head_end >= 0:
        raw = b"<html>" + raw[head_end + len(b"</head>") :]
    xhtml = raw.decode()
    xhtml = re.sub(r"<!DOCTYPE[^>]*>", "", xhtml).replace(
        'xmlns="http://www.w3.org/1999/xhtml"', ""
    )
    root = ET.fromstring(xhtml)
    return ["".join(w.text or "" for w in line.iter("word")) for line in root.iter("line")]


def missing_values(pdf: bytes, values: list[str]) -> list[str]:
    """The values not readable in the PDF.

    A value is readable when it stands within one line, or when it is cut into pieces that are
    whole lines of the PDF, in order — as a table cell wraps it.
    """
    lines = pdf_lines(pdf)
    whole = "\n".join(lines)
    line_set = frozenset(lines)

    def wrapped(value: str) -> bool:
        @cache
        def from_(i: int) -> bool:
            if i == len(value):
                return True
            return any(value[i:j] in line_set and from_(j) for j in range(i + 1, len(value) + 1))

        return from_(0)

    out = []
    for value in values:
        compact = _SPACE.sub("", value)
        if compact not in whole and not wrapped(compact):
            out.append(value)
    return out


def pdf_images(pdf: bytes) -> list[str]:
    """poppler's `pdfimages -list` rows, one per picture: page num type width height color comp
    bpc enc …, where enc is "image" for Flate and "jpeg" for JPEG."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:  # pdfimages reads files only
        file.write(pdf)
        file.flush()
        listing = subprocess.run(
            ["pdfimages", "-list", file.name], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    return listing[2:]
