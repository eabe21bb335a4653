"""The five PDFs as a reviewer reads them: sections in the guideline's order, official fonts only,
page numbers, the charts of 附件2. Real LibreOffice, the project's fontconfig file."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
from typing import Any

import msgspec
import pytest

from doc_templates import TEMPLATES_DIR
from docgen.pipeline import Rendered, render_attachment
from docgen.schema import ATTACHMENT_IDS, JobRequest
from docgen.templates import load_catalogue
from tests.pdftext import pdf_lines

pytestmark = pytest.mark.integration

# The guideline's outline of each attachment, in order (seed: 附件1–5).
SECTIONS = {
    "industry_analysis": [
        "附件1",
        "行业发展分析报告",
        "一、行业简介",
        "二、行业发展现状",
        "三、行业发展趋势",
        "（盖章）",
    ],
    "talent_forecast": [
        "附件2",
        "行业人才需求预测报告",
        "一、开展调研情况",
        "（一）调研方案",
        "（二）调研实施情况",
        "二、调研数据分析",
        "（一）行业职工规模",
        "（二）在岗职工岗位分布",
        "图1",
        "（三）职工学历结构",
        "图2",
        "（四）技术工人技能等级结构",
        "图3",
        "（五）职工技能培训情况",
        "（六）行业人才需求情况",
        "三、分析结论及建议",
        "（盖章）",
    ],
    "supply_demand": [
        "附件3",
        "行业人才、技术供需清单",
        "共同体名称：",
        "一、行业人才需求清单",
        "二、行业人才供给清单",
        "三、行业技术需求清单",
        "四、行业技术供给清单",
    ],
    "annual_report": [
        "附件4",
        "年度总结报告",
        "（不超过5000字）",
        "一、共同体简介",
        "二、共同体年度运行情况",
        "（一）产教供需信息对接情况",
        "（六）其他创新性工作开展情况",
        "三、运行中遇到的困难和问题",
        "四、下一步工作思路和举措",
        "五、年度典型建设案例",
        "（盖章）",
    ],
    "application": [
        "附件5",
        "行业产教融合共同体申报书",
        "填表日期",
        "一、基本信息",
        "共同体基本信息",
        "牵头企业",
        "牵头高水平高等学校",
        "牵头职业学校",
        "共同体联系人信息",
        "共同体参与单位情况",
        "二、建设计划",
        "开发产教资源",
        "联合人才培养",
        "协同创新能力",
        "强化支持保障",
        "三、总体建设思路",
        "四、管理及运行机制",
        "五、重点建设任务",
        "六、保障支持",
        "七、承诺、意见",
        "牵头企业承诺",
        "负责人签字",
        "省级教育行政部门推荐意见",
    ],
}

# What pdffonts may list (after the subset tag): the faces deploy/fontconfig maps the official
# names to, HanaMin for CJK Extension B, Liberation Serif for Latin text.
# LibreOffice names a CFF font after the glyph group it embeds first (`…-VKana`, `…-Ideographs`).
ALLOWED_FONTS = re.compile(
    r"^((NotoSerifCJKsc|NotoSansCJKsc)-(Regular|Bold)(-[A-Za-z]+)?|UKaiCN|HanaMin[AB]"
    r"|LiberationSerif(-Bold)?)$"
)


@pytest.fixture(scope="module")
def documents(unoserver: Any, sample_request: JobRequest) -> dict[str, Rendered]:
    catalogue = load_catalogue(TEMPLATES_DIR)
    return {
        a: render_attachment(sample_request, a, catalogue, unoserver.converter)
        for a in ATTACHMENT_IDS
    }


def _pdf_tool(tool: str, pdf: bytes, *args: str) -> str:
    """Run a poppler tool on the PDF (pdffonts and pdfimages read files, not stdin)."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        return subprocess.run(
            [tool, *args, file.name], capture_output=True, check=True
        ).stdout.decode()


@pytest.mark.parametrize("attachment", ATTACHMENT_IDS)
def test_the_guideline_s_sections_appear_in_order(
    attachment: str, documents: dict[str, Rendered]
) -> None:
    # Joined without breaks: the cover's labels are spread over their cells, a line per character.
    text = "".join(pdf_lines(documents[attachment].pdf))
    position = 0
    for heading in SECTIONS[attachment]:
        found = text.find(heading, position)
        assert found >= 0, f"{heading!r} missing or out of order"
        position = found + len(heading)


@pytest.mark.parametrize("attachment", ATTACHMENT_IDS)
def test_only_the_mapped_fonts_are_used_and_all_are_embedded(
    attachment: str, documents: dict[str, Rendered]
) -> None:
    rows = _pdf_tool("pdffonts", documents[attachment].pdf).splitlines()[2:]
    assert rows, "no fonts at all"
    for row in rows:
        name, emb = row.split()[0], row.split()[-5]
        assert emb == "yes", f"{name} is not embedded"
        assert ALLOWED_FONTS.match(name.split("+")[-1]), f"{name} is not a mapped font"


@pytest.mark.parametrize("attachment", ATTACHMENT_IDS)
def test_pages_are_numbered_the_official_way(
    attachment: str, documents: dict[str, Rendered]
) -> None:
    doc = documents[attachment]
    lines = pdf_lines(doc.pdf)
    # The 申报书's cover carries no number; every other page does, "— n —".
    first = 2 if attachment == "application" else 1
    for n in range(first, doc.pages + 1):
        assert f"—{n}—" in lines, f"page {n} has no number"
    if attachment == "application":
        assert "—1—" not in lines


def test_the_forecast_has_a_chart_for_each_structure(documents: dict[str, Rendered]) -> None:
    listing = _pdf_tool("pdfimages", documents["talent_forecast"].pdf, "-list").splitlines()
    images = [line for line in listing[2:] if line.split()[2] == "image"]
    assert len(images) == 3
    # Full resolution (15 cm at 200 dpi) and lossless (enc "image" is Flate, not "jpeg").
    assert {(line.split()[3], line.split()[8]) for line in images} == {("1180", "image")}
    # Opaque pictures: no soft mask for LibreOffice to make and the reader to blend.
    assert [line for line in listing[2:] if line.split()[2] == "smask"] == []


def test_the_pdf_names_its_community_attachment_and_signer(
    documents: dict[str, Rendered], sample_request: JobRequest
) -> None:
    from pypdf import PdfReader

    info = PdfReader(io.BytesIO(documents["application"].pdf)).metadata
    assert info is not None
    community = sample_request.community
    assert info.title == f"{community.name} 行业产教融合共同体申报书"
    assert info.author == community.lead_enterprise.name
    assert "附件5" in (info.subject or "")
    assert documents["application"].facts.pdfa_part is None


def test_pdf_a_is_produced_on_request(unoserver: Any, sample_request: JobRequest) -> None:
    request = msgspec.structs.replace(sample_request, pdf_a=True)
    doc = render_attachment(
        request, "industry_analysis", load_catalogue(TEMPLATES_DIR), unoserver.converter
    )
    # The XMP identification LibreOffice writes for PDF/A-2b: pdfaid:part 2.
    assert doc.facts.pdfa_part == 2
    assert doc.facts.fonts and all(ALLOWED_FONTS.match(f) for f in doc.facts.fonts)
