"""Fixtures the delivery stories share: real SMTP servers on 127.0.0.1, and the session's cache of packs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.delivery_support import PackCache
from tests.smtp_server import LocalSMTPServer, smtp_servers
from xl_addin.delivery import batch


@pytest.fixture
def make_server() -> Iterator[Callable[..., LocalSMTPServer]]:
    """``make(security, **options)``: a started aiosmtpd server; every one is closed after the test."""
    with smtp_servers() as make:
        yield make


@pytest.fixture(scope="session")
def pack_cache() -> PackCache:
    return PackCache()


@pytest.fixture
def cached_packs(pack_cache: PackCache, monkeypatch: pytest.MonkeyPatch) -> PackCache:
    """Build in this process through the session cache (each real pack is built once per session)."""
    monkeypatch.setattr(batch, "build_task", pack_cache.build_task)
    return pack_cache
