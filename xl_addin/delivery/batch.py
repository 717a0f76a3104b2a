"""Batch runs: build every client's pack (here, in local processes or on a Dask cluster) and deliver each once.

Building scales out; delivering does not. Packs come back to this process as they are finished and are
handed one at a time to the run's channel (:mod:`.channel`), so exactly-once delivery holds whatever
built them:

    clients file -> checks (addresses, allowed domains) -> settled by an earlier run? (the channel says)
                 -> build packs (1 | N processes | Dask)
                 -> for each finished pack: the channel delivers it -> log lines

The channel comes from :func:`channel_for`: SMTP through the send ledger (claim, send with retries,
record the outcome), or for a dry run a folder of ``.eml`` files (same checks and packs, nothing sent,
the ledger neither read nor written).
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..common.yamlfile import read_yaml_mapping, shorten
from ..errors import ClientsFileError, ImgoutError, InputError, ProfileError, SchedulerError
from ..model import Market, market_for
from ..report.profile import ClientProfile, printable, profile_from_mapping, text_problem
from .channel import OK_STATUSES, Channel, ClientStatus, Delivered, PackKey, RemembersEditions
from .eml import EmlFolder
from .log import DeliveryLog
from .message import check_recipients
from .pack import Pack, build_detached_pack
from .settings import DeliverySettings
from .smtp import SmtpChannel
from .workers import die_with_parent


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
    status: ClientStatus
    reason: str = ""
    message_id: str | None = None
    attempts: int = 0
    #: The file written, for a channel that writes files (the dry run's ``.eml``).
    file: Path | None = None

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

    def count(self, status: ClientStatus) -> int:
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
            label += f" ({shorten(printable(' '.join(item['name'].split())))})"
        where = f"{path}, {label}"
        if not isinstance(item, Mapping):
            raise ClientsFileError(
                f"Invalid profile in {where}: expected a mapping of profile keys, to and cc"
            )
        profile = profile_from_mapping(item, where, folder=path.parent)  # a logo: beside the clients file
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
        # Case-insensitively: on Windows and macOS "Acme-Radiology" and "acme-radiology" are one file.
        file_key = profile.slug.casefold()
        if file_key in seen_files:
            raise ClientsFileError(
                f"Invalid profile in {where}: name: its file name {profile.slug!r} is the same as for "
                f"{seen_files[file_key]} (letter case aside); make the names differ in letters or digits"
            )
        seen_names[name_key] = seen_files[file_key] = label
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


# ------------------------------------------------------------------------------------------ building


def build_task(
    profile: ClientProfile,
    assumptions: str | None,
    overrides: str | None,
    with_pdf: bool,
    pdf_engine: str | None = None,
    previous: str = "",
) -> Pack | BuildFailure:
    """Build one pack and return it, or the reason it failed (run in this process, a worker or on Dask).

    Each process keeps one PDF browser for all the packs it builds (:mod:`xl_addin.report.brief.browser`):
    a worker starts it at its first pack, restarts it once if it crashes or hangs, and it dies with the
    worker. A browser that fails twice fails this pack with the reason; the next pack tries a new one.
    ``previous`` is the client's last sent edition's figures ('' for none; see :class:`.channel.RemembersEditions`).
    """
    try:
        return build_detached_pack(
            profile,
            assumptions=assumptions,
            overrides=overrides,
            with_pdf=with_pdf,
            pdf_engine=pdf_engine,
            previous=previous,
        )
    except ImgoutError as exc:
        return BuildFailure(str(exc))
    except Exception as exc:  # a bug must not stop the other clients
        return BuildFailure(f"internal error while building the pack: {type(exc).__name__}: {exc}")


BuildResults = Iterator[tuple[int, Pack | BuildFailure]]
#: What every pack of a run is built with: assumptions file, overrides, with PDF, PDF engine.
BuildSettings = tuple[str | None, str | None, bool, str | None]


@contextmanager
def _built_packs(
    profiles: Sequence[tuple[int, ClientProfile, str]],
    task: BuildSettings,
    jobs: int,
    scheduler: str | None,
) -> Iterator[BuildResults]:
    """Yield an iterator of (index, pack or failure) in the order packs are finished; each profile comes with
    its client's last sent figures ('' for none)."""
    if scheduler:
        with _dask_client(scheduler) as client:
            from distributed import as_completed as dask_completed

            run = uuid.uuid4().hex[:8]
            futures = {
                client.submit(
                    build_task, profile, *task, previous, pure=False, key=f"imgout-pack-{run}-{i}"
                ): i
                for i, profile, previous in profiles
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
        # Workers exit when this process dies, however it dies (kill -9 included): see .workers.
        with ProcessPoolExecutor(
            max_workers=jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        ) as pool:
            pending: dict[Future[Pack | BuildFailure], int] = {
                pool.submit(build_task, profile, *task, previous): i for i, profile, previous in profiles
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
                pool.shutdown(wait=True, cancel_futures=True)
        return
    yield ((i, build_task(profile, *task, previous)) for i, profile, previous in profiles)


#: What a Dask scheduler address looks like: tcp://10.0.0.5:8786, tls://host:8786, host:8786.
_SCHEDULER_ADDRESS = re.compile(r"(?:(?:tcp|tls|ucx|ws|wss|inproc)://)?[A-Za-z0-9._\-\[\]:]+(?::\d{1,5})?/?")


def check_scheduler(address: str) -> str:
    """``address`` if it looks like a Dask scheduler address; an InputError naming it otherwise."""
    text = address.strip()
    if not text or len(text) > 300 or not _SCHEDULER_ADDRESS.fullmatch(text):
        raise InputError(
            f"Invalid Dask scheduler address {shorten(address)!r} "
            "(expected tcp://host:port, tls://host:port or host:port)"
        )
    return text


def check_edition(edition: str) -> str:
    """An edition label: short text without control characters (it is part of every pack's key)."""
    problem = text_problem(edition) or ("longer than 40 characters" if len(edition) > 40 else None)
    if problem:
        raise InputError(f"Invalid edition {shorten(printable(edition))!r}: {problem}")
    return edition.strip()


@contextmanager
def _dask_client(address: str, timeout: str = "10s") -> Iterator[Any]:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise SchedulerError(
            "A Dask scheduler needs dask.distributed: pip install 'dask[distributed]'"
        ) from None
    address = check_scheduler(address)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(f"Cannot reach the Dask scheduler at {address!r} ({exc})") from None
    except (ValueError, TypeError) as exc:
        raise InputError(f"Invalid Dask scheduler address {shorten(address)!r} ({exc})") from None
    try:
        yield client
    finally:
        client.close()


# ------------------------------------------------------------------------------------------ the run


def channel_for(
    settings: DeliverySettings,
    *,
    dry_run: Path | None = None,
    resend_in_doubt: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> Channel:
    """The channel a run delivers through: the ``.eml`` folder ``dry_run`` if given, else SMTP (or Microsoft
    Graph, ``IMGOUT_MAIL_CHANNEL=graph``) and the ledger.

    ``resend_in_doubt`` sends again the packs the ledger has in doubt; ``sleep`` waits between SMTP
    retries (tests pass a no-op).
    """
    if dry_run is not None:
        return EmlFolder(dry_run, settings.mail_from)
    if settings.mail_channel == "graph":
        from .graph import GraphChannel

        return GraphChannel(settings, resend_in_doubt=resend_in_doubt, sleep=sleep)
    return SmtpChannel(settings, resend_in_doubt=resend_in_doubt, sleep=sleep)


def run_batch(
    entries: Sequence[ClientEntry],
    settings: DeliverySettings,
    channel: Channel,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    assumptions: Path | None = None,
    overrides: str | None = None,
    with_pdf: bool = True,
    edition: str = "",
    pdf_engine: str | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> BatchReport:
    """Build every client's pack and deliver it once through ``channel``; never raises for one client.

    ``settings`` gives the allowed recipient domains and the log file. ``edition`` labels a deliberate
    new issue of packs whose content did not change (part of each pack's key). ``pdf_engine`` chooses the
    PDF's engine in every process that builds packs (default: ``IMGOUT_PDF_ENGINE`` there, else auto).
    ``progress(client, done)`` is called after each client is finished with.
    """
    run_id = uuid.uuid4().hex[:12]
    market = market_for(assumptions, overrides)
    assumptions_path = str(Path(assumptions).resolve()) if assumptions is not None else None
    build: BuildSettings = (assumptions_path, overrides, with_pdf, pdf_engine)
    results = _Results(progress)
    with channel, DeliveryLog(settings.log, run_id, channel.dry_run) as log:
        admitted = _admit(entries, settings, market, channel, log, results, edition)
        _deliver_built(admitted, build, jobs, scheduler, channel, log, results)
    return BatchReport(run_id, channel.dry_run, results.in_order())


class _Results:
    """Each client's result by its place in the clients file; ``progress`` hears of each as it is done."""

    def __init__(self, progress: Callable[[str, int], None] | None) -> None:
        self._by_place: dict[int, ClientResult] = {}
        self._progress = progress

    def finish(self, place: int, profile: ClientProfile, status: ClientStatus, reason: str = "") -> None:
        """Record a client the run finished without delivering."""
        self.delivered(place, profile, Delivered(status, reason))

    def delivered(self, place: int, profile: ClientProfile, outcome: Delivered) -> None:
        """Record what became of a client's pack."""
        self._by_place[place] = ClientResult(
            profile.name,
            profile.to,
            profile.cc,
            outcome.status,
            outcome.reason,
            outcome.message_id,
            outcome.attempts,
            outcome.file,
        )
        if self._progress is not None:
            self._progress(profile.name, len(self._by_place))

    def in_order(self) -> list[ClientResult]:
        """Every result, in the order of the clients file."""
        return [self._by_place[place] for place in sorted(self._by_place)]


#: (place in the clients file, profile, pack key, the client's last sent figures or '').
Admitted = list[tuple[int, ClientProfile, PackKey, str]]


def pack_key(profile: ClientProfile, market: Market, edition: str = "") -> PackKey:
    """The key of ``profile``'s pack on ``market``: what the client receives, and who receives it."""
    return PackKey(
        profile.name,
        profile.to,
        profile.cc,
        market.scenario(profile.scenario),
        market.assumption_hash,
        market.version,
        f"{market.next_year}-{market.horizon_year}",
        edition,
    )


def _admit(
    entries: Sequence[ClientEntry],
    settings: DeliverySettings,
    market: Market,
    channel: Channel,
    log: DeliveryLog,
    results: _Results,
    edition: str,
) -> Admitted:
    """The clients whose packs are to be built, with checked recipients and their pack keys.

    The others are finished here: refused (a bad or disallowed address, an unknown scenario) or settled
    by an earlier run, as the channel says (already sent, in doubt, in progress in another run), so
    nothing is built for them.
    """
    admitted: Admitted = []
    for place, entry in enumerate(entries):
        profile = entry.profile
        try:
            to, cc = check_recipients(profile.to, profile.cc, settings.allowed_domains)
            market.scenario(profile.scenario)
        except ImgoutError as exc:
            log.write(profile, "refused", reason=str(exc))
            results.finish(place, profile, "refused", str(exc))
            continue
        profile = replace(profile, to=to, cc=cc)
        key = pack_key(profile, market, edition)
        earlier = channel.settled(key)
        if earlier is not None:
            log.write(profile, earlier.status, message_id=earlier.message_id, reason=earlier.reason)
            results.delivered(place, profile, earlier)
            continue
        previous = channel.last_figures(key) if isinstance(channel, RemembersEditions) else ""
        admitted.append((place, profile, key, previous))
    return admitted


def _deliver_built(
    admitted: Admitted,
    build: BuildSettings,
    jobs: int,
    scheduler: str | None,
    channel: Channel,
    log: DeliveryLog,
    results: _Results,
) -> None:
    """Build the admitted packs and hand each to the channel as it is finished.

    After a delivery that asks to stop (a failure that would repeat for every pack, a server that cannot
    be reached), or once the log cannot be written, no further pack is built or attempted: the rest are
    reported "not attempted" at once.
    """
    waiting = {place: (profile, key) for place, profile, key, _ in admitted}
    stop_reason = ""
    to_build = [(place, profile, previous) for place, profile, _, previous in admitted]
    with _built_packs(to_build, build, jobs, scheduler) as built:
        for place, pack in built:
            profile, key = waiting.pop(place)
            if isinstance(pack, BuildFailure):
                log.write(profile, "build failed", reason=pack.reason)
                results.finish(place, profile, "failed", f"pack not built: {pack.reason}")
            else:
                outcome = channel.deliver(key, pack, log.client(profile))
                results.delivered(place, profile, outcome)
                if outcome.stop:
                    stop_reason = (
                        outcome.stop_reason or f"the run stopped after {profile.name}: {outcome.reason}"
                    )
            if not stop_reason and log.broken is not None:
                stop_reason = str(log.broken)
            if stop_reason:
                break
    for place, (profile, _) in sorted(waiting.items()):
        log.write(profile, "not attempted", reason=stop_reason)
        results.finish(place, profile, "not attempted", stop_reason)
