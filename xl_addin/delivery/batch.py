"""Batch runs: build every client's pack (here, in local processes or on a Dask cluster) and send each once.

Building scales out; sending does not. Packs come back to this process as they are finished and are sent
one at a time through the send ledger, so exactly-once delivery holds whatever built them:

    clients file -> checks (addresses, allowed domains, ledger) -> build packs (1 | N processes | Dask)
                 -> for each finished pack: claim in ledger -> SMTP (retries) -> record outcome -> log line

A dry run does the same checks and building, writes one ``.eml`` per message and sends nothing (it
neither reads nor writes the ledger).
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Literal

from ..common.yamlfile import read_yaml_mapping
from ..errors import ClientsFileError, ImgoutError, ProfileError, SchedulerError, os_error
from ..model import Market, market_for
from ..report.profile import ClientProfile, profile_from_mapping
from .ledger import Ledger, PackKey
from .message import build_message, check_recipients, new_message_id, write_eml
from .pack import Pack, build_detached_pack
from .settings import DeliverySettings
from .smtp import Attempt, Mailer

Status = Literal[
    "sent", "partly sent", "already sent", "written", "failed", "refused", "in doubt", "not attempted"
]
#: Statuses that leave a client without a problem to act on.
OK_STATUSES = ("sent", "already sent", "written")


@dataclass(frozen=True)
class ClientEntry:
    """One client of a batch: its profile (with ``to``/``cc``) and where it was read from."""

    profile: ClientProfile
    where: str


@dataclass(frozen=True)
class ClientResult:
    """What the run did for one client."""

    client: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    status: Status
    reason: str = ""
    message_id: str | None = None
    attempts: int = 0
    eml: Path | None = None

    @property
    def ok(self) -> bool:
        """Whether nothing is left to do for this client."""
        return self.status in OK_STATUSES


@dataclass
class BatchReport:
    """The outcome of a run, one result per client in the order of the clients file."""

    run_id: str
    dry_run: bool
    results: list[ClientResult] = field(default_factory=list)

    @property
    def failures(self) -> list[ClientResult]:
        """Clients that were not served (refused, failed, in doubt, not attempted, partly sent)."""
        return [r for r in self.results if not r.ok]

    def count(self, status: Status) -> int:
        """How many clients ended with ``status``."""
        return sum(r.status == status for r in self.results)


@dataclass(frozen=True)
class BuildFailure:
    """A pack that could not be built, with the reason (a plain value, safe to send between processes)."""

    reason: str


# ------------------------------------------------------------------------------------------ clients file


def load_clients(path: Path, market: Market | None = None) -> list[ClientEntry]:
    """Read and check a clients file (``clients:`` list of profiles with ``to``/``cc``).

    With ``market``, scenario and focus names are checked against it too, so that a typo stops the run
    before anything is built or sent.
    """
    path = Path(path)
    data = read_yaml_mapping(
        path,
        lambda key, problem: ClientsFileError(f"Clients file {path}: {f'{key}: ' if key else ''}{problem}"),
    )
    if not isinstance(data, Mapping) or set(data) != {"clients"}:
        raise ClientsFileError(
            f"Clients file {path}: expected one key, clients: followed by a list of clients"
        )
    raw = data["clients"]
    if not isinstance(raw, list) or not raw:
        raise ClientsFileError(f"Clients file {path}: clients: expected a non-empty list of clients")

    entries: list[ClientEntry] = []
    seen_names: dict[str, str] = {}
    seen_files: dict[str, str] = {}
    for number, item in enumerate(raw, start=1):
        label = f"client #{number}"
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            label += f" ({' '.join(item['name'].split())})"
        where = f"{path}, {label}"
        if not isinstance(item, Mapping):
            raise ClientsFileError(
                f"Invalid profile in {where}: expected a mapping of profile keys, to and cc"
            )
        values = dict(item)
        if values.get("logo") and not Path(str(values["logo"])).is_absolute():
            values["logo"] = str(path.parent / str(values["logo"]))  # relative to the clients file
        profile = profile_from_mapping(values, where)
        if not profile.to:
            raise ClientsFileError(
                f"Invalid profile in {where}: to: at least one recipient address is required"
            )
        if market is not None:
            check_against_market(profile, market, where)
        name_key = profile.name.casefold()
        if name_key in seen_names:
            raise ClientsFileError(
                f"Invalid profile in {where}: name: the same client as {seen_names[name_key]}"
            )
        if profile.slug in seen_files:
            raise ClientsFileError(
                f"Invalid profile in {where}: name: its file name {profile.slug!r} is the same as for "
                f"{seen_files[profile.slug]}; make the names differ in letters or digits"
            )
        seen_names[name_key] = seen_files[profile.slug] = label
        entries.append(ClientEntry(profile, where))
    return entries


def check_against_market(profile: ClientProfile, market: Market, where: str) -> None:
    """Check the profile's scenario and focus regions/segments exist in ``market``; ProfileError if not."""
    checks: list[tuple[str, Callable[[], object]]] = [("scenario", lambda: market.scenario(profile.scenario))]
    checks += [("focus_regions", lambda r=r: market.region(r)) for r in profile.focus_regions]  # type: ignore[misc]
    checks += [("focus_segments", lambda s=s: market.segment(s)) for s in profile.focus_segments]  # type: ignore[misc]
    for key, check in checks:
        try:
            check()
        except ImgoutError as exc:
            raise ProfileError(f"Invalid profile in {where}: {key}: {exc}") from None


