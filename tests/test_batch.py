"""Batch runs: an operations person sends every client its pack with one command, and can run it again safely.

Every story sends to a real SMTP server on 127.0.0.1 and reads back what arrived. Packs are real; the
in-process builder is wrapped by a session cache (each pack is built once per test session), except in the
local-process and Dask stories, which build for real in other processes.
"""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.delivery_support import (
    NO_WAIT,
    PASSWORD,
    SENDER,
    USER,
    PackCache,
    claim_and_die,
    client_entries,
    delivery_env,
    received_by_client,
    settings_for,
    write_clients_file,
)
from tests.support.smtp_server import LocalSMTPServer
from xl_addin import cli
from xl_addin.common.formats import money
from xl_addin.delivery import batch
from xl_addin.delivery.batch import BatchReport, ClientsFileError, channel_for, load_clients, run_batch
from xl_addin.delivery.channel import Delivered, PackKey
from xl_addin.delivery.ledger import Ledger
from xl_addin.delivery.log import ClientLog
from xl_addin.delivery.pack import Pack
from xl_addin.delivery.settings import DeliverySettings, load_settings
from xl_addin.errors import ImgoutError
from xl_addin.model import market_for
from xl_addin.report.profile import ClientProfile


def _run(
    clients: Path, settings: DeliverySettings, resend_in_doubt: bool = False, **options: Any
) -> BatchReport:
    options.setdefault("with_pdf", False)  # PDFs cost about a second each; one story below attaches them
    channel = channel_for(settings, resend_in_doubt=resend_in_doubt, sleep=NO_WAIT)
    return run_batch(load_clients(clients, market_for()), settings, channel, **options)


