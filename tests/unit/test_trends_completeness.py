"""Completeness calendar: missing, duplicated (two files), sparse months; thresholds."""

from __future__ import annotations

import pandas as pd
from test_trends import LEEDS, OXFORD, frame, months

from spendkit.models import trends as t


def test_calendar_detects_missing_and_duplicated_month():
    rows = months(LEEDS, "2024-04-01", 6, skip=("2024-06",))
    # August 2024 published again inside the September file (an overlapping re-issue).
    rows += [dict(publisher_code=LEEDS, payment_date="2024-08-20", amount_gbp="75",
                  source_file="september.csv")]
    cal = t.completeness_calendar(frame(rows)).set_index("month_label")
    assert list(cal.index) == ["2024-04", "2024-05", "2024-06", "2024-07", "2024-08", "2024-09"]
    assert cal.loc["2024-06", "status"] == "missing"
    assert cal.loc["2024-08", "status"] == "duplicated"
    assert cal.loc["2024-08", "n_source_files"] == 2
    assert cal.loc["2024-08", "source_files"] == f"{LEEDS}_2024-08.csv; september.csv"
    assert cal["status"].eq("present").sum() == 4
    assert not cal.loc["2024-06", "is_complete"]


def test_calendar_repeated_rows_and_late_rows():
    rows = [dict(payment_date="2024-04-03", amount_gbp="10", source_file="a.csv"),
            dict(payment_date="2024-04-03", amount_gbp="10", source_file="b.csv")]
    cal = t.completeness_calendar(frame(rows))
    assert cal["n_repeated_rows"].iloc[0] == 2 and cal["status"].iloc[0] == "duplicated"
    # One late-dated row in the next month's file is not an overlap (under 10% of the month).
    late = months(LEEDS, "2024-04-01", 1) * 20 + [
        dict(publisher_code=LEEDS, payment_date="2024-04-30", amount_gbp="1",
             source_file="may.csv")]
    assert t.completeness_calendar(frame(late))["status"].iloc[0] == "present"


def test_calendar_sparse_month_and_explicit_span():
    rows = []
    for month in ("2024-04", "2024-05", "2024-06"):
        n = 1 if month == "2024-05" else 20
        rows += [dict(payment_date=f"{month}-10", amount_gbp="5")] * n
    cal = t.completeness_calendar(frame(rows), start="2024-03-01", end="2024-07-31")
    assert list(cal["status"]) == ["missing", "present", "sparse", "present", "missing"]
    assert cal["amount_gbp"].dropna().sum() == frame(rows)["amount_gbp"].sum()


def test_year_completeness_and_flags():
    df = frame(months(LEEDS, "2023-04-01", 18) + months(OXFORD, "2023-04-01", 12,
                                                        skip=("2024-01",)))
    cal = t.completeness_calendar(df)
    years = t.year_completeness(cal).set_index(["publisher_code", "financial_year"])
    assert years.loc[(LEEDS, "2023-24"), "is_complete"]
    assert years.loc[(LEEDS, "2024-25"), "months_present"] == 6
    assert years.loc[(LEEDS, "2024-25"), "months_missing"] == 6
    assert years.loc[(OXFORD, "2023-24"), "months_missing"] == 1
    flagged = t.flag_incomplete(t.period_totals(df, "quarter"), cal)
    assert flagged.loc[flagged["publisher_code"].eq(OXFORD), "is_complete"].tolist() == [
        True, True, True, False]
    months_flagged = t.flag_incomplete(t.monthly_series(df), cal)
    assert months_flagged["is_complete"].sum() == 18 + 11


def test_observed_threshold_and_publisher_facts():
    df = frame([dict(payment_date="2024-04-01", amount_gbp=a)
                for a in ("500", "750.5", "-20", "1000")]
               + [dict(publisher_code=OXFORD, payment_date="2024-04-01", amount_gbp=a)
                  for a in ("12.5", "600")])
    out = t.observed_threshold(df).set_index("publisher_code")
    assert out.loc[LEEDS, "observed_threshold_gbp"] == 500
    assert out.loc[OXFORD, "observed_threshold_gbp"] == 0
    assert out.loc[OXFORD, "min_positive_gbp"] == 12.5
    profiles = pd.DataFrame({"publisher_code": [LEEDS], "threshold_gbp": [500],
                             "vat_basis": ["net of VAT"]})
    facts = t.publisher_facts(df, profiles=profiles).set_index("publisher_code")
    assert facts.loc[LEEDS, "vat_basis"] == "net of VAT"
    assert facts.loc[OXFORD, "vat_basis"] == "unknown"
    assert facts.loc[LEEDS, "months_present"] == 1


def test_ledger_profiles_show_threshold_changes_in_file_order():
    ledger = pd.DataFrame({
        "publisher_code": [LEEDS, LEEDS, LEEDS, OXFORD, ""],
        "source_file": ["leeds/2021-05.csv", "leeds/2021-04.csv", "leeds/2022-04.csv",
                        "oxford/q1.csv", "readme.csv"],
        "threshold_gbp": ["500", "500", "250", "", "100"],
        "vat_basis": ["net", "", "net", "", "gross"],
    })
    out = t.ledger_profiles(ledger).set_index("publisher_code")
    assert list(out.index) == [OXFORD, LEEDS] or set(out.index) == {LEEDS, OXFORD}
    assert out.loc[LEEDS, "threshold_gbp"] == "500 then 250"
    assert bool(out.loc[LEEDS, "threshold_changes"]) is True
    assert out.loc[LEEDS, "vat_basis"] == "net" and out.loc[LEEDS, "n_files"] == 3
    assert out.loc[OXFORD, "threshold_gbp"] == "unknown" and out.loc[OXFORD, "vat_basis"] == \
        "unknown"
    df = frame(months(LEEDS, "2024-04-01", 3))
    facts = t.publisher_facts(df, profiles=t.ledger_profiles(ledger))
    assert facts.loc[0, "threshold_gbp"] == "500 then 250"
