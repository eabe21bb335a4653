"""docxtpl rendering: autoescape on, undefined variables are errors (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import MutableMapping
from typing import Any

import jinja2
import msgspec
from docx.shared import Cm
from docxtpl import DocxTemplate, InlineImage

from docgen.charts import draw_chart
from docgen.context import Context, DocumentProperties
from docgen.errors import DocgenError
from docgen.templatestyles import without_unused_styles

__all__ = ["CHART_WIDTH_CM", "render_docx"]

CHART_WIDTH_CM = 14.0  # inside the 15.6 cm text block of A4 with official margins


class _CompilingOnce(jinja2.Environment):
    """Compiles each distinct source once. docxtpl hands `from_string` the template's XML at
    every render, the same for every render of one template (the data is not in it), and
    compiling it was a quarter of a short list's render here (≈10 ms of 39)."""

    @functools.lru_cache(maxsize=64)  # noqa: B019 — one environment, kept for the process
    def _compiled(self, source: str) -> jinja2.Template:
        return super().from_string(source)

    def from_string(
        self,
        source: str | jinja2.nodes.Template,
        globals: MutableMapping[str, Any] | None = None,  # Jinja's parameter name
        template_class: type[jinja2.Template] | None = None,
    ) -> jinja2.Template:
        if isinstance(source, str) and globals is None and template_class is None:
            return self._compiled(source)
        return super().from_string(source, globals, template_class)


# Autoescape: `&` and `<` in data would otherwise vanish or break the XML. Rendering with one
# environment from several threads is safe: Jinja's compiled templates keep no render state.
_ENVIRONMENT = _CompilingOnce(autoescape=True, undefined=jinja2.StrictUndefined)


def render_docx(
    template: bytes,
    context: Context,
    template_name: str,
    properties: DocumentProperties | None = None,
) -> bytes:
    """Fill a .docx template; raise `DocgenError(render.*)` naming the template and cause.

    A context's `charts` (if it has them) are drawn here and reach the template as pictures.
    `properties` become the DOCX's core properties, which LibreOffice carries into the PDF.
    """
    try:
        # Only the styles in use: LibreOffice imports every style at each conversion.
        doc = DocxTemplate(io.BytesIO(without_unused_styles(template)))
        data = msgspec.to_builtins(context)
        charts = getattr(context, "charts", None)
        if charts:
            data["charts"] = {
                name: InlineImage(doc, io.BytesIO(draw_chart(chart)), width=Cm(CHART_WIDTH_CM))
                for name, chart in charts.items()
            }
        try:
            doc.render(data, _ENVIRONMENT, autoescape=True)
        except (jinja2.TemplateSyntaxError, jinja2.UndefinedError):
            raise
        except _TEMPLATE_RUNTIME_ERRORS as exc:
            # An expression of the template failed on this data (`{{ year / 0 }}`, a filter
            # given a wrong type): the same data fails the same way on every attempt, so it is
            # not retried, and the reason names the template's line, not an internal error.
            lineno = _template_lineno(exc)
            where = _where(template_name, lineno, _line_text(_main_source(doc), lineno))
            cause = f"{type(exc).__name__}: {exc}"[:200]
            raise DocgenError(
                "render.failed",
                f"模板 {where[0]}无法用本数据生成：{cause}",
                f"Template {where[1]} failed on this data: {cause}",
            ) from exc
        if properties is not None and doc.docx is not None:
            core = doc.docx.core_properties
            core.title, core.author = properties.title, properties.author
            core.subject, core.keywords = properties.subject, properties.keywords
            core.last_modified_by = "行业产教融合共同体文档服务"
            core.created = core.modified = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        out = io.BytesIO()
        doc.save(out)
    except jinja2.TemplateSyntaxError as exc:
        where = _where(template_name, exc.lineno, _line_text(exc.source, exc.lineno))
        raise DocgenError(
            "render.template_syntax",
            f"模板 {where[0]}有语法错误：{exc.message}",
            f"Template {where[1]} has a syntax error: {exc.message}",
        ) from exc
    except jinja2.UndefinedError as exc:
        lineno = _template_lineno(exc)
        where = _where(template_name, lineno, _line_text(_main_source(doc), lineno))
        raise DocgenError(
            "render.undefined",
            f"模板 {where[0]}引用了不存在的数据：{exc.message}",
            f"Template {where[1]} uses undefined data: {exc.message}",
        ) from exc
    return out.getvalue()


# What a template's expressions raise while rendering (caught around `doc.render` only).
_TEMPLATE_RUNTIME_ERRORS = (
    jinja2.TemplateError,
    ArithmeticError,
    TypeError,
    ValueError,
    LookupError,
    AttributeError,
)


def _template_lineno(exc: BaseException) -> int | None:
    """The template's line in the traceback Jinja rewrites (frames named `<template>`)."""
    lineno, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


def _main_source(doc: DocxTemplate) -> str | None:
    """The Jinja source docxtpl makes of the document's body: one line per paragraph, as in
    `DocxTemplate.render_xml_part`, so that Jinja's line numbers point into it."""
    try:
        return re.sub(r"<w:p([ >])", r"\n<w:p\1", str(doc.patch_xml(doc.get_xml())))
    except Exception:  # only to quote the line: never hide the error being reported
        return None


def _line_text(source: str | None, lineno: int | None) -> str:
    """The words of one source line, XML tags removed: what a clerk sees in Word there."""
    if not source or not lineno:
        return ""
    lines = source.splitlines()
    if not 0 < lineno <= len(lines):
        return ""
    text = " ".join(re.sub(r"<[^>]+>", " ", lines[lineno - 1]).split())
    return text if len(text) <= 80 else text[:77] + "…"


def _where(template_name: str, lineno: int | None, text: str) -> tuple[str, str]:
    """(Chinese, English) position: the template, its line, and the text on that line."""
    zh, en = template_name + " ", template_name
    if lineno:
        zh += f"第 {lineno} 行"
        en += f" at line {lineno}"
    if text:
        zh += f"（“{text}”）"
        en += f' ("{text}")'
    return zh, en
