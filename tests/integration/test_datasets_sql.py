"""DuckDB over the processed Parquet: the same rows and the same numbers as the pandas path.

Each dataset (the bundled SYNTHETIC sample, ../shared/realdata and the Hyndburn monthly series)
is ingested once; then every aggregate-first table is compared with the row-level function's
table on all of its rows (assert_frame_equal: values to the penny, dtypes, order).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from spendkit import datasets as D
from spendkit.errors import InputError
from spendkit.ingest import ingest
from spendkit.loader import arrow_to_pandas
from spendkit.models import trends as T
from spendkit.models.trends import aggregates as A
from spendkit.settings import get_settings

BASE_YEAR, EXTEND_TO = "2024-25", "2025-26"


def _ingested(raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("processed")
    summary = ingest(raw, out, progress=False)
    assert summary.rows_kept > 0
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _ingested(get_settings().sample_raw_dir, tmp_path_factory)


@pytest.fixture(scope="module", params=["sample", "realdata", "series"])
def processed(request, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if request.param == "sample":
        return request.getfixturevalue("sample")
    folder = request.getfixturevalue("realdata_dir" if request.param == "realdata"
                                     else "realdata_series_dir")
    return _ingested(folder, tmp_path_factory)


def test_read_transactions_order_is_the_five_key_sort(sample: Path) -> None:
    table = D.transactions_dataset(sample).to_table()
    expected = arrow_to_pandas(table.sort_by([(c, "ascending") for c in D.ROW_ORDER]))
    assert_frame_equal(D.read_transactions(sample), expected)


def test_one_council_opens_only_its_partitions(sample: Path) -> None:
    everything = D.read_transactions(sample)
    code = everything["publisher_code"].iloc[0]
    name = everything["publisher_name"].iloc[0]
    expected = everything[everything["publisher_code"].eq(code)].reset_index(drop=True)
    for who in (code, name):
        assert_frame_equal(D.read_transactions(sample, publishers=[who]), expected)
    files = D.transaction_files(sample, publishers=[code])
    folder = "publisher=" + expected["publisher"].iloc[0]
    assert files and all(f.parent.parent.name == folder for f in files)
    assert len(files) < len(D.transaction_files(sample))
    year = sorted(everything["financial_year"].unique())[1]
    mine = D.read_transactions(sample, publishers=[code], years=[year], it_only=True,
                               columns=["amount_gbp", "payment_date", "is_it"])
    want = expected[expected["financial_year"].eq(year) & expected["is_it"]]
    assert mine["amount_gbp"].sum() == want["amount_gbp"].sum() and len(mine) == len(want)
    with pytest.raises(InputError, match="'No Such Council' is not a publisher in the data"):
        D.read_transactions(sample, publishers=["No Such Council"])


def test_publisher_and_year_arguments_forgive_or_fail_in_one_line(sample: Path) -> None:
    leeds = D.read_transactions(sample, publishers=["Leeds City Council"], years=["2024-25"])
    assert len(leeds) > 0
    for who in ("Leeds", "leeds city council", "leeds-city-council", "E08000035"):
        for year in (["2024/25"], "2024-25", ["FY2024"], "2024/2025"):
            got = D.read_transactions(sample, publishers=[who], years=year)
            assert len(got) == len(leeds) and got["amount_gbp"].sum() == \
                leeds["amount_gbp"].sum(), (who, year)
    assert D.query("SELECT count(*) AS n FROM transactions", sample, publishers=["Leeds"],
                   years="2024/25").n[0] == len(leeds)
    rel = D.transactions_relation(sample, publishers="leeds", years="FY2024")
    assert len(rel.to_arrow_table()) == len(leeds)
    with pytest.raises(InputError, match=r"years: 2030-31 is not in the data; the data covers "
                                         r"2021-22 to 2025-26"):
        D.read_transactions(sample, publishers=["Leeds"], years=["2030/31"])
    with pytest.raises(InputError, match="Leeds City Council \\(E08000035\\)"):
        D.read_transactions(sample, publishers=["Leads Council"])
    # Already-exact names and codes need no lookup; empty selections mean everything.
    assert D.resolve_selection(sample, publishers=["E08000035"], years=None) == (
        ["E08000035"], None)
    assert D.resolve_selection(sample, publishers=[], years=[]) == (None, None)


def test_query_and_relation_sum_like_pandas(sample: Path) -> None:
    tx = D.read_transactions(sample)
    got = D.query("SELECT financial_year, sum(amount_gbp) AS total, count(*) AS n "
                  "FROM transactions GROUP BY ALL ORDER BY financial_year", sample)
    want = tx.groupby("financial_year")["amount_gbp"].agg(["sum", "size"]).reset_index()
    assert got["total"].tolist() == want["sum"].tolist()
    assert got["n"].tolist() == want["size"].tolist()
    code = tx["publisher_code"].iloc[0]
    rel = D.transactions_relation(sample, publishers=[code], it_only=True,
                                  columns=["amount_gbp"])
    assert rel.columns == ["amount_gbp"]
    assert rel.aggregate("sum(amount_gbp)").fetchall()[0][0] == tx.loc[
        tx["publisher_code"].eq(code) & tx["is_it"], "amount_gbp"].sum()


def test_financial_years_from_the_folders(sample: Path) -> None:
    years = D.read_transactions(sample, columns=["financial_year"])["financial_year"]
    assert D.financial_years(sample) == sorted(years.unique())


def test_publishers_come_from_the_ledger(sample: Path) -> None:
    pubs = D.publishers(sample)
    tx = D.read_transactions(sample, columns=["publisher_name", "publisher_code", "publisher"])
    pairs = tx.drop_duplicates().sort_values("publisher_name").reset_index(drop=True)
    assert pubs["publisher_name"].tolist() == pairs["publisher_name"].tolist()
    assert pubs["partition"].tolist() == pairs["publisher"].tolist()


def test_read_extras_for_some_files(sample: Path) -> None:
    extras = D.read_extras(sample)
    if extras.empty:
        pytest.skip("the sample has no extras")
    files = sorted(extras["source_file"].unique())[:2]
    some = D.read_extras(sample, source_files=files)
    assert set(some["source_file"]) == set(files)
    assert len(some) == extras["source_file"].isin(files).sum()
    assert D.read_extras(sample, source_files=[]).empty
    tx = D.read_transactions(sample, columns=["publisher_code", "source_file"])
    code = tx.loc[tx["source_file"].eq(files[0]), "publisher_code"].iloc[0]
    mine = D.read_extras(sample, publishers=[code])
    assert set(mine["source_file"]) <= set(tx.loc[tx["publisher_code"].eq(code), "source_file"])
    assert files[0] in set(mine["source_file"])


def test_row_order_ranks_text_and_puts_nulls_last() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.table({"a": ["b", None, "a", "b"], "n": [2, 1, None, 1]})
    arrow = pc.sort_indices(table, sort_keys=[("a", "ascending"), ("n", "ascending")])
    assert D.row_order(table, ["a", "n"]).tolist() == arrow.to_pylist() == [2, 3, 0, 1]


def test_every_aggregate_twin_matches_the_row_functions(processed: Path) -> None:
    tx = D.read_transactions(processed)
    rel = D.transactions_relation(processed)
    months = A.month_totals(rel)
    cal = T.completeness_calendar(tx)
    cal2 = T.calendar_from_months(months, A.repeated_rows(rel, months))
    assert_frame_equal(cal, cal2)
    for by in (("publisher_name",), ("publisher_code", "publisher_name")):
        assert_frame_equal(T.completeness_calendar(tx, by),
                           T.calendar_from_months(months, A.repeated_rows(rel, months, by), by))
    for period in ("financial_year", "month"):
        a = T.it_spend_trend(tx, period=period, base_year=BASE_YEAR, per_resident=True,
                             calendar=cal, extend_to=EXTEND_TO)
        b = T.it_spend_trend_from_months(months, cal2, period=period, base_year=BASE_YEAR,
                                         per_resident=True, extend_to=EXTEND_TO)
        assert_frame_equal(a.table, b.table)
        assert_frame_equal(a.coverage, b.coverage)
    assert T.coverage(tx, cal) == T.coverage_from_months(months, cal2)
    assert_frame_equal(T.coverage_table(tx, ("publisher_name",), "quarter", calendar=cal),
                       T.coverage_table_from_months(months, ("publisher_name",), "quarter",
                                                    calendar=cal2))
    profiles = T.ledger_profiles(D.read_ledger(processed))
    assert_frame_equal(T.publisher_facts(tx, cal, profiles=profiles),
                       T.publisher_facts_from_months(months, cal2, profiles=profiles))
    markets = T.concentration(tx.assign(it_market=T.it_market(tx)), by="it_market",
                              use_vendor=True)
    assert_frame_equal(markets, T.concentration_from_totals(
        A.supplier_totals(rel, by=("it_market",), use_vendor=True), "it_market"))
    assert_frame_equal(T.top_suppliers(tx, n=5),
                       T.top_suppliers_from_totals(A.supplier_totals(rel), 5))
    peers = T.peer_comparison(tx, base_year=BASE_YEAR, calendar=cal, extend_to=EXTEND_TO)
    assert_frame_equal(peers, T.peer_comparison(months, base_year=BASE_YEAR, calendar=cal2,
                                                extend_to=EXTEND_TO))
    code = tx["publisher_code"].iloc[0]  # a council and its like-for-like peers
    mine = T.peer_comparison(tx, base_year=BASE_YEAR, calendar=cal, council=code)
    assert_frame_equal(mine, T.peer_comparison(months, base_year=BASE_YEAR, calendar=cal2,
                                               council=code))
    totals = T.publisher_year_totals(months)
    assert totals["total_gbp"].sum() == tx["amount_gbp"].sum()
    assert totals["it_gbp"].sum() == tx.loc[tx["is_it"], "amount_gbp"].sum()
    assert totals["n_payments"].sum() == len(tx)


def test_overview_split_sums_match_the_overview(processed: Path) -> None:
    """The overview's per-council figures roll up from `month_totals(parts="overview")`."""
    from spendkit.units.money import to_pence
    from spendkit.views import overview as ov

    tx = D.read_transactions(processed)
    months = A.month_totals(D.transactions_relation(processed), ("publisher_name",),
                            parts="overview")
    per = months.assign(**{c: to_pence(months[c]) for c in (*A.MONTH_AMOUNTS,
                                                           *A.OVERVIEW_AMOUNTS)})
    sums = per.groupby("publisher_name", sort=True).sum(numeric_only=True)
    red = ov.redaction_summary(tx).set_index("publisher_name")
    assert (to_pence(red["spend_gbp"]) == sums["amount_gbp"]).all()
    assert (to_pence(red["redacted_gbp"]) == sums["redacted_gbp"]).all()
    assert (red["payments"] == sums["n_payments"]).all()
    assert (red["redacted_payments"] == sums["redacted_payments"]).all()
    split = ov.classification_split(tx).set_index("publisher_name")
    assert (to_pence(split["it_gbp"]) == sums["it_gbp"]).all()
    assert (to_pence(split["not_it_by_evidence_gbp"]) == sums["not_it_evidence_gbp"]).all()
    assert (to_pence(split["redacted_gbp"]) == sums["unclassifiable_gbp"]).all()
    wide = ov.spend_by_year(tx)
    years = T.period_totals_from_months(months, "financial_year", "publisher_name")
    for _, row in years.iterrows():
        assert wide.loc[row["publisher_name"], row["financial_year"]] == row["amount_gbp"]
    pd.testing.assert_series_equal(
        pd.Series(dict(zip(years["publisher_name"] + years["financial_year"],
                           years["n_payments"], strict=True)), dtype="int64").sort_index(),
        tx.groupby(tx["publisher_name"] + tx["financial_year"]).size().astype("int64")
        .sort_index(), check_names=False)