# ------------------------------------------------------------------------------------------ the log


class DeliveryLog:
    """The JSON-lines log: one line per SMTP attempt, refusal, skip, build failure or dry-run file."""

    def __init__(self, path: Path, run_id: str, dry_run: bool) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.dry_run = dry_run
        self._file: IO[str] | None = None

    def __enter__(self) -> DeliveryLog:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise os_error(f"Delivery log {self.path} cannot be written (see IMGOUT_LOG)", exc) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def write(self, profile: ClientProfile, event: str, **details: Any) -> None:
        """Append one line (and flush it, so the log is complete even if the run is killed)."""
        record = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "run": self.run_id,
            "dry_run": self.dry_run,
            "client": profile.name,
            "to": list(profile.to),
            "cc": list(profile.cc),
            "event": event,
            **details,
        }
        assert self._file is not None, "use DeliveryLog as a context manager"
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()


# ------------------------------------------------------------------------------------------ building


def build_task(
    profile: ClientProfile, assumptions: str | None, overrides: str | None, with_pdf: bool
) -> Pack | BuildFailure:
    """Build one pack and return it, or the reason it failed (run in this process, a worker or on Dask)."""
    try:
        return build_detached_pack(profile, assumptions=assumptions, overrides=overrides, with_pdf=with_pdf)
    except ImgoutError as exc:
        return BuildFailure(str(exc))
    except Exception as exc:  # a bug must not stop the other clients
        return BuildFailure(f"internal error while building the pack: {type(exc).__name__}: {exc}")


BuildResults = Iterator[tuple[int, Pack | BuildFailure]]


