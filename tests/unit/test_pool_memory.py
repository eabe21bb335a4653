"""An instance's memory is its whole process group's, read without a walk over /proc each time."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from docgen.pool import _Instance, group_members, group_rss_mb
from docgen.processes import wait_until


def test_memory_is_read_from_the_group_and_follows_a_member_that_goes(tmp_path: Path) -> None:
    group = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait"], start_new_session=True)
    try:
        wait_until(lambda: len(group_members(group.pid)) == 3, 10, "the group's two sleeps")
        office = SimpleNamespace(process=SimpleNamespace(pid=group.pid))
        instance = _Instance(0, office, tmp_path)  # type: ignore[arg-type]
        instance.conversions = 1  # not a 20th reading: the members found before are reused
        assert instance.rss_mb() == pytest.approx(group_rss_mb(group.pid), rel=0.2)
        assert instance.rss_mb() > 0
        sleeps = [pid for pid in group_members(group.pid) if pid != group.pid]
        os.kill(sleeps[0], signal.SIGKILL)
        wait_until(lambda: len(group_members(group.pid)) == 2, 10, "the shell to reap a sleep")
        assert instance.rss_mb() == pytest.approx(group_rss_mb(group.pid), rel=0.2)
        assert sorted(instance._members) == sorted(group_members(group.pid))
    finally:
        os.killpg(group.pid, signal.SIGKILL)
        group.wait()
