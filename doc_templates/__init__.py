"""The five official templates (.docx) and their manifest; `build.py` is their single source."""

from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent
