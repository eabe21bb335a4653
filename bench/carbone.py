"""5. A peer: Carbone 3 against docgen's pool, same document, same LibreOffice, same count of them.

The document: a 人才需求清单 like 附件3's (landscape A4, 仿宋 10.5 pt table text, a header row
repeated on every page, "— n —" page numbers), 50 rows of the sample's list. In 附件3's column
widths most rows take two lines (unit names and 需求说明 wrap), so 50 rows make four pages, not
the three of the list DESIGN §4 measured Carbone on: the same work for both sides here, and a
little more of it than there. Both
templates are written here at run time with the project's template writer (doc_templates.docxkit),
identical but for the tags: docxtpl's `{%tr for row in rows %}` for docgen, Carbone's
`{d.rows[i].organization}` / `{d.rows[i+1]…}` rows for Carbone.

Each side renders and converts the document with K LibreOffice processes, K = 1 and K = cores:
Carbone with `factories: K` (its own LibreOffice + Python pair per factory, the Debian
`soffice.bin` it finds on PATH), all documents of a round asked for at once (Carbone queues
them); docgen with `docgen.render` + a pool of K, from K and from K + 1 caller threads (the
worker's `DOCGEN_RENDER_THREADS`: with K + 1, one document renders while K convert). Both get
the project's fontconfig file (the same fonts), a private TMPDIR and HOME. Warm-ups are not
counted. Four rounds of ten documents per side, interleaved (Carbone, docgen K, docgen K+1, then
the reverse order), so that a drift in the machine's load falls on all of them; medians of the
rounds. Goal (issue 6): docgen's docs/s ≥ Carbone's at both K.

docgen.render removes the styles a template does not use before docxtpl and LibreOffice see it
(docgen/templatestyles.py); Carbone converts the template's styles as they are. A fourth side,
for reference and not for the goal, gives Carbone the template with those styles removed
beforehand ("Carbone*"): it shows how much of docgen's lead that step alone explains.

Carbone is installed with npm into bench/.carbone/ (git-ignored), pinned; without Node.js the
benchmark is skipped with a message.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import msgspec

from bench.common import (
    ROOT,
    Bench,
    load_sample,
    median,
    pages,
    remove_office_sockets,
    run_stream,
    say,
)
from doc_templates.docxkit import TemplateWriter
from docgen.pool import ConverterPool
from docgen.render import render_docx
from docgen.templatestyles import without_unused_styles

CARBONE_VERSION = "3.8.2"  # DESIGN §4 measured 3.8
CARBONE_DIR = ROOT / "bench" / ".carbone"
ROWS = 50

_HEADER = ["序号", "单位名称", "需求说明", "需求专业", "学历层次", "需求人数", "联系人", "联系方式"]
_FIELDS = [
    "index",
    "organization",
    "description",
    "major",
    "education_level",
    "count",
    "contact_name",
    "contact_phone",
]
_WIDTHS = [1.2, 4.7, 6.9, 3.4, 2.0, 2.0, 1.5, 2.9]  # 附件3's columns (doc_templates/build.py)
_ALIGNS: list[str | None] = [None, "left", "left", None, None, None, None, None]


class ListRow(msgspec.Struct):
    index: int
    organization: str
    description: str
    major: str
    education_level: str
    count: int
    contact_name: str
    contact_phone: str


class ListContext(msgspec.Struct):
    community: str
    rows: list[ListRow]


def list_context() -> ListContext:
    sample = load_sample()
    seed = sample["supply_demand"]["talent_demand"]
    rows = [
        ListRow(
            index=i + 1,
            **{k: v for k, v in seed[i % len(seed)].items() if k in ListRow.__struct_fields__},
        )
        for i in range(ROWS)
    ]
    return ListContext(community=sample["community"]["name"], rows=rows)


def list_template(engine: str) -> bytes:
    """The same list document with docxtpl's tags ("docxtpl") or Carbone's ("carbone")."""
    w = TemplateWriter(landscape=True)
    w.attachment_label("附件3")
    w.title("行业人才需求清单")
    tag = "{d.community}" if engine == "carbone" else "{{ community }}"
    w.paragraph("共同体名称：" + tag, "CoverLine")
    w.heading1("一、行业人才需求清单")
    rows = 3 if engine == "carbone" else 4
    table = w.table(rows, _WIDTHS, min_row_cm=0.6)
    w.header_row(table, 0, _HEADER)
    if engine == "carbone":
        for offset, index in ((1, "i"), (2, "i+1")):
            for cell, name, align in zip(table.rows[offset].cells, _FIELDS, _ALIGNS, strict=True):
                w.cell(cell, f"{{d.rows[{index}].{name}}}", align=align)
    else:
        cells = ["{{ row." + name + " }}" for name in _FIELDS]
        w.loop_rows(table, 1, "for row in rows", cells, _ALIGNS)
    w.page_numbers()
    return w.to_bytes("行业人才需求清单")


def carbone_ready() -> str | None:
    """None when Carbone can run, else why not (the benchmark is then skipped)."""
    if shutil.which("node") is None:
        return "Node.js is not installed (Carbone is a Node.js library)"
    installed = CARBONE_DIR / "node_modules" / "carbone" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == CARBONE_VERSION:
        return None
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed, so Carbone cannot be installed"
    CARBONE_DIR.mkdir(exist_ok=True)
    (CARBONE_DIR / "package.json").write_text('{"private": true}\n')
    say(f"installing carbone@{CARBONE_VERSION} into {CARBONE_DIR.relative_to(ROOT)} (npm)")
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", f"carbone@{CARBONE_VERSION}"],
        cwd=CARBONE_DIR,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        return f"npm install carbone@{CARBONE_VERSION} failed: {done.stderr.strip()[-300:]}"
    return None


def soffice_dir() -> str | None:
    """Where Debian's soffice.bin lives: Carbone starts it directly, found on PATH."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return None
    folder = Path(os.path.realpath(soffice)).parent
    return str(folder) if (folder / "soffice.bin").exists() else None


