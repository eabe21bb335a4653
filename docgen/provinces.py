"""Province-level divisions: the names the contract accepts and their GB/T 2260 codes.

A province is written with its full name (湖南省, 广西壮族自治区, 香港特别行政区) or as
新疆生产建设兵团, which the guideline's forms treat as a province-level unit of its own. Short forms
people commonly write (湖南, 广西, 新疆, 内蒙古) are normalised to the full name, so that every
document prints the same name and the monitoring indicators count a province once.
"""

from __future__ import annotations

__all__ = [
    "PROVINCES",
    "PROVINCE_CODES",
    "XPCC",
    "code_matches_province",
    "normalise_province",
    "province_of_code",
]

# GB/T 2260 province-level codes (the first two digits of an administrative division code).
PROVINCE_CODES: dict[str, str] = {
    "北京市": "11",
    "天津市": "12",
    "河北省": "13",
    "山西省": "14",
    "内蒙古自治区": "15",
    "辽宁省": "21",
    "吉林省": "22",
    "黑龙江省": "23",
    "上海市": "31",
    "江苏省": "32",
    "浙江省": "33",
    "安徽省": "34",
    "福建省": "35",
    "江西省": "36",
    "山东省": "37",
    "河南省": "41",
    "湖北省": "42",
    "湖南省": "43",
    "广东省": "44",
    "广西壮族自治区": "45",
    "海南省": "46",
    "重庆市": "50",
    "四川省": "51",
    "贵州省": "52",
    "云南省": "53",
    "西藏自治区": "54",
    "陕西省": "61",
    "甘肃省": "62",
    "青海省": "63",
    "宁夏回族自治区": "64",
    "新疆维吾尔自治区": "65",
    "台湾省": "71",
    "香港特别行政区": "81",
    "澳门特别行政区": "82",
}

# 新疆生产建设兵团 has no GB/T 2260 code of its own; its schools' 学校标识码 carry Xinjiang's 65
# (e.g. 石河子大学 4165010759), so a 兵团 unit with a 65 code is not a mismatch.
XPCC = "新疆生产建设兵团"
_XPCC_CODE = "65"

PROVINCES: tuple[str, ...] = (*PROVINCE_CODES, XPCC)

# Short forms: a province or municipality without 省/市 (湖南, 北京), and these.
_ALIASES: dict[str, str] = {
    full.removesuffix("省").removesuffix("市"): full
    for full in PROVINCE_CODES
    if full.endswith(("省", "市"))
} | {
    "内蒙古": "内蒙古自治区",
    "广西": "广西壮族自治区",
    "广西自治区": "广西壮族自治区",
    "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区",
    "宁夏自治区": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区",
    "新疆自治区": "新疆维吾尔自治区",
    "香港": "香港特别行政区",
    "香港特区": "香港特别行政区",
    "澳门": "澳门特别行政区",
    "澳门特区": "澳门特别行政区",
    "兵团": XPCC,
    "新疆兵团": XPCC,
}


def normalise_province(name: str) -> str | None:
    """The full name of a province-level division, or None when `name` names none."""
    if name in PROVINCE_CODES or name == XPCC:
        return name
    return _ALIASES.get(name)


def province_of_code(code: str) -> str | None:
    """The province whose GB/T 2260 code is `code` (two digits), if any."""
    return next((name for name, c in PROVINCE_CODES.items() if c == code), None)


def code_matches_province(code: str, province: str) -> bool:
    """Whether a two-digit GB/T 2260 code is the code of `province` (a full name)."""
    if province == XPCC:
        return code == _XPCC_CODE
    return PROVINCE_CODES.get(province) == code
