"""Builds the five templates: the single source of the .docx files in this folder.

`python -m doc_templates.build` rewrites them and the manifest; a test rebuilds them in memory and
fails when a committed .docx differs. The Jinja tags are those docxtpl reads: `{{ }}` values,
`{%p %}` paragraph loops, `{%tr %}` table-row loops, `{% vm %}` vertical merges.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from doc_templates import TEMPLATES_DIR
from doc_templates.docxkit import TemplateWriter

SIGNER = "{{ community.lead_enterprise.name }}（盖章）"


def industry_analysis() -> TemplateWriter:
    w = TemplateWriter()
    w.attachment_label("附件1")
    w.title("{{ community.name }}\n行业发展分析报告")
    for heading, variable in (
        ("一、行业简介", "overview"),
        ("二、行业发展现状", "current_state"),
        ("三、行业发展趋势", "trends"),
    ):
        w.heading1(heading)
        w.text_block(variable, before_signature=variable == "trends")
    w.signature(SIGNER, "{{ signed_on }}")
    w.page_numbers()
    return w


def _share_table(w: TemplateWriter, first_label: str, variable: str, figure: str) -> None:
    """A structure of 附件2: counts and shares computed by the service, then its chart."""
    table = w.table(5, [4.5, 3.5, 3.5], min_row_cm=0.6)
    w.header_row(table, 0, [first_label, "人数（人）", "占比"])
    w.loop_rows(
        table,
        1,
        f"for row in {variable}.rows",
        ["{{ row.label }}", "{{ row.count }}", "{{ row.percent }}"],
    )
    w.cell(table.rows[4].cells[0], "合计", "TableHead")
    w.cell(table.rows[4].cells[1], "{{ " + variable + ".total }}")
    w.cell(table.rows[4].cells[2], "100.0%")
    w.keep_together(table)
    w.paragraph("{{ charts." + variable + " }}", "Figure").paragraph_format.keep_with_next = True
    w.paragraph(figure, "FigureCaption")


def talent_forecast() -> TemplateWriter:
    w = TemplateWriter()
    w.attachment_label("附件2")
    w.title("{{ community.name }}\n行业人才需求预测报告")
    w.heading1("一、开展调研情况")
    w.heading2("（一）调研方案")
    w.text_block("survey_plan")
    w.heading2("（二）调研实施情况")
    w.text_block("survey_implementation")
    w.heading1("二、调研数据分析")
    w.heading2("（一）行业职工规模")
    w.paragraph("本次调研覆盖行业职工总数{{ workforce_total }}人，各项结构的调查人数如下表。")
    scale = w.table(5, [8.0, 4.0], min_row_cm=0.6)
    w.header_row(scale, 0, ["项目", "人数（人）"])
    for row, (label, value) in zip(
        scale.rows[1:],
        (
            ("行业职工总数", "{{ workforce_total }}"),
            ("其中：岗位分布调查人数", "{{ post_distribution.total }}"),
            ("学历结构调查人数", "{{ education_structure.total }}"),
            ("技能等级结构调查人数（技术工人）", "{{ skill_level_structure.total }}"),
        ),
        strict=True,
    ):
        w.cell(row.cells[0], label, align="left")
        w.cell(row.cells[1], value)
    w.keep_together(scale)
    w.heading2("（二）在岗职工岗位分布")
    _share_table(w, "岗位", "post_distribution", "图1　在岗职工岗位分布")
    w.heading2("（三）职工学历结构")
    _share_table(w, "学历层次", "education_structure", "图2　职工学历结构")
    w.heading2("（四）技术工人技能等级结构")
    _share_table(w, "技能等级", "skill_level_structure", "图3　技术工人技能等级结构")
    w.heading2("（五）职工技能培训情况")
    w.text_block("training")
    w.heading2("（六）行业人才需求情况（分专业、分层次、分技能等级）")
    table = w.table(5, [1.4, 4.6, 2.8, 2.4, 2.4], min_row_cm=0.6)
    w.header_row(table, 0, ["序号", "专业", "学历层次", "技能等级", "需求人数（人）"])
    w.loop_rows(
        table,
        1,
        "for row in demand",
        [
            "{{ row.index }}",
            "{{ row.major }}",
            "{{ row.education_level }}",
            "{{ row.skill_level }}",
            "{{ row.count }}",
        ],
    )
    total = table.rows[4]
    w.cell(total.cells[0].merge(total.cells[3]), "合计", "TableHead")
    w.cell(total.cells[4], "{{ demand_total }}")
    w.heading1("三、分析结论及建议")
    w.text_block("conclusions", before_signature=True)
    w.signature(SIGNER, "{{ signed_on }}")
    w.page_numbers()
    return w


# The seed's four lists: (heading, group header or None, sub-columns, row fields, widths in cm).
_LISTS = (
    (
        "一、行业人才需求清单",
        "talent_demand",
        "人才需求情况",
        ["需求说明", "需求专业", "学历层次", "需求人数"],
        ["description", "major", "education_level", "count"],
        [6.9, 3.4, 2.0, 2.0],
    ),
    (
        "二、行业人才供给清单",
        "talent_supply",
        "人才供给情况",
        ["人才供给简介", "专业分布", "学历层次", "供给人数"],
        ["description", "majors", "education_level", "count"],
        [6.9, 3.4, 2.0, 2.0],
    ),
    ("三、行业技术需求清单", "technology_demand", None, ["技术服务需求"], ["need"], [14.3]),
    (
        "四、行业技术供给清单",
        "technology_supply",
        None,
        ["可提供的技术服务简介"],
        ["offer"],
        [14.3],
    ),
)
# 序号, 单位名称 | the list's own columns | 联系人, 联系方式: 24.6 of the 24.7 cm landscape text
# block; 联系方式 fits a landline with its area code (13 characters) on one line.
_LEFT, _RIGHT = [1.2, 4.7], [1.5, 2.9]


def supply_demand() -> TemplateWriter:
    w = TemplateWriter(landscape=True)
    w.attachment_label("附件3")
    w.title("行业人才、技术供需清单")
    w.paragraph("共同体名称：{{ community.name }}", "CoverLine")
    for heading, variable, group, columns, fields, widths in _LISTS:
        w.heading1(heading)
        table = w.table(5 if group else 4, [*_LEFT, *widths, *_RIGHT], min_row_cm=0.6)
        n = len(table.columns)
        if group:
            # Two header rows: 序号, 单位名称, 联系人, 联系方式 span both; the group spans its columns.
            w.header_row(table, 0, ["序号", "单位名称", group, "", "", "", "联系人", "联系方式"])
            w.header_row(table, 1, ["", "", *columns, "", ""])
            for col in (0, 1, n - 2, n - 1):
                table.cell(0, col).merge(table.cell(1, col))
            table.cell(0, 2).merge(table.cell(0, 2 + len(columns) - 1))
            first = 2
        else:
            w.header_row(table, 0, ["序号", "单位名称", *columns, "联系人", "联系方式"])
            first = 1
        cells = ["{{ row.index }}", "{{ row.organization }}"]
        cells += ["{{ row." + f + " }}" for f in fields]
        cells += ["{{ row.contact_name }}", "{{ row.contact_phone }}"]
        aligns: list[str | None] = [
            None,
            "left",
            *(["left"] + [None] * (len(fields) - 1)),
            None,
            None,
        ]
        w.loop_rows(table, first, f"for row in {variable}", cells, aligns)
    w.page_numbers()
    return w


_OPERATIONS = (
    ("（一）产教供需信息对接情况", "operations.supply_demand_matching"),
    ("（二）教学资源开发及推广情况", "operations.teaching_resources"),
    ("（三）联合开展人才培养情况", "operations.joint_training"),
    ("（四）协同开展技术攻关情况", "operations.joint_research"),
    ("（五）政策支持保障情况", "operations.policy_support"),
    ("（六）其他创新性工作开展情况", "operations.other_innovation"),
)


def annual_report() -> TemplateWriter:
    w = TemplateWriter()
    w.attachment_label("附件4")
    w.title("{{ community.name }}\n{{ year }}年度总结报告")
    w.paragraph("（不超过5000字）", "TitleNote")
    w.heading1("一、共同体简介")
    w.text_block("introduction")
    w.heading1("二、共同体年度运行情况")
    for heading, variable in _OPERATIONS:
        w.heading2(heading)
        w.text_block(variable)
    w.heading1("三、运行中遇到的困难和问题")
    w.text_block("problems")
    w.heading1("四、下一步工作思路和举措")
    w.text_block("next_steps")
    w.heading1("五、年度典型建设案例")
    w.paragraph("{%p for case in cases %}")
    w.heading2("{{ case.ordinal }}{{ case.title }}")
    w.text_block("case.paragraphs", before_signature=True)
    w.paragraph("{%p endfor %}")
    w.signature(SIGNER, "{{ signed_on }}")
    w.page_numbers()
    return w


# 二、建设计划: (group label, sub-group label or "", row label, plan key), in the form's order.
PLAN_ROWS = (
    ("开发产教资源", "", "开发专业核心课程数量（门）", "core_courses"),
    ("开发产教资源", "", "开发实践能力项目数量（个）", "practice_projects"),
    ("开发产教资源", "", "研制教学装备数量（套）", "teaching_equipment_sets"),
    ("联合人才培养", "校企联合招生培养", "委托培养学生数（人）", "commissioned_students"),
    ("联合人才培养", "校企联合招生培养", "订单培养学生数（人）", "order_students"),
    ("联合人才培养", "校企联合招生培养", "学徒制培养学生数（人）", "apprenticeship_students"),
    ("联合人才培养", "校企师资互聘", "教师到企业实践人数（人）", "teachers_in_enterprise_practice"),
    ("联合人才培养", "校企师资互聘", "企业兼职教师人数（人）", "enterprise_part_time_teachers"),
    (
        "联合人才培养",
        "",
        "共同体内学校培养人才在本行业内就业人数（人）",
        "graduates_employed_in_industry",
    ),
    (
        "联合人才培养",
        "共同体内企业接收共同体内学校毕业生就业",
        "职业学校毕业生就业人数（人）",
        "vocational_graduates_hired",
    ),
    (
        "联合人才培养",
        "共同体内企业接收共同体内学校毕业生就业",
        "普通高校毕业生就业人数（人）",
        "university_graduates_hired",
    ),
    (
        "联合人才培养",
        "共同体内普通高校录取共同体内职业学校毕业生和企业一线在职员工就读本科或专业学位研究生",
        "录取职业学校毕业生就读本科（人）",
        "vocational_graduates_to_bachelor",
    ),
    (
        "联合人才培养",
        "共同体内普通高校录取共同体内职业学校毕业生和企业一线在职员工就读本科或专业学位研究生",
        "录取企业一线在职员工就读本科（人）",
        "frontline_staff_to_bachelor",
    ),
    (
        "联合人才培养",
        "共同体内普通高校录取共同体内职业学校毕业生和企业一线在职员工就读本科或专业学位研究生",
        "录取职业学校毕业生就读专业学位研究生（人）",
        "vocational_graduates_to_professional_master",
    ),
    (
        "联合人才培养",
        "共同体内普通高校录取共同体内职业学校毕业生和企业一线在职员工就读本科或专业学位研究生",
        "录取企业一线在职员工就读专业学位研究生（人）",
        "frontline_staff_to_professional_master",
    ),
    (
        "联合人才培养",
        "学校面向行业企业员工开展岗前培训、岗位培训和继续教育",
        "职业学校面向行业企业员工开展岗前培训、岗位培训和继续教育人数（人）",
        "vocational_school_trainees",
    ),
    (
        "联合人才培养",
        "学校面向行业企业员工开展岗前培训、岗位培训和继续教育",
        "普通高校面向行业企业员工开展岗前培训、岗位培训和继续教育（人）",
        "university_trainees",
    ),
    ("协同创新能力", "", "共建技术创新中心投入经费（万元）", "innovation_center_funding"),
    (
        "协同创新能力",
        "",
        "服务行业企业技术改造、工艺改进、产品升级项目数（项）",
        "upgrade_projects",
    ),
    ("协同创新能力", "取得省级以上技术创新成果数量", "省部级（项）", "provincial_achievements"),
    ("协同创新能力", "取得省级以上技术创新成果数量", "国家级（项）", "national_achievements"),
    ("强化支持保障", "", "牵头企业制定专项支持政策（个）", "policies_lead_enterprise"),
    ("强化支持保障", "", "牵头高水平高等学校制定专项支持政策（个）", "policies_lead_university"),
    ("强化支持保障", "", "牵头职业学校制定专项支持政策（个）", "policies_lead_vocational_school"),
    ("强化支持保障", "", "参与单位制定专项支持政策（个）", "policies_members"),
)


def _merge_runs(table, col: int, first_row: int, labels: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Merge consecutive equal labels of one column downward, writing each label once.

    An empty label leaves its cells alone (a row whose label spans this column).
    """
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            if labels[start]:
                cell = table.cell(first_row + start, col)
                if i - 1 > start:
                    cell = cell.merge(table.cell(first_row + i - 1, col))
                TemplateWriter.cell(cell, labels[start], "TableHead")
            start = i


