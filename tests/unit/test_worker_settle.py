"""The worker's start-up settling: the heap that start-up leaves is frozen, its garbage is not."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from docgen.settings import load_settings
from workers.main import settle


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite runs with an ordinary collector


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_settle_freezes_what_lives_and_collects_what_does_not(unfrozen: None) -> None:
    survivor = _Cycle()
    _Cycle()  # garbage, reachable only from itself: only the cyclic collector frees it
    settle(load_settings({}).converter.fontconfig_file)

    assert gc.get_freeze_count() > 0
    assert not any(type(o) is _Cycle and o is not survivor for o in gc.get_objects())
    # Frozen objects are out of every generation: a full collection no longer scans them.
    assert not _tracked(survivor)
    gc.unfreeze()
    assert _tracked(survivor)


def _tracked(thing: object) -> bool:
    """Whether the collector's generations hold `thing` (by identity: some objects' == raises)."""
    return any(o is thing for o in gc.get_objects())
