"""The template catalogue: which .docx renders which attachment, and at which version."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import msgspec

from docgen.schema import ATTACHMENT_IDS, AttachmentId

__all__ = ["Template", "TemplateCatalogue", "load_catalogue"]


class Template(msgspec.Struct, frozen=True):
    attachment: AttachmentId
    file: str  # also the file name people see, e.g. 附件1-行业发展分析报告.docx
    title: str
    version: int
    sha256: str
    path: str

    @property
    def stem(self) -> str:
        return self.file.removesuffix(".docx")

    def read(self) -> bytes:
        return Path(self.path).read_bytes()


class TemplateCatalogue(msgspec.Struct, frozen=True):
    templates: dict[AttachmentId, Template]

    def __getitem__(self, attachment: AttachmentId) -> Template:
        return self.templates[attachment]


def load_catalogue(directory: str | Path) -> TemplateCatalogue:
    """Read `manifest.json`; refuse a template whose bytes differ from its manifest entry."""
    root = Path(directory)
    manifest = json.loads((root / "manifest.json").read_text("utf-8"))
    templates: dict[AttachmentId, Template] = {}
    for attachment in ATTACHMENT_IDS:
        entry = manifest[attachment]
        path = root / entry["file"]
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        if sha != entry["sha256"]:
            # A template edited without a new manifest version would make versions lie.
            raise ValueError(f"{path}: SHA-256 differs from manifest.json; rebuild the manifest")
        templates[attachment] = Template(
            attachment, entry["file"], entry["title"], entry["version"], sha, str(path)
        )
    return TemplateCatalogue(templates)
