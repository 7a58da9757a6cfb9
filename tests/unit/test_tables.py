"""The one table helper: money, percentages, headers, row limits, escaping, no nan."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from spendkit.errors import InputError
from spendkit.views.tables import MISSING, format_value, header_for, infer_kind, table

MONEY = pd.ArrowDtype(pa.decimal128(18, 2))


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "publisher_name": ["Leeds <b>", "Oxford"],
        "amount_gbp": pd.Series([Decimal("1234567.89"), None], dtype=MONEY),
        "change_pct": [4.25, float("nan")],
        "it_share": [0.1234, None],
        "is_complete": [True, False],
        "months_missing": [0, 3],
        "payment_date": pd.to_datetime(["2024-04-01", "2025-03-31"]),
    })


@pytest.mark.parametrize(("name", "kind"), [
    ("amount_gbp", "money"), ("change_pct", "pct"), ("it_share", "share"),
    ("is_complete", "bool"), ("months_missing", "int"), ("payment_date", "date"),
    ("publisher_name", "text"),
])
def test_kinds_are_inferred_from_names_and_dtypes(name, kind):
    assert infer_kind(name, _frame()[name]) == kind


@pytest.mark.parametrize(("value", "kind", "kwargs", "shown"), [
    (Decimal("950974.07"), "money", {}, "£950,974"),
    (Decimal("950974.07"), "money", {"pence": True}, "£950,974.07"),
    (563940.0, "money", {}, "£563,940"),
    (4.545454545454541, "pct", {}, "4.5%"),
    (4.5, "pct", {"signed": True}, "+4.5%"),
    (0.25, "share", {}, "25.0%"),
    (float("nan"), "pct", {}, MISSING),
    (None, "money", {}, MISSING),
    (pd.NA, "int", {}, MISSING),
    (pd.NaT, "date", {}, MISSING),
    (None, "text", {}, ""),
    (12345, "int", {}, "12,345"),
    (True, "bool", {}, "yes"),
    (pd.Timestamp("2024-04-01"), "month", {}, "Apr 2024"),
    (pd.Timestamp("2024-04-01"), "date", {}, "1 Apr 2024"),
    # A word in a number column (a threshold nobody recorded) is data, shown as it is.
    ("unknown", "money", {}, "unknown"),
    ("varies", "pct", {}, "varies"),
    ("500", "money", {}, "£500"),
])
def test_format_value(value, kind, kwargs, shown):
    assert format_value(value, kind, **kwargs) == shown


def test_headers_are_human():
    assert header_for("publisher_name") == "Council"
    assert header_for("months_missing") == "Months missing"
    assert header_for("it_pct") == "IT %"
    assert header_for("top5_share_pct") == "Top5 share %"
    assert header_for("amount_gbp_real") == "Real terms"


def test_table_formats_escapes_and_has_no_index_or_nan():
    t = table(_frame())
    html = t._repr_html_()
    assert "<th>Council</th>" in html and "£1,234,568" in html and "+4.2%" in html
    assert "Leeds &lt;b&gt;" in html and "<b>" not in html.replace("<tbody>", "")
    assert "nan" not in html.lower() and "&lt;NA&gt;" not in html and "<NA>" not in repr(t)
    assert "12.3%" in html and "yes" in html and "1 Apr 2024" in html
    assert 'class="sk-table"' in html and "<th></th>" not in html  # no index column


def test_top_n_of_m_note_and_full_frame_kept_for_exports():
    df = pd.DataFrame({"supplier": [f"S{i}" for i in range(30)], "amount_gbp": range(30)})
    t = table(df, max_rows=10, sort_by="amount_gbp", what="suppliers")
    assert t.shown == 10 and len(t.to_frame()) == 30
    assert t.note == "Top 10 of 30 suppliers, by amount."
    assert t.formatted()["Supplier"].tolist()[0] == "S29"


def test_empty_table_says_so_without_a_grid():
    t = table(pd.DataFrame({"file": []}), what="files")
    assert t.note == "No files."
    assert "<table" not in t._repr_html_()


def test_transpose_puts_councils_in_columns():
    t = table(_frame()[["publisher_name", "amount_gbp", "months_missing"]], transpose=True)
    shown = t.formatted()
    assert list(shown.columns) == ["", "Leeds <b>", "Oxford"]
    assert shown.iloc[0].tolist() == ["Amount", "£1,234,568", MISSING]


def test_code_like_values_read_as_words():
    t = table(pd.DataFrame({"it_category": ["software_licences", None]}))
    assert t.formatted()["IT category"].tolist() == ["Software licences", ""]


def test_bad_arguments_fail_with_one_clear_line():
    with pytest.raises(InputError, match="column\\(s\\) \\['nope'\\] not in the table"):
        table(_frame(), columns=["nope"])
    with pytest.raises(InputError, match="unknown kind"):
        table(_frame(), kinds={"amount_gbp": "euros"})
    with pytest.raises(InputError, match="max_rows"):
        table(_frame(), max_rows=0)


def test_a_zero_that_is_a_finding_is_said_in_words() -> None:
    """An observed threshold of 0 means payments of every size are published, not '£0'."""
    facts = pd.DataFrame({"publisher_code": ["E1", "E2"], "observed_threshold_gbp": [500, 0]})
    shown = table(facts).formatted()
    assert shown["Observed threshold"].tolist() == ["£500", "none (all sizes)"]
    assert facts["observed_threshold_gbp"].tolist() == [500, 0]  # the caller's frame untouched
