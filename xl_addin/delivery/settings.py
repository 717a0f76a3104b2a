"""Delivery settings: where mail goes, who it comes from, who may receive it, where the ledger and log live.

Read from environment variables, optionally over a settings file (YAML) given by the caller or named by
``IMGOUT_SETTINGS``. The environment wins over the file. Secrets (the SMTP password, a Microsoft client
secret or certificate, a Google service account's key) come from the environment, a file it names, or the
OS keyring (:mod:`.secrets`), never from the settings file: one there is refused, and no secret appears in
``repr()``, output, the log, the ledger or an ``.eml`` file.

Two channels (``IMGOUT_MAIL_CHANNEL``): ``smtp`` (the default) logs in with a password or, with
``IMGOUT_SMTP_AUTH=xoauth2``, with an OAuth 2.0 token; ``graph`` sends through Microsoft Graph with a
token. A token comes from one source (:mod:`.oauth`): a command (``IMGOUT_OAUTH_TOKEN_COMMAND``),
Microsoft 365 client credentials (``IMGOUT_MS_TENANT``, ``IMGOUT_MS_CLIENT_ID``), or a Google service
account acting as the mailbox ``IMGOUT_SMTP_USER``.
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
from . import secrets
from .message import check_mailbox

SECURITY_MODES = ("none", "starttls", "ssl")
AUTH_MODES = ("password", "xoauth2")
CHANNELS = ("smtp", "graph")
#: Microsoft Graph's global endpoint; national clouds (and tests) set IMGOUT_GRAPH_URL.
GRAPH_URL = "https://graph.microsoft.com/v1.0"
#: Microsoft Entra ID's global sign-in host; national clouds (and tests) set IMGOUT_MS_AUTHORITY.
MS_AUTHORITY = "https://login.microsoftonline.com"
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
    "smtp_auth": "IMGOUT_SMTP_AUTH",
    "mail_channel": "IMGOUT_MAIL_CHANNEL",
    "graph_url": "IMGOUT_GRAPH_URL",
    "oauth_token_command": "IMGOUT_OAUTH_TOKEN_COMMAND",
    "ms_tenant": "IMGOUT_MS_TENANT",
    "ms_client_id": "IMGOUT_MS_CLIENT_ID",
    "ms_authority": "IMGOUT_MS_AUTHORITY",
    "ms_certificate_file": "IMGOUT_MS_CERTIFICATE_FILE",
    "google_key_file": "IMGOUT_GOOGLE_KEY_FILE",
    "https_cafile": "IMGOUT_HTTPS_CAFILE",
}
PASSWORD_VAR = "IMGOUT_SMTP_PASSWORD"
#: Settings-file keys that would hold a secret: refused, with where the secret goes instead.
_SECRET_KEYS = {
    "smtp_password": "smtp-password",
    "password": "smtp-password",
    "ms_client_secret": "ms-client-secret",
    "client_secret": "ms-client-secret",
}
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
    #: How the SMTP channel logs in: None (no AUTH), ``password`` or ``xoauth2`` (a token).
    smtp_auth: str | None = None
    #: ``smtp`` or ``graph`` (Microsoft Graph sendMail).
    mail_channel: str = "smtp"
    graph_url: str = GRAPH_URL
    #: Where tokens come from (:mod:`.oauth`): ``command``, ``microsoft``, ``google``, or None.
    token_source: str | None = None
    oauth_token_command: str | None = None
    ms_tenant: str | None = None
    ms_client_id: str | None = None
    ms_authority: str = MS_AUTHORITY
    ms_client_secret: str | None = field(default=None, repr=False)
    #: PEM text of the app's certificate and private key (from a file or the keyring).
    ms_certificate: str | None = field(default=None, repr=False)
    #: JSON text of a Google service account's key (from a file or the keyring).
    google_key: str | None = field(default=None, repr=False)
    #: Trusted CAs for HTTPS (Graph, token endpoints) when not the system's (a TLS-inspecting proxy).
    https_cafile: Path | None = None
    #: Where each secret in use came from (secret name -> "the environment (...)", "the OS keyring (...)").
    secret_sources: tuple[tuple[str, str], ...] = ()

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying TLS context: the system's trusted CAs, or only ``smtp_cafile`` when set."""
        if self.smtp_cafile is not None:
            return ssl.create_default_context(cafile=str(self.smtp_cafile))
        return ssl.create_default_context()

    def https_context(self) -> ssl.SSLContext:
        """A verifying TLS context for HTTPS: the system's trusted CAs, or only ``https_cafile`` when set."""
        if self.https_cafile is not None:
            return ssl.create_default_context(cafile=str(self.https_cafile))
        return ssl.create_default_context()

    @property
    def sender(self) -> str:
        """The sender's bare address (``IMGOUT_MAIL_FROM`` without its display name)."""
        from email.utils import parseaddr

        return parseaddr(self.mail_from)[1]

    def with_paths(self, ledger: Path | None = None, log: Path | None = None) -> DeliverySettings:
        """The same settings with the ledger and/or log file moved (None keeps the setting's)."""
        return replace(self, ledger=ledger or self.ledger, log=log or self.log)


