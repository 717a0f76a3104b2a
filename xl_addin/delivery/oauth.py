"""OAuth 2.0 access tokens for sending: from a command, from Microsoft 365, or from a Google service account.

One :class:`Tokens` per resource a run talks to (SMTP, or Microsoft Graph) gets its tokens from the one
source the settings name (:attr:`~.settings.DeliverySettings.token_source`):

- ``command``: ``IMGOUT_OAUTH_TOKEN_COMMAND`` is run and prints a token on stdout (as msmtp's
  ``passwordeval`` and git's credential helpers do), so any provider and any tool the IT team already uses
  works. It runs with ``IMGOUT_TOKEN_FOR`` set to ``smtp`` or ``graph``. It may print the bare token, or
  JSON with ``access_token`` (``accessToken``) and ``expires_in`` or ``expires_on``.
- ``microsoft``: the client-credentials grant of Microsoft Entra ID through MSAL, for the app
  ``IMGOUT_MS_CLIENT_ID`` in the tenant ``IMGOUT_MS_TENANT``, with its client secret or certificate;
  scope ``https://outlook.office365.com/.default`` for SMTP and ``<Graph host>/.default`` for Graph.
- ``google``: a Google service account with domain-wide delegation acting as ``IMGOUT_SMTP_USER``,
  through google-auth; scope ``https://mail.google.com/``.

A token is kept in memory until it expires (a minute early), fetched again once when the server refuses
it (SMTP 535, Graph 401), and never written anywhere: not in output, the log, the ledger, an ``.eml``
file or a ``repr()``. Every failure is a :class:`~xl_addin.errors.TokenError`: one line naming the
source and the fix.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import os
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from ..errors import TokenError
from .settings import DeliverySettings, is_loopback_url

Resource = Literal["smtp", "graph"]
#: The scope of a Microsoft 365 token for SMTP AUTH with client credentials (Exchange Online's resource).
MS_SMTP_SCOPE = "https://outlook.office365.com/.default"
#: The scope of a Google token for SMTP (and IMAP, POP): the full mail scope.
GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
#: A token is fetched again this long before it expires, so that it never expires in mid-conversation.
EARLY_SECONDS = 60.0
#: How long a token command may take (a helper that asks a vault, or a browser sign-in, takes a while).
COMMAND_TIMEOUT = 120.0
#: How long a token endpoint may take to answer.
HTTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and when it expires (seconds since the epoch; None: unknown, used until refused)."""

    value: str = field(repr=False)
    expires_at: float | None = None