def _application_cover(w: TemplateWriter) -> None:
    w.attachment_label("附件5")
    for _ in range(4):
        w.paragraph("")
    w.paragraph("行业产教融合共同体申报书", "CoverTitle")
    for _ in range(5):
        w.paragraph("")
    # Label (spread over its cell, so that the labels line up), the value on a line, the seal.
    lines = (
        ("共同体名称", "{{ community.name }}", ""),
        ("推荐省份", "{{ community.recommending_province }}", ""),
        ("牵头企业", "{{ community.lead_enterprise.name }}", "（公章）"),
        ("牵头高水平高等学校", "{{ community.lead_university.name }}", "（公章）"),
        ("牵头职业学校", "{{ community.lead_vocational_school.name }}", "（公章）"),
        ("填表日期", "{{ filled_on }}", ""),
    )
    # 牵头高水平高等学校 (9 characters of 三号) needs 5.5 cm with the cell's margins; （公章） 2.6.
    cover = w.table(len(lines), [5.6, 7.2, 2.8], borders=False, min_row_cm=1.4)
    for row, (label, value, seal) in zip(cover.rows, lines, strict=True):
        w.cell(row.cells[0], label, "CoverLine", align="distribute")
        w.cell(row.cells[1], value, "CoverLine")
        w.underline(row.cells[1])
        w.cell(row.cells[2], seal, "CoverLine", align="left")
    w.page_break()


