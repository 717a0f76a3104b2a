"""Delivery settings: where mail goes, who it comes from, who may receive it, where the ledger and log live.

Read from environment variables, optionally over a settings file (YAML) given by the caller or named by
``IMGOUT_SETTINGS``. The environment wins over the file. The SMTP password is read only from
``IMGOUT_SMTP_PASSWORD``: a settings file that contains one is refused, and the password never appears in
``repr()``, output, the log, the ledger or an ``.eml`` file.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import ssl
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..common.yamlfile import describe, read_yaml_mapping, shorten
from ..errors import AddressError, SettingsError
from ..report.profile import text_problem
from .message import check_mailbox

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
#: Bounds of the numeric settings (inclusive): a typo cannot make a run hang or wait for ever.
BOUNDS: dict[str, tuple[float, float]] = {
    "smtp_port": (1, 65535),
    "smtp_timeout": (0.1, 600),
    "retries": (0, 10),
    "retry_backoff": (0, 60),
    "give_up_after": (1, 100),
}
#: The longest single wait between two attempts, whatever the backoff doubles to.
MAX_WAIT = 300.0
MAX_CAFILE_BYTES = 10_000_000

#: Settings-file key -> environment variable. The password has no settings-file key on purpose.
ENV_VARS: dict[str, str] = {
    "smtp_host": "IMGOUT_SMTP_HOST",
    "smtp_port": "IMGOUT_SMTP_PORT",
    "smtp_security": "IMGOUT_SMTP_SECURITY",
    "smtp_user": "IMGOUT_SMTP_USER",
    "smtp_cafile": "IMGOUT_SMTP_CAFILE",
    "smtp_timeout": "IMGOUT_SMTP_TIMEOUT",
    "smtp_helo": "IMGOUT_SMTP_HELO",
    "retries": "IMGOUT_SMTP_RETRIES",
    "retry_backoff": "IMGOUT_SMTP_BACKOFF",
    "give_up_after": "IMGOUT_SMTP_GIVE_UP_AFTER",
    "mail_from": "IMGOUT_MAIL_FROM",
    "allowed_domains": "IMGOUT_ALLOWED_DOMAINS",
    "ledger": "IMGOUT_LEDGER",
    "log": "IMGOUT_LOG",
}
PASSWORD_VAR = "IMGOUT_SMTP_PASSWORD"
SETTINGS_VAR = "IMGOUT_SETTINGS"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the ledger and log live by default: ``$XDG_STATE_HOME/imgout`` or ``~/.local/state/imgout``."""
    env = os.environ if env is None else env
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".local" / "state")
    return Path(base) / "imgout"


@dataclass(frozen=True)
class DeliverySettings:
    """Every delivery setting in one object (see the module docstring for where each comes from)."""

    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_user: str | None = None
    # Never shown: repr=False keeps it out of tracebacks, logs and assertion messages.
    smtp_password: str | None = field(default=None, repr=False)
    smtp_cafile: Path | None = None
    smtp_timeout: float = 30.0
    smtp_helo: str | None = None
    #: Extra attempts after a transient failure (4xx, refused connection, timeout).
    retries: int = 3
    #: Seconds before the first retry; doubled for each further one (0 in tests), at most MAX_WAIT.
    retry_backoff: float = 2.0
    #: Connection failures in a row (refused, timed out, unreachable) after which a run stops trying.
    give_up_after: int = 3
    mail_from: str = "imgout@localhost"
    #: Lower-case domains; empty means any domain is allowed.
    allowed_domains: tuple[str, ...] = ()
    ledger: Path = field(default_factory=lambda: state_dir() / "ledger.sqlite3")
    log: Path = field(default_factory=lambda: state_dir() / "delivery.jsonl")

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying TLS context: the system's trusted CAs, or only ``smtp_cafile`` when set."""
        if self.smtp_cafile is not None:
            return ssl.create_default_context(cafile=str(self.smtp_cafile))
        return ssl.create_default_context()

    def with_paths(self, ledger: Path | None = None, log: Path | None = None) -> DeliverySettings:
        """The same settings with the ledger and/or log file moved (None keeps the setting's)."""
        return replace(self, ledger=ledger or self.ledger, log=log or self.log)