def run_carbone(
    bench: Bench, template: Path, data: Path, factories: int, count: int
) -> tuple[float, int]:
    """Seconds for `count` documents, and the pages of one."""
    folder = bench.folder(f"carbone-k{factories}")
    home, tmp = folder / "home", folder / "tmp"
    home.mkdir(exist_ok=True)
    tmp.mkdir(exist_ok=True)
    env = {
        # soffice.bin first; then Debian's python3, which has `uno` (carbone's converter.py).
        "PATH": f"{soffice_dir()}:/usr/bin:/bin:/usr/local/bin",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "FONTCONFIG_FILE": os.path.abspath(bench.settings.converter.fontconfig_file),
        "SAL_USE_VCLPLUGIN": "svp",
    }
    out_pdf = folder / "carbone.pdf"
    argv = [
        "node",
        str(ROOT / "bench" / "carbone_render.js"),
        str(CARBONE_DIR),
        str(template),
        str(data),
        str(factories),
        str(count),
        str(out_pdf),
    ]
    # Its own session, so that whatever Carbone leaves behind is killed with the group.
    process = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=600)
    finally:
        _kill_group(process.pid)
        _remove_carbone_pipes(process.pid)
    if process.returncode != 0:
        raise RuntimeError(f"carbone failed: {stderr.decode()[-1000:]}")
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    remove_office_sockets([Path(p) for p in result["profiles"]])
    return float(result["seconds"]), pages(out_pdf.read_bytes())


def _remove_carbone_pipes(node_pid: int) -> None:
    """The sockets of the pipes Carbone's LibreOffice processes accepted on, named with the
    prefix carbone_render.js gives them; killed, LibreOffice leaves them in /tmp (24 a run)."""
    for socket_path in Path("/tmp").glob(f"OSL_PIPE_{os.getuid()}__docgenbench{node_pid}_*"):
        socket_path.unlink(missing_ok=True)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def run_docgen(
    pool: ConverterPool, template: bytes, context: ListContext, callers: int, count: int
) -> float:
    """Seconds for `callers` threads to render and convert `count` documents."""

    def produce(_: int) -> bytes:
        return pool.to_pdf(render_docx(template, context, "bench-list.docx"))

    return run_stream(produce, range(count), callers)


