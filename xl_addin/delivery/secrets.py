"""Delivery secrets: where each one comes from (the environment, a file, the OS keyring), never what it is.

Every secret imgout can use is one row of :data:`SECRETS`: its name (what ``imgout secret set NAME``
stores, under the keyring service ``imgout``), what it is in words, and the environment variable that
holds it (or, for a key or certificate, the path of a file that holds it). The environment wins over the
keyring: a run on a server with the variable set never looks at the keyring.

The OS keyring is the field's convention for secrets on a desk (Windows Credential Manager, macOS
Keychain, the Secret Service of GNOME or KDE), through the ``keyring`` library; a machine without one
(a bare server) says so in one line and the environment is used instead. Secret values are never
logged, printed or put in ``repr()``: a :class:`Found` secret shows where it came from only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, SettingsError

#: The keyring service every imgout secret is stored under (the keyring's "user name" is the secret's name).
SERVICE = "imgout"
#: Where a secret comes from on a machine without an OS keyring (and it is not in the environment).
NO_KEYRING = "not set (no OS keyring on this machine)"
#: Windows Credential Manager's limit on one secret: 2,560 bytes of UTF-16 (keyring issue #540). An RSA
#: certificate with its key (about 3,000 characters) or a Google key (about 2,300) does not fit.
WINDOWS_MAX_CHARACTERS = 1280
#: Why an encrypted private key is refused (imgout has no passphrase to open it with).
ENCRYPTED_KEY = (
    "its private key is encrypted: export it without a passphrase (openssl pkcs12 -in app.pfx -nodes)"
)
#: A key file or certificate larger than this is not one.
MAX_SECRET_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class Secret:
    """One kind of secret imgout can use."""

    name: str
    #: What it is, for messages: "the SMTP password".
    what: str
    #: The environment variable holding the value itself, if it may be given so.
    env_var: str | None = None
    #: The environment variable (or settings key) naming a file that holds it, if it may be given so.
    file_var: str | None = None


#: Every secret, by name: the one list `imgout secret`, `imgout doctor` and the settings read.
SECRETS: dict[str, Secret] = {
    s.name: s
    for s in (
        Secret("smtp-password", "the SMTP password", env_var="IMGOUT_SMTP_PASSWORD"),
        Secret(
            "ms-client-secret",
            "the client secret of the Microsoft Entra app registration",
            env_var="IMGOUT_MS_CLIENT_SECRET",
        ),
        Secret(
            "ms-certificate",
            "the Microsoft Entra app's certificate with its private key (PEM)",
            file_var="IMGOUT_MS_CERTIFICATE_FILE",
        ),
        Secret(
            "google-service-account",
            "the Google service account's key (JSON)",
            file_var="IMGOUT_GOOGLE_KEY_FILE",
        ),
    )
}


@dataclass(frozen=True)
class Found:
    """A secret's value and where it came from; ``repr()`` shows where only."""

    value: str | None = field(repr=False)
    #: "the environment (IMGOUT_SMTP_PASSWORD)", "the file ... (IMGOUT_MS_CERTIFICATE_FILE)",
    #: "the OS keyring (SecretService Keyring)", or "not set".
    source: str


def secret(name: str) -> Secret:
    """The secret called ``name``, or an InputError listing the names there are."""
    try:
        return SECRETS[name]
    except KeyError:
        raise InputError(f"Unknown secret {name[:60]!r} (expected one of {', '.join(SECRETS)})") from None


def find(name: str, env: Mapping[str, str] | None = None, files: Mapping[str, Path] | None = None) -> Found:
    """Where secret ``name`` comes from now, and its value: the environment, else its file, else the keyring.

    ``files`` maps a file variable to the path the settings give it (a settings file may name the
    file; the environment's own value wins). A keyring that cannot be used counts as "not set", with why.
    """
    env = os.environ if env is None else env
    kind = secret(name)
    if kind.env_var and env.get(kind.env_var):
        return Found(env[kind.env_var], f"the environment ({kind.env_var})")
    if kind.file_var:
        path = (
            Path(env[kind.file_var]).expanduser()
            if env.get(kind.file_var)
            else (files or {}).get(kind.file_var)
        )
        if path is not None:
            return Found(read_secret_file(path, kind), f"the file {path} ({kind.file_var})")
    try:
        value = _keyring().get_password(SERVICE, name)
    except KeyringUnavailable:
        return Found(None, NO_KEYRING)
    except (
        Exception
    ) as exc:  # a locked or broken store: its text never quotes a secret, but its kind is enough
        return Found(None, f"not set (the OS keyring could not be read: {type(exc).__name__})")
    if value:
        return Found(value, f"the OS keyring ({keyring_name()})")
    return Found(None, "not set")