class Tokens:
    """Access tokens for one resource (``smtp`` or ``graph``), from the settings' source, kept until they expire.

    ``clock`` gives the time (tests move it forward).
    """

    def __init__(
        self, settings: DeliverySettings, resource: Resource, *, clock: Callable[[], float] = time.time
    ) -> None:
        if settings.token_source is None:
            raise TokenError("No token source is set (see IMGOUT_OAUTH_TOKEN_COMMAND, IMGOUT_MS_TENANT)")
        self.settings = settings
        self.resource = resource
        self._clock = clock
        self._token: AccessToken | None = None
        self._seen: set[str] = set()
        self._fetch: Callable[[bool], AccessToken] = {
            "command": self._from_command,
            "microsoft": self._from_microsoft,
            "google": self._from_google,
        }[settings.token_source]
        self._msal_app: Any = None

    def __repr__(self) -> str:
        return f"<Tokens for {self.resource} from {self.source}>"

    @property
    def scope(self) -> str:
        """The scope asked for: what the token lets its holder do."""
        if self.settings.token_source == "google":
            return GOOGLE_MAIL_SCOPE
        if self.resource == "smtp":
            return MS_SMTP_SCOPE
        parts = urlsplit(self.settings.graph_url)
        return f"{parts.scheme}://{parts.netloc}/.default"

    @property
    def source(self) -> str:
        """Where tokens come from, in words (no secret in it)."""
        s = self.settings
        if s.token_source == "command":
            return "the command IMGOUT_OAUTH_TOKEN_COMMAND"
        if s.token_source == "microsoft":
            credential = "certificate" if s.ms_certificate else "client secret"
            return f"Microsoft 365 (tenant {s.ms_tenant}, app {s.ms_client_id}, {credential})"
        return f"the Google service account {_google_account(s)} acting as {s.smtp_user}"

    def get(self) -> str:
        """A token that has not expired: the one kept, or a new one."""
        token = self._token
        if token is None or (
            token.expires_at is not None and token.expires_at - EARLY_SECONDS <= self._clock()
        ):
            token = self._new(fresh=False)
        return token.value

    def refresh(self) -> str:
        """A new token, whatever the one kept says about its expiry (the server refused it)."""
        return self._new(fresh=True).value

    def scrub(self, text: str) -> str:
        """``text`` without any token this object has handed out, in the forms one travels in."""
        for value in sorted(self._seen, key=len, reverse=True):
            for form in (value, base64.b64encode(value.encode()).decode()):
                text = text.replace(form, "[token]")
        return text

    def _new(self, fresh: bool) -> AccessToken:
        self._token = None
        token = self._fetch(fresh)
        if not token.value or any(c.isspace() or not c.isprintable() for c in token.value):
            raise TokenError(f"The token from {self.source} is empty or holds spaces or control characters")
        self._seen.add(token.value)
        self._token = token
        return token

    # -- a command ---------------------------------------------------------------------------------------

    def _from_command(self, fresh: bool) -> AccessToken:
        command = self.settings.oauth_token_command or ""
        # Windows parses a command line itself (quotes around C:\Program Files\...): it gets the string.
        words: str | list[str] = command if os.name == "nt" else shlex.split(command)
        program = command.split()[0] if os.name == "nt" else words[0]
        env = {**os.environ, "IMGOUT_TOKEN_FOR": self.resource}
        what = "The token command (IMGOUT_OAUTH_TOKEN_COMMAND)"
        try:
            done = subprocess.run(
                words,
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise TokenError(f"{what} cannot be run: no program {program!r}; check the command") from None
        except subprocess.TimeoutExpired:
            raise TokenError(
                f"{what} did not finish within {COMMAND_TIMEOUT:g} s; run it by hand to see why"
            ) from None
        except OSError as exc:
            raise TokenError(f"{what} cannot be run: {exc.strerror or exc}") from None
        if done.returncode != 0:
            said = _last_line(done.stderr)
            raise TokenError(
                f"{what} failed (exit code {done.returncode}{': ' + said if said else ''}); run it by hand to see why"
            )
        return _parse_command_output(done.stdout, what, self._clock())

    # -- Microsoft 365 -----------------------------------------------------------------------------------

    def _from_microsoft(self, fresh: bool) -> AccessToken:
        s = self.settings
        try:
            import msal
            import requests
        except ImportError:  # pragma: no cover - msal is a dependency
            raise TokenError("Microsoft 365 tokens need the msal package: pip install msal") from None
        if self._msal_app is None or fresh:
            # A new application object has an empty token cache: a refused token is never handed out again.
            credential: Any = s.ms_client_secret
            if s.ms_certificate:
                credential = _certificate_credential(s.ms_certificate)
            authority = f"{s.ms_authority}/{s.ms_tenant}"
            try:
                self._msal_app = msal.ConfidentialClientApplication(
                    s.ms_client_id,
                    client_credential=credential,
                    authority=authority,
                    instance_discovery=False,  # the authority is given; national clouds need no lookup
                    http_client=_http_session(s),
                )
            except ValueError as exc:
                if "tenant" in str(exc).lower() or "authority" in str(exc).lower():
                    raise TokenError(
                        f"Microsoft 365 does not know the tenant {s.ms_tenant!r} at {s.ms_authority}: check "
                        "IMGOUT_MS_TENANT (the Directory (tenant) ID on the app registration's Overview page)"
                    ) from None
                raise TokenError(f"Microsoft 365 sign-in cannot start: {_first_sentence(str(exc))}") from None
            except requests.RequestException as exc:
                raise TokenError(_unreachable(s.ms_authority, exc)) from None
        try:
            result = self._msal_app.acquire_token_for_client(scopes=[self.scope])
        except requests.RequestException as exc:
            raise TokenError(_unreachable(s.ms_authority, exc)) from None
        if "access_token" not in result:
            raise TokenError(_microsoft_refusal(s, result))
        expires_in = result.get("expires_in")
        expires_at = self._clock() + float(expires_in) if isinstance(expires_in, int | float) else None
        return AccessToken(str(result["access_token"]), expires_at)

    # -- Google ------------------------------------------------------------------------------------------

    def _from_google(self, fresh: bool) -> AccessToken:
        s = self.settings
        try:
            import google.auth.exceptions
            import google.auth.transport.requests
            import requests
            from google.oauth2 import service_account
        except ImportError:  # pragma: no cover - google-auth is a dependency
            raise TokenError("Google tokens need the google-auth package: pip install google-auth") from None
        info = _google_key(s)
        try:
            credentials = service_account.Credentials.from_service_account_info(
                info, scopes=[GOOGLE_MAIL_SCOPE], subject=s.smtp_user
            )
        except (ValueError, KeyError) as exc:
            raise TokenError(
                f"The Google service account key ({_google_key_source(s)}) is not one: {_first_sentence(str(exc))}"
            ) from None
        session = _http_session(s)
        try:
            credentials.refresh(google.auth.transport.requests.Request(session))
        except google.auth.exceptions.RefreshError as exc:
            raise TokenError(_google_refusal(s, info, exc)) from None
        except (google.auth.exceptions.TransportError, requests.RequestException) as exc:
            raise TokenError(_unreachable(str(info.get("token_uri")), exc)) from None
        finally:
            session.close()
        expiry = credentials.expiry  # naive UTC
        expires_at = expiry.replace(tzinfo=dt.UTC).timestamp() if expiry else None
        return AccessToken(str(credentials.token), expires_at)


# ------------------------------------------------------------------------------------------ SMTP XOAUTH2


def xoauth2_response(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial client response (before base64): user, bearer token, two ^A's.

    >>> xoauth2_response("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg")
    'user=someuser@example.com\\x01auth=Bearer ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\\x01\\x01'
    """
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def login_xoauth2(connection: Any, user: str, tokens: Tokens) -> None:
    """AUTH XOAUTH2 on an open SMTP connection; a refused token is fetched again once, then it is a TokenError.

    The exchange is RFC 4954 with Google's and Microsoft's XOAUTH2: the response carries the user and the
    token; a refusal is a 334 challenge holding a JSON error, answered with an empty line, then 535.
    """
    import smtplib

    connection.ehlo_or_helo_if_needed()
    if not connection.has_extn("auth") or "XOAUTH2" not in connection.esmtp_features["auth"].upper().split():
        offered = connection.esmtp_features.get("auth", "").strip() or "no AUTH at all"
        raise TokenError(
            f"The SMTP server does not offer AUTH XOAUTH2 (it offers {offered}); check IMGOUT_SMTP_HOST, "
            "IMGOUT_SMTP_SECURITY (AUTH is often offered only after STARTTLS) and IMGOUT_SMTP_AUTH"
        )
    # Each provider's published exchange: Microsoft's sends the response after an empty 334 challenge,
    # Google's (and RFC 4954's initial response, which any other server takes) on the AUTH line itself.
    two_step = tokens.settings.token_source == "microsoft"
    reply = ""
    for attempt in (1, 2):
        token = tokens.get() if attempt == 1 else tokens.refresh()
        response = base64.b64encode(xoauth2_response(user, token).encode("utf-8")).decode("ascii")
        if two_step:
            code, text = connection.docmd("AUTH", "XOAUTH2")
            if code == 334:
                code, text = connection.docmd(response)
        else:
            code, text = connection.docmd("AUTH", f"XOAUTH2 {response}")
        if code == 334:  # the error as base64 JSON; an empty line ends the exchange with the final reply
            code, text = connection.docmd("")
        if code in (235, 503):  # 503: already authenticated on this connection
            return
        if not 500 <= code < 600:  # 4xx: a temporary failure, retried like any other
            raise smtplib.SMTPResponseException(code, text)
        reply = f"{code} {' '.join(text.decode('utf-8', 'replace').split())}"
    raise TokenError(
        f"The SMTP server refused the token for {user} even after a fresh one ({tokens.scrub(reply)}); "
        + _smtp_refusal_fix(tokens)
    )


def _smtp_refusal_fix(tokens: Tokens) -> str:
    source = tokens.settings.token_source
    if source == "microsoft":
        return (
            "check that the app has SMTP.SendAsApp with admin consent, that its service principal is registered "
            "in Exchange Online with FullAccess to the mailbox, and that SMTP AUTH is enabled for the mailbox"
        )
    if source == "google":
        return "check the domain-wide delegation of the service account's client ID with scope https://mail.google.com/"
    return "check that the command's token is for this mailbox and for SMTP"


# ------------------------------------------------------------------------------------------ helpers


def token_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT access token (Microsoft's are), unverified; {} for an opaque token (Google's)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, binascii.Error):
        return {}
    return claims if isinstance(claims, dict) else {}


def _parse_command_output(stdout: bytes, what: str, now: float) -> AccessToken:
    text = stdout.decode("utf-8", "replace").strip()
    if not text:
        raise TokenError(f"{what} printed nothing; it must print an access token on stdout")
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise TokenError(f"{what} printed text starting with '{{' that is not JSON") from None
        value = data.get("access_token") or data.get("accessToken") if isinstance(data, dict) else None
        if not isinstance(value, str):
            raise TokenError(f"{what} printed JSON without access_token")
        expires_at = None
        if isinstance(data.get("expires_on"), int | float | str) and str(data["expires_on"]).isdigit():
            expires_at = float(data["expires_on"])
        elif isinstance(data.get("expires_in"), int | float):
            expires_at = now + float(data["expires_in"])
        return AccessToken(value, expires_at)
    value = text.splitlines()[0].strip()
    exp = token_claims(value).get("exp")
    return AccessToken(value, float(exp) if isinstance(exp, int | float) else None)


def _http_session(s: DeliverySettings) -> Any:
    """A requests session for a token endpoint: a timeout on every request and, with IMGOUT_HTTPS_CAFILE,
    only those CAs trusted (given per request, where REQUESTS_CA_BUNDLE cannot override it)."""
    import functools

    import requests

    session = requests.Session()
    options: dict[str, Any] = {"timeout": HTTP_TIMEOUT}
    if s.https_cafile is not None:
        options["verify"] = str(s.https_cafile)
    session.request = functools.partial(session.request, **options)  # type: ignore[method-assign]
    return session


def _last_line(stderr: bytes) -> str:
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return " ".join(lines[-1].split())[:200] if lines else ""


def _first_sentence(text: str) -> str:
    """The first line of a provider's description (Entra ID appends "Trace ID: ..." lines)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return " ".join(line.split())[:300]


def _unreachable(where: str, exc: BaseException) -> str:
    host = urlsplit(where).netloc or where
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return f"The TLS certificate of {host} is not trusted; see IMGOUT_HTTPS_CAFILE (a TLS-inspecting proxy's CA)"
    return f"Cannot reach {host} for a token ({type(exc).__name__}); check the network and proxy settings"


def _certificate_credential(pem: str) -> dict[str, str]:
    """MSAL's certificate credential from one PEM holding the private key and the certificate."""
    import re

    key = re.search(
        r"-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", pem, re.S
    )
    cert = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pem, re.S)
    if key is None or cert is None:
        raise TokenError(
            "The Microsoft app certificate (ms-certificate) must be one PEM holding the private key and the "
            f"certificate; it has {'no private key' if key is None else 'no certificate'}"
        )
    if "ENCRYPTED" in key.group(0):
        from .secrets import ENCRYPTED_KEY

        raise TokenError(f"The Microsoft app certificate (ms-certificate): {ENCRYPTED_KEY}")
    # With the certificate given, MSAL sends its SHA-256 thumbprint (x5t#S256) in the client assertion.
    return {"private_key": key.group(0), "public_certificate": cert.group(0)}


#: Entra ID's error codes (AADSTS...) that need their own advice, and the fix for each.
_AADSTS_FIXES = {
    "AADSTS7000215": "the client secret is wrong: store the secret's Value (not its ID) with `imgout secret set ms-client-secret`",
    "AADSTS7000222": "the client secret has expired: make a new one under Certificates & secrets and store it with `imgout secret set ms-client-secret`",
    "AADSTS700016": "the app is not in that tenant: check IMGOUT_MS_CLIENT_ID (Application (client) ID) and IMGOUT_MS_TENANT",
    "AADSTS90002": "the tenant does not exist: check IMGOUT_MS_TENANT (Directory (tenant) ID)",
    "AADSTS700027": "the certificate is not the app's: upload its public part under Certificates & secrets",
    "AADSTS1002012": "the scope is not one Entra ID knows: check IMGOUT_GRAPH_URL",
}


def _microsoft_refusal(s: DeliverySettings, result: dict[str, Any]) -> str:
    description = _first_sentence(str(result.get("error_description") or ""))
    code = description.split(":", 1)[0] if description.startswith("AADSTS") else ""
    fix = (
        _AADSTS_FIXES.get(code)
        or "check IMGOUT_MS_TENANT, IMGOUT_MS_CLIENT_ID and the app's secret or certificate"
    )
    error = result.get("error") or "refused"
    return f"Microsoft 365 refused a token for app {s.ms_client_id} ({error}: {description or 'no description'}); {fix}"


def _google_key(s: DeliverySettings) -> dict[str, Any]:
    where = _google_key_source(s)
    try:
        info = json.loads(s.google_key or "")
    except ValueError:
        raise TokenError(
            f"The Google service account key ({where}) is not JSON; download a JSON key"
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise TokenError(f"The Google service account key ({where}) is not a service account's JSON key")
    token_uri = str(info.get("token_uri") or "")
    if not token_uri.startswith("https://") and not (
        token_uri.startswith("http://") and is_loopback_url(token_uri)
    ):
        raise TokenError(
            f"The Google service account key ({where}) has token_uri {token_uri[:80]!r}: expected https://"
        )
    return info


def _google_key_source(s: DeliverySettings) -> str:
    return dict(s.secret_sources).get("google-service-account", "google-service-account")


def _google_account(s: DeliverySettings) -> str:
    try:
        email = json.loads(s.google_key or "{}").get("client_email")
    except (ValueError, AttributeError):
        email = None
    return str(email or "(key not readable)")


def _google_refusal(s: DeliverySettings, info: dict[str, Any], exc: BaseException) -> str:
    said = _first_sentence(str(exc.args[0]) if exc.args else type(exc).__name__)
    if said.startswith("unauthorized_client"):
        fix = (
            f"in the Google Admin console (Security > Access and data control > API controls > Domain-wide "
            f"delegation) authorise client ID {info.get('client_id')} for the scope {GOOGLE_MAIL_SCOPE}"
        )
    elif said.startswith("invalid_grant"):
        fix = f"check IMGOUT_SMTP_USER ({s.smtp_user}) is a user of the Workspace domain, and the key is not deleted"
    else:
        fix = "check the service account key and its domain-wide delegation"
    return f"Google refused a token for {s.smtp_user} ({said}); {fix}"
