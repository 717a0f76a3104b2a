"""Stand-ins for Microsoft Graph, Microsoft Entra ID and Google's token endpoint, on 127.0.0.1 only.

Nothing in the tests can reach Microsoft or Google, so this one HTTP server (the standard library's
``http.server`` in a background thread, plain or TLS with the throwaway CA of :mod:`tests.support.smtp_server`)
answers as their published APIs do, and checks what it is sent the way they do:

- **Entra ID** (``/{tenant}/v2.0/.well-known/openid-configuration`` and ``/{tenant}/oauth2/v2.0/token``):
  the client-credentials grant with a client secret, or with a client assertion (a JWT signed with the
  app's certificate, checked against the certificate's public key); an unknown tenant is AADSTS90002, a
  wrong secret AADSTS7000215, an unknown app AADSTS700016.
- **Google** (``/google/token``): the JWT-bearer grant of a service account, the assertion checked with the
  account's public key; a mailbox the account may not act as is ``unauthorized_client``.
- **Graph** (``/v1.0/users/{sender}/sendMail``): ``text/plain``, a base64 MIME message, a bearer token the
  server issued for Graph; 202. A script of answers per request tests the rest: ``429`` with
  ``Retry-After``, ``503``, ``500``, ``401``, ``403``, a connection dropped after the message was accepted,
  and an answer held back (so a test can kill the sender while it waits).
- **Graph lookup** (``GET /v1.0/users/{sender}/messages?$filter=internetMessageId eq '<...>'``).

Tokens it issues are JWT-shaped (Microsoft's are JWTs; the ``roles`` claim carries the app permissions);
it remembers every token issued so a test can search every output for them.
"""

from __future__ import annotations

import base64
import email.policy
import http.server
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.support.delivery_support import SENDER
from tests.support.smtp_server import HOST, _write_throwaway_certificate

GRAPH_RESOURCE = "graph"
SMTP_RESOURCE = "smtp"
#: What each scope a token may be asked for gives a token for.
SCOPES = {
    "https://outlook.office365.com/.default": SMTP_RESOURCE,
    "https://mail.google.com/": SMTP_RESOURCE,
}


@dataclass
class Issued:
    """A token the server handed out: for which resource, whom, until when."""

    value: str = field(repr=False)
    resource: str
    subject: str
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True)
class GraphMessage:
    """One message Graph accepted through sendMail."""

    sender: str
    message: EmailMessage
    raw: bytes

    @property
    def internet_message_id(self) -> str:
        return str(self.message["Message-ID"]).strip()

    def addresses(self, header: str) -> list[str]:
        return [a for _, a in getaddresses([str(v) for v in self.message.get_all(header, [])])]


@dataclass
class EntraApp:
    """An app registration in a tenant: its client ID, secret or certificate, and its application permissions."""

    tenant: str
    client_id: str
    secret: str | None = field(default=None, repr=False)
    certificate_pem: bytes | None = None
    roles: tuple[str, ...] = ("Mail.Send", "Mail.ReadBasic.All")


