"""How many lines a piece of text takes in LibreOffice, predicted from the fonts' own metrics.

The long-list path (docgen.longlists) packs table rows into pages before LibreOffice sees them, so
it must know each row's height without laying it out. A row's height is its tallest cell's
lines × the line height; both come from the faces fontconfig resolves the templates' official
names to (docgen.fonts), read with fontTools:

- line height at single spacing: the face's hhea ascent + descent (+ line gap), which is what
  LibreOffice uses on Linux (Noto Serif CJK SC at 10.5 pt: 15.09 pt, measured in its PDFs);
- advance widths from `hmtx` through the face's cmap; characters of Asian script use the East
  Asian face, the others the Latin face (weak characters — digits, spaces, most punctuation —
  take the script of the character before them, as LibreOffice's script runs do);
- line breaks as LibreOffice makes them for Chinese (ICU): between any two Han characters, never
  before closing or after opening punctuation, never inside a run of Latin letters and digits
  unless that run is wider than the line; a closing comma or full stop that does not fit hangs
  into the margin (LibreOffice's "hanging punctuation", on for DOCX by default).

A prediction can be off for text this model does not cover (fallback faces, combining marks,
ligatures); the caller keeps a safety margin and checks LibreOffice's page count afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, ClassVar

import msgspec

from docgen.fonts import OFFICIAL_FACES
from docgen.glyphs import resolve_font

__all__ = ["Face", "FaceMetrics", "Typesetter", "is_asian"]

# Unicode blocks LibreOffice treats as Asian script (CJK, kana, hangul, CJK punctuation and
# full-width forms); everything in them is set in the East Asian face.
_ASIAN = (
    (0x1100, 0x11FF),
    (0x2E80, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x3FFFF),
)
# Kinsoku (GB/T 15834 and ICU's line-break classes CL/IS/EX and OP, the ones that matter here).
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕〉’”…—·%,.;:?!)]}")
_NO_LINE_END = frozenset("（《「『【〔〈‘“([{")
_HANGING = frozenset("，。、,.")


def is_asian(ch: str) -> bool:
    cp = ord(ch)
    if cp < 0x1100:  # Latin, Greek, Cyrillic…: most of what is not Chinese
        return False
    if 0x4E00 <= cp <= 0x9FFF:  # the common Han block: most of what is
        return True
    return any(low <= cp <= high for low, high in _ASIAN)


def _is_weak(ch: str) -> bool:
    """Characters with no script of their own (digits, spaces, punctuation, symbols)."""
    return not is_asian(ch) and not ch.isalpha()


class FaceMetrics(msgspec.Struct, frozen=True):
    """What the typesetter needs of one face, in units of its em."""

    line_height_em: float  # ascent + descent + line gap
    advances_em: dict[str, float]  # the characters the face has
    default_em: float  # for characters it lacks (a fallback face draws them)


class Face:
    """One font family's metrics, read on first use: ≈0.5 s for a CJK face (its cmap and
    hmtx), so faces are shared per process (`Face.of`)."""

    _known: ClassVar[dict[tuple[str, str | None], Face]] = {}
    _known_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def of(cls, family: str, fontconfig_file: str | None) -> Face:
        with cls._known_lock:
            key = (family, fontconfig_file)
            if key not in cls._known:
                cls._known[key] = cls(family, fontconfig_file)
            return cls._known[key]

    def __init__(self, family: str, fontconfig_file: str | None) -> None:
        self.family = family
        self._fontconfig_file = fontconfig_file
        self._metrics: FaceMetrics | None = None
        self._lock = threading.Lock()

    @property
    def metrics(self) -> FaceMetrics:
        if self._metrics is None:
            with self._lock:
                if self._metrics is None:
                    self._metrics = self._read()
        return self._metrics

    def _read(self) -> FaceMetrics:
        from fontTools.ttLib import TTFont

        font_file = resolve_font(self.family, self._fontconfig_file)
        if font_file is None:
            raise LookupError(f"font family {self.family!r} is not installed")
        font: Any = TTFont(font_file.path, fontNumber=font_file.index, lazy=True)
        upm = font["head"].unitsPerEm
        hhea = font["hhea"]
        hmtx = font["hmtx"].metrics
        advances = {chr(cp): hmtx[name][0] / upm for cp, name in font.getBestCmap().items()}
        return FaceMetrics(
            line_height_em=(hhea.ascent - hhea.descent + hhea.lineGap) / upm,
            advances_em=advances,
            default_em=1.0,
        )


class Typesetter:
    """Lines and heights of single-spaced paragraphs in one East Asian + one Latin face."""

    def __init__(self, east_asian: Face, latin: Face) -> None:
        self.east_asian = east_asian
        self.latin = latin
        # Lists repeat their values (units, majors, levels): each text is measured once.
        self.lines = lru_cache(maxsize=65536)(self._lines)  # type: ignore[method-assign]

    @classmethod
    def for_official_fonts(
        cls, east_asian: str, latin: str, fontconfig_file: str | None
    ) -> Typesetter:
        """The faces the official names (as the templates write them) resolve to."""
        return cls(
            Face.of(OFFICIAL_FACES[east_asian][0], fontconfig_file),
            Face.of(OFFICIAL_FACES[latin][0], fontconfig_file),
        )

    def line_height_pt(self, text: str, size_pt: float) -> float:
        """Single spacing: the tallest face the text uses (the East Asian one for empty text)."""
        faces = {True} if not text or any(map(is_asian, text)) else set(self._scripts(text))
        em = max(
            (self.east_asian if asian else self.latin).metrics.line_height_em for asian in faces
        )
        return em * size_pt

    def lines(self, text: str, size_pt: float, width_pt: float) -> int:
        """How many lines `text` takes in a paragraph `width_pt` wide (at least one)."""
        return self._lines(text, size_pt, width_pt)

    def _lines(self, text: str, size_pt: float, width_pt: float) -> int:
        """How many lines `text` takes in a paragraph `width_pt` wide (at least one)."""
        count = 0
        for paragraph in text.split("\n"):
            count += self._lines_of(paragraph, size_pt, width_pt)
        return max(count, 1)

    # -- internals ------------------------------------------------------------------------------

    @staticmethod
    def _scripts(text: str) -> Iterator[bool]:
        """Whether each character is set in the East Asian face (weak ones follow the script
        before them; weak ones at the start follow the first strong one)."""
        first_strong = next((is_asian(ch) for ch in text if not _is_weak(ch)), False)
        current = first_strong
        for ch in text:
            if not _is_weak(ch):
                current = is_asian(ch)
            yield current

    def _widths(self, text: str, size_pt: float) -> list[float]:
        east, latin = self.east_asian.metrics, self.latin.metrics
        out = []
        for ch, asian in zip(text, self._scripts(text), strict=True):
            face = east if asian else latin
            em = face.advances_em.get(ch)
            if em is None:  # drawn by a fallback face: assume a full em
                em = face.default_em if asian or is_asian(ch) else 0.6
            out.append(em * size_pt)
        return out

    def _lines_of(self, text: str, size_pt: float, width_pt: float) -> int:
        if not text:
            return 1
        widths = self._widths(text, size_pt)
        lines, used = 1, 0.0
        for start, end in _units(text):
            unit = sum(widths[start:end])
            if used + unit <= width_pt + 1e-6:
                used += unit
                continue
            if used > 0 and _hangs(text, start, end, used, widths, width_pt):
                used = width_pt  # the punctuation hangs; the next unit starts a new line
                continue
            if used > 0:
                lines, used = lines + 1, 0.0
            if unit <= width_pt + 1e-6:
                used = unit
                continue
            for w in widths[start:end]:  # a unit wider than the line is cut anywhere
                if used + w > width_pt + 1e-6 and used > 0:
                    lines, used = lines + 1, 0.0
                used += w
        return lines


def _hangs(
    text: str, start: int, end: int, used: float, widths: list[float], width_pt: float
) -> bool:
    """A unit that is a character before closing punctuation: the punctuation hangs when the
    character itself fits."""
    if end - start < 2 or text[end - 1] not in _HANGING:
        return False
    return used + sum(widths[start : end - 1]) <= width_pt + 1e-6


def _units(text: str) -> Iterator[tuple[int, int]]:
    """Unbreakable pieces of `text`: between them a line may break."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or _break_between(text[i - 1], text[i]):
            yield start, i
            start = i


def _break_between(before: str, after: str) -> bool:
    if after in _NO_LINE_START or before in _NO_LINE_END:
        return False
    if before.isspace():
        return not after.isspace()
    if after.isspace():
        return False
    if is_asian(before) or is_asian(after):
        return True
    return before == "-"  # Latin words and numbers hold together; a hyphen may end a line