def read_secret_file(path: Path, kind: Secret) -> str:
    """The text of a key or certificate file, refused with one line when it cannot be one."""
    where = f"{kind.file_var}={path}"
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SECRET_FILE_BYTES:
            raise SettingsError(
                f"Invalid setting {where}: expected {kind.what} in a regular file of at most 1 MB"
            )
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"Invalid setting {where}: expected {kind.what} as text, not binary") from None
    except OSError as exc:
        raise SettingsError(f"Invalid setting {where}: {exc.strerror or exc}") from None


def store(name: str, value: str) -> str:
    """Store secret ``name`` in the OS keyring; returns the keyring's name. Refuses an empty value, and a
    certificate or key that is not one (a paste of the wrong file is caught now, not at the first send)."""
    kind = secret(name)
    if not value.strip():
        raise InputError(f"Refusing to store an empty value as {kind.what} ({name})")
    problem = _shape_problem(name, value)
    if problem:
        raise InputError(f"Refusing to store {name}: expected {kind.what}; {problem}")
    backend = _keyring()
    too_long = (
        f"Windows Credential Manager holds at most {WINDOWS_MAX_CHARACTERS:,} characters a secret and {name} "
        f"has {len(value):,}: keep it in a file only the sending account can read"
        + (f" and name it with {kind.file_var}" if kind.file_var else "")
    )
    if "win" in type(backend).__module__.lower() and len(value) > WINDOWS_MAX_CHARACTERS:
        raise SettingsError(too_long)
    try:
        backend.set_password(SERVICE, name, value)
    except Exception as exc:
        if len(value) > WINDOWS_MAX_CHARACTERS:  # another store with the same kind of limit
            raise SettingsError(
                f"The OS keyring refused to store {name} ({type(exc).__name__}); {too_long}"
            ) from None
        raise SettingsError(f"The OS keyring refused to store {name}: {type(exc).__name__}") from None
    return keyring_name()


def forget(name: str) -> bool:
    """Delete secret ``name`` from the OS keyring; False when it was not there."""
    secret(name)
    backend = _keyring()
    import keyring.errors

    try:
        backend.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        return False
    except Exception as exc:
        raise SettingsError(f"The OS keyring refused to delete {name}: {type(exc).__name__}") from None
    return True


def _shape_problem(name: str, value: str) -> str:
    """What is wrong with the form of a certificate or key ("" when nothing is, or for a password)."""
    if name == "ms-certificate":
        missing = [
            what
            for what, marker in (
                ("private key", "PRIVATE KEY-----"),
                ("certificate", "BEGIN CERTIFICATE-----"),
            )
            if marker not in value
        ]
        if missing:
            return f"it holds no {' and no '.join(missing)} in PEM form"
        if "ENCRYPTED PRIVATE KEY" in value or "Proc-Type: 4,ENCRYPTED" in value:
            return ENCRYPTED_KEY
        return ""
    if name == "google-service-account":
        import json

        try:
            key = json.loads(value)
        except ValueError:
            return "this text is not JSON (download the key as JSON)"
        if not isinstance(key, dict) or key.get("type") != "service_account" or "private_key" not in key:
            return "this JSON is not a service account's key"
    return ""


class KeyringUnavailable(SettingsError):
    """This machine has no OS keyring imgout can use (a bare server): secrets come from the environment."""


def keyring_name() -> str:
    """The keyring in use, in words: "SecretService Keyring", "Windows WinVaultKeyring"..."""
    backend = _keyring()
    return str(getattr(backend, "name", type(backend).__name__))


def _keyring() -> Any:
    """The keyring backend, or KeyringUnavailable saying why there is none."""
    try:
        import keyring
        import keyring.backends.fail
    except ImportError:  # pragma: no cover - keyring is a dependency
        raise KeyringUnavailable("the keyring library is not installed") from None
    backend = keyring.get_keyring()
    if isinstance(backend, keyring.backends.fail.Keyring):
        raise KeyringUnavailable(
            "this machine has no OS keyring (Windows Credential Manager, macOS Keychain or a Secret "
            "Service); use the environment variable instead"
        )
    return backend