def test_readme_beyond_one_machine_query_gives_the_peer_table(sample: Path) -> None:
    """The SQL the README offers for Spark / Trino gives `publisher_year_totals`' figures."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("beyond one machine", 1)[1]
    sql = section.split("```sql", 1)[1].split("```", 1)[0]
    got = D.query(sql, sample)
    want = T.publisher_year_totals(A.month_totals(D.transactions_relation(sample)))
    assert got["it_gbp"].tolist() == want["it_gbp"].tolist()
    assert got["total_gbp"].tolist() == want["total_gbp"].tolist()
    assert got["n_payments"].tolist() == want["n_payments"].tolist()
    assert got["months_with_payments"].tolist() == want["months_with_payments"].tolist()
    assert got["financial_year"].tolist() == want["financial_year"].tolist()


def test_coverage_report_totals_give_the_report(processed: Path, sample: Path) -> None:
    """`enrich.coverage_report`'s figures from the DuckDB sums (its money is float pounds:
    rounded to the penny they agree; shares to 1e-12). On the sample, also from a frame
    without `financial_year` (derived from the payment date, as the report does)."""
    from spendkit.enrich import coverage_report
    from spendkit.enrich.classify import KINDS
    from spendkit.enrich.coverage import coverage_report_from_totals

    tx = D.read_transactions(processed)
    by = ("publisher_name", "financial_year")
    report = coverage_report(tx, by=by)
    sources = [D.transactions_relation(processed)]
    if processed == sample:
        sources.append(tx.drop(columns="financial_year"))
    for source in sources:
        totals, suppliers = A.coverage_report_totals(source, by)
        assert totals[list(by)].astype(str).values.tolist() == \
            report[list(by)].astype(str).values.tolist()
        money = {c: totals[c].astype("float64") for c in totals.columns if c.endswith("_gbp")}
        assert (money["total_gbp"].round(2) == report["total_gbp"]).all()
        assert (money["it_gbp"].round(2) == report["it_gbp"]).all()
        total = money["total_gbp"].where(money["total_gbp"] != 0)
        it = money["it_gbp"].where(money["it_gbp"] != 0)
        shares = {"it_share": money["it_gbp"] / total,
                  "unclassifiable_share": money["unclassifiable_gbp"] / total,
                  "classified_share": money["classified_gbp"] / total,
                  "no_evidence_share": money["no_evidence_gbp"] / total,
                  "corroborated_share": money["it_corroborated_gbp"] / it,
                  "low_confidence_share": money["it_low_gbp"] / it,
                  **{f"it_share_{b}": money[f"it_{b}_gbp"] / it for b in KINDS}}
        for name, share in shares.items():
            assert (share.fillna(0.0) - report[name]).abs().max() < 1e-12, name
        assert totals["rows"].tolist() == report["rows"].tolist()
        assert totals["it_rows"].tolist() == report["it_rows"].tolist()
        text = suppliers.assign(t=suppliers["supplier"] + " (£" + suppliers["amount_gbp"].astype(
            "float64").map("{:,.2f}".format) + ")").groupby(list(by), sort=True)["t"].agg("; ".join)
        joined = report.set_index(list(by))["top_unclassified"]
        assert joined.to_dict() == text.reindex(joined.index).fillna("").to_dict()
        # The report's own finish step on the DuckDB sums gives the report exactly.
        assert_frame_equal(coverage_report_from_totals(totals, suppliers, by), report)


def test_load_trends_is_prepare_trends_without_every_row(sample: Path) -> None:
    from spendkit.views import trends as V

    council = "Blackburn with Darwen Borough Council"
    lazy = V.load_trends("blackburn with darwen", years=None, base_year=BASE_YEAR,
                         processed=sample)
    eager = V.prepare_trends(D.read_transactions(sample), council, base_year=BASE_YEAR,
                             extras=D.read_extras(sample))
    assert lazy.tx is None and lazy.code == eager.code == "E06000008"
    assert (lazy.name, lazy.publisher) == (eager.name, eager.publisher)
    assert len(lazy.mine) == len(eager.mine)
    assert lazy.mine["amount_gbp"].sum() == eager.mine["amount_gbp"].sum()
    assert lazy.my_coverage == eager.my_coverage
    assert_frame_equal(lazy.my_calendar[["month", "status"]].reset_index(drop=True),
                       eager.my_calendar[["month", "status"]].reset_index(drop=True))
    assert lazy.headline() == eager.headline()
    assert int(lazy.months["n_payments"].sum()) == len(D.read_transactions(
        sample, columns=["amount_gbp"]))


def test_peer_texts_name_the_group_and_say_plainly_when_there_is_none(sample: Path) -> None:
    from spendkit.views import trends as V

    setup = V.load_trends("Hyndburn", years=None, base_year=BASE_YEAR, processed=sample)
    pm = T.peer_measure(setup.months, setup.code, calendar=setup.calendar)
    text = V.peer_measure_text(pm)
    assert text.startswith("No peer comparison") and "nan" not in text.lower()
    assert "nearest district \\(lower\\-tier\\) neighbours of Hyndburn" in text
    assert "Burnley" in text and "(none of them in the data)" in text
    assert "per resident" in text and "net current expenditure" in text
    assert "none of the 15 peers of Hyndburn" in V.no_peer_chart_text(pm)
    # With peers given that are in the data, they are compared and named.
    given = T.peer_measure(setup.months, setup.code, calendar=setup.calendar,
                           peers=["E07000178"], min_peers=1)
    assert "Peers with data: Oxford" in V.peer_measure_text(given)


def test_overview_tables_from_sums_equal_those_from_rows(processed: Path) -> None:
    """Notebook 01's tables from month totals / per-file sums equal the row-level ones."""
    from spendkit.views import overview as ov

    tx = D.read_transactions(processed)
    months = A.month_totals(D.transactions_relation(processed),
                            ("publisher_code", "publisher_name"), parts="overview")
    assert_frame_equal(ov.spend_by_year(ov.with_financial_year(months)), ov.spend_by_year(tx))
    assert_frame_equal(ov.redaction_summary(months), ov.redaction_summary(tx))
    assert_frame_equal(ov.classification_split(months), ov.classification_split(tx))
    ledger, rejects = D.read_ledger(processed), D.read_rejects(processed)
    by_rows = ov.reconcile(ledger, tx[["source_file", "amount_gbp"]], rejects)
    by_sums = ov.reconcile(ledger, ov.file_totals(processed), rejects)
    assert_frame_equal(by_sums, by_rows)
    assert by_sums.attrs == by_rows.attrs


def test_overview_calendar_from_months(sample: Path) -> None:
    from spendkit.views import overview as ov

    tx = D.read_transactions(sample)
    months = A.month_totals(D.transactions_relation(sample), ("publisher_code", "publisher_name"))
    for years in (None, ["2022-23", "2024-25"]):
        rows, sums = ov.calendar_for_years(tx, years), ov.calendar_for_years(months, years)
        cols = ["publisher_name", "month", "status", "is_complete", "n_payments"]
        assert_frame_equal(sums[cols], rows[cols])