# 一、基本信息 is one grid, as on the form. Its seven grid columns let the two halves of the form
# line up: the unit rows use (类型 | 名称 | 省份 | 代码 = g4+g5 | 证明), the contact rows use
# (label | value | label = g3+g4 | value = g5+g6).
# An 18-character credit code in 五号 needs 3.75 cm; proofs are file names and need room too.
_GRID = [1.7, 2.4, 3.3, 1.5, 1.0, 2.9, 2.8]  # 15.6 cm, the A4 text block


def _basic_rows() -> list[tuple[str, list[str]]]:
    """(group, cells) of the upper half: two cells = a label and a value spanning the row."""
    rows: list[tuple[str, list[str]]] = [
        ("共同体基本信息", ["共同体名称", "{{ community.name }}"]),
        (
            "共同体基本信息",
            ["成立时间", "{{ established_on }}", "负责人姓名", "{{ community.head.name }}"],
        ),
        (
            "共同体基本信息",
            ["职　　务", "{{ community.head.title }}", "联系电话", "{{ community.head.phone }}"],
        ),
    ]
    for group, unit, kind, code in (
        ("牵头企业", "lead_enterprise", "企业", "企业统一社会信用代码"),
        ("牵头高水平高等学校", "lead_university", "学校", "学校机构代码"),
        ("牵头职业学校", "lead_vocational_school", "学校", "学校机构代码"),
    ):
        code_field = "credit_code" if unit == "lead_enterprise" else "school_code"
        value = "{{ community." + unit + ".%s }}"
        rows += [
            (group, [f"{kind}名称", value % "name"]),
            (group, [f"{kind}地址", value % "address"]),
            (group, [code, value % code_field]),
        ]
    contact = "{{ community.contact.%s }}"
    rows += [
        (
            "共同体联系人信息",
            ["姓　　名", contact % "name", "所在单位", contact % "organization"],
        ),
        ("共同体联系人信息", ["职　　务", contact % "title", "联系电话", contact % "phone"]),
    ]
    return rows


