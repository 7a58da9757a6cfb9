"""Ingest's batch machinery: vectorised dedupe, segment-wise enrichment, financial years."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.enrich import Enricher
from spendkit.enrich.pipeline import _encode
from spendkit.errors import InputError
from spendkit.ingest.dedupe import Seen, _dedupe
from spendkit.units.periods import financial_year_label, start_years_of_dates

# --------------------------------------------------------------------------------- dedupe


def reference(files: list[list[int]]) -> list[tuple[list[bool], list[int]]]:
    """One file at a time: a row repeats a payment while its rank among equal fingerprints in
    its file is below the times earlier files kept it."""
    kept: Counter[int] = Counter()
    first: dict[int, int] = {}
    out = []
    for j, fps in enumerate(files):
        here: Counter[int] = Counter()
        keep, dup_of = [], []
        for fp in fps:
            rank = here[fp]
            here[fp] += 1
            dup = rank < kept[fp]
            keep.append(not dup)
            dup_of.append(first[fp] if dup else -1)
        for fp, k in zip(fps, keep, strict=True):
            if k:
                kept[fp] += 1
                first.setdefault(fp, j)
        out.append((keep, dup_of))
    return out


def batched(files: list[list[int]], cuts: set[int],
            months: int = 1) -> list[tuple[list[bool], list[int]]]:
    """The same through `Seen.dedupe` on batches of files ending at each cut; a payment's
    month is a function of its fingerprint (as the date is part of a real fingerprint)."""
    seen = Seen()
    out: list[tuple[list[bool], list[int]] | None] = [None] * len(files)
    batch: list[int] = []

    def flush() -> None:
        nonlocal batch
        if not batch:
            return
        fps = np.array([fp for j in batch for fp in files[j]], np.uint64)
        which = np.array([j for j in batch for _ in files[j]], np.int64)
        keep, dup_of = seen.dedupe("p", fps, which, (fps % np.uint64(months)).astype(np.int64))
        for j in batch:
            rows = which == j
            out[j] = (keep[rows].tolist(), dup_of[rows].tolist())
        batch = []

    for j in range(len(files)):
        batch.append(j)
        if j in cuts:
            flush()
    flush()
    return out


FILES = st.lists(st.lists(st.integers(0, 6), max_size=12), max_size=8)


@settings(max_examples=150, deadline=None)
@given(files=FILES, cuts=st.sets(st.integers(0, 8)), months=st.integers(1, 4))
def test_batched_dedupe_equals_one_file_at_a_time(files: list[list[int]], cuts: set[int],
                                                  months: int) -> None:
    assert batched(files, cuts, months) == reference(files)


def test_dedupe_counts_a_multiset_and_names_the_first_file() -> None:
    # File 0 has payment 7 twice; file 1 three times (one new); file 2 repeats 7 once.
    files = [[7, 7, 8], [7, 9, 7, 7], [7]]
    got = batched(files, cuts=set())
    assert got[0] == ([True, True, True], [-1, -1, -1])
    assert got[1] == ([False, True, False, True], [0, -1, 0, -1])
    assert got[2] == ([False], [0])
    assert batched(files, cuts={0, 1}) == got


def test_large_fingerprints_and_empty_batches() -> None:
    big = np.array([2**64 - 1, 2**63, 2**64 - 1], np.uint64)
    keep, dup_of, state = _dedupe(None, big, np.array([0, 0, 1], np.int64))
    assert keep.tolist() == [True, True, False] and dup_of.tolist() == [-1, -1, 0]
    assert state.keys().tolist() == [2**63, 2**64 - 1]
    assert state.find(state.keys())[1].tolist() == [1, 1]
    keep, dup_of, same = _dedupe(state, np.zeros(0, np.uint64), np.zeros(0, np.int64))
    assert len(keep) == 0 and same is state


def test_state_stays_a_few_runs_however_often_a_month_is_published() -> None:
    state = None
    rng = np.random.default_rng(5)
    for j in range(200):  # the same month published 200 times, new payments each time
        fps = rng.integers(0, 2**63, 50, dtype=np.uint64)
        _keep, _dup, state = _dedupe(state, fps, np.full(50, j, np.int64))
    assert len(state.keys()) == 10_000 and len(state.runs) <= 14


# ---------------------------------------------------------------------- enrich by segments

NAMES = ["Facultatieve Technologies Ltd", "Facultative Technologies", "FACULTATIVE TECHNOLOGIES",
         "Bytes Software Services Ltd", "Phoenix Software Ltd", "PHOENIX FUTURES", "BT PLC",
         "Softcat Ltd", "Softcat", "Kent County Council", "Gwent County Council", ""]
EXPENSES = ["ICT : Software", "Rents", "Computer Software & Equipment", "Telephones", ""]


def _table(names: list[str], expenses: list[str]) -> pa.Table:
    return pa.table({"supplier_name": pa.array(names, pa.string()),
                     "expense_type": pa.array(expenses, pa.string()),
                     "amount_gbp": pa.array([15000.0] * len(names))})


@settings(max_examples=15, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(EXPENSES)),
                     min_size=1, max_size=25),
       cuts=st.sets(st.integers(0, 25)))
def test_enrich_arrow_segments_equal_one_call_per_segment(rows: list[tuple[str, str]],
                                                           cuts: set[int]) -> None:
    table = _table([r[0] for r in rows], [r[1] for r in rows])
    bounds = [0, *sorted(c for c in cuts if c < len(rows)), len(rows)]
    segments = [b - a for a, b in zip(bounds, bounds[1:], strict=False)]
    one_by_one = Enricher()
    expected = pa.concat_tables([one_by_one.enrich_arrow(table.slice(a, b - a))
                                 for a, b in zip(bounds, bounds[1:], strict=False)])
    got = Enricher().enrich_arrow(table, segments=segments)
    assert got.equals(expected)


def test_enrich_arrow_segments_must_cover_the_table() -> None:
    with pytest.raises(InputError, match="segments add up to 1"):
        Enricher().enrich_arrow(_table(["BT PLC", "Softcat"], ["", ""]), segments=[1])


def test_encode_takes_a_clean_dictionary_as_it_is_and_re_encodes_others() -> None:
    plain = pa.array(["b", None, "a", "b", ""], pa.string())
    idx, values = _encode(plain, 5)
    assert [values[i] for i in idx] == ["b", "", "a", "b", ""]
    clean = pa.array(["b", "a", "b"]).dictionary_encode()
    idx, values = _encode(clean, 3)
    assert values == ["b", "a"] and idx.tolist() == [0, 1, 0]
    # An unused value, a null or a repeated value: decoded and encoded again.
    unused = pa.DictionaryArray.from_arrays(pa.array([1, 1], pa.int32()), ["x", "a"])
    idx, values = _encode(unused, 2)
    assert values == ["a"] and idx.tolist() == [0, 0]
    nulls = pa.DictionaryArray.from_arrays(pa.array([0, None], pa.int32()), ["x"])
    idx, values = _encode(nulls, 2)
    assert [values[i] for i in idx] == ["x", ""]
    repeated = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), ["x", "x"])
    idx, values = _encode(repeated, 2)
    assert values == ["x"] and idx.tolist() == [0, 0]


# ------------------------------------------------------------------------ financial years

@given(st.lists(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9998, 12, 31)),
                max_size=30))
def test_financial_year_starts_match_the_april_rule(dates: list[dt.date]) -> None:
    arr = pa.array(dates, pa.date32())
    labels = [financial_year_label(int(y)) for y in start_years_of_dates(arr)]
    # 1 April to 31 March, written out by hand as the reference.
    assert labels == [f"{d.year - (d.month < 4)}-{(d.year - (d.month < 4) + 1) % 100:02d}"
                      for d in dates]


def test_financial_year_boundary() -> None:
    arr = pa.array([dt.date(2022, 3, 31), dt.date(2022, 4, 1), dt.date(1999, 12, 31)])
    assert start_years_of_dates(arr).tolist() == [2021, 2022, 1999]
    assert financial_year_label(1999) == "1999-00"


# ------------------------------------------------------- dropped rows, extras, other text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=0, max_size=300), st.integers(1, 4))
def test_without_rows_is_a_filter(keep: list[bool], chunks: int) -> None:
    from spendkit.ingest.batches import without_rows

    n = len(keep)
    values = pa.array([f"v{i}" for i in range(n)], pa.string())
    cut = sorted({0, n, *(n * k // chunks for k in range(1, chunks))})
    table = pa.Table.from_batches(
        [pa.record_batch([values.slice(a, b - a), pa.array(range(a, b), pa.int64())],
                         names=["s", "i"]) for a, b in zip(cut, cut[1:], strict=False)],
        schema=pa.schema([("s", pa.string()), ("i", pa.int64())]))
    mask = np.array(keep, dtype=bool)
    assert without_rows(table, mask).to_pylist() == table.filter(pa.array(mask)).to_pylist()


def test_extras_columns_reads_rows_holding_different_names() -> None:
    from spendkit.ingest.write import extras_columns, extras_map

    first = extras_map({"Cost Centre": pa.array(["ICT", None]), "Ref": pa.array(["1", "2"])}, 2)
    second = extras_map({"Merchant": pa.array(["Dell"])}, 1)
    cols = extras_columns(pa.chunked_array([first, second]))
    assert list(cols) == ["Cost Centre", "Merchant", "Ref"]
    assert cols["Cost Centre"].to_pylist() == ["ICT", None, None]
    assert cols["Merchant"].to_pylist() == [None, None, "Dell"]
    assert extras_columns(first.slice(1))["Ref"].to_pylist() == ["2"]
    assert extras_columns(extras_map({}, 3)) == {}


def test_other_text_of_a_file_is_what_published_text_reads_in_its_loaded_table() -> None:
    """The other text ingest computes from a file's stored form (optional fields, extras as
    a map with names sorted) is `published_text` of its loaded table, in any column order."""
    from spendkit.enrich.pipeline import published_text
    from spendkit.ingest.batches import canonical_input
    from spendkit.ingest.write import OTHER_TEXT
    from spendkit.schema import transaction_schema

    n = 4
    base = {f.name: pa.nulls(n, f.type) for f in transaction_schema()}
    loaded = pa.table({**base,
                       "Zeta Category": pa.array(["ICT : Software", None, "Furniture", ""]),
                       "Cost Centre Name": pa.array(["Mainframe Associated Costs", "Parks",
                                                     None, "Parks"]),
                       "expense_category": pa.array(["Computer Software", "", "", ""]),
                       "VAT Number": pa.array(["GB1", "GB2", "GB3", "GB4"])})
    rows = canonical_input(loaded)
    expected = published_text(loaded.select(["Zeta Category", "Cost Centre Name",
                                              "expense_category", "VAT Number"]))
    assert rows.column(OTHER_TEXT).to_pylist() == expected.to_pylist()
    assert "Mainframe Associated Costs" in rows.column(OTHER_TEXT)[0].as_py()
    # Columns given in another order read the same (ingest keeps names sorted).
    assert published_text(loaded.select(["VAT Number", "expense_category", "Cost Centre Name",
                                         "Zeta Category"])).equals(expected)
