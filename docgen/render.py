"""docxtpl rendering: autoescape on, undefined variables are errors (DESIGN §4)."""

from __future__ import annotations

import io
from typing import Any

import jinja2
from docxtpl import DocxTemplate

from docgen.errors import DocgenError

__all__ = ["render_docx"]


def _environment() -> jinja2.Environment:
    # Autoescape: `&` and `<` in data would otherwise vanish or break the XML.
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def render_docx(template: bytes, context: dict[str, Any], template_name: str) -> bytes:
    """Fill a .docx template; raise `DocgenError(render.failed)` naming the template and cause."""
    try:
        doc = DocxTemplate(io.BytesIO(template))
        doc.render(context, _environment(), autoescape=True)
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