def _application_basic_info(w: TemplateWriter) -> None:
    w.heading1("一、基本信息")
    rows = _basic_rows()
    # Upper rows, then: member header · {%tr for group %} · {%tr for m %} · member · endfor ×2.
    table = w.table(len(rows) + 6, _GRID, min_row_cm=0.8)
    for index, (_, cells) in enumerate(rows):
        row = table.rows[index]
        w.cell(row.cells[1], cells[0], "TableHead")
        if len(cells) == 2:
            w.cell(row.cells[2].merge(row.cells[6]), cells[1], align="left")
        else:
            w.cell(row.cells[2], cells[1], align="left")
            w.cell(row.cells[3].merge(row.cells[4]), cells[2], "TableHead")
            w.cell(row.cells[5].merge(row.cells[6]), cells[3], align="left")
    _merge_runs(table, 0, 0, [group for group, _ in rows])

    header, first = table.rows[len(rows)], len(rows) + 1
    w.cell(header.cells[0], "共同体参与单位情况（可自主添加行）", "TableHead")
    w.vertical_merge(header.cells[0], restart=True)
    for col, label in ((1, "单位类型"), (2, "单位名称"), (3, "所在省份"), (6, "参与证明材料")):
        w.cell(header.cells[col], label, "TableHead")
    w.cell(header.cells[4].merge(header.cells[5]), "学校机构代码/统一社会信用代码", "TableHead")
    w.cell(table.cell(first, 0), "{%tr for group in member_groups %}")
    w.cell(table.cell(first + 1, 0), "{%tr for m in group.members %}")
    member = table.rows[first + 2]
    # Every copy of this row continues the label cell above; `{% vm %}` (docxtpl) merges the
    # category cell down over the members of one category.
    w.vertical_merge(member.cells[0], restart=False)
    w.cell(member.cells[1], "{% vm %}{{ group.label }}")
    w.cell(member.cells[2], "{{ m.name }}", align="left")
    w.cell(member.cells[3], "{{ m.province }}")
    w.cell(member.cells[4].merge(member.cells[5]), "{{ m.code }}")
    w.cell(member.cells[6], "{{ m.proof }}")
    w.cell(table.cell(first + 3, 0), "{%tr endfor %}")
    w.cell(table.cell(first + 4, 0), "{%tr endfor %}")


