"""Supplier tables: HHI, shares, dominant vendors, recurring vs one-off, lump spreading, export."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_trends import LEEDS, OXFORD, frame, months

from spendkit.errors import InputError
from spendkit.models import trends as t
from spendkit.views.exports import export_tables, to_excel_or_csv


def test_hhi_of_50_50_market_is_5000():
    df = frame([dict(payment_date="2024-04-01", amount_gbp="500", supplier_canonical="A"),
                dict(payment_date="2024-04-02", amount_gbp="500", supplier_canonical="B")])
    out = t.concentration(df, by=())
    assert out["hhi"].iloc[0] == pytest.approx(5000.0)
    assert out["dominant_vendors"].iloc[0] == 2
    assert out["market_note"].iloc[0] == "two dominant suppliers: A and B"
    assert t.hhi([1, 1]) == pytest.approx(5000.0)
    assert t.hhi([1]) == pytest.approx(10000.0)


def test_concentration_per_category_and_shares():
    rows = [dict(payment_date="2024-04-01", amount_gbp="900", it_category="social care",
                 supplier_canonical="Liquidlogic"),
            dict(payment_date="2024-04-01", amount_gbp="100", it_category="social care",
                 supplier_canonical="OLM"),
            *[dict(payment_date="2024-04-01", amount_gbp="100", it_category="hardware",
                   supplier_canonical=f"S{k}") for k in range(10)],
            dict(payment_date="2024-04-01", amount_gbp="-50", it_category="hardware",
                 supplier_canonical="Credit only"),
            dict(payment_date="2024-04-01", amount_gbp="999", it_category="hardware",
                 supplier_canonical="Hidden", is_redacted=True)]
    out = t.concentration(frame(rows)).set_index("it_category")
    care, hw = out.loc["social care"], out.loc["hardware"]
    assert care["hhi"] == pytest.approx(90**2 + 10**2)
    assert care["top1_supplier"] == "Liquidlogic" and care["top1_share_pct"] == pytest.approx(90)
    assert care["dominant_vendors"] == 1 and care["is_highly_concentrated"]
    assert hw["hhi"] == pytest.approx(1000.0) and hw["n_suppliers"] == 10
    assert hw["top5_share_pct"] == pytest.approx(50.0)
    assert pd.isna(hw["dominant_vendors"]) and hw["market_note"] == "competitive"
    assert hw["amount_gbp"] == Decimal("1000.00")


@settings(max_examples=6, deadline=None)
@given(st.lists(st.integers(1, 10**7), min_size=1, max_size=12))
def test_hhi_bounds_and_shares_sum(pence):
    df = frame([dict(payment_date="2024-04-01", amount_gbp=Decimal(p) / 100,
                     supplier_canonical=f"S{k}") for k, p in enumerate(pence)])
    out = t.concentration(df, by=())
    assert 10000 / len(pence) - 1e-6 <= out["hhi"].iloc[0] <= 10000 + 1e-6
    top = t.top_suppliers(df, n=len(pence), by=())
    assert top["share_pct"].sum() == pytest.approx(100.0)
    assert top["amount_gbp"].sum() == df["amount_gbp"].sum()


def test_top_suppliers_rank_and_vendor_view():
    rows = [dict(payment_date="2024-04-01", amount_gbp="300", supplier_canonical="Phoenix",
                 underlying_vendor="Microsoft"),
            dict(payment_date="2024-04-01", amount_gbp="200", supplier_canonical="Bytes",
                 underlying_vendor="Microsoft"),
            dict(payment_date="2024-04-01", amount_gbp="400", supplier_canonical="Civica"),
            dict(payment_date="2024-04-01", amount_gbp="50", supplier_canonical="Tiny")]
    top = t.top_suppliers(frame(rows), n=2, by=())
    assert list(top["supplier"]) == ["Civica", "Phoenix"] and list(top["rank"]) == [1, 2]
    vendors = t.top_suppliers(frame(rows), n=2, by=(), use_vendor=True)
    assert list(vendors["supplier"]) == ["Microsoft", "Civica"]
    assert vendors["amount_gbp"].iloc[0] == Decimal("500.00")
    with pytest.raises(InputError, match="positive"):
        t.top_suppliers(frame(rows), n=0)


def test_recurring_lump_and_one_off_rules():
    rows = (months(LEEDS, "2024-04-01", 12, "100", supplier_canonical="Monthly Co")
            + [dict(payment_date="2024-06-01", amount_gbp="12000",
                    supplier_canonical="Licence Co", description="Annual renewal of licences"),
               dict(payment_date="2024-07-01", amount_gbp="300",
                    supplier_canonical="Licence Co", description="extra seats"),
               dict(payment_date="2024-09-09", amount_gbp="5000",
                    supplier_canonical="Project Co", description="server install")])
    out = t.recurring_vs_oneoff(frame(rows)).set_index("supplier")
    assert out.loc["Monthly Co", "recurring_gbp"] == Decimal("1200.00")
    assert out.loc["Monthly Co", "months_paid"] == 12
    assert out.loc["Licence Co", "lump_gbp"] == Decimal("12000.00")
    assert out.loc["Licence Co", "one_off_gbp"] == Decimal("300.00")
    assert out.loc["Licence Co", "supplier_kind"] == "recurring"
    assert out.loc["Project Co", "supplier_kind"] == "one_off"
    assert out["amount_gbp"].sum() == frame(rows)["amount_gbp"].sum()


def test_spread_lumps_preserves_total_to_the_penny():
    rows = [dict(payment_date="2024-06-20", amount_gbp="1000.01",
                 description="Annual subscription"),
            dict(payment_date="2024-07-01", amount_gbp="36.00",
                 supplier_canonical="Other", description="support")]
    out = t.spread_lumps(frame(rows))
    assert out["run_rate_gbp"].sum() == Decimal("1036.01")
    assert out["paid_gbp"].sum() == Decimal("1036.01")
    assert len(out) == 12  # June 2024 .. May 2025
    run = dict(zip(out["month"].dt.strftime("%Y-%m"), out["run_rate_gbp"], strict=True))
    assert run["2024-06"] == Decimal("83.34")  # 100001 pence / 12 = 8333 r 5: first 5 get +1
    assert run["2024-07"] == Decimal("83.34") + Decimal("36.00")
    assert run["2024-11"] == Decimal("83.33")
    assert run["2025-05"] == Decimal("83.33")


def test_cover_months_from_text():
    text = pd.Series(["3 year licence renewal", "annual 24 months support", "annual", None])
    assert list(t.cover_months(text)) == [36, 24, 12, 12]


def test_spread_lumps_multi_year_and_per_council():
    rows = [dict(payment_date="2024-04-01", amount_gbp="3600", description="renewal 3 years"),
            dict(publisher_code=OXFORD, payment_date="2024-04-01", amount_gbp="120",
                 description="annual")]
    out = t.spread_lumps(frame(rows))
    per_council = out.groupby("publisher_code")["run_rate_gbp"].agg(["size", "sum"])
    assert per_council.loc[LEEDS, "size"] == 36
    assert per_council.loc[LEEDS, "sum"] == Decimal("3600.00")
    assert per_council.loc[OXFORD, "size"] == 12


def test_export_neutralises_formulas_csv_and_xlsx(tmp_path):
    table = pd.DataFrame({
        "supplier": ["=HYPERLINK(\"x\")", "+44 20", "-dash", "@sum", "Plain Ltd"],
        "amount_gbp": pd.Series([Decimal("1.10"), Decimal("-5.00"), None, Decimal("0.01"),
                                 Decimal("2")], dtype=t.AMOUNT_DTYPE),
    })
    csv = to_excel_or_csv(table, tmp_path / "out.csv")
    text = csv.read_text().splitlines()
    assert text[1] == "'=HYPERLINK(\"\"x\"\"),1.10" or text[1].startswith("\"'=HYPERLINK")
    assert text[2] == "'+44 20,-5.00"
    assert text[3] == "'-dash,"
    assert text[5] == "Plain Ltd,2.00"
    xlsx = to_excel_or_csv(table, tmp_path / "out.xlsx")
    sheet = openpyxl.load_workbook(xlsx).active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values[0][0] == "'=HYPERLINK(\"x\")" and values[3][0] == "'@sum"
    assert values[1][1] == pytest.approx(-5.0)  # numbers stay numbers
    with pytest.raises(InputError, match="csv or .xlsx"):
        to_excel_or_csv(table, tmp_path / "out.json")


def test_it_market_splits_social_care_out_of_line_of_business():
    df = frame([dict(payment_date="2024-04-01", amount_gbp="900", it_category="line_of_business",
                     supplier_canonical="Liquidlogic", supplier_role="social_care_system"),
                dict(payment_date="2024-04-02", amount_gbp="100", it_category="line_of_business",
                     supplier_canonical="Civica", supplier_role="lob_system_vendor"),
                dict(payment_date="2024-04-03", amount_gbp="50", it_category="",
                     supplier_canonical="Care Ltd", supplier_role="", is_it=False),
                dict(payment_date="2024-04-04", amount_gbp="5", it_category=" ",
                     supplier_canonical="X", supplier_role="")])
    market = t.it_market(df)
    assert list(market.fillna("NA")) == ["social_care_case_management", "line_of_business", "NA",
                                         "(uncategorised)"]
    out = t.concentration(df.assign(it_market=market), by="it_market")
    social = out.set_index("it_market").loc["social_care_case_management"]
    assert social["hhi"] == pytest.approx(10000.0) and social["dominant_vendors"] == 1


def test_lump_text_can_come_from_purpose_column():
    rows = [dict(payment_date="2024-07-10", amount_gbp="12000.00", supplier_canonical="Phoenix",
                 purpose="Microsoft 365 E5 annual subscription 2024-25")]
    out = t.spread_lumps(frame(rows))
    assert len(out) == 12 and set(out["run_rate_gbp"]) == {Decimal("1000.00")}


def test_export_tables_workbook_and_csv_folder(tmp_path):
    a = pd.DataFrame({"supplier": ["=cmd", "Plain"], "amount_gbp": pd.Series(
        [Decimal("1.50"), Decimal("2.00")], dtype=t.AMOUNT_DTYPE)})
    b = pd.DataFrame({"x": [1, 2, 3]})
    [book] = export_tables({"suppliers": a, "counts": b}, tmp_path / "all.xlsx")
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["suppliers", "counts"]
    assert wb["suppliers"]["A2"].value == "'=cmd" and wb["suppliers"]["B3"].value == 2
    assert wb["counts"].max_row == 4
    files = export_tables({"suppliers": a, "counts": b}, tmp_path / "csv")
    assert [f.name for f in files] == ["suppliers.csv", "counts.csv"]
    assert files[0].read_text().splitlines()[1] == "'=cmd,1.50"
    with pytest.raises(InputError, match="not distinct"):
        export_tables({"x" * 31 + "a": b, "x" * 31 + "b": b}, tmp_path / "bad.xlsx")
    with pytest.raises(InputError, match="folder"):
        export_tables({"a": b}, tmp_path / "bad.json")
    with pytest.raises(InputError, match="at least one"):
        export_tables({}, tmp_path / "none.xlsx")


def test_payment_kind_totals_exact_and_share():
    rows = (months(LEEDS, "2024-04-01", 12, amount="100.00", supplier_canonical="Rec")
            + [dict(payment_date="2024-06-01", amount_gbp="0.01", supplier_canonical="Once"),
               dict(payment_date="2024-07-01", amount_gbp="1200.00", supplier_canonical="Lump",
                    description="annual subscription")])
    kinds = t.recurring_vs_oneoff(frame(rows))
    out = t.payment_kind_totals(kinds)
    row = out.iloc[0]
    assert row["financial_year"] == "2024-25"
    assert (row["recurring_gbp"], row["lump_gbp"], row["one_off_gbp"], row["amount_gbp"]) == (
        Decimal("1200.00"), Decimal("1200.00"), Decimal("0.01"), Decimal("2400.01"))
    assert out["amount_gbp"].dtype == t.AMOUNT_DTYPE
    assert row["recurring_or_lump_pct"] == pytest.approx(2400 / 2400.01 * 100)
    assert t.payment_kind_totals(kinds, by=()).iloc[0]["amount_gbp"] == Decimal("2400.01")
