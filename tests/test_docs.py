"""The documentation site: built strictly, it lists every command and every Excel function, and the README
stays a short front door whose links and pictures exist."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from tests.support.docs_site import DOCS, ROOT, build, hooks, page_text
from xl_addin import cli
from xl_addin.excel import functions, instructions


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    """Every command under ``group`` by its full name (``imgout assumptions diff``), groups included."""
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found += _commands(command, path)
    return found


COMMANDS = _commands(cli.app, "imgout")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("site"))


def test_the_command_list_is_the_whole_command() -> None:
    names = {path for path, _ in COMMANDS}
    assert {"imgout forecast", "imgout assumptions diff", "imgout ledger resolve", "imgout batch"} <= names
    assert len(names) >= 20


def test_every_command_and_each_of_its_options_is_in_the_command_reference(site: Path) -> None:
    text = page_text(site, "reference/commands")
    missing = [path for path, _ in COMMANDS if f"{path} " not in text]
    assert missing == []
    options = {
        (path, option)
        for path, command in COMMANDS
        for parameter in command.params
        if isinstance(parameter, click.Option)
        for option in parameter.opts
    }
    assert [pair for pair in sorted(options) if pair[1] not in text] == []


def test_every_excel_function_is_in_the_reference_with_what_the_wizard_says(site: Path) -> None:
    text = page_text(site, "reference/excel-functions")
    assert len(functions.FUNCTIONS) >= 13
    for name in functions.FUNCTIONS:
        assert f"={hooks.signature(name)}" in text, name
        for argument, wizard in functions.WIZARD_TEXTS[name].items():
            assert f"{argument} " in text and " ".join(wizard.split()) in text, (name, argument)


def test_the_reference_shows_excels_own_way_of_writing_optional_arguments() -> None:
    assert (
        hooks.signature("IMGOUT_FORECAST")
        == "IMGOUT_FORECAST(year, [region], [segment], [scenario], [options])"
    )
    assert hooks.signature("IMGOUT_INFO") == "IMGOUT_INFO([field])"


def test_every_excel_function_is_in_the_functions_page_at_a_glance(site: Path) -> None:
    text = page_text(site, "excel/functions")
    assert [name for name in functions.FUNCTIONS if f"{hooks.signature(name)}" not in text] == []


def test_the_built_set_up_and_troubleshooting_pages_carry_the_workbooks_steps(site: Path) -> None:
    setup, trouble = page_text(site, "excel/setup"), page_text(site, "excel/troubleshooting")
    for step in instructions.STEPS:
        assert step.title in setup
    for row in instructions.TROUBLESHOOTING:
        assert instructions.plain(row.fix).split(";")[0].strip() in trouble.replace("`", "")


def test_an_unknown_generated_part_stops_the_build_naming_the_page() -> None:
    with pytest.raises(ValueError, match=r"excel/x\.md: unknown generated part 'excel-fnuctions'"):
        hooks.expand("<!-- imgout: excel-fnuctions -->\n", "excel/x.md")


def test_the_readme_is_a_short_front_door_whose_links_and_pictures_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    assert readme.startswith("# imgout\n\n```bash\npython3 -m pip install . && python3 -m xl_addin demo")
    targets = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    assert {"docs/images/cell.png", "docs/images/workbook.png", "docs/images/brief.png"} <= set(targets)
    assert [t for t in targets if not t.startswith("http") and not (ROOT / t).exists()] == []
    assert (DOCS / "index.md").exists()
