"""spendkit.views.overview: ledger roll-ups, accounting checks, rejects, calendar figure, coverage."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.errors import InputError
from spendkit.models.trends import completeness_calendar
from spendkit.views import overview as ov

MONEY = pd.ArrowDtype(pa.decimal128(18, 2))
LEEDS, OXFORD = "Leeds City Council", "Oxford City Council"


def money(*values: str) -> pd.Series:
    return pd.Series([Decimal(v) for v in values], dtype=MONEY)


def ledger_row(source_file: str, publisher: str = LEEDS, *, read: int = 3, kept: int = 3,
               rejected: int = 0, dups: int = 0, total: str = "30.00", status: str = "loaded",
               encoding: str = "cp1252", header_line: int = 1, warnings: str = "",
               reasons: dict | None = None, fmt: str = "csv", blank: int = 0,
               error: str = "") -> dict:
    return {
        "source_file": source_file, "status": status, "format": fmt, "encoding": encoding,
        "publisher_name": publisher if status != "failed" else "",
        "publisher_code": {LEEDS: "E08000035", OXFORD: "E07000178"}.get(publisher, ""),
        "header_line": header_line, "rows_read": read, "rows_kept": kept,
        "rows_rejected": rejected, "duplicate_rows": dups, "dataset_rows": kept - dups,
        "dataset_total_gbp": total if status != "failed" else "", "warnings": warnings,
        "rejected_by_reason": json.dumps(reasons or {}, sort_keys=True),
        "blank_rows_skipped": blank, "preamble_rows_skipped": 0, "error": error,
    }


@pytest.fixture()
def ledger() -> pd.DataFrame:
    return pd.DataFrame([
        ledger_row("leeds/a.csv", read=4, kept=3, rejected=1, total="30.00",
                   warnings="1 bracketed negatives read as negative | UTF-8 BOM removed",
                   reasons={"total_row": 1}),
        ledger_row("leeds/b.zip", read=2, kept=2, dups=1, total="5.50", fmt="zip",
                   encoding="utf-8", header_line=2),
        ledger_row("oxford/c.csv", OXFORD, read=1, kept=1, total="-2.25",
                   warnings="3 bracketed negatives read as negative"),
        ledger_row("oxford/broken.xls", status="failed", read=0, kept=0, error="bad zip"),
    ])


@pytest.fixture()
def dataset() -> pd.DataFrame:
    # a.csv: 3 rows = 30.00; b.zip: one member row kept (the other was a duplicate) = 5.50;
    # c.csv: one credit.
    return pd.DataFrame({
        "source_file": ["leeds/a.csv", "leeds/a.csv", "leeds/a.csv",
                        "leeds/b.zip/m1.csv", "oxford/c.csv"],
        "amount_gbp": money("10.00", "15.01", "4.99", "5.50", "-2.25"),
    })


@pytest.fixture()
def rejects() -> pd.DataFrame:
    return pd.DataFrame({
        "source_file": ["leeds/a.csv", "leeds/b.zip/m2.csv"],
        "source_line": [5, 2],
        "reason": ["total_row", "duplicate_publication"],
        "detail": ["Total", "repeats a payment in leeds/a.csv"],
        "raw": ["Total|30.00", "2024-04-02|Acme Ltd|7.25"],
    })


# --- parameters -------------------------------------------------------------------------------


def test_resolve_council_by_name_code_and_case():
    frame = pd.DataFrame({"publisher_name": [LEEDS, OXFORD, LEEDS],
                          "publisher_code": ["E08000035", "E07000178", "E08000035"]})
    assert ov.resolve_council(frame, LEEDS) == LEEDS
    assert ov.resolve_council(frame, " e07000178 ") == OXFORD
    assert ov.resolve_council(frame, "leeds city council") == LEEDS
    assert ov.resolve_council(frame, None) is None
    with pytest.raises(InputError, match=r"'Leds'.*Leeds City Council \(E08000035\)"):
        ov.resolve_council(frame, "Leds")
    with pytest.raises(InputError, match="council: expected"):
        ov.resolve_council(frame, 42)


def test_check_years_and_span():
    assert ov.check_years(None) is None
    assert ov.check_years(["2025-26", "2021-22", "2021-22"]) == ["2021-22", "2025-26"]
    assert ov.check_years(["1999-00"]) == ["1999-00"]  # century wrap
    # Forgiving like the CLI: the forms people type all name the same year.
    for same in ("2021-22", "2021/22", ["FY2021"], "2021-2022", ("2021-22",)):
        assert ov.check_years(same) == ["2021-22"], same
    assert ov.check_years("2021-22:2023-24") == ["2021-22", "2022-23", "2023-24"]
    for bad in (["2021-23"], ["21-23"], ["twenty"], []):
        with pytest.raises(InputError, match="years"):
            ov.check_years(bad)
    with pytest.raises(InputError, match="2030-31 is not in the data; the data covers 2021-22"):
        ov.check_years(["2030-31"], available=["2021-22"])
    assert ov.years_span(["2022-23", "2021-22"]) == (pd.Timestamp(2021, 4, 1),
                                                     pd.Timestamp(2023, 3, 1))
    assert ov.years_span(None) == (None, None)


@settings(max_examples=40, deadline=None)
@given(st.integers(1900, 2200))
def test_check_years_accepts_every_wellformed_label(start):
    label = f"{start}-{(start + 1) % 100:02d}"
    assert ov.check_years([label]) == [label]
    span = ov.years_span([label])
    assert (span[1] - span[0]).days in (334, 335)  # 1 April to 1 March next year


@settings(max_examples=40, deadline=None)
@given(st.integers(1900, 2200), st.integers(2, 99))
def test_check_years_rejects_non_consecutive(start, gap):
    label = f"{start}-{(start + gap) % 100:02d}"
    with pytest.raises(InputError):
        ov.check_years([label])


def test_short_council_names():
    names = ov.short_council_names([LEEDS, "Trafford Metropolitan Borough Council",
                                    "Blackburn with Darwen Borough Council", "Council",
                                    "Isles of Scilly Council", "City of London Corporation"])
    assert names[LEEDS] == "Leeds"
    assert names["Trafford Metropolitan Borough Council"] == "Trafford"
    assert names["Blackburn with Darwen Borough Council"] == "Blackburn with Darwen"
    assert names["Council"] == "Council"
    assert names["City of London Corporation"] == "City of London Corporation"
    # A clash keeps both full names.
    clash = ov.short_council_names(["York City Council", "York Council"])
    assert clash == {"York City Council": "York City Council", "York Council": "York Council"}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=6))
def test_short_council_names_are_unique_and_nonempty(names):
    short = ov.short_council_names(names)
    assert set(short) == {str(n) for n in names}
    assert len(set(short.values())) == len(short)
    assert all(v for v in short.values())


# --- ledger roll-ups ----------------------------------------------------------------------------


def test_files_by_publisher(ledger):
    out = ov.files_by_publisher(ledger).set_index("publisher_name")
    leeds = out.loc[LEEDS]
    assert leeds["files"] == 2 and leeds["rows_read"] == 6 and leeds["rows_rejected"] == 1
    assert leeds["duplicate_rows"] == 1 and leeds["dataset_rows"] == 4
    assert leeds["dataset_total_gbp"] == Decimal("35.50")
    assert leeds["encodings"] == "cp1252, utf-8" and leeds["header_lines"] == "1, 2"
    assert leeds["formats"] == "csv, zip"
    assert leeds["warnings"] == 2 and leeds["files_with_warnings"] == 1
    assert out.loc[OXFORD, "dataset_total_gbp"] == Decimal("-2.25")
    failed = out.loc["(unknown: file not read)"]
    assert failed["failed_files"] == 1 and failed["rows_read"] == 0
    assert out["dataset_total_gbp"].dtype == MONEY


def test_notable_files_lists_issues(ledger):
    out = ov.notable_files(ledger)
    assert list(out["file"]) == ["a.csv", "b.zip", "broken.xls"]
    issues = dict(zip(out["file"], out["issues"], strict=True))
    assert issues["a.csv"] == "rejected 1 total_row"
    assert issues["b.zip"] == "1 duplicate rows dropped; header on line 2"
    assert issues["broken.xls"] == "failed: bad zip"
    assert ov.notable_files(ledger, OXFORD).empty


def test_warning_summary_normalises_numbers(ledger):
    out = ov.warning_summary(ledger)
    rows = {(r.publisher_name, r.warning): r.files for r in out.itertuples()}
    assert rows[(LEEDS, "N bracketed negatives read as negative")] == 1
    assert rows[(OXFORD, "N bracketed negatives read as negative")] == 1
    assert rows[(LEEDS, "UTF-8 BOM removed")] == 1
    assert ov.warning_summary(ledger.iloc[[1]]).empty


# --- accounting -----------------------------------------------------------------------------------


def test_file_of_rows_maps_zip_members():
    files = pd.Series(["x/a.zip/m.csv", "x/a.csv", "x/ab.csv", "y.csv"])
    out = ov.file_of_rows(files, ["x/a.zip", "x/a.csv", "x/ab.csv"])
    assert out.tolist()[:3] == ["x/a.zip", "x/a.csv", "x/ab.csv"]
    assert pd.isna(out.iloc[3])


def test_reconcile_balances(ledger, dataset, rejects):
    recon = ov.reconcile(ledger, dataset, rejects)
    checks = recon[["read_balances", "rows_match", "rejects_match", "total_matches"]]
    assert checks.all().all()
    row = recon.set_index("source_file").loc["leeds/b.zip"]
    assert row["rows_in_dataset"] == 1 and row["rejects_in_table"] == 1
    assert row["dataset_total_gbp"] == Decimal("5.50")
    assert recon.attrs == {"orphan_rows": 0, "orphan_rejects": 0}
    text = ov.accounting_text(recon)
    assert text.splitlines() == [
        "4 files: 7 rows read = 6 kept + 1 rejected",
        "1 duplicate publications dropped: 5 rows in the dataset",
        "dataset total £33.25 = ledger total £33.25",
    ]
    assert ov.total_pence(dataset["amount_gbp"]) == ov.ledger_dataset_total(ledger) == 3325


def test_reconcile_catches_a_penny_and_a_lost_row(ledger, dataset, rejects):
    off = dataset.copy()
    off.loc[0, "amount_gbp"] = Decimal("10.01")
    recon = ov.reconcile(ledger, off, rejects).set_index("source_file")
    assert not recon.loc["leeds/a.csv", "total_matches"]
    assert recon.drop(index="leeds/a.csv")["total_matches"].all()
    lost = ov.reconcile(ledger, dataset.iloc[1:], rejects).set_index("source_file")
    assert not lost.loc["leeds/a.csv", "rows_match"]
    unbalanced = ledger.copy()
    unbalanced.loc[0, "rows_read"] = 5
    assert not ov.reconcile(unbalanced, dataset, rejects)["read_balances"].iloc[0]
    stray = pd.concat([dataset, pd.DataFrame({"source_file": ["elsewhere.csv"],
                                              "amount_gbp": money("1.00")})])
    assert ov.reconcile(ledger, stray, rejects).attrs["orphan_rows"] == 1


def test_ledger_reject_reasons():
    led = pd.DataFrame({"rejected_by_reason": ['{"total_row": 1}', '{"total_row": 1}', "{}",
                                               '{"invalid_date": 2, "total_row": 1}', ""]})
    assert ov.ledger_reject_reasons(led) == {"invalid_date": 2, "total_row": 3}


# --- rejects and duplicates -------------------------------------------------------------------------


def test_reject_counts_and_chart(ledger, rejects):
    out = ov.reject_counts(rejects, ledger)
    assert out[["publisher_name", "reason", "rows", "files"]].values.tolist() == [
        [LEEDS, "duplicate_publication", 1, 1], [LEEDS, "total_row", 1, 1]]
    assert out["example"].tolist() == ["m2.csv:2", "a.csv:5"]
    assert out["description"].str.len().gt(10).all()
    fig = ov.reject_chart(out)
    assert [t.name for t in fig.data] == ["Leeds"]
    assert list(fig.data[0].y) == ["duplicate_publication", "total_row"]
    assert list(fig.data[0].x) == [1, 1]
    assert ov.reject_counts(rejects.iloc[:0], ledger).empty


def test_duplicate_publications(ledger, rejects):
    out = ov.duplicate_publications(rejects, ledger)
    assert len(out) == 1
    row = out.iloc[0]
    assert row["source_file"] == "leeds/b.zip/m2.csv" and row["repeats_file"] == "leeds/a.csv"
    assert row["rows"] == 1 and row["amount_gbp"] == Decimal("7.25")
    unknown = rejects.assign(detail="dropped for an unknown reason")
    assert ov.duplicate_publications(unknown, ledger)["repeats_file"].iloc[0] == "(unknown)"
    empty = ov.duplicate_publications(rejects.iloc[:1], ledger)
    assert empty.empty and list(empty.columns) == ["publisher_name", "source_file",
                                                   "repeats_file", "rows", "amount_gbp"]


# --- completeness figure ------------------------------------------------------------------------


def test_calendar_heatmap_codes_statuses():
    tx = pd.DataFrame({
        "publisher_name": [LEEDS] * 4 + [OXFORD],
        "payment_date": pd.to_datetime(["2024-04-02", "2024-06-03", "2024-06-04",
                                        "2024-06-20", "2024-05-01"]),
        "amount_gbp": money("1", "2", "3", "4", "5"),
        "source_file": ["apr.csv", "jun.csv", "jun.csv", "jun-again.csv", "o.csv"],
    })
    cal = completeness_calendar(tx, by=("publisher_name",))
    fig = ov.calendar_heatmap(cal)
    heat = fig.data[0]
    assert list(heat.x) == ["2024-04", "2024-05", "2024-06"]
    assert list(heat.y) == ["Oxford", "Leeds"]  # first council on top
    leeds = list(heat.z[1])
    assert leeds == [0.0, 3.0, 2.0]  # present, missing, duplicated
    oxford = heat.z[0]
    assert pd.isna(oxford[0]) and oxford[1] == 0.0 and pd.isna(oxford[2])
    assert "outside span" in heat.customdata[0][0]
    assert heat.customdata[1][2].startswith("duplicated<br>3 payments, 2 file(s)")
    assert list(heat.colorbar.ticktext) == ["present", "sparse", "duplicated", "missing"]


# --- spend, redaction, classification ------------------------------------------------------------


@pytest.fixture()
def tx() -> pd.DataFrame:
    return pd.DataFrame({
        "publisher_name": [LEEDS] * 6 + [OXFORD] * 2,
        "financial_year": ["2023-24", "2023-24", "2024-25", "2024-25", "2024-25", "2024-25",
                           "2024-25", "2024-25"],
        "amount_gbp": money("100.00", "50.00", "30.00", "20.00", "-5.00", "5.00", "10.00",
                            "0.01"),
        "is_it": [True, False, False, False, False, False, True, False],
        "it_basis": ["expense_type", "supplier (not IT)", "", "", "", "", "supplier+description", ""],
        "is_redacted": [False, False, True, False, False, False, False, False],
        "supplier_name": ["Softcat", "PHOENIX FUTURES", "REDACTED", "KIER LTD", "Kier Ltd",
                          "Tarmac", "Bytes", "Tiny Co"],
        "supplier_canonical": ["Softcat", "Phoenix Futures", "", "KIER LTD", "Kier Ltd",
                               "Tarmac", "Bytes", "Tiny Co"],
        "supplier_key": ["softcat", "phoenix futures", "", "kier", "kier", "tarmac", "bytes",
                         "tiny"],
    })


def test_spend_by_year_is_exact_and_gap_aware(tx):
    wide = ov.spend_by_year(tx)
    assert list(wide.columns) == ["2023-24", "2024-25"]
    assert wide.loc[LEEDS, "2024-25"] == Decimal("50.00")
    assert pd.isna(wide.loc[OXFORD, "2023-24"])
    assert ov.total_pence(wide.stack()) == ov.total_pence(tx["amount_gbp"])
    fig = ov.spend_chart(wide)
    assert [t.name for t in fig.data] == ["Leeds", "Oxford"]
    assert fig.data[1].y[0] is None and fig.data[1].y[1] == pytest.approx(10.01)


def test_redaction_summary(tx):
    out = ov.redaction_summary(tx).set_index("publisher_name")
    assert out.loc[LEEDS, "redacted_payments"] == 1
    assert out.loc[LEEDS, "redacted_gbp"] == Decimal("30.00")
    assert out.loc[LEEDS, "spend_gbp"] == Decimal("200.00")
    assert out.loc[LEEDS, "redacted_spend_pct"] == pytest.approx(15.0)
    assert out.loc[LEEDS, "redacted_payments_pct"] == pytest.approx(100 / 6)
    assert out.loc[OXFORD, "redacted_gbp"] == Decimal("0.00")


def test_classification_split_partitions_spend(tx):
    out = ov.classification_split(tx).set_index("publisher_name")
    leeds = out.loc[LEEDS]
    assert leeds["it_gbp"] == Decimal("100.00")
    assert leeds["not_it_by_evidence_gbp"] == Decimal("50.00")
    assert leeds["redacted_gbp"] == Decimal("30.00")
    assert leeds["no_evidence_gbp"] == Decimal("20.00")
    parts = [f"{p}_gbp" for p in ov.SPLIT_PARTS]
    for name in (LEEDS, OXFORD):
        assert sum(out.loc[name, parts]) == out.loc[name, "total_gbp"]
        assert sum(out.loc[name, [f"{p}_pct" for p in ov.SPLIT_PARTS]]) == pytest.approx(100)


def test_largest_unclassified_groups_spellings(tx):
    out = ov.largest_unclassified(tx, top=5)
    assert out["supplier"].tolist() == ["KIER LTD", "Tarmac", "Tiny Co"]
    kier = out.iloc[0]
    assert kier["spellings"] == 2 and kier["payments"] == 2
    assert kier["amount_gbp"] == Decimal("15.00")
    assert kier["share_of_spend_pct"] == pytest.approx(1500 / 21001 * 100)
    per = ov.largest_unclassified(tx, top=1, by="publisher_name")
    assert per[["publisher_name", "supplier"]].values.tolist() == [[LEEDS, "KIER LTD"],
                                                                   [OXFORD, "Tiny Co"]]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="top"):
            ov.largest_unclassified(tx, top=bad)


def test_basis_chart_stacks_it_share():
    cov = pd.DataFrame({"publisher_name": [LEEDS], "it_share": [0.05],
                        "it_share_expense_type": [0.6], "it_share_supplier": [0.4],
                        "it_share_description": [0.0], "it_share_service_area": [0.0]})
    fig = ov.basis_chart(cov)
    assert [t.name for t in fig.data] == ["expense type", "supplier", "description",
                                          "service area"]
    assert sum(t.y[0] for t in fig.data) == pytest.approx(5.0)
    assert list(fig.data[0].x) == ["Leeds"]


def test_display_helpers(tx):
    shown = ov.money_for_display(ov.redaction_summary(tx), index="publisher_name")
    assert list(shown.index) == ["Leeds", "Oxford"]
    assert shown.loc["Leeds", "spend_gbp"] == "£200.00"
    assert shown.loc["Leeds", "redacted_spend_pct"] == 15.0
    wide = ov.money_for_display(ov.spend_by_year(tx), pence=False, transpose=True)
    assert list(wide.columns) == ["Leeds", "Oxford"] and wide.loc["2023-24", "Oxford"] == ""
    cov = pd.DataFrame({"publisher_name": [LEEDS], "total_gbp": [1234.5], "it_share": [0.0512],
                        "it_share_supplier": [1.0], "top_unclassified": ["x"]})
    out = ov.coverage_for_display(cov, index="publisher_name")
    assert list(out.columns) == ["total_gbp", "it_share_pct", "it_share_supplier_pct"]
    assert out.iloc[0].tolist() == ["£1,234.50", 5.1, 100.0]
    assert len(ov.for_council(tx, OXFORD)) == 2 and len(ov.for_council(tx, None)) == len(tx)


def test_calendar_for_years_keeps_selected_whole_years():
    tx = pd.DataFrame({
        "publisher_name": [LEEDS] * 3,
        "payment_date": pd.to_datetime(["2021-05-02", "2023-06-03", "2023-07-03"]),
        "amount_gbp": money("1", "2", "3"),
        "source_file": ["a.csv", "b.csv", "c.csv"],
    })
    cal = ov.calendar_for_years(tx[tx["payment_date"].dt.year.ne(2022)], ["2021-22", "2023-24"])
    assert len(cal) == 24 and set(cal["financial_year"]) == {"2021-22", "2023-24"}
    assert cal["status"].eq("present").sum() == 3
    assert cal["month_label"].iloc[0] == "2021-04" and cal["month_label"].iloc[-1] == "2024-03"
    fig = ov.calendar_heatmap(cal)
    assert len(fig.data[0].x) == 24  # no columns for the unselected year between
    everything = ov.calendar_for_years(tx, None)
    assert everything["month_label"].iloc[0] == "2021-05" and len(everything) == 27
