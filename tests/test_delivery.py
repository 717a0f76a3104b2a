"""Email delivery pieces: settings, address checks, the MIME message, the .eml file, the ledger, SMTP sending.

Sending is tested against a real SMTP server on 127.0.0.1 (tests/support/smtp_server.py), reading back what arrived.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import html as html_lib
import re
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.delivery_support import PASSWORD, SENDER, USER, claim_and_die, settings_for
from tests.support.smtp_server import LocalSMTPServer
from xl_addin.common.formats import money, percent
from xl_addin.delivery.channel import PackKey
from xl_addin.delivery.eml import write_eml
from xl_addin.delivery.ledger import Ledger, LedgerError
from xl_addin.delivery.message import (
    AddressError,
    build_message,
    check_address,
    check_recipients,
    new_message_id,
)
from xl_addin.delivery.pack import Pack, build_pack
from xl_addin.delivery.settings import DeliverySettings, SettingsError, load_settings, state_dir
from xl_addin.delivery.smtp import Attempt, Mailer
from xl_addin.model import headline_with_consensus, market_for
from xl_addin.report import build_context
from xl_addin.report.brief import email_subject, render_brief
from xl_addin.report.brief.mail import MAX_SUBJECT
from xl_addin.report.profile import load_profile

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(scope="module")
def bull_pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    """A real pack with its PDF, for a client who reads the bull scenario in USD mn."""
    profile = load_profile(None, name="Acme Radiology", scenario="bull", units="mn", to=["cfo@acme.example"])
    return build_pack(profile, tmp_path_factory.mktemp("pack"), with_pdf=True)


# ------------------------------------------------------------------------------------------ settings


def test_settings_come_from_the_environment_and_never_show_the_password(tmp_path: Path) -> None:
    env = {
        "IMGOUT_SMTP_HOST": "mail.example.com",
        "IMGOUT_SMTP_SECURITY": "STARTTLS",
        "IMGOUT_SMTP_USER": USER,
        "IMGOUT_SMTP_PASSWORD": PASSWORD,
        "IMGOUT_MAIL_FROM": SENDER,
        "IMGOUT_ALLOWED_DOMAINS": "Acme.example, @beta.example",
        "XDG_STATE_HOME": str(tmp_path),
    }
    settings = load_settings(env)
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "mail.example.com",
        587,
        "starttls",
    )
    assert settings.smtp_password == PASSWORD
    assert settings.allowed_domains == ("acme.example", "beta.example")
    assert settings.ledger == tmp_path / "imgout" / "ledger.sqlite3"
    assert settings.log == tmp_path / "imgout" / "delivery.jsonl"
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings) and PASSWORD not in f"{settings}"
    # Only the password field holds it, and that field is left out of every text form of the settings.
    assert [f.name for f in dataclasses.fields(settings) if getattr(settings, f.name) == PASSWORD] == [
        "smtp_password"
    ]
    assert not next(f for f in dataclasses.fields(settings) if f.name == "smtp_password").repr


def test_a_settings_file_is_overridden_by_the_environment_and_may_not_hold_the_password(
    tmp_path: Path,
) -> None:
    file = tmp_path / "delivery.yaml"
    file.write_text("smtp_host: mail.example.com\nsmtp_port: 2525\nmail_from: ops@imgout.example\n")
    settings = load_settings({"IMGOUT_SMTP_PORT": "2626"}, settings_file=file)
    assert (settings.smtp_host, settings.smtp_port, settings.mail_from) == (
        "mail.example.com",
        2626,
        "ops@imgout.example",
    )

    file.write_text(f"smtp_host: mail.example.com\nsmtp_password: {PASSWORD}\n")
    with pytest.raises(SettingsError) as refused:
        load_settings({}, settings_file=file)
    assert "smtp_password" in str(refused.value) and "IMGOUT_SMTP_PASSWORD" in str(refused.value)
    assert PASSWORD not in str(refused.value)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        (
            {"IMGOUT_SMTP_SECURITY": "tls"},
            "IMGOUT_SMTP_SECURITY: 'tls' (expected one of none, starttls, ssl)",
        ),
        ({"IMGOUT_SMTP_PORT": "smtp"}, "IMGOUT_SMTP_PORT: 'smtp' (expected a whole number from 1 to 65535)"),
        ({"IMGOUT_ALLOWED_DOMAINS": "acme example"}, "IMGOUT_ALLOWED_DOMAINS"),
        ({"IMGOUT_MAIL_FROM": "ops@imgout.example\r\nBcc: x@evil.example"}, "IMGOUT_MAIL_FROM"),
        ({"IMGOUT_SMTP_CAFILE": "/nonexistent/ca.pem"}, "IMGOUT_SMTP_CAFILE"),
        ({"IMGOUT_SMTP_PASSWORD": PASSWORD}, "IMGOUT_SMTP_USER is not"),
        (
            {
                "IMGOUT_SMTP_HOST": "mail.example.com",
                "IMGOUT_SMTP_USER": USER,
                "IMGOUT_SMTP_PASSWORD": PASSWORD,
            },
            "unencrypted",
        ),
    ],
)
def test_bad_settings_name_the_variable_and_what_is_allowed(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as bad:
        load_settings(env)
    assert named in str(bad.value)
    assert PASSWORD not in str(bad.value)


def test_the_default_state_folder_follows_xdg(tmp_path: Path) -> None:
    assert state_dir({"HOME": str(tmp_path)}) == tmp_path / ".local" / "state" / "imgout"
    assert state_dir({"XDG_STATE_HOME": str(tmp_path / "s")}) == tmp_path / "s" / "imgout"


# ------------------------------------------------------------------------------------------ addresses


@pytest.mark.parametrize(
    "address",
    [
        "cfo@acme.example\r\nBcc: everyone@evil.example",
        "cfo@acme.example\n",
        "cfo\x00@acme.example",
        "not-an-address",
        "cfo@",
        "@acme.example",
        "cfo@@acme.example",
        "cfo acme@acme.example",
        "Cfo <cfo@acme.example>",
        "cfo@acme..example",
        "cfo@-acme.example",
        "",
    ],
)
def test_malformed_addresses_and_header_injection_are_refused(address: str) -> None:
    with pytest.raises(AddressError) as refused:
        check_address(address)
    assert repr(address) in str(refused.value)


def test_recipients_outside_the_allowed_domains_are_refused_all_together() -> None:
    assert check_recipients(["CFO@ACME.example"], ["x@beta.example"], ["acme.example", "beta.example"]) == (
        ("CFO@acme.example",),
        ("x@beta.example",),
    )
    with pytest.raises(AddressError) as refused:
        check_recipients(["cfo@acme.example"], ["leak@gmail.example"], ["acme.example"])
    assert "leak@gmail.example" in str(refused.value) and "allowed: acme.example" in str(refused.value)
    with pytest.raises(AddressError):
        check_recipients([], [])


# ------------------------------------------------------------------------------------------ the message


def test_the_message_is_standard_mime_with_alternatives_inline_chart_and_attachments(bull_pack: Pack) -> None:
    msg = build_message(bull_pack, ["cfo@acme.example"], ["ops@acme.example"], SENDER)
    # Read back through the standard parser, as a mail client would.
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)

    assert parsed["From"] == SENDER
    assert parsed["To"] == "cfo@acme.example"
    assert parsed["Cc"] == "ops@acme.example"
    assert parsed["Message-ID"].startswith("<") and parsed["Message-ID"].endswith("@imgout.example>")
    assert parsed["Date"].datetime.tzinfo is not None
    # The figure first, the client, the edition as a person says it: at most 60 characters, no hash.
    assert parsed["Subject"] == bull_pack.subject == "USD 31,890 mn by 2030 (bull): Acme Radiology, Mar 2026"
    assert parsed["X-Imgout-Provenance"] == bull_pack.provenance

    assert parsed.get_content_type() == "multipart/mixed"
    alternative, *attachments = parsed.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    text, related = alternative.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, *charts = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert len(charts) == 1  # one chart, one PNG sized for a phone and a desktop alike
    for chart, image in zip(charts, bull_pack.images, strict=True):
        assert f'src="cid:{image.content_id}"' in html.get_content()
        assert chart.get_content_type() == "image/png"
        assert chart["Content-ID"] == f"<{image.content_id}>"
        assert chart.get_content().startswith(b"\x89PNG")
        assert len(chart.get_content()) <= 40_000

    assert [(a.get_content_type(), a.get_filename()) for a in attachments] == [
        (XLSX, f"Acme-Radiology-imaging-outsourcing-{bull_pack.period}.xlsx"),
        ("application/pdf", f"Acme-Radiology-imaging-outsourcing-{bull_pack.period}.pdf"),
    ]
    assert attachments[0].get_content()[:2] == b"PK"  # a zip: the .xlsx
    assert attachments[1].get_content().startswith(b"%PDF")
    # The attachments arrive byte for byte, whatever boundary separates them.
    assert [a.get_content() for a in attachments] == [a.content for a in bull_pack.attachments]


def test_every_boundary_is_new_and_cannot_occur_in_any_encoded_part(bull_pack: Pack) -> None:
    """The boundaries are set, not searched for: each ``=_imgout_<uuid>``, a text no quoted-printable or
    base64 part can hold, so no part can end the message early."""
    messages = [build_message(bull_pack, ["cfo@acme.example"], sender=SENDER) for _ in range(2)]
    boundaries = [part.get_boundary() for m in messages for part in m.walk() if part.is_multipart()]
    assert len(boundaries) == len(set(boundaries)) == 6
    assert all(re.fullmatch(r"=_imgout_[0-9a-f]{32}", b) for b in boundaries)
    raw = messages[0].as_bytes()
    encodings = {str(p["Content-Transfer-Encoding"]) for p in messages[0].walk() if not p.is_multipart()}
    assert encodings == {"quoted-printable", "base64"}
    # Each boundary appears where the standard says only: declared once, before each part, closing once.
    multiparts = [p for p in messages[0].walk() if p.is_multipart()]
    for part in multiparts:
        assert raw.count(part.get_boundary().encode()) == 2 + len(part.get_payload())


def test_the_figures_in_the_message_body_are_the_engines(bull_pack: Pack) -> None:
    market = market_for()
    horizon = market.forecast(market.horizon_year, scenario="bull")
    growth = market.cagr(market.next_year, market.horizon_year, scenario="bull")
    msg = build_message(bull_pack, ["cfo@acme.example"], sender=SENDER)
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    for body in (text.get_content(), html.get_content()):
        assert money(horizon, "mn") in body  # the bull 2030 market in USD mn, e.g. 28,9xx
        assert percent(growth) in body
        assert market.assumption_hash in body


def test_the_message_refuses_bad_recipients_before_anything_is_built(bull_pack: Pack) -> None:
    with pytest.raises(AddressError):
        build_message(bull_pack, ["cfo@acme.example\r\nBcc: all@evil.example"], sender=SENDER)
    with pytest.raises(AddressError):
        build_message(bull_pack, ["cfo@acme.example"], sender="briefs@imgout.example\nX: y")


def test_an_eml_file_opens_as_the_same_message_and_nothing_else_is_left(
    bull_pack: Pack, tmp_path: Path
) -> None:
    msg = build_message(bull_pack, ["cfo@acme.example"], sender=SENDER)
    path = write_eml(msg, tmp_path / "out")
    assert path == tmp_path / "out" / "Acme-Radiology.eml"
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Message-ID"] == msg["Message-ID"]
    assert b"\r\n" in path.read_bytes()  # SMTP line endings, as Outlook and Thunderbird expect


# ------------------------------------------------------------------------------------------ ledger


def _key(client: str = "Acme Radiology", to: tuple[str, ...] = ("cfo@acme.example",)) -> PackKey:
    return PackKey(client, to, (), "base", "abc123", "1.0", "2026-2030")


def test_the_ledger_gives_a_pack_out_once_per_recipient_and_keeps_its_message_id(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "ledger.sqlite3"
    with Ledger(path) as ledger:
        claim = ledger.claim(_key(), "<first@imgout.example>", "run1")
        assert (claim.decision, claim.message_id, claim.addresses) == (
            "send",
            "<first@imgout.example>",
            ("cfo@acme.example",),
        )
        ledger.finish(_key(), "run1", {"cfo@acme.example": ("failed", "451 try again later")}, 1)
        # A later run retries a failed pack with the Message-ID of the first attempt.
        retry = ledger.claim(_key(), "<second@imgout.example>", "run2")
        assert (retry.decision, retry.message_id) == ("send", "<first@imgout.example>")
        ledger.finish(_key(), "run2", {"cfo@acme.example": ("sent", "")}, 1)
    with Ledger(path) as reopened:  # persistent
        again = reopened.claim(_key(), "<third@imgout.example>", "run3")
        assert again.decision == "already sent"
        # The order and case recipients are listed in do not make a new pack ...
        assert reopened.claim(_key(to=("CFO@acme.example",)), "<x@y>", "run3").decision == "already sent"
        # ... a new recipient gets the same pack (same Message-ID), and only that recipient.
        added = reopened.claim(_key(to=("cfo@acme.example", "ceo@acme.example")), "<x@y>", "run3")
        assert (added.decision, added.message_id, added.addresses) == (
            "send",
            "<first@imgout.example>",
            ("ceo@acme.example",),
        )
        # What makes a new pack is what the client receives: not the package's version, a new period is.
        assert dataclasses.replace(_key(), period="2027-2031").digest != _key().digest
        [pack] = reopened.packs()
        assert [(r.address, r.state) for r in pack.recipients] == [
            ("ceo@acme.example", "in progress"),
            ("cfo@acme.example", "sent"),
        ]


def test_a_pack_left_sending_by_a_crashed_run_is_in_doubt_until_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    claim_and_die(path, _key(), "<first@imgout.example>")
    with Ledger(path) as ledger:
        refused = ledger.claim(_key(), "<new@imgout.example>", "run2")
        assert refused.decision == "in doubt"
        assert "run crashed-run on host" in refused.reason and "stopped while sending it" in refused.reason
        resend = ledger.claim(_key(), "<new@imgout.example>", "run3", resend_in_doubt=True)
        assert (resend.decision, resend.message_id) == ("send", "<first@imgout.example>")


def test_an_in_doubt_reason_is_never_a_stale_one(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as ledger:
        ledger.claim(_key(), "<first@imgout.example>", "run1")
        lost = "connection lost after the whole message was sent, before the server confirmed it"
        ledger.finish(_key(), "run1", {"cfo@acme.example": ("in doubt", lost)}, 1)
        [recipient] = ledger.lookup(_key()).recipients  # type: ignore[union-attr]
        assert (recipient.state, recipient.reason) == ("in doubt", lost)
        # While run1 lives the pack is still its own (its lease), whatever another run is asked to do.
        assert recipient.why.startswith(lost) and "which sent it, is still running" in recipient.why
        assert recipient.leased
    # Resent (asked), and that run is killed too: the reason is now that one's, not the first one's.
    claim_and_die(path, _key(), resend_in_doubt=True)
    with Ledger(path) as ledger:
        [recipient] = ledger.lookup(_key()).recipients  # type: ignore[union-attr]
        assert recipient.state == "in doubt"
        assert recipient.why.startswith("run crashed-run on host ") and recipient.why.endswith(
            "stopped while sending it"
        )
        assert "connection lost" not in recipient.why


def test_the_ledger_gives_the_figures_of_the_clients_last_sent_edition(tmp_path: Path) -> None:
    """Only a pack that reached someone counts; the latest such one; another client's never; a ledger made
    before the figures were recorded (no ``headlines`` table) gives none and gains the table on its next claim."""
    import sqlite3

    path = tmp_path / "ledger.sqlite3"
    first, second = _key(), dataclasses.replace(_key(), assumption_hash="def456")
    with Ledger(path) as ledger:
        ledger.claim(first, "<1@x>", "run1", figures='{"edition": "first"}')
        assert ledger.last_figures(second) == ""  # claimed, not yet sent
        ledger.finish(first, "run1", {"cfo@acme.example": ("sent", "")}, 1)
        assert ledger.last_figures(second) == '{"edition": "first"}'
        assert ledger.last_figures(dataclasses.replace(second, client="ACME RADIOLOGY")) != ""  # any case
        assert ledger.last_figures(dataclasses.replace(second, client="Beta")) == ""
        assert ledger.last_figures(first) == ""  # a pack is not its own last edition
        ledger.claim(second, "<2@x>", "run1", figures='{"edition": "second"}')
        ledger.finish(second, "run1", {"cfo@acme.example": ("failed", "451")}, 1)
        third = dataclasses.replace(_key(), assumption_hash="ghi789")
        assert ledger.last_figures(third) == '{"edition": "first"}'  # the failed one reached no one
    db = sqlite3.connect(path)
    db.execute("DROP TABLE headlines")
    db.commit()
    db.close()
    with Ledger(path) as older:
        assert older.last_figures(third) == ""
        older.claim(third, "<3@x>", "run2", figures='{"edition": "third"}')
        older.finish(third, "run2", {"cfo@acme.example": ("sent", "")}, 1)
        assert older.last_figures(first) == '{"edition": "third"}'


def test_a_file_that_is_not_a_ledger_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "ledger.sqlite3"
    bad.write_text("this is not a database " * 100)
    with pytest.raises(LedgerError) as error:
        Ledger(bad)
    assert str(bad) in str(error.value) and "IMGOUT_LEDGER" in str(error.value)
    assert bad.read_text() == "this is not a database " * 100  # left as it was


# ------------------------------------------------------------------------------------------ SMTP


def _plain_message(subject: str = "Brief") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = SENDER, "cfo@acme.example", subject
    msg["Message-ID"] = new_message_id(SENDER)
    msg.set_content("USD 27.88 bn in 2030\n")
    return msg


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_with_auth_delivers_trusting_the_throwaway_certificate_via_the_setting(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, security: str
) -> None:
    server = make_server(security, username=USER, password=PASSWORD)
    settings = settings_for(server, tmp_path)
    assert settings.smtp_cafile == server.cafile
    with Mailer(settings) as mailer:
        first = mailer.send(_plain_message("one"), ["cfo@acme.example"])
        second = mailer.send(_plain_message("two"), ["cfo@acme.example"])
    assert (first.outcome, second.outcome) == ("sent", "sent")
    assert [(m.tls, m.authenticated_as, m.message["Subject"]) for m in server.messages] == [
        (True, USER, "one"),
        (True, USER, "two"),
    ]
    assert server.logins == [USER]  # one connection reused for both


def test_an_untrusted_certificate_or_a_wrong_password_stops_at_once_without_retrying(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server("starttls", username=USER, password=PASSWORD)
    untrusted = DeliverySettings(**{**settings_for(server, tmp_path).__dict__, "smtp_cafile": None})
    result = Mailer(untrusted).send(_plain_message(), ["cfo@acme.example"])
    assert (result.outcome, result.fatal, result.attempts) == ("failed", True, 1)
    assert "IMGOUT_SMTP_CAFILE" in result.reason

    wrong = settings_for(server, tmp_path, IMGOUT_SMTP_PASSWORD="wrong")
    result = Mailer(wrong).send(_plain_message(), ["cfo@acme.example"])
    assert (result.outcome, result.fatal, result.attempts) == ("failed", True, 1)
    assert "login refused" in result.reason and "wrong" not in result.reason
    assert server.messages == []


def test_a_451_is_retried_with_backoff_and_the_same_message_id(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server("none", fail_transiently_once_per_message=True)
    waits: list[float] = []
    attempts: list[Attempt] = []
    settings = settings_for(server, tmp_path, IMGOUT_SMTP_BACKOFF="1.5")
    msg = _plain_message()
    with Mailer(settings, sleep=waits.append) as mailer:
        result = mailer.send(msg, ["cfo@acme.example"], on_attempt=attempts.append)
    assert (result.outcome, result.attempts) == ("sent", 2)
    assert [(a.outcome, a.code) for a in attempts] == [("transient", 451), ("sent", 250)]
    assert waits == [1.5]
    assert server.transient_failures == [msg["Message-ID"]]
    assert [m.message_id for m in server.messages] == [msg["Message-ID"]]


def test_a_server_that_stays_away_is_given_up_after_the_retries(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server("none")
    settings = settings_for(
        server, tmp_path, IMGOUT_SMTP_RETRIES="2", IMGOUT_SMTP_BACKOFF="0.5", IMGOUT_SMTP_GIVE_UP_AFTER="10"
    )
    server.stop()
    waits: list[float] = []
    result = Mailer(settings, sleep=waits.append).send(_plain_message(), ["cfo@acme.example"])
    assert (result.outcome, result.transient, result.attempts) == ("failed", True, 3)
    assert "connection refused" in result.reason and "gave up after 3 attempts" in result.reason
    assert waits == [0.5, 1.0]  # doubling backoff


def test_a_550_is_permanent_and_a_partial_refusal_is_reported(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server("none", reject_permanently=["gone@acme.example"])
    with Mailer(settings_for(server, tmp_path)) as mailer:
        refused = mailer.send(_plain_message("all refused"), ["gone@acme.example"])
        partly = mailer.send(_plain_message("partly"), ["gone@acme.example", "cfo@acme.example"])
    assert (refused.outcome, refused.transient, refused.attempts) == ("failed", False, 1)
    assert "gone@acme.example (550" in refused.reason
    assert partly.outcome == "partly sent" and "gone@acme.example" in partly.reason
    assert [(m.message["Subject"], m.rcpt_tos) for m in server.messages] == [("partly", ["cfo@acme.example"])]


# ------------------------------------------------------------------------------------------ inbox-ready


def test_each_message_of_a_batch_has_its_own_content_ids(tmp_path: Path) -> None:
    """RFC 2045: Content-IDs are unique in the world. A dry-run batch of three clients (two of them with
    the same profile) gives three messages whose chart images share no Content-ID, each HTML pointing at
    its own; a recipient written with a display name in the clients file arrives with it."""
    from xl_addin.delivery.batch import channel_for, load_clients, run_batch
    from xl_addin.delivery.settings import load_settings

    clients = tmp_path / "clients.yaml"
    clients.write_text(
        "clients:\n"
        '  - {name: Acme One, to: ["Jane Doe <cfo@acme.example>"]}\n'
        "  - {name: Acme Two, to: [cfo@acme.example]}\n"
        "  - {name: Acme Three, to: [cfo@acme.example], scenario: bull}\n",
        encoding="utf-8",
    )
    settings = load_settings({"IMGOUT_MAIL_FROM": SENDER, "XDG_STATE_HOME": str(tmp_path / "state")})
    out = tmp_path / "eml"
    report = run_batch(
        load_clients(clients, market_for()), settings, channel_for(settings, dry_run=out), with_pdf=False
    )
    assert [r.status for r in report.results] == ["written"] * 3
    seen: list[str] = []
    for path in sorted(out.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        html = msg.get_body(("html",))
        assert html is not None
        ids = [part["Content-ID"] for part in msg.walk() if part.get_content_type() == "image/png"]
        assert len(ids) == 1  # the one chart
        for cid in ids:
            assert re.fullmatch(r"<market\.[0-9a-f]{32}@imgout>", cid), cid
            assert f'src="cid:{cid[1:-1]}"' in html.get_content()
        seen += ids
    assert len(seen) == 3 and len(set(seen)) == 3
    first = email.message_from_bytes((out / "Acme-One.eml").read_bytes(), policy=email.policy.default)
    assert [(a.display_name, a.addr_spec) for a in first["To"].addresses] == [
        ("Jane Doe", "cfo@acme.example")
    ]


@pytest.mark.parametrize(
    ("sender", "to", "display"),
    [
        ("imgout Research <research@acme.example>", "Jane Doe <cfo@acme.example>", "Jane Doe"),
        ("imgout Research <research@acme.example>", '"Doe, Jane" <cfo@acme.example>', "Doe, Jane"),
        ("Zoë Ünal Research <research@acme.example>", "Łukasz Wójcik <cfo@acme.example>", "Łukasz Wójcik"),
    ],
)
def test_from_and_to_carry_display_names_encoded_for_the_wire(
    bull_pack: Pack, sender: str, to: str, display: str
) -> None:
    msg = build_message(bull_pack, [to], sender=sender)
    raw = msg.as_bytes(policy=email.policy.SMTP)
    assert raw.isascii()  # non-ASCII names travel as RFC 2047 encoded words
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    if not display.isascii():
        assert "=?utf-8?" in headers
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    [recipient] = parsed["To"].addresses
    assert (recipient.display_name, recipient.addr_spec) == (display, "cfo@acme.example")
    [origin] = parsed["From"].addresses
    assert origin.addr_spec == "research@acme.example" and origin.display_name == sender.split(" <")[0]
    assert parsed["Message-ID"].endswith("@acme.example>")


@pytest.mark.parametrize(
    "mailbox",
    [
        "Jane <Doe> <cfo@acme.example>",
        'Jane "J" Doe <cfo@acme.example>',
        "Jane Doe <cfo@acme.example",
        "Jane Doe <not-an-address>",
        "Jane\r\nBcc: x@evil.example <cfo@acme.example>",
        "J" * 101 + " <cfo@acme.example>",
    ],
)
def test_malformed_display_names_are_refused_naming_what_was_given(mailbox: str) -> None:
    with pytest.raises(AddressError) as refused:
        check_recipients([mailbox])
    assert repr(mailbox) in str(refused.value)


def test_a_display_name_is_checked_against_the_allowed_domains_by_its_address() -> None:
    assert check_recipients(["Jane Doe <CFO@Acme.Example>"], allowed_domains=["acme.example"]) == (
        ("Jane Doe <CFO@acme.example>",),
        (),
    )
    with pytest.raises(AddressError, match=r"leak@gmail\.example"):
        check_recipients(["Leak <leak@gmail.example>"], allowed_domains=["acme.example"])


def test_the_sender_setting_takes_a_display_name() -> None:
    settings = load_settings({"IMGOUT_MAIL_FROM": "imgout Research <research@acme.example>"})
    assert settings.mail_from == "imgout Research <research@acme.example>"
    with pytest.raises(SettingsError, match="IMGOUT_MAIL_FROM"):
        load_settings({"IMGOUT_MAIL_FROM": "imgout <Research> <research@acme.example>"})


def test_the_ledger_key_ignores_display_names() -> None:
    bare = PackKey("Acme", ("cfo@acme.example",), (), "base", "abc", "2.0", "2026-2030")
    named = PackKey("Acme", ("Jane Doe <CFO@acme.example>",), (), "base", "abc", "2.0", "2026-2030")
    assert bare.digest == named.digest


@pytest.mark.parametrize("length", range(60, 101))
def test_a_subject_of_any_length_unfolds_to_itself_with_no_leading_space(
    bull_pack: Pack, length: int
) -> None:
    """Python folds an ASCII subject of 70-77 characters right after 'Subject:'; read back, it starts with
    a space. Ours folds between words, the first on the first line, and unfolds to exactly itself."""
    words = "Acme Radiology: medical imaging outsourcing market USD 31,616 mn in 2030 (bull scenario) edition"
    subject = (words + " " + "x" * 100)[:length].rstrip()
    pack = dataclasses.replace(bull_pack, subject=subject)
    raw = build_message(pack, ["cfo@acme.example"], sender=SENDER).as_bytes(policy=email.policy.SMTP)
    header = re.search(rb"^Subject:.*?\r\n(?=\S)", raw, re.S | re.M)
    assert header is not None
    lines = header.group(0)[:-2].split(b"\r\n")
    assert lines[0].startswith(b"Subject: ") and lines[0] != b"Subject: "
    assert all(len(line) <= 78 for line in lines if b" " in line.strip())
    assert b"".join(lines) == b"Subject: " + subject.encode("ascii")  # unfolding: remove each CRLF
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject


def test_the_subject_carries_the_figure_first_the_client_and_the_edition_in_60_characters(
    bull_pack: Pack,
) -> None:
    market = market_for()
    horizon = money(market.forecast(market.horizon_year, scenario="bull"), "mn")
    assert bull_pack.subject == f"USD {horizon} mn by {market.horizon_year} (bull): Acme Radiology, Mar 2026"
    assert len(bull_pack.subject) <= MAX_SUBJECT and market.assumption_hash not in bull_pack.subject


@settings(max_examples=60, derandomize=True, deadline=None)
@given(name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300))
def test_any_client_name_keeps_the_subject_within_60_characters_with_the_figure_first(name: str) -> None:
    if not name.strip():
        return
    context = build_context(load_profile(None, name=name))
    subject = email_subject(context)
    assert len(subject) <= MAX_SUBJECT
    assert subject.startswith("USD 27.88 bn by 2030: ") and subject.endswith(", Mar 2026")


def test_each_edition_has_its_own_subject() -> None:
    """A new edition carries a new figure (or a new month): it threads as a conversation of its own."""
    first = build_context(load_profile(None, name="Acme Health"))
    second = build_context(load_profile(None, name="Acme Health"), overrides="cagr=0.111")
    assert email_subject(first) != email_subject(second)
    assert email_subject(second).startswith("USD 29.99 bn by 2030: Acme Health")


def test_the_inbox_preview_shows_the_headline_numbers_first(bull_pack: Pack) -> None:
    market = market_for()
    msg = build_message(bull_pack, ["cfo@acme.example"], sender=SENDER)
    html = msg.get_body(("html",))
    assert html is not None
    body = re.sub(r"<[^>]+>", " ", html.get_content().split("<body", 1)[1].split(">", 1)[1])
    first = " ".join(html_lib.unescape(body).split())
    year = market.horizon_year
    line = headline_with_consensus(market, year, "bull", "mn")  # the figure with the consensus beside it
    assert line.startswith(
        f"USD {money(market.forecast(year, scenario='bull'), 'mn')} mn (bull scenario, basis:"
    )
    growth = percent(market.cagr(market.next_year, year, scenario="bull"))
    assert first.startswith(f"{year}: {line}. {growth} a year"), first[:160]


def test_the_takeaways_in_the_message_are_the_engines(bull_pack: Pack) -> None:
    market = market_for()
    msg = build_message(bull_pack, ["cfo@acme.example"], sender=SENDER)
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text is not None and html is not None
    fastest = max(market.breakdown(market.horizon_year, "region", "bull"), key=lambda b: b.cagr)
    largest = max(market.breakdown(market.horizon_year, "region", "bull"), key=lambda b: b.value)
    values = {s: market.forecast(market.horizon_year, scenario=s) for s in market.scenario_names}
    for body in (" ".join(text.get_content().split()), " ".join(html.get_content().split())):
        assert f"{fastest.member} grows fastest: {percent(fastest.cagr)} a year" in body
        assert (
            f"{largest.member} is the largest region (USD {money(largest.value, 'mn')} mn in 2030, "
            f"{percent(largest.share)} of the market)"
        ) in body
        assert f"ranges from USD {money(min(values.values()), 'mn')} mn (bear)" in body
        assert f"to USD {money(max(values.values()), 'mn')} mn (bull)" in body


def test_urls_in_the_text_part_and_the_text_brief_are_whole(bull_pack: Pack) -> None:
    msg = build_message(bull_pack, ["cfo@acme.example"], sender=SENDER)
    text = msg.get_body(("plain",))
    assert text is not None
    publication = market_for().assumptions.publication.url
    assert any(publication in line for line in text.get_content().splitlines())
    # The text brief (the long layer in plain text) cites every source, each URL on one line.
    lines = render_brief(build_context(load_profile(None, name="Acme")), "txt").splitlines()
    urls = [s.url for s in market_for().assumptions.sources.values() if s.url]
    assert len(urls) >= 3
    for url in urls:
        assert any(url in line for line in lines), url
    assert all(len(line) <= 76 or "://" in line for line in lines)


def test_the_text_and_html_parts_travel_readable_as_quoted_printable(bull_pack: Pack) -> None:
    msg = build_message(bull_pack, ["cfo@acme.example"], sender=SENDER)
    for kind in ("plain", "html"):
        part = msg.get_body((kind,))
        assert part is not None and part["Content-Transfer-Encoding"] == "quoted-printable"
        encoded = str(part.get_payload())
        assert all(len(line) <= 78 for line in encoded.splitlines())  # long lines are soft-broken
        assert "Acme Radiology" in encoded  # readable as it travels, not base64


@pytest.mark.slow
def test_under_the_consensus_basis_the_email_and_its_pdf_tell_that_path(tmp_path: Path) -> None:
    """basis=consensus: the email's first text (its preheader) is the headline with the consensus beside it
    naming that basis, and its bottom line (HTML and text part) says the same; the attached PDF read back
    carries the consensus method and the bridge re-solved to that path's growth, and the workbook's Cover
    stores the same line."""
    import io
    import subprocess

    import openpyxl

    from xl_addin.common.formats import percent

    m = market_for(None, "basis=consensus")
    profile = load_profile(None, name="Acme Radiology", to=["cfo@acme.example"])
    pack = build_pack(profile, tmp_path, overrides="basis=consensus", with_pdf=True)
    msg = build_message(pack, ["cfo@acme.example"], sender=SENDER)
    line = headline_with_consensus(m, 2030)
    html = html_lib.unescape(msg.get_body(("html",)).get_content())
    assert '<div class="preheader"' in html and f"2030: {line}." in html
    beside = line.split(" (", 1)[1].replace(")", "", 1)  # basis: consensus; 5 publishers' median ...
    text = " ".join(msg.get_body(("plain",)).get_content().split())
    for body in (text, " ".join(re.sub(r"<[^>]+>", " ", html).split())):
        assert f"in 2030, base scenario, {percent(m.cagr(2026, 2030))} a year 2026-2030; {beside}" in body
    method = "The total follows the consensus: in every year the median of the 5 publishers' paths"
    bridge = f"gives {percent(m.cagr(2026, 2030))} a year, the growth of the path the total follows"
    attached = {a.get_filename(): a.get_content() for a in msg.iter_attachments()}
    pdf = tmp_path / "received.pdf"
    pdf.write_bytes(next(v for k, v in attached.items() if k.endswith(".pdf")))
    printed = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    squeezed = "".join(printed.split())
    for expected in (method, bridge, line.split("; ", 1)[1]):
        assert "".join(expected.split()) in squeezed, expected
    workbook = io.BytesIO(next(v for k, v in attached.items() if k.endswith(".xlsx")))
    cover = openpyxl.load_workbook(workbook, data_only=True)["Cover"]
    assert line in [c.value for c in cover["B"]]