def load_settings(
    env: Mapping[str, str] | None = None, settings_file: Path | None = None
) -> DeliverySettings:
    """Delivery settings from a settings file (``settings_file`` or ``$IMGOUT_SETTINGS``) and the environment.

    Environment variables override the file's keys. Secrets come from the environment, a file it names, or
    the OS keyring (:mod:`.secrets`), never from the settings file; those the channel needs are read now,
    so that a missing one is a setting's problem, said before anything is built.
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
    if env.get(PASSWORD_VAR) and not values.get("smtp_user"):
        raise SettingsError(f"{PASSWORD_VAR} is set but IMGOUT_SMTP_USER is not: set both, or neither")
    values.update(_credentials(values, env))
    for key in ("ms_certificate_file", "google_key_file"):  # read into the secrets they name
        values.pop(key, None)
    auth = values.get("smtp_auth")
    sends_secret = auth == "xoauth2" or (auth == "password" and values.get("smtp_password") is not None)
    if sends_secret and values.get("mail_channel", "smtp") == "smtp" and security == "none":
        host = values.get("smtp_host", "localhost")
        if not _is_loopback(host):
            what = "SMTP password" if auth == "password" else "OAuth token"
            raise SettingsError(
                f"Refusing to send the {what} unencrypted to {host}: set IMGOUT_SMTP_SECURITY to starttls or ssl"
            )
    return DeliverySettings(**values)


def _credentials(values: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """How the channel logs in, and the secrets it needs (found now: a missing one is a setting's problem)."""
    channel = values.get("mail_channel", "smtp")
    auth = values.get("smtp_auth")
    user = values.get("smtp_user")
    if channel == "smtp" and auth is None and user:
        auth = "password"
    if auth == "xoauth2" and not user:
        raise SettingsError(
            "IMGOUT_SMTP_AUTH=xoauth2 needs IMGOUT_SMTP_USER: the mailbox the token is for (e.g. reports@acme.example)"
        )
    if auth == "password" and not user and channel == "smtp":
        raise SettingsError("IMGOUT_SMTP_AUTH=password needs IMGOUT_SMTP_USER: the login name")
    found: dict[str, Any] = {"smtp_auth": auth if channel == "smtp" else None}
    sources: list[tuple[str, str]] = []
    if channel == "smtp" and auth == "password":
        # No password anywhere: no AUTH, as a relay that trusts this host wants.
        password = secrets.find("smtp-password", env)
        found["smtp_password"] = password.value
        sources.append(("smtp-password", password.source))
    if channel == "graph" or auth == "xoauth2":
        found.update(_token_source(values, env, channel, sources))
    found["secret_sources"] = tuple(sources)
    return found


def _token_source(
    values: dict[str, Any], env: Mapping[str, str], channel: str, sources: list[tuple[str, str]]
) -> dict[str, Any]:
    """Which one source gives tokens (a command, Microsoft 365, Google) and its secrets."""
    why = "IMGOUT_MAIL_CHANNEL=graph" if channel == "graph" else "IMGOUT_SMTP_AUTH=xoauth2"
    files = {
        var: values[key]
        for key, var in (
            ("ms_certificate_file", "IMGOUT_MS_CERTIFICATE_FILE"),
            ("google_key_file", "IMGOUT_GOOGLE_KEY_FILE"),
        )
        if values.get(key) is not None
    }
    configured = [
        name
        for name, present in (
            ("command", values.get("oauth_token_command")),
            ("microsoft", values.get("ms_tenant") or values.get("ms_client_id")),
            ("google", values.get("google_key_file")),
        )
        if present
    ]
    if len(configured) > 1:
        raise SettingsError(
            f"Two token sources are set ({' and '.join(_SOURCE_SETTINGS[c] for c in configured)}): keep one"
        )
    if not configured:
        google = secrets.find("google-service-account", env, files)
        if google.value is not None and channel == "smtp":
            sources.append(("google-service-account", google.source))
            return {"token_source": "google", "google_key": google.value}
        raise SettingsError(
            f"{why} needs a token source: IMGOUT_OAUTH_TOKEN_COMMAND (a command that prints a token), "
            "IMGOUT_MS_TENANT with IMGOUT_MS_CLIENT_ID (Microsoft 365)"
            + (", or IMGOUT_GOOGLE_KEY_FILE (Google Workspace)" if channel == "smtp" else "")
        )
    source = configured[0]
    if source == "command":
        return {"token_source": "command"}
    if source == "google":
        if channel == "graph":
            raise SettingsError(
                "IMGOUT_MAIL_CHANNEL=graph sends through Microsoft 365; a Google service account "
                "(IMGOUT_GOOGLE_KEY_FILE) cannot: use the smtp channel with IMGOUT_SMTP_AUTH=xoauth2"
            )
        google = secrets.find("google-service-account", env, files)
        sources.append(("google-service-account", google.source))
        return {"token_source": "google", "google_key": google.value}
    return _microsoft_source(values, env, files, sources)


def _microsoft_source(
    values: dict[str, Any], env: Mapping[str, str], files: dict[str, Path], sources: list[tuple[str, str]]
) -> dict[str, Any]:
    """Microsoft 365 client credentials: the tenant, the app, and its client secret or certificate."""
    for key, var in (("ms_tenant", "IMGOUT_MS_TENANT"), ("ms_client_id", "IMGOUT_MS_CLIENT_ID")):
        if not values.get(key):
            raise SettingsError(
                f"Microsoft 365 needs both IMGOUT_MS_TENANT and IMGOUT_MS_CLIENT_ID; {var} is not set "
                "(both are on the app registration's Overview page in the Microsoft Entra admin center)"
            )
    client_secret = secrets.find("ms-client-secret", env)
    sources.append(("ms-client-secret", client_secret.source))
    certificate = secrets.Found(None, "not set")
    if (
        client_secret.value is None
        or files.get("IMGOUT_MS_CERTIFICATE_FILE")
        or env.get("IMGOUT_MS_CERTIFICATE_FILE")
    ):
        certificate = secrets.find("ms-certificate", env, files)
        sources.append(("ms-certificate", certificate.source))
    if client_secret.value is None and certificate.value is None:
        raise SettingsError(
            "Microsoft 365 needs the app's client secret (IMGOUT_MS_CLIENT_SECRET, or `imgout secret set "
            "ms-client-secret`) or its certificate (IMGOUT_MS_CERTIFICATE_FILE, or `imgout secret set "
            "ms-certificate`); neither is set"
        )
    if certificate.value is not None:  # a certificate, when given, is used: it is the stronger credential
        return {"token_source": "microsoft", "ms_certificate": certificate.value}
    return {"token_source": "microsoft", "ms_client_secret": client_secret.value}


_SOURCE_SETTINGS = {
    "command": "IMGOUT_OAUTH_TOKEN_COMMAND",
    "microsoft": "IMGOUT_MS_TENANT/IMGOUT_MS_CLIENT_ID",
    "google": "IMGOUT_GOOGLE_KEY_FILE",
}


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1")


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is this machine (127.0.0.0/8, ::1, localhost): plain http:// is allowed there only."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _read_settings_file(path: Path) -> dict[str, Any]:
    data = read_yaml_mapping(
        path,
        lambda key, problem: SettingsError(f"Settings file {path}: {f'{key}: ' if key else ''}{problem}"),
    )
    for key in data:
        if key in _SECRET_KEYS:
            kind = secrets.SECRETS[_SECRET_KEYS[key]]
            raise SettingsError(
                f"Settings file {path}: {key}: {kind.what} is read only from the environment ({kind.env_var}) "
                f"or the OS keyring (`imgout secret set {kind.name}`); remove it from the file"
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
        if key in _NUMBERS and not _NUMBER_LIKE.fullmatch(text) and not (text.isalpha() and len(text) <= 20):
            # Neither a mistyped number nor a word ("smtp"): perhaps the password pasted one line off.
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


def _auth(key: str, value: Any, text: str, bad: Bad) -> str:
    if text.lower() not in AUTH_MODES:
        raise bad("one of " + ", ".join(AUTH_MODES))
    return text.lower()


def _channel(key: str, value: Any, text: str, bad: Bad) -> str:
    if text.lower() not in CHANNELS:
        raise bad("one of " + ", ".join(CHANNELS))
    return text.lower()


def _https_url(key: str, value: Any, text: str, bad: Bad) -> str:
    """An https:// URL (http:// only to this machine: a token never crosses a network in clear)."""
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme == "http" and is_loopback_url(text):
        return text.rstrip("/")
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise bad(
            "an https:// URL such as https://graph.microsoft.com/v1.0 (http:// only to 127.0.0.1 or ::1)"
        )
    return text.rstrip("/")


def _command(key: str, value: Any, text: str, bad: Bad) -> str:
    import shlex

    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise bad(f"a command line ({exc})") from None
    if not words:
        raise bad("a command that prints an access token")
    return text


def _identifier(key: str, value: Any, text: str, bad: Bad) -> str:
    """A tenant (GUID or domain such as acme.onmicrosoft.com) or an application (client) ID."""
    if not text or len(text) > 256 or not all(c.isalnum() or c in "-._" for c in text):
        raise bad(
            "an ID such as 0a1b2c3d-4e5f-6789-abcd-ef0123456789 (or, for a tenant, acme.onmicrosoft.com)"
        )
    return text


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
    "smtp_auth": _auth,
    "mail_channel": _channel,
    "graph_url": _https_url,
    "ms_authority": _https_url,
    "oauth_token_command": _command,
    "ms_tenant": _identifier,
    "ms_client_id": _identifier,
    "ms_certificate_file": _path,
    "google_key_file": _path,
    "https_cafile": _cafile,
}


def _looks_like_domain(domain: str) -> bool:
    labels = domain.split(".")
    return all(
        label and len(label) <= 63 and label.replace("-", "").isalnum() and not label.startswith("-")
        for label in labels
    )


#: The settings that are numbers: a value there that looks nothing like one is not echoed in its error.
_NUMBERS = frozenset(k for k, convert in _CONVERTERS.items() if convert in (_whole_number, _seconds))
