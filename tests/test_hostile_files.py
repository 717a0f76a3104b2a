"""Hostile files and arguments: no file, name or cell can make imgout hang, run out of memory, reach outside
the folder it was given, or put control characters into a header, a file name or the terminal.

The alias bombs are real files read by a real ``imgout`` process whose memory is capped
(``resource.setrlimit`` in ``preexec_fn``): the promise is that they are refused, not that the machine
survives them.
"""

from __future__ import annotations

import email
import email.policy
import io
import os
import resource
import subprocess
import sys
import types
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from PIL import Image

from tests.support import xlwings_harness as xh
from tests.support.delivery_support import process_env, run_imgout, write_clients_file
from xl_addin.common.yamlfile import parse_yaml_mapping, read_yaml_mapping
from xl_addin.delivery.batch import load_clients
from xl_addin.delivery.settings import load_settings
from xl_addin.errors import ClientsFileError, InputError, ProfileError, SettingsError
from xl_addin.model import market as market_module
from xl_addin.model import market_for
from xl_addin.report.profile import load_profile, safe_filename

MEMORY_LIMIT = 1024 * 2**20  # the bombs reached 4.3 GB; imgout needs under 400 MB


def _capped(limit: int = MEMORY_LIMIT) -> Callable[[], None]:
    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return set_limit


def _imgout_capped(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xl_addin", *args],
        env=process_env(env or {}),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_capped(),
    )


