"""Layouts the alias table has never seen (issue 16): one hand-written fixture per failure class,
made here in the test, each shaped like what a real unseen file held; property tests where the
class has a natural generator (column orders, stacked tables, missing dates)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

import spendkit
from spendkit.transform.period import period_in_name

NAMES = ["Acme Ltd", "Beta Services Limited", "Gamma plc", "Delta Trust", "Epsilon & Co",
         "Zeta Council", "Eta Care Homes Ltd", "Theta Group", "Iota LLP", "Kappa Ltd"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def decision(result: spendkit.LoadResult, field: str) -> dict:
    return next(d for d in result.ledger.decisions if d["field"] == field)


def test_supplier_inferred_when_no_header_names_it(tmp_path: Path) -> None:
    # Class 1: 'ENEntity Name' matches no alias; the workbook used to be refused.
    rows = ["UNIQUE REF,Description,Element Description,Entity,ENEntity Name,PymtDate,"
            "SumOfNet Amt,SumOfVatAmt,SumOfGross Amt"]
    for i in range(40):
        rows.append(f"R{i:04d},Repairs,Building maintenance,E{i % 3},{NAMES[i % 10]},"
                    f"{1 + i % 28:02d}/05/2019,{100 + i}.00,{20 + i * 0.2:.2f},{120 + i * 1.2:.2f}")
    r = spendkit.load(write(tmp_path, "unseen.csv", "\n".join(rows) + "\n"))
    assert r.ledger.rows_kept == 40 and r.ledger.kept_total_gbp == Decimal("4780.00")
    assert r.ledger.inferred_fields == ["supplier_name"]
    supplier = decision(r, "supplier_name")
    assert supplier["chosen"] == "ENEntity Name" and "organisations" in supplier["evidence"]
    assert any("inferred from its content" in w for w in r.ledger.warnings)
    # Net preferred over gross; VAT and gross kept as published columns.
    assert decision(r, "amount_gbp")["chosen"] == "SumOfNet Amt"
    assert r.ledger.vat_basis == "net" and set(r.transactions["vat_basis"]) == {"net"}
    assert {"sumofvatamt", "sumofgross_amt"} <= set(r.transactions.columns)


def test_refused_only_when_content_gives_no_candidate(tmp_path: Path) -> None:
    text = "Ref,Date,Amount\n" + "".join(f"{i},01/05/2019,{i}.50\n" for i in range(1, 9))
    try:
        spendkit.load(write(tmp_path, "nosupplier.csv", text))
    except spendkit.UnreadableFileError as exc:
        assert "no supplier column" in str(exc) and "content" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a file without any supplier-like column must be refused")


def test_amount_inferred_from_content_not_a_reference_column(tmp_path: Path) -> None:
    text = "Payee,When,Ref,Paid £\n" + "".join(
        f"{NAMES[i % 10]},0{1 + i % 9}/06/2020,{10000 + i},{i * 3}.25\n" for i in range(20))
    r = spendkit.load(write(tmp_path, "pay.csv", text))
    assert decision(r, "amount_gbp")["chosen"] == "Paid £"
    assert r.ledger.kept_total_gbp == Decimal(sum(i * 3 for i in range(20))) + Decimal("5.00")


def test_date_column_chosen_by_evidence_and_period_column_dates_the_rest(tmp_path: Path) -> None:
    # Class 2: 'Period' (an alias, 201204) parses for 0% and must not beat 'Updated'.
    rows = ["Period,Updated,Supplier Name,Amount"]
    rows += [f"201204,2012-07-{1 + i % 28:02d},Acme Ltd,{i + 1}.50" for i in range(30)]
    rows.append("201204,,Housing Benefit Payments,7800000.00")
    r = spendkit.load(write(tmp_path, "p.csv", "\n".join(rows) + "\n"))
    assert r.ledger.rows_kept == 31 and r.ledger.rows_rejected == 0
    date = decision(r, "payment_date")
    assert date["chosen"] == "Updated" and date["runner_up"].startswith("'Period'")
    last = r.transactions.iloc[-1]
    # Period 04 of the financial year 2012 is July 2012, as the dated rows show.
    assert last["payment_date"].date() == dt.date(2012, 7, 1)
    assert (last["date_precision"], last["date_basis"]) == ("month", "period_column")


def test_every_row_dated_midnight_takes_the_quarter_from_the_file_name(tmp_path: Path) -> None:
    # Class 3: '00:00:00' on every row of a quarter's file.
    text = "Paid Date,Supplier Name,Amount\n" + "".join(
        f"00:00:00,{NAMES[i % 10]},{i}.00\n" for i in range(1, 20))
    r = spendkit.load(write(tmp_path, "expenditure-over-500-apr-jun-2014.csv", text))
    assert r.ledger.rows_kept == 19 and r.ledger.kept_total_gbp == Decimal("190.00")
    df = r.transactions
    assert set(df["payment_date"].dt.date) == {dt.date(2014, 4, 1)}
    assert set(df["date_precision"]) == {"quarter"} and set(df["date_basis"]) == {"file_name"}
    assert any("apr-jun-2014" in w for w in r.ledger.warnings)


def test_undated_aggregate_rows_are_kept_with_the_month(tmp_path: Path) -> None:
    text = "Date,Supplier Name,Amount\n" + "".join(
        f"{i:02d}/09/2014,{NAMES[i % 10]},{i}.00\n" for i in range(1, 20)) + (
        ",Housing benefit payments,7800000.00\n,Agency staff,100000.00\n,,300019.00\n")
    r = spendkit.load(write(tmp_path, "Tameside September 2014.csv", text))
    df = r.transactions
    assert len(df) == 21 and df["amount_gbp"].sum() == Decimal("7900190.00")
    tail = df.iloc[-2:]
    assert list(tail["date_basis"]) == ["file_name"] * 2
    assert set(tail["payment_date"].dt.date) == {dt.date(2014, 9, 1)}
    # A line with neither a date nor anything naming the payment is not given a period.
    assert list(r.rejects["reason"]) == ["missing_date"]
    assert "naming the payment" in r.rejects["detail"].iloc[0]


def test_undated_rows_take_the_other_rows_month_when_names_say_nothing(tmp_path: Path) -> None:
    text = "Date,Supplier Name,Amount\n" + "".join(
        f"{i:02d}/03/2021,{NAMES[i % 10]},{i}.00\n" for i in range(1, 11)) + ",Care payments,50.00\n"
    r = spendkit.load(write(tmp_path, "spend.csv", text))
    last = r.transactions.iloc[-1]
    assert (last["date_basis"], last["payment_date"].date()) == ("other_rows", dt.date(2021, 3, 1))


def test_net_preferred_over_gross_and_redactive_is_not_redacted(tmp_path: Path) -> None:
    # Class 4 and class 6.
    text = "Date,Supplier Name,Gross Amount,VAT,Net Amount\n" + "".join(
        f"{i:02d}/05/2019,Redactive Publishing Ltd,{i * 1.2:.2f},{i * 0.2:.2f},{i:.2f}\n"
        for i in range(1, 11)) + "11/05/2019,REDACTED,12.00,2.00,10.00\n"
    r = spendkit.load(write(tmp_path, "g.csv", text))
    df = r.transactions
    assert r.ledger.kept_total_gbp == Decimal("65.00")
    assert decision(r, "vat_basis")["chosen"] == "net"
    assert list(df["is_redacted"]) == [False] * 10 + [True]
    assert df["gross_amount"].iloc[0] == "1.20" and df["vat"].iloc[0] == "0.20"


def test_profile_vat_basis_overrides_an_unknown_header(tmp_path: Path) -> None:
    folder = tmp_path / "birmingham"
    folder.mkdir()
    text = "Date,Merchant Name,Amount\n01/05/2019,Acme Ltd,10.00\n"
    r = spendkit.load(write(folder, "card.csv", text))
    vat = decision(r, "vat_basis")
    assert (vat["chosen"], vat["basis"]) == ("gross", "profile")
    assert set(r.transactions["vat_basis"]) == {"gross"}


def _stacked_workbook() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Spend"
    ws.append(["Date", "Supplier Name", "Amount"])
    for i in range(1, 6):
        ws.append([dt.date(2019, 5, i), f"Acme {i} Ltd", i * 10.5])
    ws.append([])
    ws.append(["Supplier Name", "Description", "Amount", "Date"])  # columns moved
    for i in range(1, 4):
        ws.append([f"Beta {i} Ltd", "x", i * 100.25, dt.date(2019, 5, i)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_stacked_table_in_a_sheet_switches_the_mapping(tmp_path: Path) -> None:
    # Class 5: the second header was a rejected row and the rows below it missing_amount.
    p = tmp_path / "stacked.xlsx"
    p.write_bytes(_stacked_workbook())
    r = spendkit.load(p)
    assert (r.ledger.rows_read, r.ledger.rows_kept, r.ledger.rows_rejected) == (8, 8, 0)
    assert r.ledger.kept_total_gbp == Decimal("759.00")
    assert [(part.header_line, part.rows_read) for part in r.ledger.parts] == [(1, 5), (8, 3)]
    assert list(r.transactions["supplier_name"])[-1] == "Beta 3 Ltd"


def test_stacked_table_in_a_csv_with_another_width(tmp_path: Path) -> None:
    text = "Date,Supplier Name,Amount\n" + "".join(
        f"0{i}/05/2019,Acme {i} Ltd,{i * 10.5}\n" for i in range(1, 6)) + (
        "\nSupplier Name,Description,Amount,Date,Extra\n") + "".join(
        f"Beta {i} Ltd,x,{i * 100.25},0{i}/05/2019,e\n" for i in range(1, 4))
    r = spendkit.load(write(tmp_path, "stacked.csv", text))
    assert (r.ledger.rows_kept, r.ledger.rows_rejected) == (8, 0)
    assert r.ledger.kept_total_gbp == Decimal("759.00")
    assert [p.header_line for p in r.ledger.parts] == [1, 8]


def test_names_give_periods() -> None:
    assert period_in_name("Tameside September 2014.csv") == (dt.date(2014, 9, 1), "month")
    assert period_in_name("x/expenditure-over-500-apr-jun-2014.csv") == (
        dt.date(2014, 4, 1), "quarter")
    assert period_in_name("payments-201306.csv") == (dt.date(2013, 6, 1), "month")
    assert period_in_name("Sept-25-CVS.csv") == (dt.date(2025, 9, 1), "month")
    assert period_in_name("1603177375wpdm_July-2020.csv") == (dt.date(2020, 7, 1), "month")
    assert period_in_name("Spending_2020_06.csv") == (dt.date(2020, 6, 1), "month")
    assert period_in_name("nov-jan-2018.csv") == (dt.date(2017, 11, 1), "quarter")
    assert period_in_name("decisions.csv") is None
    assert period_in_name("jan-2019-and-feb-2019.csv") is None  # two periods: no guess


# ---- properties ------------------------------------------------------------------------
_COLUMNS = ["Payment Date", "Supplier Name", "Net Amount", "Expense Type", "Gross Amount"]


def _rows(n: int) -> list[list[str]]:
    return [[f"{1 + i % 28:02d}/10/2022", NAMES[i % 10], f"{i * 7 + 1}.{i % 100:02d}",
             "ICT", f"{(i * 7 + 1) * 1.2:.2f}"] for i in range(n)]


@settings(max_examples=25)
@given(st.permutations(range(len(_COLUMNS))), st.integers(1, 40))
def test_any_column_order_loads_the_same(order: list[int], n: int) -> None:
    rows = _rows(n)
    text = ",".join(_COLUMNS[i] for i in order) + "\n" + "".join(
        ",".join(r[i] for i in order) + "\n" for r in rows)
    r = spendkit.load("x.csv", data=text.encode(), source_name="x.csv")
    assert r.ledger.rows_kept == n
    expected = sum(Decimal(row[2]) for row in rows)
    assert r.ledger.kept_total_gbp == expected and r.ledger.vat_basis == "net"


@settings(max_examples=25)
@given(st.lists(st.permutations(range(len(_COLUMNS))), min_size=1, max_size=4),
       st.integers(1, 12))
def test_stacked_tables_keep_every_row(orders: list[list[int]], n: int) -> None:
    rows = _rows(n * len(orders))
    lines = []
    for k, order in enumerate(orders):
        lines.append(",".join(_COLUMNS[i] for i in order))
        lines += [",".join(r[i] for i in order) for r in rows[k * n:(k + 1) * n]]
    r = spendkit.load("s.csv", data=("\n".join(lines) + "\n").encode(), source_name="s.csv")
    assert (r.ledger.rows_kept, r.ledger.rows_rejected) == (len(rows), 0)
    assert r.ledger.kept_total_gbp == sum(Decimal(row[2]) for row in rows)
    assert len(r.ledger.parts) == len(orders)


@settings(max_examples=25)
@given(st.integers(2, 40), st.data())
def test_missing_dates_are_kept_in_the_files_month(n: int, data) -> None:
    rows = _rows(n)
    blank = data.draw(st.sets(st.integers(0, n - 1), max_size=n - 1))
    for i in blank:
        rows[i][0] = ""
    text = ",".join(_COLUMNS) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    r = spendkit.load("m.csv", data=text.encode(), source_name="m.csv")
    df = r.transactions
    assert len(df) == n and r.ledger.rows_rejected == 0
    assert (df["date_basis"] == "other_rows").sum() == len(blank)
    assert set(df["payment_date"].dt.month) == {10}


def test_profile_columns_override_the_evidence(tmp_path: Path, monkeypatch) -> None:
    from spendkit.reference import councils

    profile = councils.Profile("gross-first", "Test Council", "", "", "", "", "", "", "test",
                               columns="amount_gbp=Gross Amount")
    monkeypatch.setattr(councils, "profiles", lambda: (profile,))
    folder = tmp_path / "gross-first"
    folder.mkdir()
    text = "Date,Supplier Name,Gross Amount,Net Amount\n01/05/2019,Acme Ltd,12.00,10.00\n"
    r = spendkit.load(write(folder, "f.csv", text))
    amount = decision(r, "amount_gbp")
    assert (amount["chosen"], amount["basis"]) == ("Gross Amount", "profile")
    assert r.ledger.kept_total_gbp == Decimal("12.00") and r.ledger.vat_basis == "gross"
