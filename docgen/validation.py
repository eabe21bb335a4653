"""Turning a request body into a `JobRequest`, or into answers a submitter can act on.

One call finds everything at once, in this order:

1. JSON (400 when it is not JSON at all);
2. strings trimmed and NFC-normalised (the contract), provinces written in full (湖南 → 湖南省),
   then characters that must not reach a document (control characters, lone surrogates,
   non-characters);
3. every type error (`docgen.typecheck`), with contract paths (`application.plan.core_courses[1]`);
4. the guideline's rules (`docgen.rules`) on every piece that type-checked (`docgen.parts`): a
   wrong type hides only the member, row or text around it;
5. warnings: the rules' own, and characters the documents' fonts cannot show (`docgen.glyphs`);
6. the monitoring indicators of a request that type-checked.

The request that comes out is normalised (provinces in full), and it is what gets stored and
rendered.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import msgspec

from docgen.characters import character_problems, drawing_problems
from docgen.errors import FieldProblem, RequestInvalid
from docgen.findings import Findings
from docgen.glyphs import GlyphCoverage
from docgen.indicators import Indicators, compute_indicators
from docgen.parts import normalise_provinces, parts_of, type_error_prefixes
from docgen.rules import check_rules
from docgen.schema import ATTACHMENT_IDS, JobRequest
from docgen.typecheck import type_problems

__all__ = [
    "INVALID_TITLE",
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "Verdict",
    "check_job_request",
    "decode_job_request",
    "normalise_strings",
]

MAX_BODY_BYTES = 32 * 1024 * 1024  # the contract's limit; larger bodies answer 413
# The contract nests four levels (`community.members[3].code`); anything much deeper is not a
# request, and bounding it keeps every walk over the data far from Python's recursion limit.
MAX_DEPTH = 32
INVALID_TITLE = "请求数据未通过校验 / Request validation failed"

# Fields that never reach a document: their characters need not be drawable.
_NOT_RENDERED = frozenset({"community_id", "attachments", "notify", "pdf_a"})

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


class Verdict(msgspec.Struct, frozen=True):
    """Everything validation found. `request` is the normalised request, None when invalid."""

    request: JobRequest | None
    errors: list[FieldProblem]
    warnings: list[FieldProblem]
    indicators: Indicators | None

    @property
    def valid(self) -> bool:
        return not self.errors


class _TooDeep(Exception):
    pass


def normalise_strings(value: Any, depth: int = 0) -> Any:
    """Trim and NFC-normalise every string, as the contract says, before types are checked.

    Line breaks become `\n`: a browser's text area sends `\r\n`, which would otherwise be
    refused as a control character. Raises `_TooDeep` beyond `MAX_DEPTH` levels of nesting.
    """
    if isinstance(value, str):
        lines = value.replace("\r\n", "\n").replace("\r", "\n")
        return unicodedata.normalize("NFC", lines.strip())
    if depth >= MAX_DEPTH:
        if isinstance(value, list | dict):
            raise _TooDeep
        return value
    if isinstance(value, list):
        return [normalise_strings(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: normalise_strings(v, depth + 1) for k, v in value.items()}
    return value


def _malformed(message: str, code: str = "json.malformed") -> RequestInvalid:
    return RequestInvalid(
        400,
        "请求体不是合法的 JSON / Malformed JSON",
        [FieldProblem("", code, f"JSON 格式错误：{message}", f"Malformed JSON: {message}")],
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode_json(body: bytes) -> Any:
    """Parse JSON; raise `RequestInvalid(400)` when the body is not JSON."""
    try:
        return msgspec.json.decode(body)
    except RecursionError as exc:
        raise _malformed("嵌套层级过深 / nested too deeply", "json.too_deep") from exc
    except msgspec.DecodeError as exc:
        first_failure = str(exc)
    # msgspec refuses two things that are well-formed JSON: lone surrogate escapes ("\ud800",
    # which RFC 8259 §8.2 allows in the grammar) and numbers beyond a double (1e400). Python's
    # parser reads both; the checks below then name the field (char.surrogate,
    # number.out_of_range) instead of refusing the whole body with a misleading message.
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise _malformed("嵌套层级过深 / nested too deeply", "json.too_deep") from exc
    except ValueError as exc:  # also UnicodeDecodeError and json.JSONDecodeError
        raise _malformed(first_failure) from exc


def _requested_sections(raw: dict[str, Any], broken: frozenset[str], findings: Findings) -> None:
    if "attachments" in broken:
        return
    listed = raw.get("attachments")
    requested = (
        [a for a in ATTACHMENT_IDS if a in listed]
        if isinstance(listed, list)
        else [a for a in ATTACHMENT_IDS if raw.get(a) is not None]
    )
    for attachment in requested:
        if raw.get(attachment) is None:
            findings.error(
                attachment,
                "section.missing",
                f"请求生成 {attachment}，但缺少该部分数据",
                f"Attachment {attachment} was requested but its section is missing",
            )
    if not requested:
        findings.error(
            "attachments", "attachments.empty", "没有可生成的附件", "No attachment to render"
        )


def _drawing(raw: dict[str, Any], glyphs: GlyphCoverage, findings: Findings) -> None:
    if not glyphs.available:
        findings.warn(
            "",
            "char.unchecked",
            "服务器上找不到文档所用字体，未能检查各字符能否在 PDF 中显示",
            "The documents' fonts are not installed on the server: characters were not checked "
            "for whether the PDF can show them",
        )
        return
    for key, value in raw.items():
        if key not in _NOT_RENDERED:
            for problem in drawing_problems(value, glyphs, key):
                findings.warn(problem.path, problem.code, problem.message, problem.message_en)


def check_job_request(body: bytes, glyphs: GlyphCoverage | None = None) -> Verdict:
    """Everything wrong with a `POST /v1/jobs` body, every warning, and the indicators.

    Raises `RequestInvalid(400)` only when the body is not JSON; every other finding is in the
    returned `Verdict`. Without `glyphs` characters are not checked against fonts.
    """
    findings = Findings()
    decoded = _decode_json(body)
    if not isinstance(decoded, dict):
        findings.error(
            "", "type.expected_object", "请求体须为 JSON 对象", "The body must be a JSON object"
        )
        return Verdict(None, findings.errors, findings.warnings, None)
    try:
        raw: dict[str, Any] = normalise_strings(decoded)
    except _TooDeep:
        findings.error(
            "",
            "json.too_deep",
            f"嵌套层级超过 {MAX_DEPTH} 层",
            f"Nested more than {MAX_DEPTH} levels deep",
        )
        return Verdict(None, findings.errors, findings.warnings, None)

    normalise_provinces(raw)

    findings.add_errors(character_problems(raw))
    type_errors = list(type_problems(raw, JobRequest))
    findings.add_errors(type_errors)
    broken = type_error_prefixes(p.path for p in type_errors)

    request: JobRequest | None = None
    if not type_errors:
        try:
            request = msgspec.convert(raw, JobRequest)
        except msgspec.ValidationError as exc:  # the type pass missed something: msgspec has it
            findings.add_errors([problem_from_msgspec(str(exc))])
    check_rules(parts_of(raw, broken), findings)
    _requested_sections(raw, broken, findings)
    if glyphs is not None:
        _drawing(raw, glyphs, findings)

    indicators = compute_indicators(request) if request is not None else None
    return Verdict(
        request if not findings.has_errors else None,
        findings.errors,
        findings.warnings,
        indicators,
    )


def decode_job_request(body: bytes, glyphs: GlyphCoverage | None = None) -> JobRequest:
    """A valid, normalised `JobRequest`, or `RequestInvalid` (400, 422) with every error."""
    verdict = check_job_request(body, glyphs)
    if verdict.request is None:
        raise RequestInvalid(422, INVALID_TITLE, verdict.errors, verdict.warnings)
    return verdict.request


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
