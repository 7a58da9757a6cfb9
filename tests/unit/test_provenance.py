"""Labels about the data come from the ledger: sample or real, publishers, years, months."""

from __future__ import annotations

import pandas as pd
import pytest

from spendkit.errors import InputError
from spendkit.sample import PREFIX
from spendkit.views.provenance import months_by_year, provenance


def _ledger(files: list[str], publisher: str = "Hyndburn Borough Council",
            synthetic: list[bool] | None = None) -> pd.DataFrame:
    return pd.DataFrame({"source_file": files, "status": ["loaded"] * len(files),
                         "publisher_name": [publisher] * len(files),
                         "is_synthetic": synthetic or [False] * len(files)})


def _tx(dates: list[str], publisher: str = "Hyndburn Borough Council") -> pd.DataFrame:
    return pd.DataFrame({"publisher_name": [publisher] * len(dates),
                         "payment_date": pd.to_datetime(dates).date})


def test_real_data_has_no_sample_wording_and_marks_part_years():
    prov = provenance(_tx(["2024-04-03", "2024-05-09", "2024-06-30"]),
                      _ledger(["hyndburn/April-24.csv", "May-24.csv", "June-24.csv"]),
                      council="Hyndburn Borough Council")
    text = prov.header_markdown() + prov.data_note() + prov.sources_text()
    assert "synthetic" not in text.lower() and "sample" not in text.lower()
    assert prov.months_by_year == {"2024-25": 3}
    assert prov.part_years == ("2024-25",)
    assert prov.years_text() == "2024-25 (3 months of payments; part-year 2024-25: 3 of 12 months)"
    assert "3 files from Hyndburn Borough Council" in prov.sources_text()
    assert prov.data_note() == ""


def test_sample_is_said_loudly_and_a_mix_is_a_warning():
    sample = provenance(_tx(["2024-04-03"]), _ledger(["x/a.csv"], synthetic=[True]))
    assert sample.is_sample and sample.data_note() == "SYNTHETIC sample data."
    header = sample.header_markdown()
    assert header.startswith("**SYNTHETIC sample data.**")
    assert "`data/sample`" in header and "`data/raw`" in header
    mixed = provenance(_tx(["2024-04-03"]), _ledger(["x/a.csv", "real.csv"],
                                                    synthetic=[True, False]))
    assert mixed.mixes_sample and "Warning" in mixed.header_markdown()


def test_the_ledger_decides_not_the_file_name():
    # A real file that happens to carry the sample's prefix is real; a sample file renamed
    # is still the sample: only the ingest's `is_synthetic` says which.
    real = provenance(_tx(["2024-04-03"]), _ledger([f"{PREFIX}payments.csv"]))
    assert not real.is_sample and not real.mixes_sample and real.data_note() == ""
    assert "synthetic" not in real.header_markdown().lower()
    renamed = provenance(_tx(["2024-04-03"]), _ledger(["renamed.csv"], synthetic=[True]))
    assert renamed.is_sample
    with pytest.raises(InputError, match="is_synthetic"):
        provenance(_tx(["2024-04-03"]), _ledger(["a.csv"]).drop(columns="is_synthetic"))


def test_one_month_and_no_payments():
    assert months_by_year(_tx(["2018-03-30", "2018-04-02"])) == {"2017-18": 1, "2018-19": 1}
    empty = provenance(_tx([]), _ledger(["a.csv"]))
    assert empty.years_text() == "no payments in the selection"
    assert "nan" not in empty.header_markdown().lower()


def test_names_from_data_are_escaped_in_the_header():
    prov = provenance(_tx(["2024-04-03"], "<img src=x onerror=alert(1)>"),
                      _ledger(["a.csv"], "<img src=x onerror=alert(1)>"),
                      council="<img src=x onerror=alert(1)>")
    assert "<img" not in prov.header_markdown()