class CloudServer:
    """The stand-in server (see the module docstring). ``tls``: serve HTTPS with the throwaway CA."""

    def __init__(self, *, tls: bool = False, token_lifetime: float = 3599.0) -> None:
        self.tls = tls
        self.token_lifetime = token_lifetime
        self.apps: list[EntraApp] = []
        #: Google service account client_email -> (public key PEM, mailboxes it may act as).
        self.google_accounts: dict[str, tuple[bytes, set[str]]] = {}
        self.issued: list[Issued] = []
        self.messages: list[GraphMessage] = []
        #: Answers to give to the next sendMail requests, in order (then 202): "202", "429:<seconds>",
        #: "503", "500", "401", "403", "drop" (accept, then close without answering), "trickle" (accept, then
        #: answer a byte at a time), "hold:<seconds>"
        #: (accept, answer 202 after waiting), "500-after-accept".
        self.script: list[str] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lookups: list[str] = []
        self._lock = threading.Lock()
        self._httpd: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: Any = None
        self.cafile: Path | None = None

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> CloudServer:
        owner = self

        class Handler(_Handler):
            server_owner = owner

        self._httpd = _QuietServer((HOST, 0), Handler)
        self._httpd.daemon_threads = True
        if self.tls:
            import tempfile

            self._tmp = tempfile.TemporaryDirectory(prefix="imgout-cloud-cert-")
            certificate = _write_throwaway_certificate(Path(self._tmp.name))
            self.cafile = certificate.cafile
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(certificate.certfile), str(certificate.keyfile))
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> CloudServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"{'https' if self.tls else 'http'}://{HOST}:{self._httpd.server_address[1]}"

    @property
    def graph_url(self) -> str:
        return f"{self.url}/v1.0"

    @property
    def google_token_uri(self) -> str:
        return f"{self.url}/google/token"

    # -- tokens --------------------------------------------------------------------------------------

    def issue(
        self, resource: str, subject: str, roles: tuple[str, ...] = (), lifetime: float | None = None
    ) -> str:
        """A new token for ``resource`` (JWT-shaped, unsigned: only this server checks it)."""
        expires_at = time.time() + (self.token_lifetime if lifetime is None else lifetime)
        claims = {
            "aud": resource,
            "sub": subject,
            "exp": int(expires_at),
            "roles": list(roles),
            "n": secrets.token_hex(8),
        }
        value = (
            ".".join(
                base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
                for part in ({"typ": "JWT", "alg": "none"}, claims)
            )
            + "."
            + secrets.token_urlsafe(16)
        )
        with self._lock:
            self.issued.append(Issued(value, resource, subject, expires_at))
        return value

    def token_ok(self, value: str, resource: str) -> Issued | None:
        with self._lock:
            for issued in self.issued:
                if issued.value == value:
                    ok = (
                        issued.resource == resource and not issued.revoked and issued.expires_at > time.time()
                    )
                    return issued if ok else None
        return None

    def revoke_all(self) -> None:
        """Every token issued so far is refused from now on (as when a secret is rotated)."""
        with self._lock:
            for issued in self.issued:
                issued.revoked = True

    @property
    def token_values(self) -> list[str]:
        with self._lock:
            return [i.value for i in self.issued]

    # -- called from the handler ---------------------------------------------------------------------

    def _record(self, sender: str, raw: bytes) -> None:
        message = cast(
            EmailMessage, BytesParser(policy=email.policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        )
        with self._lock:
            self.messages.append(GraphMessage(sender, message, raw))

    def _next_answer(self) -> str:
        with self._lock:
            return self.script.pop(0) if self.script else "202"


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client killed mid-request (the tests do that on purpose) is not an error worth a traceback."""


class _Handler(http.server.BaseHTTPRequestHandler):
    server_owner: CloudServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # -- plumbing ------------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _graph_error(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._json(status, {"error": {"code": code, "message": message}}, headers)

    # -- GET -----------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        owner = self.server_owner
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        owner.requests.append(("GET", parts.path, dict(self.headers)))
        if segments[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            tenant = segments[0]
            if not any(app.tenant == tenant for app in owner.apps):
                self._json(
                    400,
                    {
                        "error": "invalid_tenant",
                        "error_description": f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have "
                        "the correct tenant ID and are signing into the correct cloud.\r\nTrace ID: 1",
                    },
                )
                return
            base = f"{owner.url}/{tenant}"
            self._json(
                200,
                {
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "issuer": f"{owner.url}/{tenant}/v2.0",
                },
            )
            return
        if (
            len(segments) == 4
            and segments[0] == "v1.0"
            and segments[1] == "users"
            and segments[3] == "messages"
        ):
            if not self._authorised(segments[2], "Mail.ReadBasic.All"):
                return
            query = parse_qs(parts.query)
            wanted = query.get("$filter", [""])[0]
            prefix = "internetMessageId eq '"
            if not (wanted.startswith(prefix) and wanted.endswith("'")):
                self._graph_error(400, "BadRequest", f"Invalid filter clause: {wanted[:60]}")
                return
            message_id = wanted[len(prefix) : -1].replace("''", "'")
            owner.lookups.append(message_id)
            found = [
                {
                    "internetMessageId": m.internet_message_id,
                    **{
                        f"{field.lower()}Recipients": [
                            {"emailAddress": {"address": a}} for a in m.addresses(field)
                        ]
                        for field in ("To", "Cc")
                    },
                }
                for m in list(owner.messages)
                if m.sender.lower() == segments[2].lower() and m.internet_message_id == message_id
            ]
            self._json(200, {"value": found})
            return
        self._graph_error(404, "NotFound", f"no route {parts.path}")

    def _authorised(self, sender: str, role: str) -> bool:
        owner = self.server_owner
        auth = self.headers.get("Authorization", "")
        issued = owner.token_ok(auth[7:], GRAPH_RESOURCE) if auth.startswith("Bearer ") else None
        if issued is None:
            self._graph_error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
            return False
        app = next((a for a in owner.apps if a.client_id == issued.subject), None)
        roles = app.roles if app is not None else ("Mail.Send", "Mail.ReadBasic.All")
        if role not in roles:
            self._graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
            return False
        if not sender.endswith("@imgout.example"):
            self._graph_error(404, "ErrorInvalidUser", f"The requested user '{sender}' is invalid.")
            return False
        return True

    # -- POST ----------------------------------------------------------------------------------------

    def do_POST(self) -> None:
        owner = self.server_owner
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        body = self._body()
        owner.requests.append(("POST", parts.path, dict(self.headers)))
        if segments[1:] == ["oauth2", "v2.0", "token"]:
            self._entra_token(segments[0], {k: v[0] for k, v in parse_qs(body.decode()).items()})
            return
        if segments == ["google", "token"]:
            self._google_token({k: v[0] for k, v in parse_qs(body.decode()).items()})
            return
        if len(segments) == 4 and segments[:2] == ["v1.0", "users"] and segments[3] == "sendMail":
            self._send_mail(segments[2], body)
            return
        self._graph_error(404, "NotFound", f"no route {parts.path}")

    def _send_mail(self, sender: str, body: bytes) -> None:
        owner = self.server_owner
        answer = owner._next_answer()
        if answer == "401":
            self._graph_error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
            return
        if not self._authorised(sender, "Mail.Send"):
            return
        if self.headers.get("Content-Type", "").split(";")[0].strip() != "text/plain":
            self._graph_error(
                400, "ErrorMimeContentInvalid", "MIME content must be sent as text/plain, base64"
            )
            return
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError:
            self._graph_error(
                400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content."
            )
            return
        if answer.startswith("429") or answer == "503":
            seconds = answer.split(":")[1] if ":" in answer else "1"
            status, code = (
                (429, "TooManyRequests") if answer.startswith("429") else (503, "ServiceUnavailable")
            )
            self._graph_error(status, code, "Please retry again later.", {"Retry-After": seconds})
            return
        if answer == "500":
            self._graph_error(500, "InternalServerError", "An internal server error occurred.")
            return
        if answer == "403":
            self._graph_error(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
            return
        owner._record(sender, raw)  # accepted: from here Graph sends it, whatever happens to the answer
        if answer == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if answer == "500-after-accept":
            self._graph_error(500, "InternalServerError", "An internal server error occurred.")
            return
        if answer == "trickle":  # accepted, then an answer a byte at a time, each well within a read timeout
            self.close_connection = True
            try:
                self.wfile.write(b"HTTP/1.1 202 Accepted\r\n")
                for _ in range(240):  # one endless header line, a byte every quarter second (60 s at most)
                    self.wfile.write(b"X")
                    self.wfile.flush()
                    time.sleep(0.25)
            except OSError:
                pass  # the sender gave up: as it should
            return
        if answer.startswith("hold:"):
            time.sleep(float(answer.split(":")[1]))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _entra_token(self, tenant: str, form: dict[str, str]) -> None:
        owner = self.server_owner
        token_endpoint = f"{owner.url}/{tenant}/oauth2/v2.0/token"
        app = next(
            (a for a in owner.apps if a.tenant == tenant and a.client_id == form.get("client_id")), None
        )

        def refuse(status: int, error: str, description: str) -> None:
            self._json(
                status,
                {
                    "error": error,
                    "error_description": f"{description}\r\nTrace ID: 1",
                    "error_codes": [int(description[6:].split(":")[0])],
                },
            )

        if form.get("grant_type") != "client_credentials":
            refuse(400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type.")
            return
        if app is None:
            refuse(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{form.get('client_id')}' was not found in the directory '{tenant}'.",
            )
            return
        if "client_secret" in form:
            if form["client_secret"] != app.secret:
                refuse(
                    401,
                    "invalid_client",
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is "
                    "the client secret value, not the client secret ID, for a secret added to app.",
                )
                return
        elif form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            if app.certificate_pem is None or not _assertion_ok(
                form.get("client_assertion", ""), app, token_endpoint
            ):
                refuse(
                    401,
                    "invalid_client",
                    "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application.",
                )
                return
        else:
            refuse(
                401,
                "invalid_client",
                "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )
            return
        scope = form.get("scope", "")
        resource = SCOPES.get(scope) or (GRAPH_RESOURCE if scope == f"{owner.url}/.default" else None)
        if resource is None:
            refuse(400, "invalid_scope", f"AADSTS1002012: The provided value for scope {scope} is not valid.")
            return
        token = owner.issue(resource, app.client_id, app.roles)
        self._json(
            200, {"token_type": "Bearer", "expires_in": int(owner.token_lifetime), "access_token": token}
        )

    def _google_token(self, form: dict[str, str]) -> None:
        owner = self.server_owner
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            self._json(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"})
            return
        claims = _verified_claims(form.get("assertion", ""), owner.google_accounts)
        # Google's documented audience, whatever the key file's token_uri says.
        if claims is None or claims.get("aud") != "https://oauth2.googleapis.com/token":
            self._json(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
            return
        _, delegated = owner.google_accounts[claims["iss"]]
        if claims.get("scope") != "https://mail.google.com/" or claims.get("sub") not in delegated:
            self._json(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve access tokens using this method, or client "
                    "not authorized for any of the scopes requested.",
                },
            )
            return
        token = owner.issue(SMTP_RESOURCE, str(claims["sub"]))
        self._json(
            200, {"access_token": token, "expires_in": int(owner.token_lifetime), "token_type": "Bearer"}
        )


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _assertion_ok(assertion: str, app: EntraApp, audience: str) -> bool:
    """A client assertion signed (RS256 or PS256) with the app certificate's key, for this token endpoint."""
    try:
        header_b64, claims_b64, signature_b64 = assertion.split(".")
        header, claims = json.loads(_b64url(header_b64)), json.loads(_b64url(claims_b64))
        assert app.certificate_pem is not None
        certificate = x509.load_pem_x509_certificate(app.certificate_pem)
        key = cast(rsa.RSAPublicKey, certificate.public_key())
        signed = f"{header_b64}.{claims_b64}".encode()
        scheme = (
            padding.PSS(padding.MGF1(hashes.SHA256()), 32) if header["alg"] == "PS256" else padding.PKCS1v15()
        )
        key.verify(_b64url(signature_b64), signed, scheme, hashes.SHA256())
    except Exception:
        return False
    thumbprint = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA256())).decode().rstrip("=")
    return bool(
        claims.get("aud") == audience
        and claims.get("iss") == app.client_id
        and str(header.get("x5t#S256", "")).rstrip("=") == thumbprint
    )


