"""Text hygiene: characters that must not reach a document.

Control characters other than `\\n` and `\\t` are silently stripped by docxtpl and a lone surrogate
truncates the document (DESIGN §4); non-characters are "permanently reserved for internal use" by
Unicode and mean the text was damaged on its way here. Each is refused with the field's path, the
position of the character and its code point, so that the submitter can find it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from docgen.errors import FieldProblem
from docgen.findings import code_point, field, index

__all__ = ["character_problems", "forbidden_characters"]


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
