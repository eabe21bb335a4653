"""Turning a request body into a `JobRequest`, or into answers a submitter can act on.

msgspec stops at the first error; the contract's paths (`application.plan.core_courses[1]`, no
leading `$`) and stable codes are made here from its message.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import msgspec

from docgen.errors import FieldProblem, RequestInvalid
from docgen.schema import JobRequest

__all__ = ["MAX_BODY_BYTES", "decode_job_request", "normalise_strings"]

MAX_BODY_BYTES = 32 * 1024 * 1024  # the contract's limit; larger bodies answer 413

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_FIELD = re.compile(r"^Object (?P<kind>missing required|contains unknown) field `(?P<name>[^`]+)`")
_EXPECTED = re.compile(r"^Expected `(?P<type>[^`]+)`(?P<rest>.*)$")

_TYPE_NAMES = {
    "int": ("整数", "an integer"),
    "float": ("数字", "a number"),
    "str": ("字符串", "a string"),
    "bool": ("布尔值（true/false）", "a boolean"),
    "array": ("数组", "an array"),
    "object": ("对象", "an object"),
    "null": ("null", "null"),
}


def normalise_strings(value: Any) -> Any:
    """Trim and NFC-normalise every string, as the contract says, before types are checked."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value.strip())
    if isinstance(value, list):
        return [normalise_strings(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise_strings(v) for k, v in value.items()}
    return value


def decode_job_request(body: bytes) -> JobRequest:
    """Decode and type-check a `POST /v1/jobs` body.

    Raises `RequestInvalid` with status 400 (not JSON) or 422 (wrong shape), naming the path.
    """
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise RequestInvalid(
            400,
            "请求体不是合法的 JSON / Malformed JSON",
            [FieldProblem("", "json.malformed", f"JSON 格式错误：{exc}", f"Malformed JSON: {exc}")],
        ) from exc
    if not isinstance(raw, dict):
        raise _invalid(
            [
                FieldProblem(
                    "",
                    "type.expected_object",
                    "请求体须为 JSON 对象",
                    "The body must be a JSON object",
                )
            ]
        )
    try:
        request = msgspec.convert(normalise_strings(raw), JobRequest)
    except msgspec.ValidationError as exc:
        raise _invalid([problem_from_msgspec(str(exc))]) from exc

    missing = [
        FieldProblem(
            a,
            "section.missing",
            f"请求渲染 {a}，但缺少该部分数据",
            f"Attachment {a} was requested but its section is missing",
        )
        for a in request.requested_attachments()
        if getattr(request, a) is None
    ]
    if missing:
        raise _invalid(missing)
    if not request.requested_attachments():
        raise _invalid(
            [
                FieldProblem(
                    "attachments",
                    "attachments.empty",
                    "没有可生成的附件",
                    "No attachment to render",
                )
            ]
        )
    return request


def _invalid(problems: list[FieldProblem]) -> RequestInvalid:
    return RequestInvalid(422, "请求数据未通过校验 / Request validation failed", problems)


def problem_from_msgspec(message: str) -> FieldProblem:
    """Map one msgspec validation message to the contract's problem item."""
    at = _AT.search(message)
    path = _contract_path(at.group("path")) if at else ""
    text = message[: at.start()] if at else message

    if field := _FIELD.match(text):
        path = f"{path}.{field['name']}" if path else field["name"]
        if field["kind"] == "missing required":
            return FieldProblem(path, "field.missing", "缺少必填字段", "Required field is missing")
        return FieldProblem(
            path, "field.unknown", "未知字段（请检查拼写）", "Unknown field (check the spelling)"
        )
    if text.startswith("Invalid enum value"):
        return FieldProblem(
            path,
            "value.not_allowed",
            f"取值不在允许范围内：{text[19:]}",
            f"Value not allowed: {text[19:]}",
        )
    if "RFC3339 encoded date" in text:
        return FieldProblem(
            path, "date.invalid", "日期格式应为 YYYY-MM-DD", "Expected a date as YYYY-MM-DD"
        )
    if expected := _EXPECTED.match(text):
        return _expected_problem(path, expected["type"], expected["rest"].strip())
    return FieldProblem(path, "type.invalid", f"取值无效：{text}", f"Invalid value: {text}")


def _expected_problem(path: str, type_name: str, rest: str) -> FieldProblem:
    zh_type, en_type = _TYPE_NAMES.get(type_name, (type_name, type_name))
    if rest.startswith("of length"):
        bound = rest.removeprefix("of length").strip()
        if type_name == "str":
            if bound == ">= 1":
                return FieldProblem(path, "string.empty", "不能为空", "Must not be empty")
            return FieldProblem(
                path, "string.too_long", f"长度超出限制（{bound}）", f"Too long (length {bound})"
            )
        return FieldProblem(
            path,
            "list.length",
            f"条目数不符合要求（{bound}）",
            f"Wrong number of items (length {bound})",
        )
    if rest.startswith("matching regex"):
        return FieldProblem(
            path,
            "string.pattern",
            f"格式不符合要求（{rest[15:]}）",
            f"Does not match the required format ({rest[15:]})",
        )
    if rest.startswith((">=", "<=", ">", "<")):
        code = "value.too_small" if rest.startswith(">") else "value.too_large"
        return FieldProblem(path, code, f"数值应 {rest}", f"Value must be {rest}")
    return FieldProblem(
        path,
        f"type.expected_{type_name}",
        f"类型错误：应为{zh_type}",
        f"Wrong type: expected {en_type}",
    )


def _contract_path(msgspec_path: str) -> str:
    """`$.a.b[1]` as msgspec writes it → `a.b[1]` as the contract writes it."""
    return msgspec_path.removeprefix(".")
