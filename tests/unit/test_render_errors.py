"""A broken template fails its document with a reason naming the template, the line and the
text there; such a failure is not retried (the same data fails the same way)."""

from __future__ import annotations

import pytest

from docgen.context import build_context
from docgen.errors import DocgenError
from docgen.render import render_docx
from docgen.schema import JobRequest
from tests.broken_templates import ROOT, RUNTIME_ERROR, SYNTAX_ERROR, edited_docx

NAME = "附件1-行业发展分析报告.docx"


def failure(sample_request: JobRequest, old: str, new: str) -> DocgenError:
    template = edited_docx((ROOT / "doc_templates" / NAME).read_bytes(), old, new)
    with pytest.raises(DocgenError) as caught:
        render_docx(template, build_context(sample_request, "industry_analysis"), NAME)
    return caught.value


def test_a_syntax_error_names_the_template_the_line_and_its_text(
    sample_request: JobRequest,
) -> None:
    error = failure(sample_request, *SYNTAX_ERROR)
    assert error.code == "render.template_syntax"
    assert not error.retryable
    assert NAME in error.message and "第 13 行" in error.message
    assert "{{ community.lead_enterprise.name }（盖章）" in error.message
    assert "at line 13" in error.message_en and "unexpected '}'" in error.message_en


def test_an_expression_failing_on_the_data_is_a_render_failure_not_an_internal_error(
    sample_request: JobRequest,
) -> None:
    error = failure(sample_request, *RUNTIME_ERROR)
    assert error.code == "render.failed"
    assert not error.retryable
    assert NAME in error.message and "{{ signed_on / 0 }}" in error.message
    assert "TypeError" in error.message_en and " at line " in error.message_en


def test_an_undefined_name_says_where_it_is_used(sample_request: JobRequest) -> None:
    error = failure(sample_request, "{{ signed_on }}", "{{ signed_in }}")
    assert error.code == "render.undefined"
    assert "signed_in" in error.message and "{{ signed_in }}" in error.message