def _verified_claims(assertion: str, accounts: dict[str, tuple[bytes, set[str]]]) -> dict[str, Any] | None:
    """The claims of a service account's RS256 JWT, if its signature is the account's."""
    try:
        header_b64, claims_b64, signature_b64 = assertion.split(".")
        claims = json.loads(_b64url(claims_b64))
        public_pem, _ = accounts[claims["iss"]]
        key = cast(rsa.RSAPublicKey, serialization.load_pem_public_key(public_pem))
        key.verify(
            _b64url(signature_b64), f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except Exception:
        return None
    return cast(dict[str, Any], claims)


# ------------------------------------------------------------------------------------------ credentials


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def google_service_account(
    server: CloudServer,
    act_as: set[str],
    client_email: str = "imgout-mailer@imgout-project.iam.gserviceaccount.com",
) -> str:
    """A service account key file's JSON (as Google's console downloads it), registered with ``server`` and
    delegated to act as the mailboxes ``act_as``."""
    key = rsa_key()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server.google_accounts[client_email] = (public_pem, set(act_as))
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "imgout-project",
            "private_key_id": secrets.token_hex(20),
            "private_key": private_pem.decode(),
            "client_email": client_email,
            "client_id": "104331224519716870123",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": server.google_token_uri,
        }
    )


