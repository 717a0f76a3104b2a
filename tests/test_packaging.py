"""A non-editable install works: the wheel carries the templates and the default assumptions."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds and installs a wheel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("imgout-*.whl"))


def test_the_wheel_carries_every_template_and_the_default_assumptions(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = sorted(
        p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()
    )
    assert templates, "no templates found in the checkout"
    for template in templates:
        assert f"xl_addin/templates/{template}" in names
    assert "xl_addin/model/assumptions/default.yaml" in names
    assert any(n.endswith("entry_points.txt") for n in names)


def test_an_installed_wheel_finds_its_templates_and_model_outside_the_checkout(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "from xl_addin.common.resources import templates_dir; from xl_addin.model import default_market; "
        "print(templates_dir()); print(round(default_market().forecast(2030), 2))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    where, value = result.stdout.split()
    assert Path(where) == site / "xl_addin" / "templates"
    assert value == "27.88"
