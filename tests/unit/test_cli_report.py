"""`spendkit report` arguments, and `spendkit load x | head` stopping quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from spendkit.cli import build_parser, main, parse_formats
from spendkit.errors import SpendkitError


def test_export_formats_are_parsed_and_checked():
    assert parse_formats("xlsx,csv") == ["xlsx", "csv"]
    assert parse_formats(" CSV , csv ") == ["csv"]
    assert parse_formats(None) == []
    with pytest.raises(SpendkitError, match="unknown format\\(s\\) pdf"):
        parse_formats("xlsx,pdf")


def test_report_flags():
    args = build_parser().parse_args(["report", "--export", "xlsx", "--pdf", "--analyst",
                                      "--jobs", "1", "--no-input"])
    assert (args.export, args.pdf, args.analyst, args.jobs) == ("xlsx", True, True, 1)


def test_bad_export_format_is_one_line(capsys):
    assert main(["report", "--export", "docx"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spendkit: --export 'docx': unknown format(s) docx") and \
        "Traceback" not in err


def test_load_piped_into_head_exits_quietly(tmp_path: Path):
    big = tmp_path / "spend.csv"
    # every other row has no amount: thousands of rejects, far more than a pipe buffer holds
    rows = ["Supplier,Amount,Date"] + [f"Supplier {i} {'x' * 60},{'' if i % 2 else f'{i}.50'},"
                                       "01/04/2024" for i in range(6000)]
    big.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = subprocess.run(
        f"{sys.executable} -m spendkit.cli load --rejects {big} | head -c 20",
        shell=True, capture_output=True, text=True, timeout=120, check=False)
    assert run.stderr == "", run.stderr
    assert len(run.stdout) <= 20