@contextmanager
def _built_packs(
    profiles: Sequence[tuple[int, ClientProfile]],
    task: tuple[str | None, str | None, bool],
    jobs: int,
    scheduler: str | None,
) -> Iterator[BuildResults]:
    """Yield an iterator of (index, pack or failure) in the order packs are finished."""
    if scheduler:
        with _dask_client(scheduler) as client:
            from distributed import as_completed as dask_completed

            run = uuid.uuid4().hex[:8]
            futures = {
                client.submit(build_task, profile, *task, pure=False, key=f"imgout-pack-{run}-{i}"): i
                for i, profile in profiles
            }

            def from_dask() -> BuildResults:
                for future in dask_completed(futures, loop=client.loop):
                    try:
                        yield futures[future], future.result()
                    except Exception as exc:  # the worker died or the task could not run
                        yield futures[future], BuildFailure(f"Dask task failed: {type(exc).__name__}: {exc}")

            try:
                yield from_dask()
            finally:
                client.cancel(list(futures))
        return
    if jobs > 1 and len(profiles) > 1:
        # "spawn": workers start clean; forking a process that runs threads (progress bar, SMTP) is unsafe.
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            pending: dict[Future[Pack | BuildFailure], int] = {
                pool.submit(build_task, profile, *task): i for i, profile in profiles
            }

            def from_pool() -> BuildResults:
                for future in as_completed(pending):
                    try:
                        yield pending[future], future.result()
                    except Exception as exc:  # a worker process died
                        yield (
                            pending[future],
                            BuildFailure(f"worker process failed: {type(exc).__name__}: {exc}"),
                        )

            try:
                yield from_pool()
            finally:
                for future in pending:
                    future.cancel()
        return
    yield ((i, build_task(profile, *task)) for i, profile in profiles)


@contextmanager
def _dask_client(address: str, timeout: str = "10s") -> Iterator[Any]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise SchedulerError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") from None
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(f"Cannot reach the Dask scheduler at {address!r} ({exc})") from None
    try:
        yield client
    finally:
        client.close()


# ------------------------------------------------------------------------------------------ the run


def run_batch(
    entries: Sequence[ClientEntry],
    settings: DeliverySettings,
    *,
    dry_run: Path | None = None,
    jobs: int = 1,
    scheduler: str | None = None,
    assumptions: Path | None = None,
    overrides: str | None = None,
    with_pdf: bool = True,
    resend_in_doubt: bool = False,
    progress: Callable[[str, int], None] | None = None,
    mailer_options: Mapping[str, Any] | None = None,
) -> BatchReport:
    """Build and send (or, with ``dry_run``, write) every client's pack once; never raises for one client.

    ``progress(client, done)`` is called after each client is finished with. ``mailer_options`` go to
    :class:`Mailer` (tests pass ``sleep``).
    """
    run_id = uuid.uuid4().hex[:12]
    report = BatchReport(run_id, dry_run is not None)
    if dry_run is not None:
        try:
            Path(dry_run).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise os_error(f"Cannot write to the dry-run folder {str(dry_run)!r}", exc) from None
    market = market_for(assumptions, overrides)
    assumptions_arg = str(Path(assumptions).resolve()) if assumptions is not None else None
    results: dict[int, ClientResult] = {}
    done = 0

    def finish(i: int, result: ClientResult) -> None:
        nonlocal done
        results[i] = result
        done += 1
        if progress is not None:
            progress(result.client, done)

    with (
        DeliveryLog(settings.log, run_id, dry_run is not None) as log,
        _maybe_ledger(settings, dry_run) as ledger,
    ):
        keys: dict[int, PackKey] = {}
        to_build: list[tuple[int, ClientProfile]] = []
        for i, entry in enumerate(entries):
            profile = entry.profile
            base = ClientResult(profile.name, profile.to, profile.cc, "refused")
            try:
                to, cc = check_recipients(profile.to, profile.cc, settings.allowed_domains)
                scenario = market.scenario(profile.scenario)
            except ImgoutError as exc:
                log.write(profile, "refused", reason=str(exc))
                finish(i, replace(base, reason=str(exc)))
                continue
            profile = replace(profile, to=to, cc=cc)
            keys[i] = PackKey(profile.name, to, cc, market.version, market.assumption_hash, scenario)
            previous = ledger.lookup(keys[i]) if ledger is not None else None
            if previous is not None and previous.status == "sent":
                reason = f"sent before ({previous.updated}); nothing sent again"
                log.write(profile, "already sent", message_id=previous.message_id, reason=reason)
                finish(i, replace(base, status="already sent", reason=reason, message_id=previous.message_id))
                continue
            if previous is not None and previous.status in ("sending", "in doubt") and not resend_in_doubt:
                reason = _in_doubt_reason(previous.reason)
                log.write(profile, "in doubt", message_id=previous.message_id, reason=reason)
                finish(i, replace(base, status="in doubt", reason=reason, message_id=previous.message_id))
                continue
            to_build.append((i, profile))

        profiles = dict(to_build)
        stop_reason = ""
        with (
            Mailer(settings, **(mailer_options or {})) as mailer,
            _built_packs(to_build, (assumptions_arg, overrides, with_pdf), jobs, scheduler) as built,
        ):
            for i, pack in built:
                profile = profiles[i]
                base = ClientResult(profile.name, profile.to, profile.cc, "failed")
                if isinstance(pack, BuildFailure):
                    log.write(profile, "build failed", reason=pack.reason)
                    finish(i, replace(base, reason=f"pack not built: {pack.reason}"))
                elif dry_run is not None:
                    message = build_message(pack, profile.to, profile.cc, settings.mail_from)
                    path = write_eml(message, dry_run, profile.slug)
                    log.write(profile, "written", message_id=message["Message-ID"], eml=str(path))
                    finish(i, replace(base, status="written", message_id=message["Message-ID"], eml=path))
                elif stop_reason:
                    log.write(profile, "not attempted", reason=stop_reason)
                    finish(i, replace(base, status="not attempted", reason=stop_reason))
                else:
                    assert ledger is not None
                    result, fatal = _send_one(
                        pack, profile, keys[i], settings, ledger, mailer, log, run_id, resend_in_doubt
                    )
                    if fatal:
                        stop_reason = f"not attempted after: {result.reason}"
                    finish(i, result)
    report.results = [results[i] for i in sorted(results)]
    return report


