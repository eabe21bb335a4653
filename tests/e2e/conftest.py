"""Receivers the end-to-end modules share: each module gets its own (module scope)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.receivers import MailCatcher, WebhookReceiver


@pytest.fixture(scope="module")
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="module")
def webhooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()