def load_settings(
    env: Mapping[str, str] | None = None, settings_file: Path | None = None
) -> DeliverySettings:
    """Delivery settings from a settings file (``settings_file`` or ``$IMGOUT_SETTINGS``) and the environment.

    Environment variables override the file's keys; the password comes only from ``IMGOUT_SMTP_PASSWORD``.
    """
    env = os.environ if env is None else env
    raw: dict[str, tuple[str, Any]] = {}  # key -> (where it came from, value)
    file = settings_file or (Path(env[SETTINGS_VAR]) if env.get(SETTINGS_VAR) else None)
    if file is not None:
        for key, value in _read_settings_file(file).items():
            raw[key] = (f"{file}: {key}", value)
    for key, var in ENV_VARS.items():
        if env.get(var, "").strip():
            raw[key] = (var, env[var].strip())

    values: dict[str, Any] = {}
    for key, (where, value) in raw.items():
        values[key] = _convert(key, where, value)
    security = values.get("smtp_security", "none")
    values.setdefault("smtp_port", DEFAULT_PORTS[security])
    values.setdefault("ledger", state_dir(env) / "ledger.sqlite3")
    values.setdefault("log", state_dir(env) / "delivery.jsonl")
    password = env.get(PASSWORD_VAR) or None
    if password is not None and not values.get("smtp_user"):
        raise SettingsError(f"{PASSWORD_VAR} is set but IMGOUT_SMTP_USER is not: set both, or neither")
    if password is not None and security == "none" and not _is_loopback(values.get("smtp_host", "localhost")):
        raise SettingsError(
            "Refusing to send the SMTP password unencrypted to "
            f"{values.get('smtp_host')}: set IMGOUT_SMTP_SECURITY to starttls or ssl"
        )
    return DeliverySettings(smtp_password=password, **values)


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1")


def _read_settings_file(path: Path) -> dict[str, Any]:
    data = read_yaml_mapping(
        path,
        lambda key, problem: SettingsError(f"Settings file {path}: {f'{key}: ' if key else ''}{problem}"),
    )
    for key in data:
        if key in ("smtp_password", "password"):
            raise SettingsError(
                f"Settings file {path}: {key}: the password is read only from the environment "
                f"({PASSWORD_VAR}); remove it from the file"
            )
        if key not in ENV_VARS:
            raise SettingsError(f"Settings file {path}: {key}: unknown key (allowed: {', '.join(ENV_VARS)})")
    return data


def _convert(key: str, where: str, value: Any) -> Any:
    """One raw setting (text from the environment, or a YAML value) -> its typed value, or a SettingsError.

    The type of a value from a file is checked before it is turned into text: a list or a mapping where
    text is expected is refused as such, never printed whole.
    """
    if key == "allowed_domains" and isinstance(value, list):
        items = value
    elif isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SettingsError(f"Invalid setting {where}: expected text or a number, got {describe(value)}")
    else:
        items = [value]
    for item in items:
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            raise SettingsError(f"Invalid setting {where}: expected a list of domains, got {describe(item)}")
        raw = str(item)
        if len(raw) > 1_000:
            raise SettingsError(f"Invalid setting {where}: {len(raw):,} characters, at most 1,000 allowed")
        problem = text_problem(raw)
        if problem:
            raise SettingsError(f"Invalid setting {where}: {problem}")
    text = str(value).strip() if not isinstance(value, list) else ",".join(map(str, value))

    def bad(allowed: str) -> SettingsError:
        shown = repr(shorten(text))
        if key in _NUMBERS and not _NUMBER_LIKE.fullmatch(text):
            # Not even an attempt at a number: perhaps the password pasted one line off; never echoed.
            shown = f"{len(text)} characters of text (not shown: it could be a secret pasted here)"
        return SettingsError(f"Invalid setting {where}: {shown} (expected {allowed})")

    convert = _CONVERTERS.get(key)
    return text if convert is None else convert(key, value, text, bad)


Bad = Callable[[str], SettingsError]
#: What a mistyped number looks like (shown in its error); any other text in a number setting is not shown.
_NUMBER_LIKE = re.compile(r"[0-9 .,+\-eE]{0,24}|nan|inf|-inf", re.IGNORECASE)


