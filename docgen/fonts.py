"""The official font names of the templates, and the open faces they must resolve to.

The mapping itself lives in `deploy/fontconfig/fonts.conf`; this module checks it before a
converter starts, because a wrong mapping fails silently: LibreOffice falls back to another face
(and converts 6-10x slower, DESIGN §4) without any error.
"""

from __future__ import annotations

import os
import subprocess

from docgen.errors import DocgenError

__all__ = ["OFFICIAL_FACES", "check_font_mapping"]

# Official name (GB/T 9704, as the templates write it) → (family, style) fontconfig must give.
OFFICIAL_FACES: dict[str, tuple[str, str]] = {
    "方正小标宋简体": ("Noto Serif CJK SC", "Bold"),
    "仿宋_GB2312": ("Noto Serif CJK SC", "Regular"),
    "宋体": ("Noto Serif CJK SC", "Regular"),
    "楷体_GB2312": ("AR PL UKai CN", "Book"),
    "黑体": ("Noto Sans CJK SC", "Regular"),
    "Times New Roman": ("Liberation Serif", "Regular"),
}


def resolve(name: str, fontconfig_file: str) -> tuple[str, str, str]:
    """(family, style, file) that fontconfig picks for `name` under the project's config."""
    out = subprocess.run(
        ["fc-match", "-f", "%{family[0]}\t%{style[0]}\t%{file}", name],
        # fontconfig reads a relative FONTCONFIG_FILE from /etc/fonts, not from here.
        env={**os.environ, "FONTCONFIG_FILE": os.path.abspath(fontconfig_file)},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    family, style, file = out.split("\t")
    return family, style, file


def check_font_mapping(fontconfig_file: str) -> None:
    """Raise `DocgenError(fonts.unmapped)` naming every official font that maps elsewhere."""
    wrong = []
    for name, expected in OFFICIAL_FACES.items():
        family, style, file = resolve(name, fontconfig_file)
        if (family, style) != expected:
            wrong.append(f"{name} → {family} {style} ({file}), expected {' '.join(expected)}")
    if wrong:
        detail = "; ".join(wrong)
        raise DocgenError(
            "fonts.unmapped",
            f"公文字体未正确映射（请运行 make deps）：{detail}",
            f"Official fonts are not mapped as required (run `make deps`): {detail}",
            detail=f"FONTCONFIG_FILE={fontconfig_file}",
        )
