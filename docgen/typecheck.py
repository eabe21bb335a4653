"""Every type error of a request in one pass, read from the contract's own Structs.

msgspec stops at the first error. This walks the decoded JSON along `msgspec.inspect.type_info`
of the target type and reports every mismatch with its contract path, so a submitter learns all
wrong fields at once. It understands the types `docgen.schema` uses (Structs, strings, ints,
floats, bools, lists, literals, dates, optional values); msgspec's own conversion still runs
afterwards and remains the authority — anything this walk does not know, msgspec catches.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import msgspec.inspect as mi

from docgen.errors import FieldProblem
from docgen.findings import field, index, quote

__all__ = ["type_problems"]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

_JSON_TYPES = {
    dict: ("对象", "an object"),
    list: ("数组", "an array"),
    str: ("字符串", "a string"),
    bool: ("布尔值", "a boolean"),
    int: ("整数", "an integer"),
    float: ("数字", "a number"),
    type(None): ("null", "null"),
}


@lru_cache(maxsize=32)
def _info(target: type) -> mi.Type:
    return mi.type_info(target)


def type_problems(value: Any, target: type) -> Iterator[FieldProblem]:
    """Every place where `value` (decoded JSON) does not fit `target`, in document order."""
    yield from _check(value, _info(target), "")


def _got(value: Any) -> tuple[str, str]:
    return _JSON_TYPES.get(type(value), ("未知类型", "an unknown type"))


def _wrong_type(path: str, value: Any, name: str, zh: str, en: str) -> FieldProblem:
    got_zh, got_en = _got(value)
    return FieldProblem(
        path,
        f"type.expected_{name}",
        f"类型错误：应为{zh}，实为{got_zh}",
        f"Expected {en}, got {got_en}",
    )


def _check(value: Any, t: mi.Type, path: str) -> Iterator[FieldProblem]:
    if isinstance(t, mi.UnionType):
        if value is None and any(isinstance(u, mi.NoneType) for u in t.types):
            return
        others = [u for u in t.types if not isinstance(u, mi.NoneType)]
        if len(others) == 1:
            yield from _check(value, others[0], path)
        # Other unions are not in the schema; msgspec judges them.
        return
    if isinstance(t, mi.StructType):
        yield from _check_struct(value, t, path)
    elif isinstance(t, mi.ListType):
        yield from _check_list(value, t, path)
    elif isinstance(t, mi.StrType):
        yield from _check_str(value, t, path)
    elif isinstance(t, mi.BoolType):
        if not isinstance(value, bool):
            yield _wrong_type(path, value, "bool", "布尔值（true/false）", "a boolean")
    elif isinstance(t, mi.IntType):
        if isinstance(value, bool) or not isinstance(value, int):
            yield _wrong_type(path, value, "int", "整数", "an integer")
        else:
            yield from _check_bounds(value, t, path)
    elif isinstance(t, mi.FloatType):
        if isinstance(value, bool) or not isinstance(value, int | float):
            yield _wrong_type(path, value, "float", "数字", "a number")
        elif not math.isfinite(value):
            yield FieldProblem(
                path, "number.out_of_range", "数值超出范围", "The number is out of range"
            )
        else:
            yield from _check_bounds(value, t, path)
    elif isinstance(t, mi.LiteralType):
        if value not in t.values or isinstance(value, bool):
            allowed = "、".join(str(v) for v in t.values)
            yield FieldProblem(
                path,
                "value.not_allowed",
                f"取值不在允许范围内（可选：{allowed}）",
                f"Value not allowed (one of: {', '.join(str(v) for v in t.values)})",
            )
    elif isinstance(t, mi.DateType) and (not isinstance(value, str) or not _is_iso_date(value)):
        yield FieldProblem(
            path, "date.invalid", "日期格式应为 YYYY-MM-DD", "Expected a date as YYYY-MM-DD"
        )


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_struct(value: Any, t: mi.StructType, path: str) -> Iterator[FieldProblem]:
    if not isinstance(value, dict):
        yield _wrong_type(path, value, "object", "对象", "an object")
        return
    known = {f.encode_name: f for f in t.fields}
    for name, item in value.items():
        f = known.get(name)
        if f is None:
            if t.forbid_unknown_fields:
                yield FieldProblem(
                    field(path, str(name)),
                    "field.unknown",
                    "未知字段（请检查拼写）",
                    "Unknown field (check the spelling)",
                )
            continue
        yield from _check(item, f.type, field(path, name))
    for f in t.fields:
        if f.required and f.encode_name not in value:
            yield FieldProblem(
                field(path, f.encode_name),
                "field.missing",
                "缺少必填字段",
                "Required field is missing",
            )


def _check_list(value: Any, t: mi.ListType, path: str) -> Iterator[FieldProblem]:
    if not isinstance(value, list):
        yield _wrong_type(path, value, "array", "数组", "an array")
        return
    low, high = t.min_length, t.max_length
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        yield FieldProblem(
            path,
            "list.length",
            f"应有 {_range_zh(low, high)} 项，实有 {len(value)} 项",
            f"Expected {_range_en(low, high)} items, got {len(value)}",
        )
        if high is not None and len(value) > high:
            return  # checking the items of an oversized list would only repeat the point
    for i, item in enumerate(value):
        yield from _check(item, t.item_type, index(path, i))


def _check_str(value: Any, t: mi.StrType, path: str) -> Iterator[FieldProblem]:
    if not isinstance(value, str):
        yield _wrong_type(path, value, "str", "字符串", "a string")
        return
    if t.min_length is not None and len(value) < t.min_length:
        yield FieldProblem(path, "string.empty", "不能为空", "Must not be empty")
    elif t.max_length is not None and len(value) > t.max_length:
        yield FieldProblem(
            path,
            "string.too_long",
            f"长度 {len(value)} 个字符，超出上限 {t.max_length} 个字符",
            f"{len(value)} characters, more than the limit of {t.max_length}",
        )
    elif t.pattern is not None and not re.search(t.pattern, value):
        yield FieldProblem(
            path,
            "string.pattern",
            f"「{quote(value)}」格式不符合要求（{t.pattern}）",
            f"'{quote(value)}' does not match the required format ({t.pattern})",
        )


def _check_bounds(value: float, t: mi.IntType | mi.FloatType, path: str) -> Iterator[FieldProblem]:
    if t.ge is not None and value < t.ge:
        yield FieldProblem(path, "value.too_small", f"数值应 ≥ {t.ge}", f"Must be ≥ {t.ge}")
    elif t.gt is not None and value <= t.gt:
        yield FieldProblem(path, "value.too_small", f"数值应 > {t.gt}", f"Must be > {t.gt}")
    elif t.le is not None and value > t.le:
        yield FieldProblem(path, "value.too_large", f"数值应 ≤ {t.le}", f"Must be ≤ {t.le}")
    elif t.lt is not None and value >= t.lt:
        yield FieldProblem(path, "value.too_large", f"数值应 < {t.lt}", f"Must be < {t.lt}")


def _range_zh(low: int | None, high: int | None) -> str:
    if low == high:
        return f"{low}"
    if high is None:
        return f"至少 {low}"
    if low is None or low == 0:
        return f"至多 {high}"
    return f"{low}–{high}"


def _range_en(low: int | None, high: int | None) -> str:
    if low == high:
        return f"exactly {low}"
    if high is None:
        return f"at least {low}"
    if low is None or low == 0:
        return f"at most {high}"
    return f"{low}–{high}"