def app_certificate() -> tuple[str, bytes]:
    """A self-signed certificate with its RSA key, as one PEM (what imgout reads) and the certificate alone
    (what is uploaded to the app registration)."""
    import datetime

    from cryptography.x509.oid import NameOID

    key = rsa_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imgout mailer")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return (key_pem + cert_pem).decode(), cert_pem


# ------------------------------------------------------------------------------------------ a proxy


class ConnectProxy:
    """An HTTP proxy on 127.0.0.1 that only tunnels (CONNECT), as corporate proxies do for HTTPS; it records
    each CONNECT line and its headers (what a proxy can see)."""

    def __init__(self) -> None:
        import socketserver

        self.seen: list[bytes] = []
        owner = self

        class Tunnel(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                import socket

                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                owner.seen.append(head)
                target = head.split(b" ")[1].decode()
                upstream_host, upstream_port = target.rsplit(":", 1)
                upstream = socket.create_connection((upstream_host, int(upstream_port)))
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _pipe(self.request, upstream)

        self._server = socketserver.ThreadingTCPServer((HOST, 0), Tunnel)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _pipe(a: Any, b: Any) -> None:
    """Copy bytes both ways until either side closes."""
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(a, selectors.EVENT_READ, b)
    selector.register(b, selectors.EVENT_READ, a)
    try:
        while True:
            for key, _ in selector.select(timeout=30):
                data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                if not data:
                    return
                key.data.sendall(data)
    except OSError:
        return
    finally:
        b.close()


# ------------------------------------------------------------------------------------------ for the tests


def token_file(tmp_path: Path, *tokens: str) -> Path:
    """A file the token command prints from: one token per run of the command, the last one again after."""
    path = tmp_path / "tokens.json"
    path.write_text(json.dumps(list(tokens)))
    return path


def token_command(path: Path) -> str:
    """IMGOUT_OAUTH_TOKEN_COMMAND printing the next token of ``path`` each time it runs."""
    import shlex
    import sys

    script = (
        "import json,sys; p=sys.argv[1]; t=json.load(open(p)); print(t[0]); "
        "json.dump(t[1:] or t, open(p,'w'))"
    )
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(script)} {shlex.quote(str(path))}"


