"""The synthetic sample: reproducible bytes, exact manifest totals, real-file quirks present."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spendkit.errors import InputError
from spendkit.sample import (
    BWD_M365_PRE_RENEWAL_PENCE,
    BWD_M365_RENEWAL_PENCE,
    FINANCIAL_YEARS,
    MANIFEST_NAME,
    SAMPLE_COUNCILS,
    format_amounts,
    format_dates,
    generate_sample,
    pence_to_gbp,
    sample_frame,
)

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "data" / "sample" / "raw"
AMOUNT_HEADERS = {"Amount", "Net Amount(£)", "Net Amount (£)", "Amount Paid", "NetAmount"}
DATE_HEADERS = {"Payment Date", "Payment date", "PaymentDate", "Paid Date", "DatePaid"}
DATE_FORMATS = ("%d/%m/%Y", "%d-%b-%y", "%Y-%m-%d", "%d %b %Y")


# --- an independent reader (deliberately not spendkit's loader) --------------------------------
def parse_amount(text: str) -> Decimal:
    """'£1,234.56', '(1,234.56)', '1,234.56-', '-£5.00' -> Decimal."""
    s = text.strip()
    neg = s.startswith(("-", "(")) or s.endswith("-")
    digits = s.strip("()-").replace("£", "").replace(",", "").strip("-")
    value = Decimal(digits)
    return -value if neg else value


def parse_date(text: str) -> date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def read_csv_rows(data: bytes, encoding: str, header_line: int) -> list[tuple[date, Decimal]]:
    rows = list(csv.reader(io.StringIO(data.decode(encoding), newline="")))
    header = rows[header_line - 1]
    a = next(i for i, h in enumerate(header) if h in AMOUNT_HEADERS)
    d = next(i for i, h in enumerate(header) if h in DATE_HEADERS)
    out = []
    for i, row in enumerate(rows):
        # Transactions have a date: skips the header, totals lines, junk and empty lines.
        if i != header_line - 1 and len(row) > d and row[d].strip():
            out.append((parse_date(row[d]), parse_amount(row[a])))
    return out


def read_file(path: Path, fmt: str, encoding: str, header_line: int):
    data = path.read_bytes()
    if fmt == "csv":
        return read_csv_rows(data, encoding, header_line)
    if fmt == "zip":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [r for name in zf.namelist() for r in read_csv_rows(zf.read(name), "utf-8", 1)]
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    out = []
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        a, d = rows[0].index("Amount"), rows[0].index("Payment Date")
        out += [(r[d].date(), Decimal(repr(r[a])).quantize(Decimal("0.01"))) for r in rows[1:]]
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, pd.DataFrame, list[Path]]:
    out = tmp_path_factory.mktemp("sample")
    paths = generate_sample(out)
    manifest = pd.read_csv(out / MANIFEST_NAME, dtype=str, keep_default_na=False)
    return out, manifest, paths


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return sample_frame()


@pytest.fixture(scope="module")
def parsed(sample) -> dict[str, list[tuple[date, Decimal]]]:
    """Every sample file read by the independent reader above, by manifest path."""
    out, manifest, _ = sample
    return {rec.path: read_file(out / rec.path, rec.format, rec.encoding, int(rec.header_line))
            for rec in manifest.itertuples()}


# --- determinism --------------------------------------------------------------------------------
def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "README.md"}


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    # A tiny scale keeps this fast and checks that one-row months still make every file.
    a = generate_sample(tmp_path / "a", seed=7, scale=0.001)
    b = generate_sample(tmp_path / "b", seed=7, scale=0.001)
    assert [p.relative_to(tmp_path / "a") for p in a] == [p.relative_to(tmp_path / "b") for p in b]
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert len(a) == 238
    assert pd.read_csv(tmp_path / "a" / MANIFEST_NAME)["rows"].min() >= 1
    generate_sample(tmp_path / "c", seed=8, scale=0.001)
    c = _tree(tmp_path / "c")
    assert c.keys() == _tree(tmp_path / "a").keys()
    assert c != _tree(tmp_path / "a")


def test_committed_sample_is_the_default_generation(sample) -> None:
    out, _, _ = sample
    assert _tree(COMMITTED) == _tree(out), "data/sample/raw is stale: rerun `spendkit sample`"


def test_xlsx_and_zip_members_have_fixed_timestamps(sample) -> None:
    out, manifest, _ = sample
    for rel in manifest.loc[manifest["format"].isin(["xlsx", "zip"]), "path"]:
        with zipfile.ZipFile(out / rel) as zf:
            assert {i.date_time for i in zf.infolist()} == {(2026, 4, 1, 0, 0, 0)}
            if rel.endswith(".xlsx"):
                core = zf.read("docProps/core.xml").decode()
                assert "2026-04-01T00:00:00Z" in core


# --- manifest against an independent reading of the files ---------------------------------------
def test_manifest_rows_and_totals_match_the_files(sample, parsed, frame) -> None:
    out, manifest, paths = sample
    assert sorted(out / p for p in manifest["path"]) == paths
    grand = Decimal(0)
    for rec in manifest.itertuples():
        rows = parsed[rec.path]
        assert len(rows) == int(rec.rows), rec.path
        total = sum((amt for _, amt in rows), Decimal(0))
        assert total == Decimal(rec.total_gbp), rec.path
        grand += total
    assert grand == frame["amount_gbp"].sum()
    assert int(manifest["rows"].astype(int).sum()) == len(frame)


def test_every_council_has_at_least_four_financial_years(sample, parsed) -> None:
    _, manifest, _ = sample
    years: dict[str, set[int]] = defaultdict(set)
    for rec in manifest.itertuples():
        for d, _ in parsed[rec.path]:
            years[rec.council].add(d.year if d.month >= 4 else d.year - 1)
    assert set(years) == {c.name for c in SAMPLE_COUNCILS}
    for council, fys in years.items():
        assert len(fys) >= 4, council
        assert fys == set(FINANCIAL_YEARS), council


def test_sample_is_small_and_says_synthetic(sample) -> None:
    out, _, paths = sample
    files = [p for p in out.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 3 * 1024 * 1024
    assert all(p.name.startswith("SYNTHETIC-") for p in files)
    for p in paths:
        if p.suffix == ".zip":
            assert all(n.startswith("SYNTHETIC-") for n in zipfile.ZipFile(p).namelist())
    readme = (COMMITTED / "README.md").read_text(encoding="utf-8")
    assert "SYNTHETIC" in readme and "20260401" in readme


# --- the quirks of real files are present -------------------------------------------------------
def test_formats_encodings_and_amount_styles_are_all_present(sample) -> None:
    out, manifest, _ = sample
    assert set(manifest["format"]) == {"csv", "xlsx", "zip"}
    assert {"utf-8-sig", "cp1252", "utf-8"} <= set(manifest["encoding"])
    raw = {p: (out / p).read_bytes() for p in manifest["path"] if p.endswith(".csv")}
    joined = b"\n".join(raw.values())
    assert b"Net Amount(\xa3)" in joined  # cp1252 pound sign in a header
    assert b'"\xa31,' in joined  # '£1,234.56' amounts
    assert any(b.startswith(b"\xef\xbb\xbf") for b in raw.values())  # UTF-8 BOM
    for pattern in (rb'"\d{1,3},\d{3}\.\d\d-"', rb'"\(\d{1,3},\d{3}\.\d\d\)"',
                    rb",\d+\.\d\d,", rb"\d\d-[A-Z][a-z]{2}-\d\d", rb"\d{4}-\d\d-\d\d",
                    rb",\d{1,2} [A-Z][a-z]{2} \d{4},", rb"\d\d/\d\d/\d{4}"):
        assert any(re.search(pattern, b) for b in raw.values()), pattern
    assert b"REDACTED" in joined and b"Redacted personal data" in joined
    notes = " ".join(manifest["notes"])
    assert "'Total' row" in notes and "grand-total" in notes and "LAST line" in notes
    bottom = manifest[manifest["notes"].str.contains("LAST line")].iloc[0]
    lines = (out / bottom["path"]).read_bytes().split(b"\r\n")
    assert lines[int(bottom["header_line"]) - 1].startswith(b"Department Area")


def test_bwd_microsoft_payments_follow_the_published_deal(frame) -> None:
    f = frame
    ms = f[(f["publisher_code"] == "E06000008")
           & f["description"].str.startswith("Microsoft 365 E5 annual subscription")]
    assert set(ms["supplier_name"]) == {"Phoenix Software Ltd"}
    assert [d.month for d in ms["payment_date"]] == [7] * 5
    assert [d.year for d in ms["payment_date"]] == [2021, 2022, 2023, 2024, 2025]
    pence = [int(a * 100) for a in ms["amount_gbp"]]
    assert pence == [BWD_M365_PRE_RENEWAL_PENCE] * 4 + [BWD_M365_RENEWAL_PENCE]
    assert BWD_M365_RENEWAL_PENCE == 670_000_00


def test_it_is_a_few_percent_and_traps_are_not_it(frame) -> None:
    f = frame
    amount = f["amount_gbp"].astype(float)
    for code, g in f.assign(a=amount).groupby("publisher_code"):
        share = g.loc[g["is_it_truth"], "a"].sum() / g["a"].sum()
        assert 0.02 < share < 0.08, (code, share)
    traps = {"PHOENIX FUTURES", "NORTHGATE VEHICLE HIRE LTD", "Capita Resourcing Ltd",
             "Oracle Care Ltd", "Capital Cleaning Ltd"}
    seen = f[f["supplier_name"].isin(traps)]
    assert set(seen["supplier_name"]) == traps
    assert not seen["is_it_truth"].any()
    it_names = set(f.loc[f["is_it_truth"], "supplier_name"])
    for vendor in ("Phoenix Software Ltd", "Liquidlogic Ltd", "Civica UK Ltd", "Vodafone Ltd",
                   "Computacenter (UK) Ltd", "Softcat plc"):
        assert vendor in it_names


def test_some_it_payments_are_mislabelled(sample) -> None:
    out, manifest, _ = sample
    text = (out / manifest[manifest["path"].str.contains("bwd-spend")]["path"]).map(
        lambda p: p.read_bytes().decode("utf-8-sig"))
    rows = [r for t in text for r in csv.reader(io.StringIO(t, newline=""))]
    labels = {(r[1], r[7]) for r in rows if len(r) == 8 and r[1] == "Digital & Customer Services"}
    assert {lab for _, lab in labels} >= {"IT Software Licences", "Telephones",
                                          "Professional Services", "Supplies & Services"}


def test_scale_multiplies_generated_rows(frame) -> None:
    ratio = len(frame) / len(sample_frame(scale=0.5))
    assert 1.9 < ratio < 2.1


# --- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, word", [
    ({"scale": 0}, "scale"), ({"scale": -1.0}, "scale"), ({"scale": float("nan")}, "scale"),
    ({"seed": -1}, "seed"), ({"seed": "x"}, "seed"),
])
def test_bad_parameters_raise_clear_errors(tmp_path: Path, kwargs, word) -> None:
    with pytest.raises(InputError, match=word):
        generate_sample(tmp_path, **kwargs)


def test_out_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "x"
    f.write_text("")
    with pytest.raises(InputError, match="expected a folder"):
        generate_sample(f)


# --- formatting helpers ------------------------------------------------------------------------
@given(st.lists(st.integers(-10**13, 10**13), min_size=1, max_size=50),
       st.booleans(), st.sampled_from(["", "£"]),
       st.sampled_from(["leading", "trailing", "brackets"]))
@settings(max_examples=40, deadline=None)
def test_format_amounts_round_trips(pence, thousands, currency, negative) -> None:
    text = format_amounts(np.array(pence), thousands=thousands, currency=currency,
                          negative=negative)
    back = [int(parse_amount(t) * 100) for t in text]
    assert back == pence
    exact = [pence_to_gbp(p) for p in pence]
    assert [Decimal(t) * 100 for t in exact] == pence
    assert all(re.fullmatch(r"-?\d+\.\d\d", t) for t in exact)


def test_format_amounts_examples() -> None:
    p = np.array([123456, -1698900, 5, -5, 100000000])
    assert format_amounts(p, thousands=True).tolist() == [
        "1,234.56", "-16,989.00", "0.05", "-0.05", "1,000,000.00"]
    assert format_amounts(p, thousands=True, negative="trailing")[1] == "16,989.00-"
    assert format_amounts(p, thousands=True, negative="brackets")[1] == "(16,989.00)"
    assert format_amounts(p, currency="£")[1] == "-£16989.00"
    assert format_amounts(np.array([], dtype=np.int64)).tolist() == []
    with pytest.raises(InputError, match="negative"):
        format_amounts(p, negative="red")


@given(st.lists(st.dates(min_value=date(1969, 1, 1), max_value=date(2068, 12, 31)),
                min_size=1, max_size=30),
       st.sampled_from(["%d/%m/%Y", "%d-%b-%y", "%Y-%m-%d", "%-d %b %Y", "%d %B %Y"]))
@settings(max_examples=40, deadline=None)
def test_format_dates_round_trips(days, fmt) -> None:
    text = format_dates(np.array(days, dtype="datetime64[D]"), fmt)
    back = [datetime.strptime(t, fmt.replace("%-d", "%d")).date() for t in text]
    assert back == days


def test_format_dates_examples() -> None:
    d = np.array(["2023-04-03", "2025-12-31"], dtype="datetime64[D]")
    assert format_dates(d, "%-d %b %Y").tolist() == ["3 Apr 2023", "31 Dec 2025"]
    assert format_dates(d, "%d-%b-%y").tolist() == ["03-Apr-23", "31-Dec-25"]


# --- the loader on the sample ------------------------------------------------------------------
def representative_files(manifest: pd.DataFrame) -> pd.DataFrame:
    """One file per council and layout/quirk set, plus Blackburn's Microsoft payment months.

    Loading all 238 files takes ~20 s, too slow for a unit test; every layout is covered here.
    """
    base = manifest["notes"].str.replace(r"; (redacted|Microsoft 365 E5).*", "", regex=True)
    first = manifest.groupby([manifest["council"], base], sort=True).head(1)
    ms = manifest[manifest["notes"].str.contains("Microsoft 365 E5")].tail(1)  # the renewal
    return pd.concat([first, ms]).drop_duplicates("path").sort_values("path")


def test_loader_reads_sample_files_to_the_penny(sample) -> None:
    import spendkit

    out, manifest, _ = sample
    picked = representative_files(manifest)
    assert len(picked) >= 13
    try:
        spendkit.load(out / picked.iloc[0]["path"])
    except NotImplementedError:
        pytest.skip("spendkit.load still raises NotImplementedError (loader not landed yet)")
    for rec in picked.itertuples():
        tx = spendkit.load(out / rec.path).transactions
        assert len(tx) == int(rec.rows), rec.path
        assert Decimal(str(tx["amount_gbp"].sum())) == Decimal(rec.total_gbp), rec.path
        assert set(tx["publisher_code"]) == {rec.gss_code}, rec.path


def test_fast_xlsx_rows_match_what_openpyxl_writes() -> None:
    from openpyxl import Workbook

    from spendkit import sample as sm

    council = SAMPLE_COUNCILS[-1]
    frame = sm._council_frame(council, 4, 5, 0.1).iloc[:40]
    fast = sm._sheet_rows_xml(sm._leeds_sheet_values(council, frame), 2)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("s")
    ws.append(sm._XLSX_HEADER)
    for r in frame.itertuples():
        ws.append([council.name, sm._AREAS["leeds"][r.service_group],
                   sm._labels(frame.loc[[r.Index]], "leeds")[0], r.description,
                   r.payment_date.date(), 5_000_000 + r.seq, r.pence / 100, r.supplier_name])
    buf = io.BytesIO()
    wb.save(buf)
    sheet = zipfile.ZipFile(buf).read("xl/worksheets/sheet1.xml").decode()
    rows = sheet.split("</row>", 1)[1].split("</sheetData>")[0]

    def numbers_as_floats(xml: str) -> str:  # openpyxl writes '%.16g'; we write exact decimals
        return re.sub(r"<v>([^<]+)</v>", lambda m: f"<v>{float(m.group(1))!r}</v>", xml)

    assert numbers_as_floats(fast) == numbers_as_floats(rows)
