"""Exactly once: no client gets a pack twice and none is lost, whatever runs at the same time or dies.

Every story uses the real aiosmtpd server on 127.0.0.1 and, where the promise is about processes (two
runs at once, a run killed with ``kill -9``, its build workers, Ctrl-C), real ``imgout`` processes.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.support.delivery_support import (
    LEDGER_DAMAGE,
    NO_WAIT,
    PackCache,
    client_entries,
    damage_ledger,
    delivery_env,
    received_by_client,
    run_imgout,
    settings_for,
    start_imgout,
    start_imgout_on_host,
    write_clients_file,
)
from tests.support.smtp_server import LocalSMTPServer
from xl_addin.delivery import batch
from xl_addin.delivery.batch import channel_for, load_clients, run_batch
from xl_addin.delivery.ledger import LEASE_SECONDS, Ledger, Machine, Owner
from xl_addin.delivery.settings import DeliverySettings
from xl_addin.model import market_for

pytestmark = pytest.mark.slow  # real imgout processes, kill -9, a real SMTP server


def _run(clients: Path, settings: DeliverySettings, **options: Any) -> batch.BatchReport:
    options.setdefault("with_pdf", False)
    resend = options.pop("resend_in_doubt", False)
    channel = channel_for(settings, resend_in_doubt=resend, sleep=NO_WAIT)
    return run_batch(load_clients(clients, market_for()), settings, channel, **options)


def _wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


# ------------------------------------------------------------------------------------------ two runs at once


@pytest.mark.slow
def test_two_runs_at_once_on_one_ledger_send_each_pack_once(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    # A server that takes a moment per message, so the two runs really overlap.
    server = make_server("none", data_delay=0.1)
    env = delivery_env(server, tmp_path)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(20))

    first = start_imgout("batch", str(clients), "--no-pdf", env=env)
    second = start_imgout("batch", str(clients), "--no-pdf", "--resend-in-doubt", env=env)
    outputs = [p.communicate(timeout=300) for p in (first, second)]

    by_client = received_by_client(server)
    assert sorted(by_client) == sorted(e["name"] for e in client_entries(20))
    assert all(len(messages) == 1 for messages in by_client.values()), {
        c: len(m) for c, m in by_client.items() if len(m) > 1
    }
    # Neither run calls the other's claims "in doubt"; a pack the other run was sending is "in progress".
    for _, err in outputs:
        assert "in doubt" not in err
        assert "internal error" not in err and "Traceback" not in err
    for process, (_, err) in zip((first, second), outputs, strict=True):
        assert process.returncode in (0, 1), err
        for line in err.splitlines()[:-1]:
            assert ": in progress: run " in line, line
    # Afterwards every pack is sent, once.
    rerun = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert len(server.messages) == 20


#: Overlapping cron runs: (host, extra options) of each; "" is this machine.
CRON_OVERLAPS = {
    "one host, the second run with --resend-in-doubt": [
        ("", ()),
        ("", ("--resend-in-doubt",)),
    ],
    "one host, three runs, --jobs 2": [
        ("", ()),
        ("", ("--resend-in-doubt", "--jobs", "2")),
        ("", ("--jobs", "2")),
    ],
    "two hosts sharing the ledger": [
        ("mail-1", ()),
        ("mail-2", ("--resend-in-doubt",)),
        ("mail-2", ("--resend-in-doubt", "--jobs", "2")),
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize("overlap", sorted(CRON_OVERLAPS))
def test_overlapping_cron_runs_against_a_slow_server_send_each_client_exactly_one_message(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, overlap: str
) -> None:
    # The server takes 2 s to confirm each message and the first run waits 1 s: each of its packs ends
    # "in doubt" although it arrived, while that run is still alive and sending the next ones. Runs
    # started meanwhile (patient ones: they wait 10 s) must leave those packs to the first run, even
    # with --resend-in-doubt, on this machine or on another one sharing the ledger.
    server = make_server("none", data_delay=2)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(8))
    runs = []
    for number, (host, options) in enumerate(CRON_OVERLAPS[overlap]):
        env = delivery_env(server, tmp_path, IMGOUT_SMTP_TIMEOUT="10" if number else "1")
        args = ("batch", str(clients), "--no-pdf", *options)
        runs.append(start_imgout_on_host(host, *args, env=env) if host else start_imgout(*args, env=env))
        # The next cron run starts once this one is sending.
        _wait_for(lambda n=number: len(server.messages) > n, what="a message of the run before")
    outputs = [run.communicate(timeout=300) for run in runs]

    copies = {client: len(messages) for client, messages in received_by_client(server).items()}
    assert copies == {e["name"]: 1 for e in client_entries(8)}, outputs
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode in (0, 1) and "Traceback" not in err and "internal error" not in err, err
    # What the later runs said of the first run's packs in doubt: still that run's, whatever the flags.
    later = "".join(err for _, err in outputs[1:])
    assert "is still running: nobody sends it again before that run has ended" in later, later


def test_a_live_runs_claim_is_in_progress_and_never_resent_even_when_asked(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none", data_delay=4)
    env = delivery_env(server, tmp_path)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(1))
    slow = start_imgout("batch", str(clients), "--no-pdf", env=env)
    try:
        _wait_for(lambda: len(server.messages) == 1, what="the first run's message")  # it waits for the 250
        settings = settings_for(server, tmp_path)
        report = _run(clients, settings, resend_in_doubt=True)
        [result] = report.results
        assert result.status == "in progress"
        assert f"(pid {slow.pid}," in result.reason and "is sending it now" in result.reason
        with Ledger(settings.ledger) as ledger:
            [pack] = ledger.packs()
            assert pack.status == "in progress" and pack.recipients[0].owner_alive
    finally:
        _out, err = slow.communicate(timeout=60)
    assert slow.returncode == 0, err
    assert len(server.messages) == 1
    assert [r.status for r in _run(clients, settings_for(server, tmp_path)).results] == ["already sent"]


def test_a_lease_on_another_machine_lives_as_long_as_its_heartbeat() -> None:
    here = Machine("this-host", "boot-1")
    now = time.time()

    def owner(host: str, boot: str, heartbeat: float, pid: int = 1) -> Owner:
        return Owner("r", host, boot, pid, 0.0, "ops", "2026-01-01T00:00:00+00:00", heartbeat, None)

    assert owner("mail-2", "b", now - 5).alive(here, now)
    assert not owner("mail-2", "b", now - LEASE_SECONDS - 1).alive(here, now)
    # On this machine the process itself decides: a PID that does not exist is a dead run at once ...
    assert not owner("this-host", "boot-1", now, pid=2**22 + 17).alive(here, now)
    # ... and a run from before the last reboot is dead, whatever its PID is now.
    assert not owner("this-host", "boot-0", now, pid=os.getpid()).alive(here, now)
    me = Owner("r", "this-host", "boot-1", os.getpid(), psutil.Process().create_time(), "ops", "", 0.0, None)
    assert me.alive(here, now)
    # A PID reused by another process since: its start time differs.
    assert not Owner("r", "this-host", "boot-1", os.getpid(), 12.0, "ops", "", now, None).alive(here, now)


# ------------------------------------------------------------------------------------------ kill -9


@pytest.mark.slow
@pytest.mark.tables
def test_kill_9_while_sending_leaves_the_pack_in_doubt_and_an_operator_resolves_it(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server("none", data_delay=30)  # accepted at once, answered late: the run is killed first
    env = delivery_env(server, tmp_path)
    clients2 = write_clients_file(tmp_path / "clients.yaml", client_entries(1, domain="beta.example"))
    run = start_imgout("batch", str(clients2), "--no-pdf", env=env)
    _wait_for(lambda: len(server.messages) == 1, what="the message")
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    server.data_delay = 0

    rerun = run_imgout("batch", str(clients2), "--no-pdf", env=env)
    assert rerun.returncode == 1
    assert "in doubt: run " in rerun.stderr and f"(pid {run.pid}," in rerun.stderr
    assert "stopped while sending it; check the mailbox" in rerun.stderr
    assert "imgout ledger resolve 'Client 01 Radiology' --delivered" in rerun.stderr
    assert len(server.messages) == 1

    resolved = run_imgout(
        "ledger", "resolve", "client 01 radiology", "--delivered", "--note", "seen in inbox", env=env
    )
    assert resolved.returncode == 0, resolved.stderr
    assert "cfo1@beta.example delivered: never sent again" in resolved.stdout
    final = run_imgout("batch", str(clients2), "--no-pdf", env=env)
    assert final.returncode == 0, final.stderr
    assert "already sent" in final.stdout
    assert len(server.messages) == 1
    shown = run_imgout("ledger", "show", "Client 01 Radiology", "--json", env=env)
    [pack] = [p for p in json.loads(shown.stdout) if p["recipients"][0]["address"] == "cfo1@beta.example"]
    [recipient] = pack["recipients"]
    assert recipient["status"] == "sent" and recipient["resolved_by"].endswith("@" + os.uname().nodename)
    assert recipient["resolved_at"] and "seen in inbox" in recipient["reason"]
    assert [h[2] for h in pack["history"]] == ["claimed", "resolved: delivered"]


@pytest.mark.slow
def test_kill_9_of_a_jobs_2_parent_leaves_no_worker_nor_resource_tracker(tmp_path: Path) -> None:
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(40))
    env = {
        "IMGOUT_LEDGER": str(tmp_path / "ledger.sqlite3"),
        "IMGOUT_LOG": str(tmp_path / "delivery.jsonl"),
        "IMGOUT_SMTP_PORT": "9",  # nothing is sent: the run is killed while it builds
    }
    run = start_imgout(
        "batch", str(clients), "--no-pdf", "--jobs", "2", "--dry-run", str(tmp_path / "eml"), env=env
    )
    parent = psutil.Process(run.pid)

    def workers() -> list[psutil.Process]:
        return [p for p in parent.children(recursive=True) if "resource_tracker" not in " ".join(p.cmdline())]

    _wait_for(lambda: len(workers()) >= 2, what="two build workers")
    _wait_for(lambda: any((tmp_path / "eml").glob("*.eml")), what="a first pack")
    family = parent.children(recursive=True)
    assert any("resource_tracker" in " ".join(p.cmdline()) for p in family)
    run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    _, alive = psutil.wait_procs(family, timeout=10)
    assert alive == [], [(p.pid, p.cmdline()) for p in alive]


# ------------------------------------------------------------------------------------------ a ledger that knows itself


def _sent_once(server: LocalSMTPServer, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    env = delivery_env(server, tmp_path)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    done = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert done.returncode == 0, done.stderr
    return clients, env


@pytest.mark.parametrize(("damage", "said"), list(LEDGER_DAMAGE.items()))
def test_a_ledger_that_is_not_whole_is_refused_never_taken_as_new(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, damage: str, said: str
) -> None:
    server = make_server("none")
    clients, env = _sent_once(server, tmp_path)
    ledger = Path(env["IMGOUT_LEDGER"])
    damage_ledger(ledger, damage)
    before = ledger.read_bytes()

    rerun = run_imgout("batch", str(clients), "--no-pdf", env=env)
    listed = run_imgout("ledger", "list", env=env)

    for done in (rerun, listed):
        assert done.returncode == 2, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith(f"imgout: error: Send ledger {ledger} ") and said in line
    assert len(server.messages) == 2  # nothing resent
    assert ledger.read_bytes() == before  # and the file is left as it was, for the operator


def test_a_ledger_locked_for_too_long_is_one_line_and_nothing_is_sent(
    make_server: Callable[..., LocalSMTPServer],
    tmp_path: Path,
    cached_packs: PackCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from xl_addin.delivery import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "LOCK_TIMEOUT", 0.5)
    server = make_server("none")
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    settings = settings_for(server, tmp_path)
    Ledger(settings.ledger).close()
    holder = sqlite3.connect(settings.ledger, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than the timeout
    try:
        report = _run(clients, settings)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [r.status for r in report.results] == ["failed", "not attempted"]
    assert report.results[0].reason == (
        f"not sent: Send ledger {settings.ledger} is locked: another process has been writing to it for more "
        "than 0 s; try again when it has finished"
    )
    assert server.messages == []


# ------------------------------------------------------------------------------------------ recipients as the unit


def test_a_cc_refused_once_stays_open_and_the_rerun_sends_to_that_cc_only(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none", reject_permanently=["strategy3@acme.example"])
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(3))
    settings = settings_for(server, tmp_path)

    first = _run(clients, settings)
    assert [r.status for r in first.results] == ["sent", "sent", "partly sent"]
    assert "strategy3@acme.example (550" in first.results[2].reason
    assert "a rerun sends it to them only" in first.results[2].reason

    again = _run(clients, settings)  # still refused: still said, never "already sent"
    assert [r.status for r in again.results] == ["already sent", "already sent", "partly sent"]

    server.reject_permanently.clear()  # the postmaster fixed the mailbox
    fixed = _run(clients, settings)
    assert [r.status for r in fixed.results] == ["already sent", "already sent", "sent"]
    assert "to strategy3@acme.example (the other recipients had it already)" in fixed.results[2].reason
    third = received_by_client(server)["Client 03 Radiology"]
    assert [m.rcpt_tos for m in third] == [["cfo3@acme.example"], ["strategy3@acme.example"]]
    assert {m.message_id for m in third} == {first.results[2].message_id}
    assert third[1].message["Cc"] == "strategy3@acme.example"  # the headers still name every recipient

    assert [r.status for r in _run(clients, settings).results] == ["already sent"] * 3


def test_resolve_delivered_refuses_a_pack_the_server_rejected_it_only_settles_packs_in_doubt(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none", reject_permanently=["cfo1@acme.example"])
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(1))
    settings = settings_for(server, tmp_path)
    assert [r.status for r in _run(clients, settings).results] == ["failed"]

    env = delivery_env(server, tmp_path)
    refused = run_imgout("ledger", "resolve", "Client 01 Radiology", "--delivered", env=env)
    assert refused.returncode == 2
    [line] = refused.stderr.splitlines()
    assert "cfo1@acme.example is failed (refused by the server" in line or "550" in line, line
    assert "only a recipient in doubt can be resolved as delivered" in line
    with Ledger(settings.ledger) as ledger:
        assert ledger.packs()[0].status == "failed"  # unchanged: the next run sends it again

    server.reject_permanently.clear()
    assert [r.status for r in _run(clients, settings).results] == ["sent"]


def test_a_new_recipient_gets_the_pack_and_nobody_else_gets_it_again(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none")
    entries = client_entries(1)
    clients = write_clients_file(tmp_path / "clients.yaml", entries)
    settings = settings_for(server, tmp_path)
    _run(clients, settings)
    entries[0]["cc"] = ["new.cfo@acme.example"]
    entries[0]["to"] = [a.upper() for a in entries[0]["to"]]  # case and order make nothing new
    write_clients_file(clients, entries)
    [result] = _run(clients, settings).results
    assert result.status == "sent"
    assert [m.rcpt_tos for m in server.messages] == [["cfo1@acme.example"], ["new.cfo@acme.example"]]


# ------------------------------------------------------------------------------------------ what makes a pack new


def test_a_pack_is_new_when_what_the_client_receives_changes_not_when_imgout_is_upgraded(
    make_server: Callable[..., LocalSMTPServer],
    tmp_path: Path,
    cached_packs: PackCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import xl_addin

    server = make_server("none")
    entries = client_entries(1)
    clients = write_clients_file(tmp_path / "clients.yaml", entries)
    settings = settings_for(server, tmp_path)
    assert [r.status for r in _run(clients, settings).results] == ["sent"]

    monkeypatch.setattr(xl_addin, "__version__", "0.1.1")  # a patch release: no number changed
    entries[0]["brand_colour"] = "#AA0000"  # nor does a new look
    write_clients_file(clients, entries)
    assert [r.status for r in _run(clients, settings).results] == ["already sent"]

    assert [r.status for r in _run(clients, settings, overrides="cagr=0.1").results] == ["sent"]
    assert [r.status for r in _run(clients, settings, edition="2026-03").results] == ["sent"]
    entries[0]["scenario"] = "bull"
    write_clients_file(clients, entries)
    assert [r.status for r in _run(clients, settings).results] == ["sent"]
    assert len(server.messages) == 4


# ------------------------------------------------------------------------------------------ circuit breaker


def test_an_unreachable_server_stops_the_run_after_a_few_connection_failures(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none")
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(30))
    settings = settings_for(server, tmp_path)
    server.stop()

    report = _run(clients, settings)

    assert [r.status for r in report.results] == ["failed"] + ["not attempted"] * 29
    assert "3 connection failures in a row: the server is unreachable" in report.results[0].reason
    assert report.results[1].reason.startswith("server unreachable: connection refused")
    log = [json.loads(line) for line in settings.log.read_text().splitlines()]
    assert [line["event"] for line in log].count("attempt") == 3  # three tries in all, not 4 x 30
    with Ledger(settings.ledger) as ledger:
        assert [p.status for p in ledger.packs()] == ["failed"]  # only the one attempted was claimed


def test_the_breaker_threshold_is_a_setting(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, cached_packs: PackCache
) -> None:
    server = make_server("none")
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(5))
    settings = settings_for(server, tmp_path, IMGOUT_SMTP_GIVE_UP_AFTER="6", IMGOUT_SMTP_RETRIES="1")
    server.stop()
    report = _run(clients, settings)
    # Two attempts per pack (1 retry): the sixth failure in a row is the third pack's second attempt.
    assert [r.status for r in report.results] == ["failed"] * 3 + ["not attempted"] * 2


@pytest.mark.slow
def test_imgout_batch_with_the_server_down_exits_1_at_once_with_one_line_per_client(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path
) -> None:
    server = make_server("none")
    env = delivery_env(server, tmp_path)
    env.pop("IMGOUT_SMTP_BACKOFF")  # the default backoff (2 s, then 4 s)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(25))
    server.stop()
    done = run_imgout("batch", str(clients), "--no-pdf", env=env)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 26 and lines[-1] == "imgout: 25 of 25 clients not served"
    assert sum("not attempted: server unreachable" in line for line in lines) == 24


# ------------------------------------------------------------------------------------------ interrupted


@pytest.mark.slow
@pytest.mark.parametrize(
    ("signum", "code", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_an_interrupted_run_exits_with_its_own_code_and_records_what_it_knows(
    make_server: Callable[..., LocalSMTPServer], tmp_path: Path, signum: int, code: int, said: str
) -> None:
    server = make_server("none", data_delay=30)
    env = delivery_env(server, tmp_path)
    clients = write_clients_file(tmp_path / "clients.yaml", client_entries(2))
    run = start_imgout("batch", str(clients), "--no-pdf", env=env)
    _wait_for(lambda: len(server.messages) == 1, what="the first message")
    run.send_signal(signum)
    _, err = run.communicate(timeout=60)
    assert run.returncode == code, err
    assert err.strip().splitlines()[-1] == f"imgout: {said}"
    assert "Traceback" not in err
    with Ledger(Path(env["IMGOUT_LEDGER"])) as ledger:
        [pack] = ledger.packs()
        [recipient] = pack.recipients
        # The whole message had gone out: it may have arrived, and the ledger says so (not "sending").
        assert (recipient.status, recipient.state) == ("in doubt", "in doubt")
        assert recipient.reason == "interrupted after the whole message was sent: it may have arrived"