def _log(settings: DeliverySettings) -> list[dict[str, Any]]:
    return [json.loads(line) for line in settings.log.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------------------------------ exactly once


@pytest.mark.slow
def test_the_next_edition_says_in_one_line_what_moved_since_the_last_one_sent(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    """Two editions to the same clients through a real SMTP server: the first says nothing about changes,
    the second (a cagr override) says what moved in the horizon year and why, in the HTML and the text."""
    server = make_server("none")
    entries = client_entries(2)
    clients = write_clients_file(tmp_path / "clients.yaml", entries)
    settings = settings_for(server, tmp_path)
    m = market_for()
    before, after = m.forecast(2030), market_for(None, "cagr=0.111").forecast(2030)

    assert [r.status for r in _run(clients, settings).results] == ["sent"] * 2
    first = received_by_client(server)
    for entry in entries:
        [received] = first[entry["name"]]
        assert "Since your last edition" not in received.message.get_body(("html",)).get_content()

    assert [r.status for r in _run(clients, settings, overrides="cagr=0.111").results] == ["sent"] * 2
    step = float(money(after)) - float(money(before))
    line = f"2030: {money(before)} -&gt; {money(after)}, +{step:.2f}, after the cagr update (edition of Mar 2026)"
    for entry in entries:
        _, received = received_by_client(server)[entry["name"]]
        html = received.message.get_body(("html",)).get_content()
        text = received.message.get_body(("plain",)).get_content()
        assert f"Since your last edition:</strong> {line}" in html
        assert " ".join(text.split()).count(f"Since your last edition: {line.replace('&gt;', '>')}") == 1
        assert received.message["Subject"].startswith(f"USD {money(after)} bn by 2030: ")

    # A rerun sends nothing, and an edition after that compares with the second, not the first.
    assert [r.status for r in _run(clients, settings, overrides="cagr=0.111").results] == ["already sent"] * 2
    third = market_for(None, "cagr=0.1").forecast(2030)
    assert [r.status for r in _run(clients, settings, overrides="cagr=0.1").results] == ["sent"] * 2
    for entry in entries:
        *_, received = received_by_client(server)[entry["name"]]
        html = received.message.get_body(("html",)).get_content()
        assert f"2030: {money(after)} -&gt; {money(third)}, -" in html


def test_twenty_clients_get_twenty_correct_messages_and_a_rerun_sends_none(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none")
    entries = client_entries(20)
    clients = write_clients_file(tmp_path / "clients.yaml", entries)
    settings = settings_for(server, tmp_path)

    first = _run(clients, settings)
    assert [r.status for r in first.results] == ["sent"] * 20
    assert first.failures == []

    by_client = received_by_client(server)
    assert sorted(by_client) == sorted(e["name"] for e in entries)
    for entry in entries:
        [received] = by_client[entry["name"]]
        msg = received.message
        assert received.mail_from == SENDER
        assert received.rcpt_tos == entry["to"] + entry.get("cc", [])
        assert msg["To"] == entry["to"][0]
        assert msg["Cc"] == (entry["cc"][0] if "cc" in entry else None)
        assert msg["Subject"] == f"USD 27.88 bn by 2030: {entry['name']}, Mar 2026"
        # Without a PDF the long layer travels as the HTML brief, which the email names.
        workbook, brief = list(msg.iter_attachments())
        assert workbook.get_filename().endswith(".xlsx") and brief.get_filename().endswith(".html")
        assert brief.get_filename() in msg.get_body(("html",)).get_content()
    assert len({m.message_id for m in server.messages}) == 20

    rerun = _run(clients, settings)
    assert [r.status for r in rerun.results] == ["already sent"] * 20
    assert [r.message_id for r in rerun.results] == [r.message_id for r in first.results]
    assert len(server.messages) == 20
    with Ledger(settings.ledger) as ledger:
        assert {p.status for p in ledger.packs()} == {"sent"}
        assert len(ledger.packs()) == 20
        assert sum(len(p.recipients) for p in ledger.packs()) == 20 + 6  # every third client has a Cc


def test_a_server_answering_451_once_per_message_gets_each_exactly_once(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none", fail_transiently_once_per_message=True)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(20))
    settings = settings_for(server, tmp_path)

    report = _run(clients, settings)

    assert [(r.status, r.attempts) for r in report.results] == [("sent", 2)] * 20
    assert len(server.messages) == 20
    assert sorted(server.transient_failures) == sorted(m.message_id for m in server.messages)
    attempts = [line for line in _log(settings) if line["event"] == "attempt"]
    assert [a["outcome"] for a in attempts].count("transient") == 20
    for result in report.results:  # each retry kept its message's Message-ID
        mine = [a for a in attempts if a["client"] == result.client]
        assert [(a["attempt"], a["outcome"], a["code"]) for a in mine] == [
            (1, "transient", 451),
            (2, "sent", 250),
        ]
        assert {a["message_id"] for a in mine} == {result.message_id}


def test_a_server_stopped_mid_batch_loses_nothing_and_the_rerun_sends_only_the_missing_packs(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none")
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(20))
    settings = settings_for(server, tmp_path)

    def stop_after_seven(client: str, done: int) -> None:
        if done == 7:
            server.stop()  # between two messages: the next connection is refused

    broken = _run(clients, settings, progress=stop_after_seven)
    # The eighth pack meets a refused connection three times in a row (IMGOUT_SMTP_GIVE_UP_AFTER): the
    # server is unreachable, and the twelve others are not attempted rather than each retried.
    assert [r.status for r in broken.results] == ["sent"] * 7 + ["failed"] + ["not attempted"] * 12
    assert "connection refused" in broken.results[7].reason
    assert "3 connection failures in a row" in broken.results[7].reason
    assert all(r.reason.startswith("server unreachable: connection refused") for r in broken.results[8:])
    delivered_first = {str(m.message["X-Imgout-Client"]) for m in server.messages}
    assert len(delivered_first) == 7

    server.start()
    rerun = _run(clients, settings)
    assert [r.status for r in rerun.results] == ["already sent"] * 7 + ["sent"] * 13
    by_client = received_by_client(server)
    assert all(len(messages) == 1 for messages in by_client.values())
    assert len(by_client) == 20
    # The pack that failed went out with the Message-ID the ledger gave it in the broken run.
    assert [r.message_id for r in rerun.results[:8]] == [r.message_id for r in broken.results[:8]]


def test_a_pack_whose_fate_is_unknown_is_not_sent_again_unless_asked(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none")
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    settings = settings_for(server, tmp_path)
    _crashed_while_sending(settings.ledger, load_clients(clients)[0].profile)

    report = _run(clients, settings)
    assert [r.status for r in report.results] == ["in doubt", "sent"]
    assert "stopped while sending it; check the mailbox" in report.results[0].reason
    assert "--" not in report.results[0].reason  # the library names no flags; the command adds its own

    resent = _run(clients, settings, resend_in_doubt=True)
    assert [r.status for r in resent.results] == ["sent", "already sent"]
    assert server.messages[-1].message_id == "<crashed@imgout.example>"


def _crashed_while_sending(ledger_path: Path, profile: ClientProfile) -> None:
    """What a run that died after claiming the pack (status "sending"), before the server's answer, leaves."""
    claim_and_die(ledger_path, batch.pack_key(profile, market_for()))


class _RecordingChannel:
    """A channel of a few lines (as a drop folder or an HTTP API would be): the run needs nothing else."""

    dry_run = False

    def __init__(self, settled: str, stop_after: str) -> None:
        self.settled_client, self.stop_after = settled, stop_after
        self.delivered: list[str] = []
        self.open = False

    def __enter__(self) -> _RecordingChannel:
        self.open = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.open = False

    def settled(self, key: PackKey) -> Delivered | None:
        assert self.open
        return (
            Delivered("already sent", "earlier", "<earlier@x>") if key.client == self.settled_client else None
        )

    def deliver(self, key: PackKey, pack: Pack, log: ClientLog) -> Delivered:
        assert self.open and pack.client == key.client
        self.delivered.append(key.client)
        log.write("recorded", digest=key.digest)
        stop = key.client == self.stop_after
        return Delivered("failed" if stop else "sent", "refused for all" if stop else "", stop=stop)


def test_a_run_talks_to_its_channel_only_through_settled_and_deliver(
    tmp_path: Path, cached_packs: PackCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []

    def build_task(profile: ClientProfile, *task: Any) -> Any:
        built.append(profile.name)
        return cached_packs.build_task(profile, *task)

    monkeypatch.setattr(batch, "build_task", build_task)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(4))
    settings = load_settings(
        {"IMGOUT_LOG": str(tmp_path / "delivery.jsonl"), "XDG_STATE_HOME": str(tmp_path)}
    )
    names = [e.profile.name for e in load_clients(clients)]
    channel = _RecordingChannel(settled=names[0], stop_after=names[2])

    report = run_batch(load_clients(clients), settings, channel, with_pdf=False)

    assert [r.status for r in report.results] == ["already sent", "sent", "failed", "not attempted"]
    assert report.results[3].reason == f"the run stopped after {names[2]}: refused for all"
    assert built == names[1:3]  # nothing built for the settled client, nor after the channel stopped
    assert channel.delivered == names[1:3] and not channel.open
    assert [line["event"] for line in _log(settings)] == [
        "already sent",
        "recorded",
        "recorded",
        "not attempted",
    ]
    assert not settings.ledger.exists()  # the ledger belongs to the SMTP channel


# ------------------------------------------------------------------------------------------ refusals


def test_bad_or_disallowed_recipients_are_refused_and_nothing_is_sent_to_them(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none")
    entries = client_entries(4)
    entries[1]["cc"] = ["leak@gmail.example"]
    entries[2]["to"] = ["cfo3@acme.example\r\nBcc: everyone@evil.example"]
    entries[3]["to"] = ["cfo4 at acme.example"]
    clients = write_clients_file(tmp_path / "clients.yaml", entries)
    settings = settings_for(server, tmp_path, IMGOUT_ALLOWED_DOMAINS="acme.example")

    report = _run(clients, settings)

    assert [r.status for r in report.results] == ["sent", "refused", "refused", "refused"]
    reasons = [r.reason for r in report.failures]
    assert "outside the allowed domains: leak@gmail.example" in reasons[0]
    assert "line break" in reasons[1]
    assert "expected one address" in reasons[2]
    assert [m.message["X-Imgout-Client"] for m in server.messages] == [entries[0]["name"]]
    assert all(b"evil.example" not in m.raw for m in server.messages)
    assert {line["event"] for line in _log(settings)} == {"attempt", "refused"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("clients: []", "clients: expected a non-empty list"),
        ("customers: [{name: A}]", "expected one key, clients:"),
        ("clients:\n  - name: A\n    to: [a@x.example]\n  - {name: B}", "client #2 (B): to: at least one"),
        (
            "clients:\n  - name: A\n    to: [a@x.example]\n    colour: red",
            "client #1 (A): colour: unknown key",
        ),
        (
            "clients:\n  - {name: A, to: [a@x.example], scenario: bul}",
            "client #1 (A): scenario: Invalid scenario",
        ),
        (
            "clients:\n  - {name: A, to: [a@x.example]}\n  - {name: a, to: [b@x.example]}",
            "the same client as",
        ),
        ("clients: [", "not valid YAML"),
    ],
)
def test_a_wrong_clients_file_names_the_file_the_entry_and_the_key(
    tmp_path: Path, document: str, message: str
) -> None:
    path = tmp_path / "clients.yaml"
    path.write_text(document, encoding="utf-8")
    with pytest.raises(ImgoutError) as error:
        load_clients(path, market_for())
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_a_missing_clients_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ClientsFileError, match="not found"):
        load_clients(tmp_path / "nope.yaml")


# ------------------------------------------------------------------------------------------ command line


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = 0
    try:
        cli.main(args)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_imgout_batch_over_starttls_with_auth_never_shows_the_password(
    make_server: Callable[..., LocalSMTPServer],
    tmp_path: Path,
    cached_packs: PackCache,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = make_server(
        "starttls", username=USER, password=PASSWORD, reject_permanently=["cfo2@acme.example"]
    )
    for name, value in delivery_env(server, tmp_path).items():
        monkeypatch.setenv(name, value)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(3))

    code, out, err = _main(["batch", str(clients), "--no-pdf"], capsys)
    dry_code, dry_out, dry_err = _main(
        ["batch", str(clients), "--no-pdf", "--dry-run", str(tmp_path / "eml")], capsys
    )

    # Client 2's recipient is refused by the server (550): reported, the others went on, exit code 1.
    assert code == 1
    assert "Client 02 Radiology: failed: every recipient refused: cfo2@acme.example (550" in err
    assert "1 of 3 clients not served" in err
    assert "Client 01 Radiology" in out and "sent" in out
    assert [m.authenticated_as for m in server.messages] == [USER, USER]
    assert all(m.tls for m in server.messages)
    assert dry_code == 0 and len(list((tmp_path / "eml").glob("*.eml"))) == 3

    settings = load_settings()
    places = {
        "stdout": out + dry_out,
        "stderr": err + dry_err,
        "log": settings.log.read_text(encoding="utf-8"),
        "ledger": settings.ledger.read_bytes().decode("latin-1"),
        **{p.name: p.read_bytes().decode("latin-1") for p in (tmp_path / "eml").glob("*.eml")},
        **{f"message {i}": m.raw.decode("latin-1") for i, m in enumerate(server.messages)},
    }
    for place, content in places.items():
        assert PASSWORD not in content, place
    assert server.auth_attempts[0].password == PASSWORD  # it was used, just never shown


def test_imgout_batch_says_which_flag_resends_a_pack_in_doubt(
    make_server: Callable[..., LocalSMTPServer],
    tmp_path: Path,
    cached_packs: PackCache,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = make_server("none")
    for name, value in delivery_env(server, tmp_path).items():
        monkeypatch.setenv(name, value)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(1))
    _crashed_while_sending(load_settings().ledger, load_clients(clients)[0].profile)

    code, _out, err = _main(["batch", str(clients), "--no-pdf"], capsys)
    assert code == 1
    assert "imgout: Client 01 Radiology: in doubt: run crashed-run on host " in err
    assert (
        "stopped while sending it; check the mailbox, then say whether it arrived (it is sent again only when "
        "asked); then `imgout ledger resolve 'Client 01 Radiology' --delivered` or `--resend`, or rerun with "
        "--resend-in-doubt (same Message-ID)\n"
    ) in err
    assert server.messages == []

    code, _out, err = _main(["batch", str(clients), "--no-pdf", "--resend-in-doubt"], capsys)
    assert code == 0, err
    assert [m.message_id for m in server.messages] == ["<crashed@imgout.example>"]


def test_imgout_send_refuses_bad_recipients_with_exit_code_2_and_sends_nothing(
    make_server: Callable[..., LocalSMTPServer],
    tmp_path: Path,
    cached_packs: PackCache,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = make_server("none")
    for name, value in delivery_env(server, tmp_path, IMGOUT_ALLOWED_DOMAINS="acme.example").items():
        monkeypatch.setenv(name, value)
    base = ["send", "--client", "Acme Radiology", "--no-pdf"]

    for bad in (
        ["--to", "cfo@acme.example\r\nBcc: all@evil.example"],
        ["--to", "cfo@acme.example", "--cc", "not an address"],
        ["--to", "cfo@gmail.example"],
    ):
        code, out, err = _main(base + bad, capsys)
        assert code == 2
        assert err.startswith("imgout: error: ") and err.count("\n") == 1
    assert "outside the allowed domains" in err
    assert server.messages == []
    assert not Path(load_settings().ledger).exists()

    code, out, err = _main([*base, "--to", "cfo@acme.example"], capsys)
    assert code == 0 and "sent" in out
    code, out, err = _main([*base, "--to", "cfo@acme.example"], capsys)
    assert code == 0 and "already sent" in out
    assert len(server.messages) == 1


def test_imgout_send_dry_run_writes_the_eml_with_the_pdf_and_sends_nothing(
    make_server: Callable[..., LocalSMTPServer],
    tmp_path: Path,
    cached_packs: PackCache,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = make_server("none")
    for name, value in delivery_env(server, tmp_path).items():
        monkeypatch.setenv(name, value)
    code, _out, err = _main(
        [
            "send",
            "--client",
            "Acme Radiology",
            "--to",
            "cfo@acme.example",
            "--dry-run",
            str(tmp_path / "out"),
        ],
        capsys,
    )
    assert code == 0, err
    [eml] = list((tmp_path / "out").iterdir())
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert [a.get_content_type() for a in parsed.iter_attachments()] == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/pdf",
    ]
    assert server.messages == []
    assert not load_settings().ledger.exists()
    assert json.loads(load_settings().log.read_text().splitlines()[0])["event"] == "written"


# ------------------------------------------------------------------------------------------ scale-out


@pytest.mark.slow
def test_local_processes_build_the_packs_and_sending_stays_exactly_once(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server("none", fail_transiently_once_per_message=True)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(4))
    settings = settings_for(server, tmp_path)

    report = _run(clients, settings, jobs=2)
    rerun = _run(clients, settings, jobs=2)

    assert [r.status for r in report.results] == ["sent"] * 4
    assert [r.status for r in rerun.results] == ["already sent"] * 4
    assert sorted(len(v) for v in received_by_client(server).values()) == [1, 1, 1, 1]


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[str]:
    """A real 2-worker Dask cluster in separate processes (as on a real cluster: packs travel by pickle)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.slow
def test_a_dask_cluster_builds_the_packs_and_sending_stays_exactly_once(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, dask_cluster: str
) -> None:
    server = make_server("none")
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(4))
    settings = settings_for(server, tmp_path)

    def stop_after_two(client: str, done: int) -> None:
        if done == 2:
            server.stop()

    broken = _run(clients, settings, scheduler=dask_cluster, progress=stop_after_two)
    # The third meets a closed port 3 times in a row: the fourth is not attempted (the circuit breaker).
    assert sorted(r.status for r in broken.results) == ["failed", "not attempted", "sent", "sent"]
    server.start()
    rerun = _run(clients, settings, scheduler=dask_cluster)
    assert sorted(r.status for r in rerun.results) == ["already sent", "already sent", "sent", "sent"]
    assert sorted(len(v) for v in received_by_client(server).values()) == [1, 1, 1, 1]


@pytest.mark.slow  # a Dask client tries a real address
def test_an_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    with (
        pytest.raises(batch.SchedulerError, match="Cannot reach the Dask scheduler"),
        batch._dask_client("tcp://127.0.0.1:9", timeout="1s"),
    ):
        pass


def test_a_dry_run_folder_that_cannot_be_made_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMGOUT_LOG", str(tmp_path / "delivery.jsonl"))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _out, err = _main(
        ["send", "--client", "Acme", "--to", "cfo@acme.example", "--dry-run", str(blocker / "eml")], capsys
    )
    assert code == 2
    assert (
        err
        == f"imgout: error: Cannot write to the dry-run folder {str(blocker / 'eml')!r}: Not a directory\n"
    )
