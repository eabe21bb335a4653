"""Templates broken on purpose: a Jinja syntax error, an expression that fails on the data.

Used by the unit tests of `docgen.render` and by the fault scenario of a malformed template.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# 附件1's signature line, `{{ community.lead_enterprise.name }}（盖章）`, with its `}}` cut short.
SYNTAX_ERROR = ("{{ community.lead_enterprise.name }}", "{{ community.lead_enterprise.name }")
# 附件1's date divided by zero: a valid template that fails on every request's data.
RUNTIME_ERROR = ("{{ signed_on }}", "{{ signed_on / 0 }}")


def edited_docx(docx: bytes, old: str, new: str) -> bytes:
    """`docx` with the first `old` of its body's XML replaced by `new`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(docx)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text, f"{old!r} is not in the template"
                data = text.replace(old, new, 1).encode("utf-8")
            zout.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def templates_with(folder: Path, edits: dict[str, tuple[str, str]]) -> Path:
    """A copy of doc_templates/ in `folder` where each attachment of `edits` has `old` → `new`,
    with a manifest that matches (a new version of each edited template)."""
    for path in (ROOT / "doc_templates").iterdir():
        if path.suffix in (".docx", ".json"):
            shutil.copy(path, folder / path.name)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    for attachment, (old, new) in edits.items():
        entry = manifest[attachment]
        path = folder / entry["file"]
        path.write_bytes(edited_docx(path.read_bytes(), old, new))
        entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        entry["version"] += 1
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    return folder
