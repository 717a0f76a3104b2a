"""A keyring that keeps secrets in this process's memory only: the tests' stand-in for the OS keyring.

No test may read or write the keyring of the machine it runs on (a developer's real passwords are there),
so every test runs with a fresh :class:`MemoryKeyring` (tests/conftest.py sets it with
``keyring.set_keyring``), and every ``imgout`` subprocess with keyring's own "no keyring" backend
(``PYTHON_KEYRING_BACKEND``, tests/support/delivery_support.py).
"""

from __future__ import annotations

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(KeyringBackend):
    """Secrets in a dict, gone with the object; never a file."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    @property
    def name(self) -> str:  # type: ignore[override]
        return "test memory keyring"

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(f"{service}/{username} is not stored")
