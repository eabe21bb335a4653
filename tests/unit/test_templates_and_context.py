"""Templates are rebuilt from their builder; contexts hold every value of the sample."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import msgspec
import pytest
from docx import Document
from docxtpl import DocxTemplate

from doc_templates import TEMPLATES_DIR
from doc_templates.build import build_all
from docgen.context import CONTEXT_TYPES, amount_text, build_context, chinese_date, percentages
from docgen.render import _ENVIRONMENT, render_docx
from docgen.schema import ATTACHMENT_IDS, JobRequest
from docgen.templates import load_catalogue
from tests.values import expected_values


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def test_committed_templates_are_what_the_builder_makes() -> None:
    manifest = json.loads((TEMPLATES_DIR / "manifest.json").read_text("utf-8"))
    for name, data in build_all().items():
        assert (TEMPLATES_DIR / name).read_bytes() == data, f"{name}: run `make templates`"
    for entry in manifest.values():
        data = (TEMPLATES_DIR / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_the_catalogue_refuses_a_template_that_differs_from_its_manifest(tmp_path: Any) -> None:
    for path in TEMPLATES_DIR.iterdir():
        if path.suffix in (".docx", ".json"):
            (tmp_path / path.name).write_bytes(path.read_bytes())
    victim = tmp_path / load_catalogue(TEMPLATES_DIR)["application"].file
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="SHA-256"):
        load_catalogue(tmp_path)


@pytest.mark.parametrize("attachment", ATTACHMENT_IDS)
def test_a_template_uses_only_what_its_context_struct_provides(attachment: str) -> None:
    template = load_catalogue(TEMPLATES_DIR)[attachment]  # type: ignore[index]
    used = DocxTemplate(io.BytesIO(template.read())).get_undeclared_template_variables(_ENVIRONMENT)
    provided = set(CONTEXT_TYPES[attachment].__struct_fields__)  # type: ignore[index]
    assert used, "the template reads no data at all"
    assert used <= provided, f"not in the context: {sorted(used - provided)}"


@pytest.mark.parametrize("attachment", ATTACHMENT_IDS)
def test_every_value_of_the_sample_reaches_the_docx(
    attachment: str, sample_request: JobRequest, sample_dict: dict[str, Any]
) -> None:
    template = load_catalogue(TEMPLATES_DIR)[attachment]  # type: ignore[index]
    text = docx_text(
        render_docx(template.read(), build_context(sample_request, attachment), template.file)
    )  # type: ignore[arg-type]
    missing = [v for v in expected_values(sample_dict, attachment) if v not in text]
    assert missing == []
    assert "{{" not in text and "{%" not in text


def test_the_outline_of_the_guideline_is_in_each_template(sample_request: JobRequest) -> None:
    outlines = {
        "industry_analysis": [
            "附件1",
            "一、行业简介",
            "二、行业发展现状",
            "三、行业发展趋势",
            "（盖章）",
        ],
        "talent_forecast": [
            "附件2",
            "一、开展调研情况",
            "二、调研数据分析",
            "职工规模",
            "岗位分布",
            "学历结构",
            "技能等级结构",
            "培训情况",
            "三、分析结论及建议",
        ],
        "supply_demand": [
            "附件3",
            "共同体名称：",
            "一、行业人才需求清单",
            "二、行业人才供给清单",
            "三、行业技术需求清单",
            "四、行业技术供给清单",
            "序号",
            "人才需求情况",
            "人才供给情况",
            "联系人",
            "联系方式",
        ],
        "annual_report": [
            "附件4",
            "一、共同体简介",
            "二、共同体年度运行情况",
            "三、运行中遇到的困难和问题",
            "四、下一步工作思路和举措",
            "五、年度典型建设案例",
        ],
        "application": [
            "附件5",
            "行业产教融合共同体申报书",
            "共同体名称",
            "推荐省份",
            "牵头高水平高等学校",
            "（公章）",
            "填表日期",
            "一、基本信息",
            "二、建设计划",
            "三、总体建设思路",
            "四、管理及运行机制",
            "五、重点建设任务",
            "六、保障支持",
            "七、承诺、意见",
            "省级教育行政部门推荐意见",
            "共同体参与单位情况",
            "科研机构",
            "上下游企业",
            "行业组织",
            "其他单位",
        ],
    }
    catalogue = load_catalogue(TEMPLATES_DIR)
    for attachment, headings in outlines.items():
        template = catalogue[attachment]  # type: ignore[index]
        text = docx_text(
            render_docx(
                template.read(),
                build_context(sample_request, attachment),  # type: ignore[arg-type]
                template.file,
            )
        )
        assert [h for h in headings if h not in text] == [], attachment


def test_markup_characters_in_data_are_escaped_not_lost(sample_dict: dict[str, Any]) -> None:
    from docgen.validation import decode_job_request

    sample_dict["industry_analysis"]["overview"] = 'R&D <投入> 增长 "30%"'
    request = decode_job_request(json.dumps(sample_dict).encode())
    template = load_catalogue(TEMPLATES_DIR)["industry_analysis"]
    text = docx_text(
        render_docx(template.read(), build_context(request, "industry_analysis"), template.file)
    )
    assert 'R&D <投入> 增长 "30%"' in text


@pytest.mark.parametrize(
    "counts", [[213000, 61000, 87000, 51000], [1, 1, 1], [5], [0, 0], [1, 2, 3, 4, 5, 6, 7]]
)
def test_shares_add_up_to_exactly_one_hundred_percent(counts: list[int]) -> None:
    shares = percentages(counts)
    assert len(shares) == len(counts)
    total = sum(float(s.rstrip("%")) for s in shares)
    assert round(total, 1) == (100.0 if sum(counts) else 0.0)


def test_money_is_written_with_separators_and_two_decimals() -> None:
    assert amount_text(1200.5) == "1,200.50"
    assert amount_text(1500) == "1,500.00"
    assert amount_text(0) == "0.00"


def test_dates_are_written_the_chinese_way() -> None:
    import datetime as dt

    assert chinese_date(dt.date(2026, 3, 5)) == "2026年3月5日"


def test_an_empty_optional_value_is_a_blank_cell_never_none(sample_dict: dict[str, Any]) -> None:
    from docgen.validation import decode_job_request

    for member in sample_dict["community"]["members"]:
        member.pop("proof", None)
    request = decode_job_request(json.dumps(sample_dict).encode())
    template = load_catalogue(TEMPLATES_DIR)["application"]
    text = docx_text(
        render_docx(template.read(), build_context(request, "application"), template.file)
    )
    assert "None" not in text and "null" not in text
    assert sample_dict["community"]["members"][0]["name"] in text


def test_a_template_is_compiled_once_and_each_render_gets_its_own_data(
    sample_request: JobRequest,
) -> None:
    """docxtpl compiles the template's XML at every render; the environment keeps the compiled
    template (docgen.render._CompilingOnce), never the data."""
    template = load_catalogue(TEMPLATES_DIR)["annual_report"]
    first = build_context(sample_request, "annual_report")
    second = msgspec.structs.replace(first, problems=["另一个共同体的问题"])
    render_docx(template.read(), first, template.file)  # compiled here, if not before
    compiled = _ENVIRONMENT._compiled.cache_info()
    one = render_docx(template.read(), first, template.file)
    other = render_docx(template.read(), second, template.file)
    after = _ENVIRONMENT._compiled.cache_info()
    assert after.misses == compiled.misses and after.hits > compiled.hits
    assert "另一个共同体的问题" in _body(other) and "另一个共同体的问题" not in _body(one)


def _body(docx: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return package.read("word/document.xml").decode()