def _bomb(key: str, levels: int = 9) -> str:
    """A 'billion laughs' document: ``key`` holds 9**levels copies of a short text in a few hundred bytes."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]")
    return "\n".join(lines) + f"\n{key}: *l{levels - 1}\n"


def _one_line_error(done: subprocess.CompletedProcess[str], code: int = 2) -> str:
    assert done.returncode == code, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("imgout: error: "), done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    return lines[0]


def _png(path: Path) -> Path:
    Image.new("RGB", (4, 4), (200, 30, 30)).save(path, "PNG")
    return path


# ------------------------------------------------------------------------------------------ one safe YAML reader


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["clients", "profile", "settings", "assumptions"])
def test_an_alias_bomb_in_any_file_is_refused_within_a_memory_limit(tmp_path: Path, kind: str) -> None:
    bomb = tmp_path / f"{kind}.yaml"
    if kind == "clients":
        bomb.write_text(_bomb("x") + "clients:\n  - {name: A, to: [a@x.example], brand_colour: *l8}\n")
        args = ["batch", str(bomb), "--dry-run", str(tmp_path / "eml")]
    elif kind == "profile":
        bomb.write_text("name: Acme\n" + _bomb("units"))
        args = ["workbook", "--profile", str(bomb), "--out", str(tmp_path)]
    elif kind == "settings":
        bomb.write_text(_bomb("allowed_domains"))
        clients = write_clients_file(tmp_path / "c.yaml", [{"name": "A", "to": ["a@x.example"]}])
        args = ["batch", str(clients), "--settings", str(bomb), "--dry-run", str(tmp_path / "eml")]
    else:
        bomb.write_text(_bomb("note"))
        args = ["forecast", "2030", "--assumptions", str(bomb)]
    done = _imgout_capped(*args, cwd=tmp_path)
    line = _one_line_error(done)
    assert str(bomb) in line and "aliases expand to more than" in line and "MemoryError" not in line


def test_a_note_repeated_by_twenty_thousand_aliases_is_refused(tmp_path: Path) -> None:
    note = "x" * 50_000
    text = f"n: &n {note}\nmany: [{', '.join(['*n'] * 20_000)}]\n"
    with pytest.raises(InputError, match="aliases expand to more than 2,097,152 characters"):
        parse_yaml_mapping(text, lambda key, problem: InputError(f"{key}: {problem}"))


@pytest.mark.slow
@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "folder"])
def test_a_file_that_is_not_a_regular_file_is_refused_without_reading_it(
    tmp_path: Path, special: str
) -> None:
    if special == "fifo":
        path = tmp_path / "clients.yaml"
        os.mkfifo(path)  # nobody ever writes to it: reading it would hang for ever
    elif special == "folder":
        path = tmp_path / "clients.yaml"
        path.mkdir()
    else:
        path = Path(special)
    for args in (
        ["batch", str(path), "--dry-run", str(tmp_path / "eml")],
        ["forecast", "2030", "--assumptions", str(path)],
    ):
        line = _one_line_error(_imgout_capped(*args, cwd=tmp_path))
        assert str(path) in line
        # A folder is refused by the option itself (click's "is a directory") or by the reader.
        assert any(said in line for said in ("is a folder", "is a directory", "is not a regular file")), line


def test_a_file_larger_than_the_limit_is_refused_and_the_limit_is_a_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clients.yaml"
    path.write_text("# padding\n" * 150_000 + "clients:\n  - {name: A, to: [a@x.example]}\n")
    with pytest.raises(ClientsFileError, match=r"is larger than 1,048,576 bytes \(1,500,0\d\d or more"):
        load_clients(path)
    monkeypatch.setenv("IMGOUT_YAML_MAX_BYTES", "4000000")
    assert [e.profile.name for e in load_clients(path)] == ["A"]
    monkeypatch.setenv("IMGOUT_YAML_MAX_BYTES", "lots")
    with pytest.raises(InputError, match=r"Invalid IMGOUT_YAML_MAX_BYTES: 'lots' \(expected a whole number"):
        load_clients(path)


@pytest.mark.parametrize(
    ("kind", "document", "where"),
    [
        (
            "clients",
            "clients:\n  - name: A\n    to: [a@x.example]\n    name: B\n",
            "line 4: the key 'name' is given twice",
        ),
        (
            "settings",
            "smtp_host: a.example\nsmtp_port: 25\nsmtp_host: b.example\n",
            "line 3: the key 'smtp_host'",
        ),
        ("profile", "name: Acme\nunits: bn\n'units': mn\n", "line 3: the key 'units' is given twice"),
        ("assumptions", "uncertainty: {seed: 1, seed: 2}\n", "line 1: the key 'seed' is given twice"),
    ],
)
def test_a_key_given_twice_is_refused_not_silently_the_last(
    tmp_path: Path, kind: str, document: str, where: str
) -> None:
    path = tmp_path / f"{kind}.yaml"
    path.write_text(document)
    readers: dict[str, Callable[[], Any]] = {
        "clients": lambda: load_clients(path),
        "settings": lambda: load_settings({}, settings_file=path),
        "profile": lambda: load_profile(path),
        "assumptions": lambda: market_for(path),
    }
    with pytest.raises(InputError) as refused:
        readers[kind]()
    assert str(path) in str(refused.value) and where in str(refused.value)


@pytest.mark.parametrize(
    ("document", "said"),
    [
        ("name: Acme\nfirst_year: " + "9" * 5000 + "\n", "line 2: a number of more than 30 digits"),
        ("name: " + "A" * 200_000 + "\n", "line 1: a text of 200,000 characters (at most 100,000)"),
        ("name: Acme\nnotes: &x [*x]\n", "an alias refers to the value that contains it"),
        ("name: Acme\nnotes: " + "[" * 80 + "]" * 80 + "\n", "nested more than 64 levels deep"),
        (
            "name: Acme\nnotes: !!python/object/apply:os.system [ls]\n",
            "not valid YAML (could not determine a constructor",
        ),
        ("name: [Acme, Corp]\n", "name: a client name (text) is required"),
        ("name: Acme\nbrand_colour: [a, b, c]\n", "brand_colour: expected text, got a list"),
        ("name: Acme\nunits: {bn: 1}\n", "units: expected text, got a mapping"),
        ("name: Acme\nscenario: 0\n", "scenario: expected text, got 0"),
        ("name: Acme\nfirst_year: true\n", "first_year: expected a year, got True (true/false)"),
    ],
)
def test_numbers_texts_and_types_are_bounded_and_checked_before_they_become_text(
    tmp_path: Path, document: str, said: str
) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(document)
    with pytest.raises(InputError) as refused:
        load_profile(path)
    message = str(refused.value)
    assert message.startswith(f"Invalid profile in {path}: ") and said in message
    assert len(message) < 400


def test_the_embedded_assumptions_and_every_shipped_example_pass_the_reader() -> None:
    from xl_addin.model.assumptions.load import default_text

    data = parse_yaml_mapping(default_text(), lambda key, problem: InputError(f"{key}: {problem}"))
    assert "anchors" in data


# ------------------------------------------------------------------------------------------ paths stay where they belong


def test_a_logo_from_a_file_stays_in_that_files_folder(tmp_path: Path) -> None:
    folder = tmp_path / "clients"
    folder.mkdir()
    _png(folder / "ok.png")
    _png(tmp_path / "outside.png")
    (folder / "escape.png").symlink_to(tmp_path / "outside.png")
    (folder / "text.png").write_text("not an image")
    for logo, said in [
        ("../../../../usr/share/pixmaps/debian-logo.png", "is outside the folder"),
        ("../outside.png", "is outside the folder"),
        (str(tmp_path / "outside.png"), "is outside the folder"),
        ("escape.png", "is outside the folder"),  # a link inside that leads out
        ("text.png", "is not a PNG or JPEG image"),
        ("missing.png", "is not a readable .png or .jpg file"),
        ("/dev/zero", "is outside the folder"),
    ]:
        path = write_clients_file(folder / "c.yaml", [{"name": "A", "to": ["a@x.example"], "logo": logo}])
        with pytest.raises(ProfileError) as refused:
            load_clients(path)
        assert "logo: " in str(refused.value) and said in str(refused.value), logo
    ok = write_clients_file(folder / "c.yaml", [{"name": "A", "to": ["a@x.example"], "logo": "ok.png"}])
    assert load_clients(ok)[0].profile.logo == folder / "ok.png"
    # Written as an absolute path, a logo inside the folder is inside the folder.
    absolute = str((folder / "ok.png").resolve())
    ok = write_clients_file(folder / "c.yaml", [{"name": "A", "to": ["a@x.example"], "logo": absolute}])
    assert load_clients(ok)[0].profile.logo == Path(absolute)


@pytest.mark.slow  # real imgout processes
def test_a_logo_beside_a_clients_file_named_by_a_relative_path_is_found_once(tmp_path: Path) -> None:
    folder = tmp_path / "clients"
    folder.mkdir()
    _png(folder / "ok.png")
    write_clients_file(folder / "ok.yaml", [{"name": "Acme", "to": ["cfo@acme.example"], "logo": "ok.png"}])
    done = run_imgout(
        "batch",
        "clients/ok.yaml",  # relative: the logo was looked for in clients/clients/ before
        "--no-pdf",
        "--dry-run",
        "eml",
        env={"IMGOUT_LOG": str(tmp_path / "log.jsonl")},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    message = email.message_from_bytes(
        (tmp_path / "eml" / "Acme.eml").read_bytes(), policy=email.policy.default
    )
    [workbook] = [a for a in message.iter_attachments() if a.get_filename().endswith(".xlsx")]
    with zipfile.ZipFile(io.BytesIO(workbook.get_content())) as book:
        assert any(name.startswith("xl/media/image") for name in book.namelist())


@pytest.mark.slow  # real imgout processes
def test_a_logo_given_on_the_command_line_may_be_anywhere(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    logo = _png(tmp_path / "elsewhere" / "brand.png")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "acme.yaml").write_text(f"name: Acme\nlogo: {logo}\n")
    refused = run_imgout(
        "workbook", "--profile", "profiles/acme.yaml", "--out", "out.xlsx", env={}, cwd=tmp_path
    )
    assert "is outside the folder profiles of the file that names it" in _one_line_error(refused)
    done = run_imgout(
        "workbook",
        "--profile",
        "profiles/acme.yaml",
        "--logo",
        str(logo),
        "--out",
        "out.xlsx",
        env={},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr


# ------------------------------------------------------------------------------------------ names made safe once


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("Acme\x1b[31m Radiology", "U+001B at position 5"),
        ("Acme\x00Radiology", "U+0000 at position 5"),
        ("Acme\x7f", "U+007F at position 5"),
        ("Acme \u202egnp.exe", "U+202E at position 6"),
        ("Acme\x9bRadiology", "U+009B at position 5"),
    ],
)
def test_control_characters_in_a_client_name_are_refused_where_they_are_written(
    tmp_path: Path, name: str, said: str
) -> None:
    path = write_clients_file(tmp_path / "clients.yaml", [{"name": name, "to": ["a@x.example"]}])
    with pytest.raises(ProfileError) as refused:
        load_clients(path)
    message = str(refused.value)
    assert f"name: contains the control character {said} (remove it)" in message
    assert all(ch not in message for ch in "\x1b\x00\x7f\u202e\x9b")  # the error itself is safe to print
    with pytest.raises(ProfileError):
        load_profile(None, name=name)


def test_a_control_character_in_notes_or_a_focus_region_is_refused_but_line_breaks_in_notes_are_kept() -> (
    None
):
    assert (
        load_profile(None, name="Acme", notes="line one\r\nline two\tend").notes
        == "line one\r\nline two\tend"
    )
    with pytest.raises(ProfileError, match=r"notes: contains the control character U\+001B"):
        load_profile(None, name="Acme", notes="ok \x1b[2J")
    with pytest.raises(
        ProfileError, match="focus_regions: 'APAC\\\\x07' contains the control character U\\+0007"
    ):
        load_profile(None, name="Acme", focus_regions=["APAC\x07"])


@pytest.mark.slow  # real imgout processes
def test_file_names_avoid_windows_device_names_and_are_unique_whatever_the_case(tmp_path: Path) -> None:
    assert [safe_filename(n) for n in ("CON", "aux", "Com1", "LPT9", "NUL.txt", "Console")] == [
        "CON-client",
        "aux-client",
        "Com1-client",
        "LPT9-client",
        "NUL-txt",
        "Console",
    ]
    path = write_clients_file(
        tmp_path / "clients.yaml",
        [
            {"name": "Acme-Radiology", "to": ["a@x.example"]},
            {"name": "acme radiology!", "to": ["b@x.example"]},
        ],
    )
    with pytest.raises(
        ClientsFileError, match=r"client #2 \(acme radiology!\): name: its file name 'acme-radiology' "
    ):
        load_clients(path)
    clients = write_clients_file(tmp_path / "devices.yaml", [{"name": "CON", "to": ["a@x.example"]}])
    done = run_imgout(
        "batch",
        str(clients),
        "--no-pdf",
        "--dry-run",
        str(tmp_path / "eml"),
        env={"IMGOUT_LOG": str(tmp_path / "l")},
    )
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (tmp_path / "eml").iterdir()] == ["CON-client.eml"]


# ------------------------------------------------------------------------------------------ settings with bounds


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("IMGOUT_SMTP_TIMEOUT", "nan", "(expected a number of seconds from 0.1 to 600)"),
        ("IMGOUT_SMTP_TIMEOUT", "inf", "(expected a number of seconds from 0.1 to 600)"),
        ("IMGOUT_SMTP_TIMEOUT", "0", "(expected a number of seconds from 0.1 to 600)"),
        ("IMGOUT_SMTP_BACKOFF", "1e308", "(expected a number of seconds from 0 to 60)"),
        ("IMGOUT_SMTP_BACKOFF", "-1", "(expected a number of seconds from 0 to 60)"),
        ("IMGOUT_SMTP_RETRIES", "1000000000", "(expected a whole number from 0 to 10)"),
        ("IMGOUT_SMTP_RETRIES", "³", "(expected a whole number from 0 to 10)"),
        ("IMGOUT_SMTP_GIVE_UP_AFTER", "0", "(expected a whole number from 1 to 100)"),
        ("IMGOUT_SMTP_PORT", "70000", "(expected a whole number from 1 to 65535)"),
        ("IMGOUT_SMTP_HELO", "mail.example\r\nRSET", "contains the control character U+000D"),
        (
            "IMGOUT_SMTP_HELO",
            "not a host name",
            "(expected a host name such as smtp.example.com, or an IP address)",
        ),
        ("IMGOUT_SMTP_HOST", "smtp.example.com:25", "(expected a host name such as smtp.example.com"),
        ("IMGOUT_SMTP_USER", "ops\x00", "contains the control character U+0000"),
    ],
)
def test_every_setting_has_bounds(variable: str, value: str, said: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value})
    assert str(refused.value).startswith(f"Invalid setting {variable}: ") and said in str(refused.value)


def test_a_ca_file_that_is_not_pem_is_a_settings_problem_not_a_tls_one(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("this is not a certificate\n")
    with pytest.raises(SettingsError) as refused:
        load_settings({"IMGOUT_SMTP_CAFILE": str(bogus)})
    assert "IMGOUT_SMTP_CAFILE" in str(refused.value) and "PEM file of trusted certificates" in str(
        refused.value
    )
    assert "SECURITY" not in str(refused.value)
    for special in ("/dev/zero", str(tmp_path)):
        with pytest.raises(SettingsError, match="a regular file"):
            load_settings({"IMGOUT_SMTP_CAFILE": special})


def test_settings_file_values_have_their_types_checked_before_anything_prints_them(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    for document, said in [
        ("smtp_host: [a, b]\n", "smtp_host: expected text or a number, got a list"),
        ("smtp_timeout: {a: 1}\n", "smtp_timeout: expected text or a number, got a mapping"),
        ("allowed_domains: [[a, b]]\n", "allowed_domains: expected a list of domains, got a list"),
        ("retries: true\n", "retries: expected text or a number, got True (true/false)"),
    ]:
        path.write_text(document)
        with pytest.raises(SettingsError) as refused:
            load_settings({}, settings_file=path)
        assert said in str(refused.value)


# ------------------------------------------------------------------------------------------ bounded work from cells


@pytest.fixture(scope="module")
def udfs() -> types.ModuleType:
    return xh.load_udf_module("xl_addin.udfs", defined_in=["xl_addin.excel.functions"])


@pytest.fixture
def excel(udfs: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    functions = sys.modules["xl_addin.excel.functions"]
    monkeypatch.delenv("IMGOUT_ASSUMPTIONS", raising=False)
    monkeypatch.setattr(functions, "USER_CONFIG", "/nonexistent/xlwings.conf")
    udfs.clear_cache()

    def call(name: str, *args: Any) -> Any:
        return xh.call_like_excel(getattr(udfs, name), *args)

    return call


def test_a_cell_cannot_ask_for_millions_of_monte_carlo_paths(excel: Callable[..., Any]) -> None:
    answer = excel("IMGOUT_FAN", 2030, 90, None, None, "paths=2000000;seed=7")
    assert (
        answer.startswith("#N/A ")
        and "uncertainty.paths: 2000000 is outside the allowed range 100 to 200000" in answer
    )
    assert isinstance(excel("IMGOUT_FAN", 2030, 90, None, None, "paths=200000;seed=7"), float)


@pytest.mark.slow
def test_the_market_cache_is_bounded_by_memory_not_by_count(excel: Callable[..., Any]) -> None:
    market_module._markets.clear()
    before = psutil.Process().memory_info().rss
    for seed in range(12):  # each a market with a 66 MB fan: 800 MB if nothing were let go
        assert isinstance(excel("IMGOUT_FAN", 2030, 90, None, None, f"paths=200000;seed={seed}"), float)
    held = sum(m.footprint() for m in market_module._markets.values())
    largest_fan = 200_000 * len(market_for().year_list) * 8
    assert held <= market_module.CACHE_BYTES + largest_fan
    assert psutil.Process().memory_info().rss - before < market_module.CACHE_BYTES + 3 * largest_fan
    assert len(market_module._markets) < 12


def test_true_is_not_1_and_0_or_false_is_not_the_whole_market(excel: Callable[..., Any]) -> None:
    assert excel("IMGOUT_FAN", 2030, True).startswith("#N/A Invalid percentile: True")
    assert isinstance(excel("IMGOUT_FAN", 2030, 1), float)  # P1, not the cached answer for TRUE
    whole = excel("IMGOUT_FORECAST", 2030)
    for empty_looking in (0, False):
        for position in (1, 2):  # region, segment
            args: list[Any] = [2030, None, None]
            args[position] = empty_looking
            answer = excel("IMGOUT_FORECAST", *args)
            assert answer != whole and str(answer).startswith("#N/A Invalid "), answer


def test_an_error_quoting_a_huge_argument_still_fits_a_cell(excel: Callable[..., Any]) -> None:
    for args in (
        (2030, "x" * 32_767),
        ("y" * 32_767,),
        (2030, None, None, "z" * 32_767),
        (2030, None, None, None, "k=" + "v" * 32_000),
    ):
        answer = excel("IMGOUT_FORECAST", *args)
        assert answer.startswith("#N/A Invalid ") and len(answer) <= 1_005 and "\n" not in answer, answer[
            :200
        ]


def test_read_yaml_mapping_names_the_file_in_every_refusal(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(InputError, match=f"{path}: not UTF-8 text"):
        read_yaml_mapping(path, lambda key, problem: InputError(f"{path}: {key}{problem}"))