def run(bench: Bench) -> None:
    why_not = carbone_ready() or (None if soffice_dir() else "soffice.bin not found")
    if why_not:
        say(f"SKIPPED: {why_not}")
        bench.results["carbone"] = {"skipped": why_not}
        return
    rounds, per_round = (2, 6) if bench.quick else (4, 10)
    folder = bench.folder("carbone")
    carbone_template = folder / "list-carbone.docx"
    carbone_template.write_bytes(list_template("carbone"))
    # For reference, not for the goal: Carbone given the template with only its used styles,
    # which is what docgen.render makes of any template before docxtpl and LibreOffice see it.
    carbone_pruned = folder / "list-carbone-pruned.docx"
    carbone_pruned.write_bytes(without_unused_styles(list_template("carbone")))
    docxtpl_template = list_template("docxtpl")
    context = list_context()
    data = folder / "data.json"
    data.write_bytes(msgspec.json.encode(context))

    rows: dict[str, dict[str, float]] = {}
    for size in sorted({1, bench.cores}):
        pool = bench.pool(size, f"carbone-docgen-k{size}")
        rates: dict[str, list[float]] = {"carbone": [], "k": [], "k+1": [], "pruned": []}
        try:
            docgen_pages = pages(pool.to_pdf(render_docx(docxtpl_template, context, "list")))
            run_docgen(pool, docxtpl_template, context, size + 1, 2 * size + 2)  # warm-up
            for round_ in range(rounds):
                # Interleaved, the order reversed every other round: load drift falls on all.
                sides = ["carbone", "k", "k+1", "pruned"]
                for side in sides if round_ % 2 == 0 else sides[::-1]:
                    if side in ("carbone", "pruned"):
                        template = carbone_template if side == "carbone" else carbone_pruned
                        seconds, carbone_pages = run_carbone(bench, template, data, size, per_round)
                    else:
                        callers = size if side == "k" else size + 1
                        seconds = run_docgen(pool, docxtpl_template, context, callers, per_round)
                    rates[side].append(per_round / seconds)
        finally:
            pool.stop()
        carbone, k, k1, pruned = (median(rates[s]) for s in ("carbone", "k", "k+1", "pruned"))
        rows[str(size)] = {
            "carbone_docs_per_s": carbone,
            "docgen_docs_per_s": k,
            "ratio": k / carbone,
            "docgen_k_plus_1_docs_per_s": k1,
            "ratio_k_plus_1": k1 / carbone,
            "carbone_pruned_docs_per_s": pruned,
            "ratio_k_plus_1_to_pruned": k1 / pruned,
        }
        bench.results.setdefault("carbone_rounds", {})[str(size)] = rates
    say(
        f"{rounds} rounds of {per_round} documents of {ROWS} rows each side, interleaved; "
        f"pages: Carbone {carbone_pages}, docgen {docgen_pages}"
    )
    say(
        f"{'LibreOffice processes':<22}{'Carbone':>9}{'docgen K':>10}{'/Carbone':>10}"
        f"{'docgen K+1':>12}{'/Carbone':>10}{'Carbone*':>10}{'K+1/C*':>8}"
    )
    for size, row in rows.items():
        say(
            f"{'K=' + size:<22}{row['carbone_docs_per_s']:>9.2f}{row['docgen_docs_per_s']:>10.2f}"
            f"{row['ratio']:>10.2f}{row['docgen_k_plus_1_docs_per_s']:>12.2f}"
            f"{row['ratio_k_plus_1']:>10.2f}{row['carbone_pruned_docs_per_s']:>10.2f}"
            f"{row['ratio_k_plus_1_to_pruned']:>8.2f}"
        )
    say("docs/s (medians of the rounds), render + convert; goal: docgen/Carbone ≥ 1.0 at every K")
    say(
        "Carbone*: Carbone given the template with its unused styles removed beforehand, as "
        "docgen.render does to every template (for reference, not the goal)"
    )
    say(
        "docgen K / K+1: that many caller threads (the worker's DOCGEN_RENDER_THREADS; "
        f"default {bench.settings.converter.render_threads} here)"
    )
    bench.results["carbone"] = {
        "count": rounds * per_round,
        "rows": ROWS,
        "pages": {"carbone": carbone_pages, "docgen": docgen_pages},
        "by_k": rows,
    }
