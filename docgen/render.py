"""docxtpl rendering: autoescape on, undefined variables are errors (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import io

import jinja2
import msgspec
from docx.shared import Cm
from docxtpl import DocxTemplate, InlineImage

from docgen.charts import draw_chart
from docgen.context import Context, DocumentProperties
from docgen.errors import DocgenError

__all__ = ["CHART_WIDTH_CM", "render_docx"]

CHART_WIDTH_CM = 14.0  # inside the 15.6 cm text block of A4 with official margins


def _environment() -> jinja2.Environment:
    # Autoescape: `&` and `<` in data would otherwise vanish or break the XML.
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


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
        doc = DocxTemplate(io.BytesIO(template))
        data = msgspec.to_builtins(context)
        charts = getattr(context, "charts", None)
        if charts:
            data["charts"] = {
                name: InlineImage(doc, io.BytesIO(draw_chart(chart)), width=Cm(CHART_WIDTH_CM))
                for name, chart in charts.items()
            }
        doc.render(data, _environment(), autoescape=True)
        if properties is not None and doc.docx is not None:
            core = doc.docx.core_properties
            core.title, core.author = properties.title, properties.author
            core.subject, core.keywords = properties.subject, properties.keywords
            core.last_modified_by = "行业产教融合共同体文档服务"
            core.created = core.modified = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        out = io.BytesIO()
        doc.save(out)
    except jinja2.TemplateSyntaxError as exc:
        raise DocgenError(
            "render.template_syntax",
            f"模板 {template_name} 第 {exc.lineno} 行有语法错误：{exc.message}",
            f"Template {template_name} has a syntax error at line {exc.lineno}: {exc.message}",
        ) from exc
    except jinja2.UndefinedError as exc:
        raise DocgenError(
            "render.undefined",
            f"模板 {template_name} 引用了不存在的数据：{exc.message}",
            f"Template {template_name} uses undefined data: {exc.message}",
        ) from exc
    return out.getvalue()