def _application_plan(w: TemplateWriter) -> None:
    w.heading1("二、建设计划")
    table = w.table(1 + len(PLAN_ROWS), [1.9, 3.5, 4.8, 1.8, 1.8, 1.8], min_row_cm=0.7)
    w.header_row(
        table,
        0,
        [
            "项目指标",
            "",
            "",
            "{{ plan_years[0] }}年",
            "{{ plan_years[1] }}年",
            "{{ plan_years[2] }}年",
        ],
    )
    table.cell(0, 0).merge(table.cell(0, 2))
    for index, (_, sub, label, key) in enumerate(PLAN_ROWS, start=1):
        row = table.rows[index]
        if not sub:  # the row label spans both label columns
            w.cell(row.cells[1].merge(row.cells[2]), label, align="left")
        else:
            w.cell(row.cells[2], label, align="left")
        for year in range(3):
            w.cell(row.cells[3 + year], "{{ plan." + key + "[" + str(year) + "] }}")
    _merge_runs(table, 0, 1, [group for group, _, _, _ in PLAN_ROWS])
    _merge_runs(table, 1, 1, [sub for _, sub, _, _ in PLAN_ROWS])


_NARRATIVES = (
    (
        "三、总体建设思路",
        "（不超过500字，包括共同体建设指导思想、建设目标、组织实施等）",
        "overall_approach",
    ),
    (
        "四、管理及运行机制",
        "（不超过600字，包括但不限于：共同体组织机构，实体化运作机制，"
        "专门机构工作机制等，鼓励探索创新管理运行机制）",
        "governance",
    ),
    (
        "五、重点建设任务",
        "（不超过3000字，包括但不限于：联合开发教学资源、教学装备；联合开展技能"
        "人才培养，开展岗前培训、岗位培训和继续教育；建设技术创新中心，协同进行技术攻关，驱动产业链"
        "升级；鼓励结合实际开展其他创新性工作）",
        "key_tasks",
    ),
    (
        "六、保障支持",
        "（不超过500字，包括但不限于：建设单位提供的专项支持政策和资源投入等）",
        "support",
    ),
)