def _in_doubt_reason(previous_reason: str) -> str:
    why = previous_reason or "a run stopped while sending it"
    return f"in doubt: {why}; check the mailbox, then rerun with --resend-in-doubt if it did not arrive"


def _send_one(
    pack: Pack,
    profile: ClientProfile,
    key: PackKey,
    settings: DeliverySettings,
    ledger: Ledger,
    mailer: Mailer,
    log: DeliveryLog,
    run_id: str,
    resend_in_doubt: bool,
) -> tuple[ClientResult, bool]:
    """Claim the pack in the ledger, send it, record the outcome: (result, whether to stop the run)."""
    base = ClientResult(profile.name, profile.to, profile.cc, "failed")
    claim = ledger.claim(key, new_message_id(settings.mail_from), run_id, resend_in_doubt=resend_in_doubt)
    if claim.decision == "already sent":  # another run sent it meanwhile
        log.write(profile, "already sent", message_id=claim.message_id)
        return replace(base, status="already sent", message_id=claim.message_id), False
    if claim.decision == "in doubt":
        reason = _in_doubt_reason(claim.previous.reason if claim.previous else "")
        log.write(profile, "in doubt", message_id=claim.message_id, reason=reason)
        return replace(base, status="in doubt", reason=reason, message_id=claim.message_id), False
    message = build_message(pack, profile.to, profile.cc, settings.mail_from, message_id=claim.message_id)

    def on_attempt(attempt: Attempt) -> None:
        log.write(
            profile,
            "attempt",
            message_id=claim.message_id,
            attempt=attempt.number,
            outcome=attempt.outcome,
            code=attempt.code,
            reason=attempt.reason,
            server=f"{settings.smtp_host}:{settings.smtp_port}",
        )

    sent = mailer.send(message, list(profile.to + profile.cc), on_attempt=on_attempt)
    # A partly refused message was still delivered to the others: never send it again.
    ledger.finish(key, "sent" if sent.outcome == "partly sent" else sent.outcome, sent.reason, sent.attempts)
    status: Status = sent.outcome
    return (
        replace(base, status=status, reason=sent.reason, message_id=claim.message_id, attempts=sent.attempts),
        sent.fatal,
    )


@contextmanager
def _maybe_ledger(settings: DeliverySettings, dry_run: Path | None) -> Iterator[Ledger | None]:
    if dry_run is not None:
        yield None
        return
    with Ledger(settings.ledger) as ledger:
        yield ledger
