"""Which characters the documents' fonts can draw.

Emoji and CJK Extension-B characters vanish from a LibreOffice PDF without an error or a box when
no installed font has them (DESIGN §4). A submitter must hear about such a character before the
document is stamped, so every string is checked against the character maps (`cmap`) of the fonts
the documents use, resolved through the project's fontconfig file the way LibreOffice resolves
them.

Loading reads each font's cmap once, on first use (≈1 s for the six fonts here), and keeps the
union as a set of characters: the check itself is one set difference per string, in C.

When a family is not installed, the check goes on with the fonts that are (it then reports more,
never less, than the PDF will miss, since LibreOffice cannot use a missing font either). When no
font can be read at all (no fontconfig, no fonts), `available` is False: callers say that the
characters were not checked instead of claiming they are fine.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import unicodedata
from typing import Any, Protocol

import msgspec

from docgen.fonts import OFFICIAL_FACES

__all__ = ["FONT_FAMILIES", "FontCoverage", "FontFile", "GlyphCoverage", "resolve_font"]

log = logging.getLogger("docgen.glyphs")

# The faces the official names map to (docgen.fonts, the one list), then the fallbacks that
# LibreOffice reaches by coverage for CJK Extension A/B (HanaMin A/B).
FONT_FAMILIES: tuple[str, ...] = (
    *dict.fromkeys(family for family, _ in OFFICIAL_FACES.values()),
    "HanaMinA",
    "HanaMinB",
)

_FC_TIMEOUT_S = 10


class GlyphCoverage(Protocol):
    @property
    def available(self) -> bool:
        """False when no font could be read: nothing was checked."""
        ...

    def undrawable(self, text: str) -> list[tuple[int, str]]:
        """(1-based position, character) of the first occurrence of each character no font has."""
        ...


class FontFile(msgspec.Struct, frozen=True):
    family: str
    path: str
    index: int  # face index in a .ttc collection, as fontconfig reports it


def resolve_font(family: str, fontconfig_file: str | None) -> FontFile | None:
    """The file fontconfig picks for `family`, or None when that family is not installed.

    `fc-match` always answers with some font; the answer counts only if it is the family asked for.
    """
    env = dict(os.environ)
    if fontconfig_file:
        # fontconfig resolves a relative FONTCONFIG_FILE against /etc/fonts, not the cwd.
        env["FONTCONFIG_FILE"] = os.path.abspath(fontconfig_file)
    try:
        done = subprocess.run(
            ["fc-match", "-f", "%{family}\n%{file}\n%{index}", f"{family}:style=Regular"],
            capture_output=True,
            text=True,
            env=env,
            timeout=_FC_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("glyphs.fc_match_failed family=%s error=%s", family, exc)
        return None
    lines = done.stdout.split("\n")
    if len(lines) < 3 or family not in lines[0].split(","):
        return None
    return FontFile(family, lines[1], int(lines[2] or 0))


def _cmap(font: FontFile) -> set[int]:
    from fontTools.ttLib import TTCollection, TTFont

    face: Any
    if font.path.lower().endswith((".ttc", ".otc")):
        faces = TTCollection(font.path, lazy=True).fonts
        # The face whose family name is the one asked for (Noto CJK: JP, KR, SC, TC, HK faces).
        face = next(
            (
                f
                for f in faces
                if font.family in (f["name"].getDebugName(1), f["name"].getDebugName(16))
            ),
            faces[font.index] if font.index < len(faces) else faces[0],
        )
    else:
        face = TTFont(font.path, lazy=True)
    return set(face.getBestCmap())


def _needs_no_glyph(ch: str) -> bool:
    """Characters that are not drawn: spaces and line breaks, format characters (zero-width
    joiners, soft hyphens) and variation selectors, which only choose among other glyphs."""
    if ch.isspace():
        return True
    cp = ord(ch)
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:
        return True
    return unicodedata.category(ch) in ("Cf", "Cc", "Cs")  # Cc, Cs: refused as errors anyway


class FontCoverage:
    """The union of the cmaps of `families`, as installed and resolved by `fontconfig_file`."""

    def __init__(
        self, fontconfig_file: str | None, families: tuple[str, ...] = FONT_FAMILIES
    ) -> None:
        self._fontconfig_file = fontconfig_file
        self._families = families
        self._lock = threading.Lock()
        # Characters, not code points: `set(text) - covered` then runs in C.
        self._covered: frozenset[str] | None = None
        self._fonts: tuple[FontFile, ...] = ()

    def _load(self) -> frozenset[str]:
        if self._covered is not None:  # loaded: no lock needed to read a frozen set
            return self._covered
        with self._lock:
            if self._covered is not None:
                return self._covered
            covered: set[int] = set()
            fonts = []
            for family in self._families:
                font = resolve_font(family, self._fontconfig_file)
                if font is None:
                    log.warning("glyphs.font_missing family=%s", family)
                    continue
                try:
                    covered |= _cmap(font)
                except Exception as exc:  # a damaged or unreadable file: go on without it
                    log.warning("glyphs.font_unreadable path=%s error=%r", font.path, exc)
                    continue
                fonts.append(font)
            self._fonts = tuple(fonts)
            self._covered = frozenset(map(chr, covered))
            log.info(
                "glyphs.loaded fonts=%s code_points=%d",
                ",".join(f.family for f in fonts) or "none",
                len(covered),
            )
            return self._covered

    @property
    def fonts(self) -> tuple[FontFile, ...]:
        """The fonts read (loads them on first use)."""
        self._load()
        return self._fonts

    @property
    def available(self) -> bool:
        return bool(self._load())

    def undrawable(self, text: str) -> list[tuple[int, str]]:
        covered = self._load()
        if not covered:
            return []
        missing = [ch for ch in set(text).difference(covered) if not _needs_no_glyph(ch)]
        return sorted((text.index(ch) + 1, ch) for ch in missing)