COMMITMENT = (
    "本行业产教融合共同体牵头企业和负责人承诺：申报书所有信息数据准确，所有承诺诚信可靠。"
    "如有失实，愿承担相关责任。"
)


def _application_opinions(w: TemplateWriter) -> None:
    """七、承诺、意见: two boxes, each kept on one page; the province's is left to fill in."""
    w.heading1("七、承诺、意见")
    table = w.table(2, [2.4, 13.2])
    for row, height in zip(table.rows, (7.0, 6.0), strict=True):
        row.height, row.height_rule = Cm(height), WD_ROW_HEIGHT_RULE.AT_LEAST
    for row, label, lines in (
        (
            table.rows[0],
            "牵头企业承诺",
            [COMMITMENT, "", "", "负责人签字：　　　　　　　　", "单位盖章：　　　　　　　　"],
        ),
        (table.rows[1], "省级教育行政部门推荐意见", ["", "", "", "", "单位盖章：　　　　　　　　"]),
    ):
        w.cell(row.cells[0], label, "TableHead")
        box = row.cells[1]
        w.cell(box, lines[0], "BoxText")
        for line in [*lines[1:], "年　　月　　日"]:
            p = box.add_paragraph(line, style="BoxText")
            if line:
                p.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                p.paragraph_format.first_line_indent = Pt(0)


def application() -> TemplateWriter:
    w = TemplateWriter()
    _application_cover(w)
    _application_basic_info(w)
    _application_plan(w)
    for heading, hint, variable in _NARRATIVES:
        w.heading1(heading)
        w.paragraph(hint, "Heading2Cn")
        w.text_block(variable)
    _application_opinions(w)
    w.page_numbers(cover=True)
    return w


# id → (file name, title, builder). File names are those a person sees (contract README).
TEMPLATES: dict[str, tuple[str, str, Callable[[], TemplateWriter]]] = {
    "industry_analysis": ("附件1-行业发展分析报告.docx", "行业发展分析报告", industry_analysis),
    "talent_forecast": ("附件2-行业人才需求预测报告.docx", "行业人才需求预测报告", talent_forecast),
    "supply_demand": ("附件3-行业人才、技术供需清单.docx", "行业人才、技术供需清单", supply_demand),
    "annual_report": ("附件4-年度总结报告.docx", "行业产教融合共同体年度总结报告", annual_report),
    "application": ("附件5-行业产教融合共同体申报书.docx", "行业产教融合共同体申报书", application),
}


def build_all() -> dict[str, bytes]:
    """Every template's bytes by file name, built in memory."""
    return {name: build().to_bytes(title) for name, title, build in TEMPLATES.values()}


def write_all(directory: Path = TEMPLATES_DIR) -> None:
    """Write the templates and a manifest whose versions change whenever a template's bytes do."""
    manifest_path = directory / "manifest.json"
    old = json.loads(manifest_path.read_text("utf-8")) if manifest_path.exists() else {}
    manifest = {}
    built = build_all()
    for template_id, (name, title, _) in TEMPLATES.items():
        data = built[name]
        sha = hashlib.sha256(data).hexdigest()
        previous = old.get(template_id, {})
        version = previous.get("version", 0) + (previous.get("sha256") != sha)
        (directory / name).write_bytes(data)
        manifest[template_id] = {"file": name, "title": title, "version": version, "sha256": sha}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    write_all()