def _security(key: str, value: Any, text: str, bad: Bad) -> str:
    if text.lower() not in SECURITY_MODES:
        raise bad("one of " + ", ".join(SECURITY_MODES))
    return text.lower()


def _whole_number(key: str, value: Any, text: str, bad: Bad) -> int:
    low, high = (int(b) for b in BOUNDS[key])
    allowed = f"a whole number from {low} to {high}"
    if not (text.isascii() and text.lstrip("+-").isdigit()) or len(text) > 12:
        raise bad(allowed)
    number = int(text)
    if not low <= number <= high:
        raise bad(allowed)
    return number


def _seconds(key: str, value: Any, text: str, bad: Bad) -> float:
    low, high = BOUNDS[key]
    allowed = f"a number of seconds from {low:g} to {high:g}"
    try:
        seconds = float(text) if text.isascii() else math.nan
    except ValueError:
        raise bad(allowed) from None
    if not math.isfinite(seconds) or not low <= seconds <= high:
        raise bad(allowed)
    return seconds


def _host(key: str, value: Any, text: str, bad: Bad) -> str:
    name = text[1:-1] if key == "smtp_helo" and text.startswith("[") and text.endswith("]") else text
    try:
        ipaddress.ip_address(name)
        return text
    except ValueError:
        pass
    if not _looks_like_domain(name.lower()) or len(name) > 253:
        raise bad("a host name such as smtp.example.com, or an IP address")
    return text


def _user(key: str, value: Any, text: str, bad: Bad) -> str:
    if len(text) > 256:
        raise bad("a login name of at most 256 characters")
    return text


def _domains(key: str, value: Any, text: str, bad: Bad) -> tuple[str, ...]:
    items = value if isinstance(value, list) else text.split(",")
    domains = tuple(str(d).strip().lower().lstrip("@") for d in items if str(d).strip())
    for domain in domains:
        if not _looks_like_domain(domain):
            raise bad("comma-separated domains such as acme.example")
    return domains


def _path(key: str, value: Any, text: str, bad: Bad) -> Path:
    if not text:
        raise bad("a file name")
    return Path(text).expanduser()


def _cafile(key: str, value: Any, text: str, bad: Bad) -> Path:
    """A PEM file of trusted certificates, loaded now: a wrong file is a setting's problem, not TLS's."""
    path = _path(key, value, text, bad)
    try:
        info = path.stat()
    except OSError as exc:
        raise bad(f"a readable PEM file of trusted certificates; {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_CAFILE_BYTES:
        raise bad("a readable PEM file of trusted certificates (a regular file of at most 10 MB)")
    try:
        ssl.create_default_context(cafile=str(path))
    except ssl.SSLError as exc:
        raise bad(
            f"a PEM file of trusted certificates; this one holds none OpenSSL can read ({exc.reason})"
        ) from None
    except OSError as exc:
        raise bad(f"a readable PEM file of trusted certificates; {exc.strerror or exc}") from None
    return path


def _sender(key: str, value: Any, text: str, bad: Bad) -> str:
    try:
        return check_mailbox(text, "sender")  # a display name is welcome: imgout Research <research@...>
    except AddressError as exc:
        raise bad(f"one email address, with or without a display name ({exc})") from None


#: How each setting that is not plain text is read (the rest stay text).
_CONVERTERS: dict[str, Callable[[str, Any, str, Bad], Any]] = {
    "smtp_host": _host,
    "smtp_helo": _host,
    "smtp_user": _user,
    "smtp_security": _security,
    "smtp_port": _whole_number,
    "retries": _whole_number,
    "give_up_after": _whole_number,
    "smtp_timeout": _seconds,
    "retry_backoff": _seconds,
    "allowed_domains": _domains,
    "smtp_cafile": _cafile,
    "ledger": _path,
    "log": _path,
    "mail_from": _sender,
}


def _looks_like_domain(domain: str) -> bool:
    labels = domain.split(".")
    return all(
        label and len(label) <= 63 and label.replace("-", "").isalnum() and not label.startswith("-")
        for label in labels
    )


#: The settings that are numbers: a value there that looks nothing like one is not echoed in its error.
_NUMBERS = frozenset(k for k, convert in _CONVERTERS.items() if convert in (_whole_number, _seconds))
