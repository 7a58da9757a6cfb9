"""The fast path (Arrow over the bytes) decides exactly what the careful path decides.

Every check loads the same bytes twice, once as shipped and once with the fast path switched
off, and compares the kept table, the rejects and the ledger.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spendkit
import spendkit.loader

LOAD = spendkit.loader


HEADER = "Payment Date,Supplier Name,Expense Type,Amount,Ref"


@pytest.mark.parametrize("body, fast_expected", [
    (HEADER + "\n01/04/2024,Acme,ICT,£1.50,A1\n", True),
    ("Spend over £500\n\n" + HEADER + "\r\n01/04/2024,Acme,ICT,10,A\r\n\r\n\r\n", True),
    (HEADER + "\n01/04/2024,Acme,ICT,10,A,,\n02/04/2024,B,ICT,5\n03/04/2024,C,X,1,2,3\n", True),
    (HEADER + "\n01/04/2024,Acme,ICT,10,A\n,,,,\n  \nTotal,,,10,\n", True),
    (HEADER + '\n01/04/2024,"Acme\nLtd",ICT,10,A\n', False),  # quoted line break
    (HEADER + "\n01/04/2024,Acme,ICT,10,A\n\n02/04/2024,B,ICT,5,B\n", False),  # blank mid-file
    ("01/04/2024,Acme,ICT,10,A\n" + HEADER + "\n", False),  # header below the data
    (HEADER + "\r01/04/2024,Acme,ICT,(10.00),A\r02/04/2024,B,ICT,5-,B\r", True),  # CR only
])
def test_fast_path_agrees_on_quirks(tmp_path: Path, body: str, fast_expected: bool,
                                    paths_agree) -> None:
    path = tmp_path / "q.csv"
    path.write_bytes(body.encode("utf-8"))
    fast, careful = paths_agree(path)
    assert (fast.ledger.parse_path == "arrow") == fast_expected
    assert careful.ledger.parse_path != "arrow"


def test_fast_path_is_taken_and_falls_back(tmp_path: Path) -> None:
    (tmp_path / "ok.csv").write_bytes((HEADER + "\n01/04/2024,Acme,ICT,1,A\n").encode())
    (tmp_path / "bad.csv").write_bytes((HEADER + '\n01/04/2024,"A\nB",ICT,1,A\n').encode())
    taken = []
    real = LOAD.regular_grid
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(LOAD, "regular_grid", lambda *a, **k: taken.append(r := real(*a, **k)) or r)
        spendkit.load(tmp_path / "ok.csv")
        spendkit.load(tmp_path / "bad.csv")
    assert taken[0] is not None and taken[1] is None


CELLS = st.sampled_from(["Acme Ltd", " Beta plc ", "", "Total", "£1,234.56", "(12.00)", "7-",
                         "01/04/2024", "13/04/2024", "2024-04-02", '"quoted, comma"', "x\xa0y",
                         "Café", "n/a", "0.005", "ICT : Software", '""'])
ROW = st.lists(CELLS, min_size=3, max_size=7)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, min_size=0, max_size=12), end=st.sampled_from(["\n", "\r\n", "\r"]),
       preamble=st.integers(0, 2), trailing=st.integers(0, 2), bom=st.booleans())
def test_fast_path_agrees_on_random_files(tmp_path: Path, paths_agree, rows: list[list[str]],
                                         end: str, preamble: int, trailing: int,
                                         bom: bool) -> None:
    lines = ["Published spending"] * preamble + [HEADER] + [",".join(r) for r in rows]
    text = end.join(lines) + end * (1 + trailing)
    path = tmp_path / "r.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    paths_agree(path)


def test_load_gives_the_same_results_from_threads(tmp_path: Path) -> None:
    """Ingest loads files in threads: results must not depend on it (caches are shared)."""
    from concurrent.futures import ThreadPoolExecutor

    paths = []
    for i in range(8):
        p = tmp_path / f"t{i}.csv"
        rows = "".join(f"{d:02d}/0{1 + i % 9}/2024,Supplier {d % 5},ICT,{d}.{i:02d}\n"
                       for d in range(1, 29))
        p.write_bytes((HEADER.rsplit(",", 1)[0] + "\n" + rows).encode())
        paths.append(p)
    serial = [spendkit.load(p) for p in paths]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(spendkit.load, paths * 3))
    for i, r in enumerate(threaded):
        assert r.table.equals(serial[i % 8].table)
        assert r.ledger.date_format == "dd/mm/yyyy"


@settings(max_examples=300)
@given(st.lists(st.text(alphabet=' ",\tab£\r', max_size=4), max_size=20), st.integers(0, 5))
def test_filler_candidates_read_off_the_buffers(values: list[str], offset: int) -> None:
    """Rows picked by first byte are the empty cells and those starting with a filler byte."""
    import pyarrow as pa

    from spendkit.extract.fastcsv import _empty_or_starting_with

    col = pa.array(values, pa.string()).slice(min(offset, len(values)))  # slices too
    expected = [i for i, v in enumerate(col.to_pylist()) if v == "" or v[0] in ',"\t\r ']
    assert _empty_or_starting_with(col, b',"\t\r ').tolist() == expected
