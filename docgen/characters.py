"""Characters that must not reach a document (errors) and those it cannot show (warnings).

Control characters other than `\\n` and `\\t` are silently stripped by docxtpl and a lone surrogate
truncates the document (DESIGN §4); non-characters are "permanently reserved for internal use" by
Unicode and mean the text was damaged on its way here. Each is refused with the field's path, the
position of the character and its code point, so that the submitter can find it.

Characters the documents' fonts have no glyph for would vanish from the PDF; they are reported as
warnings, as are private-use characters (whatever a font draws there is not what the submitter
saw) and emoji (only black-and-white glyphs exist for some, and they rarely belong in an official
form) — never a silent drop.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from docgen.errors import FieldProblem
from docgen.findings import code_point, field, index
from docgen.glyphs import GlyphCoverage

__all__ = ["character_problems", "drawing_problems", "forbidden_characters"]


def _forbidden_pattern() -> re.Pattern[str]:
    controls = r"\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 and C1 except \t (09) and \n (0a)
    surrogates = r"\ud800-\udfff"
    # U+FDD0..U+FDEF, and the last two code points of every plane (U+FFFE, U+FFFF, U+1FFFE, …).
    noncharacters = r"\ufdd0-\ufdef" + "".join(
        f"\\U{plane + 0xFFFE:08X}\\U{plane + 0xFFFF:08X}" for plane in range(0, 0x110000, 0x10000)
    )
    return re.compile(f"[{controls}{surrogates}{noncharacters}]")


_FORBIDDEN = _forbidden_pattern()


def _kind(ch: str) -> str:
    cp = ord(ch)
    if 0xD800 <= cp <= 0xDFFF:
        return "surrogate"
    if cp <= 0x9F:
        return "control"
    return "noncharacter"


def forbidden_characters(text: str) -> list[tuple[int, str]]:
    """(1-based position, character) of the first occurrence of each forbidden character."""
    seen: dict[str, int] = {}
    for match in _FORBIDDEN.finditer(text):
        seen.setdefault(match.group(), match.start() + 1)
    return [(position, ch) for ch, position in seen.items()]


def _problem(path: str, position: int, ch: str) -> FieldProblem:
    cp = code_point(ch)
    kind = _kind(ch)
    if kind == "control":
        return FieldProblem(
            path,
            "char.control",
            f"第 {position} 个字符是控制字符 {cp}，无法打印，请删除（换行请用 \\n）",
            f"Character {position} is the control character {cp}, which cannot be printed; "
            "remove it (use \\n for line breaks)",
        )
    if kind == "surrogate":
        return FieldProblem(
            path,
            "char.surrogate",
            f"第 {position} 个字符是不成对的代理码位 {cp}，不是有效字符，请检查文本编码",
            f"Character {position} is a lone surrogate {cp}, not a valid character; "
            "check the text's encoding",
        )
    return FieldProblem(
        path,
        "char.noncharacter",
        f"第 {position} 个字符 {cp} 是 Unicode 非字符，不能使用，请删除",
        f"Character {position} is the Unicode non-character {cp}; remove it",
    )


def character_problems(value: Any, path: str = "") -> Iterator[FieldProblem]:
    """Every forbidden character in the strings of a decoded JSON value, with its path."""
    if isinstance(value, str):
        if _FORBIDDEN.search(value):
            for position, ch in forbidden_characters(value):
                yield _problem(path, position, ch)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from character_problems(item, field(path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from character_problems(item, index(path, i))


_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
# The emoji and pictograph blocks of plane 1 (U+1F000–U+1FAFF: mahjong tiles to symbols and
# pictographs extended-A). Symbols of the BMP (★ ✓ ① ☎) are ordinary in Chinese documents.
_EMOJI = re.compile("[\U0001f000-\U0001faff]")


def _drawing_problem(path: str, position: int, ch: str, code: str) -> FieldProblem:
    where_zh = f"「{ch}」（{code_point(ch)}，第 {position} 个字符）"
    where_en = f"'{ch}' ({code_point(ch)}, character {position})"
    if code == "char.private_use":
        return FieldProblem(
            path,
            code,
            f"{where_zh}是私用区字符，没有公认的字形，PDF 中显示的可能不是您输入的字",
            f"{where_en} is a private-use character with no agreed glyph: the PDF may not show "
            "what you typed",
        )
    if code == "char.emoji":
        return FieldProblem(
            path,
            code,
            f"{where_zh}是表情符号：PDF 中只能显示为黑白字形或无法显示，正式文件中不宜使用",
            f"{where_en} is an emoji: the PDF shows it in black and white or not at all, and "
            "it rarely belongs in an official form",
        )
    return FieldProblem(
        path,
        code,
        f"{where_zh}在文档字体中没有字形，PDF 中无法显示，请改用其他写法",
        f"No font of the documents has a glyph for {where_en}: the PDF cannot show it",
    )


def _string_drawing_problems(text: str, glyphs: GlyphCoverage, path: str) -> list[FieldProblem]:
    if text.isascii():  # codes, phones, dates: Liberation Serif has every printable ASCII glyph
        return []
    found: dict[str, tuple[int, str]] = {}
    for position, ch in glyphs.undrawable(text):
        found[ch] = (position, "char.no_glyph")
    for pattern, code in ((_PRIVATE_USE, "char.private_use"), (_EMOJI, "char.emoji")):
        for match in pattern.finditer(text):
            ch = match.group()
            if ch not in found or found[ch][1] == "char.no_glyph":
                found[ch] = (found.get(ch, (match.start() + 1, ""))[0], code)
    return [
        _drawing_problem(path, position, ch, code)
        for ch, (position, code) in sorted(found.items(), key=lambda item: item[1][0])
        if not _FORBIDDEN.match(ch)  # already an error
    ]


def drawing_problems(value: Any, glyphs: GlyphCoverage, path: str = "") -> Iterator[FieldProblem]:
    """Warnings for the characters of a decoded JSON value that a PDF would not show as typed."""
    if isinstance(value, str):
        yield from _string_drawing_problems(value, glyphs, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from drawing_problems(item, glyphs, field(path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from drawing_problems(item, glyphs, index(path, i))