def graph_env(cloud: CloudServer, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "IMGOUT_MAIL_CHANNEL": "graph",
        "IMGOUT_GRAPH_URL": cloud.graph_url,
        "IMGOUT_MAIL_FROM": SENDER,
        "IMGOUT_SMTP_BACKOFF": "0",
        "IMGOUT_SMTP_TIMEOUT": "5",
        "IMGOUT_LEDGER": str(tmp_path / "state" / "ledger.sqlite3"),
        "IMGOUT_LOG": str(tmp_path / "state" / "delivery.jsonl"),
    }
    if "IMGOUT_MS_TENANT" not in extra and "IMGOUT_OAUTH_TOKEN_COMMAND" not in extra:
        token = cloud.issue("graph", "ops", ("Mail.Send", "Mail.ReadBasic.All"))
        env["IMGOUT_OAUTH_TOKEN_COMMAND"] = token_command(token_file(tmp_path, token))
    env.update(extra)
    return env


def nothing_holds(tmp_path: Path, secrets: list[str], *outputs: str) -> None:
    """No file under tmp_path (the log, the ledger and its WAL, .eml files) and no output holds any secret,
    whole or in base64."""
    forms = {f for s in secrets for f in (s, base64.b64encode(s.encode()).decode())}
    places = {f"output {i}": text for i, text in enumerate(outputs)}
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name not in ("tokens.json", "key.json", "app.pem"):  # the stand-ins' own
            places[str(path)] = path.read_bytes().decode("utf-8", "replace")
    for place, text in places.items():
        for form in forms:
            assert form not in text, f"a secret is in {place}"
