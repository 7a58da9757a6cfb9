"""The project's own promises: environment.yml mirrors pyproject.toml, the CLI helps."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from spendkit.cli import build_parser, main, parse_years

ROOT = Path(__file__).resolve().parents[2]


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _version(spec: str) -> str:
    return re.sub(r"^[A-Za-z0-9_.\-\[\]]+", "", spec.strip()).replace("==", "=")


def test_environment_yml_mirrors_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(s): _version(s) for s in project["dependencies"]}
    wanted.update({_name(s): _version(s) for s in project["optional-dependencies"]["dev"]})
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d): _version(d) for d in env["dependencies"] if isinstance(d, str)}
    conda.pop("python"), conda.pop("pip")
    assert conda == wanted
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-e ."]


def test_readme_opens_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```")[1]
    assert "python3 dev.py report" in first_block and "python3 dev.py test" in first_block
    assert "python3 dev.py test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("command", ["load", "ingest", "sample", "report"])
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args([command, "--help"])
    assert info.value.code == 0
    assert "usage: spendkit " + command in capsys.readouterr().out


def test_user_mistake_is_one_line_not_a_traceback(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.csv"
    page.write_text("<!DOCTYPE html><html></html>")
    assert main(["load", str(page)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spendkit: page.csv: is an HTML page") and "Traceback" not in err


def test_parse_years() -> None:
    assert parse_years("2021-22:2023-24") == ["2021-22", "2022-23", "2023-24"]
    assert parse_years("2024-25") == ["2024-25"]
    assert parse_years(None) is None
