"""How docgen starts unoserver: its own interpreter running docgen/unoserver_hidden.py."""

from __future__ import annotations

from pathlib import Path

from docgen.convert import unoserver_command

LAUNCHER = str(Path(__file__).parents[2] / "docgen" / "unoserver_hidden.py")


def script(tmp_path: Path, first_line: str) -> str:
    path = tmp_path / "unoserver"
    path.write_text(f"{first_line}\nimport sys\n")
    return str(path)


def test_a_python_script_runs_the_hidden_launcher_with_its_interpreter(tmp_path: Path) -> None:
    assert unoserver_command(script(tmp_path, "#!/opt/uno-venv/bin/python3")) == [
        "/opt/uno-venv/bin/python3",
        "-P",  # the launcher's folder (docgen/) must not shadow the standard library
        LAUNCHER,
    ]


def test_an_env_shebang_keeps_its_arguments(tmp_path: Path) -> None:
    assert unoserver_command(script(tmp_path, "#!/usr/bin/env python3")) == [
        "/usr/bin/env",
        "python3",
        "-P",
        LAUNCHER,
    ]


def test_anything_else_is_run_as_it_is(tmp_path: Path) -> None:
    shell = script(tmp_path, "#!/bin/sh")
    assert unoserver_command(shell) == [shell]
    missing = str(tmp_path / "nowhere")
    assert unoserver_command(missing) == [missing]


def test_the_launcher_is_where_the_command_names_it() -> None:
    assert Path(LAUNCHER).is_file()
