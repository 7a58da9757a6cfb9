"""Synthetic sample spending files: seeded, byte-reproducible, shaped like real councils' files.

`generate_sample(out_dir)` writes monthly / quarterly CSVs, one XLSX workbook (a sheet per month)
and one ZIP of CSVs for five councils over the financial years 2021-22 to 2025-26, plus
`SYNTHETIC-manifest.csv` recording each file's row count and exact total. Every row is invented;
only the layouts, label styles and one council's Microsoft deal imitate published facts (see
`data/raw/README.md`). Amounts are generated as integer pence and formatted from them, so the
manifest totals are exact.

What the sample contains is data, in `package_data/sample/`: the councils (`councils.csv`),
their file layouts (`layouts.yaml`), the supplier catalogue (`suppliers.yaml`), label and
service-area wording (`kinds.csv`, `service_areas.csv`), the annual licence payments
(`annual_payments.csv`) and the council profiles shipped with it (`councils/*.yaml`:
Blackburn with Darwen's published Microsoft facts). This module only generates.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from spendkit.errors import InputError
from spendkit.reference import catalogue
from spendkit.units.money import AMOUNT_TYPE
from spendkit.units.periods import FIRST_MONTH, start_years_of_months

#: Name of the manifest written beside the sample files (it is not a spending file).
MANIFEST_NAME = "SYNTHETIC-manifest.csv"
#: Every generated file name starts with this, so nobody mistakes the sample for real data.
PREFIX = "SYNTHETIC-"
DEFAULT_SEED = 20260401
#: First calendar year of each financial year covered (2021-22 ... 2025-26).
FINANCIAL_YEARS: tuple[int, ...] = (2021, 2022, 2023, 2024, 2025)

# Fixed timestamp for XLSX/ZIP members so the same seed gives the same bytes.
_FIXED_TIME = (2026, 4, 1, 0, 0, 0)
_MONTH_ABBR = np.array(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
)
_MONTH_NAME = np.array(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"]
)
#: Share of IT payments booked under a council's generic labels, as councils do.
_MISLABEL_RATE = 0.12
#: IT suppliers' weight relative to the others (~8% of rows, a few percent of value).
_IT_WEIGHT = 0.3
_CREDIT_RATE = 0.025


@dataclass(frozen=True)
class SampleCouncil:
    """A council in the synthetic sample (real name and GSS code; every row invented)."""

    slug: str
    name: str
    gss_code: str
    style: str
    rows_per_month: int
    threshold_pence: int
    social_care: bool
    redacted_label: str
    amount_scale: float
    generic_labels: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class SupplierProfile:
    """A supplier kind in the sample's catalogue (package_data/sample/suppliers.yaml)."""

    kind: str
    names: tuple[str, ...]
    weight: float
    median_gbp: float
    sigma: float
    descriptions: tuple[str, ...]
    social_care_only: bool


# The sample's profiles are data (package_data/sample/, catalogued as sample_*): the councils
# and their layouts, the supplier catalogue, label and service-area wording, annual payments.
def _table(name: str) -> pd.DataFrame:
    return catalogue.read_csv(name)


def _yaml(name: str):
    return yaml.safe_load(catalogue.path(name).read_text(encoding="utf-8"))


SAMPLE_COUNCILS: tuple[SampleCouncil, ...] = tuple(
    SampleCouncil(r.slug, r.name, r.gss_code, r.style, int(r.rows_per_month),
                  int(r.threshold_pence), r.social_care == "true", r.redacted_label,
                  float(r.amount_scale), (r.generic_label_1, r.generic_label_2))
    for r in _table("sample_councils").itertuples(index=False))
_PROFILES: tuple[SupplierProfile, ...] = tuple(
    SupplierProfile(p["kind"], tuple(p["names"]), p["weight"], p["median_gbp"], p["sigma"],
                    tuple(p["descriptions"]), p["social_care_only"])
    for p in _yaml("sample_suppliers"))
_KIND_TABLE = _table("sample_kinds").set_index("kind")
_IT_CATEGORY = {k: v for k, v in _KIND_TABLE["it_category"].items() if v}
_GROUP = _KIND_TABLE["service_group"].to_dict()
#: Expense / category labels by label scheme (a council's style), in that publisher's wording.
_LABELS = {c.style: _KIND_TABLE[f"label_{c.style}"].to_dict() for c in SAMPLE_COUNCILS}
_AREA_TABLE = _table("sample_service_areas").set_index("service_group")
#: Service areas by kind group, in each publisher's style (district councils lack care groups).
_AREAS = {c.style: _AREA_TABLE[c.style].to_dict() for c in SAMPLE_COUNCILS}
#: Hyndburn's 2024 finance system: Department Area / 'CODE - Service Area'.
_HYNDBURN_NEW_AREAS = {g: (r.hyndburn_2024_department, r.hyndburn_2024_service)
                       for g, r in _AREA_TABLE.iterrows()}
_LAYOUTS: dict[str, list[str]] = _yaml("sample_layouts")
#: IT payments booked under a generic label: the two labels each council style uses.
_MISLABELS = {c.style: c.generic_labels for c in SAMPLE_COUNCILS}
_ANNUAL = _table("sample_annual_payments")

#: Blackburn with Darwen's Microsoft 365 E5 annual payments in the sample: the published
#: renewal (July 2025 to 2028 at £670,000 a year, infotec.news 3 Jun 2025, also in the
#: council's profile) and the ASSUMED earlier payment (see annual_payments.csv's source).
_BWD = _ANNUAL[_ANNUAL["style"] == "bwd"]
BWD_M365_RENEWAL_PENCE = int(_BWD["amount_pence"].iloc[-1])
BWD_M365_PRE_RENEWAL_PENCE = int(_BWD["amount_pence"].iloc[0])


def sample_profiles() -> dict[str, bytes]:
    """The council profiles shipped with the sample (file name -> bytes), e.g. Blackburn with
    Darwen's published Microsoft facts; `generate_sample(..., councils_dir=...)` writes them."""
    folder = catalogue.path("sample_council_profiles")
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.yaml"))}


# ---------------------------------------------------------------------------------------------
# Vectorised formatting
# ---------------------------------------------------------------------------------------------
def format_amounts(
    pence: np.ndarray,
    *,
    thousands: bool = False,
    currency: str = "",
    negative: str = "leading",
) -> np.ndarray:
    """Format integer pence as amount strings, whole column at once.

    `negative` is 'leading' (`-£1,234.56`), 'trailing' (`1,234.56-`) or 'brackets'
    (`(1,234.56)`); `currency` is put before the digits (e.g. '£').
    """
    if negative not in ("leading", "trailing", "brackets"):
        raise InputError(f"negative={negative!r}: expected 'leading', 'trailing' or 'brackets'")
    p = np.asarray(pence, dtype=np.int64)
    if p.size == 0:
        return np.array([], dtype=str)
    a = np.abs(p)
    pounds = a // 100
    frac = np.strings.zfill((a % 100).astype(str), 2)
    if thousands:
        # Build each magnitude's grouped form and pick by size (pounds < 1e12 here).
        g = [np.strings.zfill(((pounds // 1000**k) % 1000).astype(str), 3) for k in range(4)]
        top = [(pounds // 1000**k).astype(str) for k in range(4)]
        s = top[0]
        for k in range(1, 4):
            grouped = top[k]
            for j in range(k - 1, -1, -1):
                grouped = np.strings.add(np.strings.add(grouped, ","), g[j])
            s = np.where(pounds >= 1000**k, grouped, s)
    else:
        s = pounds.astype(str)
    body = np.strings.add(np.strings.add(np.strings.add(currency, s), "."), frac)
    neg = p < 0
    if negative == "leading":
        signed = np.strings.add("-", body)
    elif negative == "trailing":
        signed = np.strings.add(body, "-")
    else:
        signed = np.strings.add(np.strings.add("(", body), ")")
    return np.where(neg, signed, body)


def format_dates(dates: np.ndarray, fmt: str) -> np.ndarray:
    """Format datetime64[D] values with tokens %d %-d %m %b %B %Y %y, on the unique dates only.

    Month names are English whatever the locale, as in the published files.
    """
    d = np.asarray(dates, dtype="datetime64[D]")
    uniq, inverse = np.unique(d, return_inverse=True)
    out = []
    for u in uniq.tolist():
        text = fmt
        for token, value in (
            ("%-d", str(u.day)), ("%d", f"{u.day:02d}"), ("%m", f"{u.month:02d}"),
            ("%b", str(_MONTH_ABBR[u.month - 1])), ("%B", str(_MONTH_NAME[u.month - 1])),
            ("%Y", f"{u.year:04d}"), ("%y", f"{u.year % 100:02d}"),
        ):
            text = text.replace(token, value)
        out.append(text)
    return np.array(out, dtype=str)[inverse] if len(out) else np.array([], dtype=str)


def pence_to_gbp(pence: int) -> str:
    """Exact '1234.56' / '-0.05' text for an integer number of pence."""
    sign = "-" if pence < 0 else ""
    a = abs(int(pence))
    return f"{sign}{a // 100}.{a % 100:02d}"


# ---------------------------------------------------------------------------------------------
# Row generation (the "truth" table)
# ---------------------------------------------------------------------------------------------
def _months() -> np.ndarray:
    start = np.datetime64(f"{FINANCIAL_YEARS[0]}-{FIRST_MONTH:02d}", "M")
    return start + np.arange(12 * len(FINANCIAL_YEARS))


def _weekday(dates: np.ndarray, start: np.ndarray, ndays: np.ndarray) -> np.ndarray:
    """Move weekend dates to a weekday inside the same month (councils pay on weekdays)."""
    dow = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    fwd = np.where(dow == 5, 2, np.where(dow == 6, 1, 0))
    back = np.where(dow == 5, -1, np.where(dow == 6, -2, 0))
    end = start + ndays - 1
    moved = dates + fwd
    return np.where(moved <= end, moved, dates + back)


def _fixed_events(council: SampleCouncil) -> list[tuple[str, int, str, str, str]]:
    """Annual licence payments (date, pence, supplier, kind, description) for one council.

    From package_data/sample/annual_payments.csv: Blackburn with Darwen's follow the published
    deal; the others are invented.
    """
    rows = _ANNUAL[_ANNUAL["style"] == council.style]
    return [(r.payment_date, int(r.amount_pence), r.supplier, r.kind, r.description)
            for r in rows.itertuples(index=False)]


def _council_frame(council: SampleCouncil, index: int, seed: int, scale: float) -> pd.DataFrame:
    """Invent one council's transactions for all months, as whole columns."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, index]))
    months = _months()
    lam = council.rows_per_month * scale
    counts = np.maximum(1, np.round(lam * rng.uniform(0.8, 1.2, len(months)))).astype(np.int64)
    month_of_row = np.repeat(months, counts)
    n = int(counts.sum())
    start = month_of_row.astype("datetime64[D]")
    ndays = ((month_of_row + 1).astype("datetime64[D]") - start).astype(np.int64)
    dates = _weekday(start + (rng.random(n) * ndays).astype(np.int64), start, ndays)

    kinds = np.array([p.kind for p in _PROFILES])
    # IT suppliers get ~8% of rows (and a few percent of value), as in published files.
    weights = np.array([p.weight * (_IT_WEIGHT if p.kind.startswith("it_") else 1.0)
                        for p in _PROFILES])
    if not council.social_care:
        weights = np.where(np.array([p.social_care_only for p in _PROFILES]), 0.0, weights)
    prof = rng.choice(len(_PROFILES), size=n, p=weights / weights.sum())

    medians = np.array([p.median_gbp for p in _PROFILES])[prof]
    sigmas = np.array([p.sigma for p in _PROFILES])[prof]
    gbp = np.minimum(council.amount_scale * medians * np.exp(sigmas * rng.standard_normal(n)),
                     3_000_000.0)
    pence = council.threshold_pence + np.round(gbp * 100).astype(np.int64)
    pence = np.where(rng.random(n) < _CREDIT_RATE, -pence, pence)

    def pick(field: str) -> np.ndarray:
        flat = np.array([v for p in _PROFILES for v in getattr(p, field)], dtype=object)
        cnt = np.array([len(getattr(p, field)) for p in _PROFILES])
        off = np.concatenate([[0], np.cumsum(cnt)[:-1]])
        return flat[off[prof] + (rng.random(n) * cnt[prof]).astype(np.int64)]

    supplier = pick("names")
    description = pick("descriptions")
    kind = kinds[prof]

    # Annual licence payments happen whatever the scale.
    ev = _fixed_events(council)
    if ev:
        dates = np.concatenate([dates, np.array([e[0] for e in ev], dtype="datetime64[D]")])
        pence = np.concatenate([pence, np.array([e[1] for e in ev], dtype=np.int64)])
        supplier = np.concatenate([supplier, np.array([e[2] for e in ev], dtype=object)])
        kind = np.concatenate([kind, np.array([e[3] for e in ev])])
        description = np.concatenate([description, np.array([e[4] for e in ev], dtype=object)])
        prof = np.concatenate([prof, np.full(len(ev), -1)])
    m = len(dates)
    is_it = np.char.startswith(kind.astype(str), "it_")
    mislabel = is_it & (prof >= 0) & (rng.random(m) < _MISLABEL_RATE)
    which = rng.integers(0, 2, m)

    redacted = kind == "personal"
    supplier = np.where(redacted, council.redacted_label, supplier)
    frame = pd.DataFrame({
        "payment_date": dates,
        "pence": pence,
        "supplier_name": supplier.astype(str),
        "kind": kind,
        "description": description.astype(str),
        "mislabelled": mislabel,
        "mislabel_choice": which,
        "is_it": is_it,
        "is_redacted": redacted,
    })
    # Stable order: by date, then amount, then supplier, so transaction numbers are reproducible.
    frame = frame.sort_values(["payment_date", "pence", "supplier_name"], kind="mergesort",
                              ignore_index=True)
    group = frame["kind"].map(_GROUP)
    frame["service_group"] = group
    frame["fy"] = _fy(frame["payment_date"].to_numpy())
    frame["seq"] = np.arange(len(frame), dtype=np.int64)
    frame["it_category"] = frame["kind"].map(_IT_CATEGORY).fillna("")
    return frame


def _fy(dates: np.ndarray) -> np.ndarray:
    """First calendar year of the April-March financial year of each date."""
    m = dates.astype("datetime64[M]").astype(np.int64)
    return start_years_of_months(m // 12 + 1970, m % 12 + 1)


def _labels(frame: pd.DataFrame, scheme: str) -> np.ndarray:
    """Expense labels in a scheme's style, with some IT rows booked under generic labels."""
    base = frame["kind"].map(_LABELS[scheme]).to_numpy(dtype=object)
    a, b = _MISLABELS[scheme]
    mis = np.where(frame["mislabel_choice"].to_numpy() == 0, a, b)
    return np.where(frame["mislabelled"].to_numpy(), mis, base).astype(str)


# ---------------------------------------------------------------------------------------------
# Writers: each returns [(relative path, bytes, manifest row)]
# ---------------------------------------------------------------------------------------------
@dataclass
class _Out:
    """One written file and its manifest entry."""

    path: str
    data: bytes
    format: str
    encoding: str
    rows: int
    total_pence: int
    header_line: int
    notes: str
    period: str


def _csv_lines(cols: list[np.ndarray]) -> list[str]:
    """One CSV line per row, quoted only where needed, written in one pass for the block."""
    if not len(cols[0]):
        return []
    # Object columns: pandas would otherwise convert every string to Arrow first.
    table = pd.DataFrame({i: np.asarray(c, dtype=object) for i, c in enumerate(cols)},
                         dtype=object)
    text = table.to_csv(header=False, index=False, lineterminator="\n",
                        quoting=csv.QUOTE_MINIMAL)
    return text[:-1].split("\n")  # no field holds a newline, so this splits rows exactly


def _header_line(header: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(header)
    return buf.getvalue()[:-1]


def _join(lines: list[str], newline: str) -> str:
    return newline.join(lines) + newline if lines else ""


def _runs(keys: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal values in a sorted array."""
    if not len(keys):
        return []
    cut = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return list(zip(np.r_[0, cut].tolist(), np.r_[cut, len(keys)].tolist(), strict=True))


def _month_keys(frame: pd.DataFrame) -> np.ndarray:
    """Months since 1970-01 (int) of each row's payment date."""
    return frame["payment_date"].to_numpy().astype("datetime64[M]").astype(np.int64)


def _ym(month: int) -> tuple[int, int]:
    return int(month) // 12 + 1970, int(month) % 12 + 1


def _areas(frame: pd.DataFrame, style: str) -> np.ndarray:
    return frame["service_group"].map(_AREAS[style]).to_numpy(str)


def _codes(labels: np.ndarray, base: int, step: int) -> np.ndarray:
    """A stable numeric code per distinct label (assigned on the unique values)."""
    uniq, inverse = np.unique(labels, return_inverse=True)
    return (base + step * np.arange(len(uniq))).astype(str)[inverse]


def _text(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].to_numpy(str)


def _bwd(council: SampleCouncil, frame: pd.DataFrame) -> list[_Out]:
    """Transparency-code 2015 headers, UTF-8 with BOM, dd/mm/yyyy, quoted "1,234.56"."""
    header = _LAYOUTS["bwd"]
    n = len(frame)
    pence = frame["pence"].to_numpy()
    lines = _csv_lines([
        np.full(n, council.name), _areas(frame, "bwd"), _text(frame, "description"),
        _text(frame, "supplier_name"), format_dates(frame["payment_date"].to_numpy(), "%d/%m/%Y"),
        format_amounts(pence, thousands=True),
        np.strings.add("BWD", np.strings.zfill((7_100_000 + frame["seq"].to_numpy()).astype(str),
                                               8)),
        _labels(frame, "bwd")])
    head = _header_line(header) + "\r\n"
    redacted = frame["is_redacted"].to_numpy()
    ms365 = frame["description"].str.startswith("Microsoft 365 E5 annual").to_numpy()
    months = _month_keys(frame)
    outs = []
    for s, e in _runs(months):
        y, mo = _ym(months[s])
        total = int(pence[s:e].sum())
        body = _join(lines[s:e], "\r\n")
        notes = "Transparency-code 2015 headers; UTF-8 with BOM; CRLF; dd/mm/yyyy; quoted thousands"
        if mo == 3:  # year-end files carry a total line, as some councils publish
            body += f'Total,,,,,"{format_amounts(np.array([total]), thousands=True)[0]}",,\r\n'
            notes += "; 'Total' row at the end"
        if redacted[s:e].any():
            notes += "; redacted beneficiaries 'REDACTED'"
        if ms365[s:e].any():
            notes += "; Microsoft 365 E5 annual payment to Phoenix Software (published deal)"
        outs.append(_Out(
            f"{council.slug}/{PREFIX}bwd-spend-over-500-{y}-{mo:02d}.csv",
            (head + body).encode("utf-8-sig"), "csv", "utf-8-sig", e - s, total, 1, notes,
            f"{y}-{mo:02d}"))
    return outs


def _hyndburn_layout(g: pd.DataFrame, fy: int) -> tuple[list[str], list[np.ndarray], str]:
    """Header, formatted columns and notes of Hyndburn's layout in financial year `fy`."""
    n = len(g)
    supplier = _text(g, "supplier_name")
    dates = g["payment_date"].to_numpy()
    pence = g["pence"].to_numpy()
    ref = (4_200_000 + g["seq"].to_numpy()).astype(str)
    if fy <= 2022:
        header = list(_LAYOUTS["hyndburn_2021"])
        cols = [_areas(g, "hyndburn"), _labels(g, "hyndburn"),
                np.strings.upper(_text(g, "description")), ref, np.strings.upper(supplier),
                format_dates(dates, "%d-%b-%y"), format_amounts(pence)]
        notes = ("header 'Net Amount(£)'; upper-case names; dd-Mon-yy dates; plain amounts, "
                 "leading minus")
        if fy == 2021:
            header.append("")
            cols.append(np.full(n, ""))
            notes += "; trailing comma on every line; 6 empty ',,,,,,,' lines at the end"
        return header, cols, notes
    if fy == 2023:
        header = _LAYOUTS["hyndburn_2023"]
        # A few card/bank lines keep dd-Mon-yy in the same column, as in the real files.
        odd = (g["seq"].to_numpy() % 17) == 5
        cols = [_areas(g, "hyndburn"), _labels(g, "hyndburn"), _text(g, "description"), ref,
                supplier, np.where(odd, format_dates(dates, "%d-%b-%y"),
                                   format_dates(dates, "%-d %b %Y")),
                format_amounts(pence, thousands=True)]
        notes = ("line 1 empty ',,,,,,', header on line 2; '3 Apr 2023' dates mixed with a few "
                 "dd-Mon-yy; quoted thousands")
        return header, cols, notes
    header = _LAYOUTS["hyndburn_2024"]
    group = g["service_group"]
    cols = [group.map({k: v[0] for k, v in _HYNDBURN_NEW_AREAS.items()}).to_numpy(str),
            group.map({k: v[1] for k, v in _HYNDBURN_NEW_AREAS.items()}).to_numpy(str),
            _text(g, "description"), np.full(n, "1"), ref, supplier,
            format_dates(dates, "%d/%m/%Y"),
            format_amounts(pence, thousands=True, negative="trailing")]
    notes = ("2024 finance-system layout ('Name:  ', 'Amount Paid'); dd/mm/yyyy; trailing-minus "
             "credits '1,234.56-'")
    return header, cols, notes


def _hyndburn(council: SampleCouncil, frame: pd.DataFrame) -> list[_Out]:
    """Hyndburn styles: cp1252 with £ as 0xA3; old layout to 2023-24, new layout from 2024-25."""
    outs = []
    fys = frame["fy"].to_numpy()
    for fs, fe in _runs(fys):
        g = frame.iloc[fs:fe]
        fy = int(fys[fs])
        header, cols, layout_notes = _hyndburn_layout(g, fy)
        lines = _csv_lines(cols)
        head = _header_line(header) + "\r\n"
        pence = g["pence"].to_numpy()
        redacted = g["is_redacted"].to_numpy()
        months = _month_keys(g)
        for s, e in _runs(months):
            y, mo = _ym(months[s])
            body = _join(lines[s:e], "\r\n")
            notes = "cp1252 (£ = 0xA3); CRLF; " + layout_notes
            header_line = 1
            if (y, mo) == (2025, 9):
                text = body + head  # the header is the LAST line, as Hyndburn once published
                header_line = e - s + 1
                notes += "; header row is the LAST line of the file"
            elif fy == 2023:
                text, header_line = ",,,,,,\r\n" + head + body, 2
            elif fy == 2021:
                text = head + body + ",,,,,,,\r\n" * 6
            else:
                text = head + body
            if redacted[s:e].any():
                notes += "; redacted names 'Redacted personal data'"
            outs.append(_Out(
                f"{council.slug}/{PREFIX}hyndburn-{_MONTH_NAME[mo - 1]}-{y}.csv",
                text.encode("cp1252"), "csv", "cp1252", e - s, int(pence[s:e].sum()),
                header_line, notes, f"{y}-{mo:02d}"))
    return outs


def _trafford(council: SampleCouncil, frame: pd.DataFrame) -> list[_Out]:
    """CamelCase 2015-code CSVs (ISO dates, 'NA'); 2025-26 as one ZIP of twelve monthly CSVs."""
    header = _LAYOUTS["trafford"]
    n = len(frame)
    dates = frame["payment_date"].to_numpy()
    pence = frame["pence"].to_numpy()
    month_end = (dates.astype("datetime64[M]") + 1).astype("datetime64[D]") - 1
    lines = _csv_lines([
        np.full(n, council.name),
        np.full(n, f"http://opendatacommunities.org/id/metropolitan-district-council/"
                   f"{council.gss_code}"),
        format_dates(month_end, "%Y-%m-%d"), _areas(frame, "trafford"),
        _text(frame, "supplier_name"), np.full(n, "NA"), format_dates(dates, "%Y-%m-%d"),
        (9_300_000 + frame["seq"].to_numpy()).astype(str), format_amounts(pence),
        np.full(n, "0"), _text(frame, "description"), _labels(frame, "trafford"),
        np.full(n, "NA")])
    head = _header_line(header) + "\r\n"
    notes = ("CamelCase 2015-code headers; UTF-8 (no BOM); CRLF; ISO dates; plain amounts; 'NA' "
             "strings; many IT suppliers under ProclassLabel 'Not Classified'; 'Redacted' names")
    last = FINANCIAL_YEARS[-1]
    fys = frame["fy"].to_numpy()
    months = _month_keys(frame)
    outs: list[_Out] = []
    members: list[tuple[str, bytes]] = []
    zip_rows = zip_total = 0
    for s, e in _runs(months):
        y, mo = _ym(months[s])
        name = f"{PREFIX}trafford-supplier-spend-{y}-{mo:02d}.csv"
        data = (head + _join(lines[s:e], "\r\n")).encode("utf-8")
        total = int(pence[s:e].sum())
        if fys[s] == last:
            members.append((name, data))
            zip_rows += e - s
            zip_total += total
        else:
            outs.append(_Out(f"{council.slug}/{name}", data, "csv", "utf-8", e - s, total, 1,
                             notes, f"{y}-{mo:02d}"))
    period = f"{last}-{(last + 1) % 100:02d}"
    outs.append(_Out(f"{council.slug}/{PREFIX}trafford-supplier-spend-{period}.zip",
                     _zip_bytes(members), "zip", "utf-8 (members)", zip_rows, zip_total, 1,
                     f"ZIP of {len(members)} monthly CSVs; " + notes, period))
    return outs


def _oxford(council: SampleCouncil, frame: pd.DataFrame) -> list[_Out]:
    """Quarterly cp1252 CSVs, Title Case headers, '£1,234.56' amounts, names padded to 50."""
    header = _LAYOUTS["oxford"]
    n = len(frame)
    pence = frame["pence"].to_numpy()
    labels = _labels(frame, "oxford")
    supplier = np.strings.upper(_text(frame, "supplier_name"))
    lines = _csv_lines([
        np.full(n, "OCC"), _areas(frame, "oxford"), labels, _codes(labels, 3000, 7),
        format_dates(frame["payment_date"].to_numpy(), "%d/%m/%Y"),
        np.strings.add((1_040_000 + frame["seq"].to_numpy()).astype(str), " - 1"),
        format_amounts(pence, thousands=True, currency="£"),
        np.where(frame["kind"].to_numpy() == "construction", "Capital", "Revenue"),
        _codes(supplier, 100_000, 1), np.strings.ljust(supplier, 50)])
    head = _header_line(header) + "\n"
    quarters = (_month_keys(frame) - 3) // 3  # calendar quarters shifted to start in April
    outs = []
    for s, e in _runs(quarters):
        y0, m0 = _ym(int(quarters[s]) * 3 + 3)
        y2, m2 = _ym(int(quarters[s]) * 3 + 5)
        text = head + _join(lines[s:e], "\n")
        notes = ("Title Case headers; cp1252 with '£1,234.56' amounts and '-£1,234.56' credits; "
                 "LF; dd/mm/yyyy; supplier names upper case, right-padded to 50 characters")
        if m2 == 3:  # year-end quarter: a junk last line and no final newline
            text += ",,xxx,,,,,,,"
            notes += "; junk last line ',,xxx,,,,,,,' without a final newline"
        name = (f"{PREFIX}expenditure-over-500-{_MONTH_ABBR[m0 - 1].lower()}-"
                f"{_MONTH_ABBR[m2 - 1].lower()}-{y2}.csv")
        outs.append(_Out(f"{council.slug}/{name}", text.encode("cp1252"), "csv", "cp1252",
                         e - s, int(pence[s:e].sum()), 1, notes,
                         f"{y0}-{m0:02d}..{y2}-{m2:02d}"))
    return outs


def _leeds(council: SampleCouncil, frame: pd.DataFrame) -> list[_Out]:
    """CamelCase 2013-style CSVs (cp1252, dd-Mon-yy, bracketed credits, grand total) and an XLSX.

    The last financial year is one workbook with a sheet per month.
    """
    header = _LAYOUTS["leeds_csv"]
    last = FINANCIAL_YEARS[-1]
    split = int(np.searchsorted(frame["fy"].to_numpy(), last))
    csv_part, xlsx_part = frame.iloc[:split], frame.iloc[split:]
    n = len(csv_part)
    pence = csv_part["pence"].to_numpy()
    labels = _labels(csv_part, "leeds")
    areas = _areas(csv_part, "leeds")
    lines = _csv_lines([
        np.full(n, "http://statistics.data.gov.uk/id/local-authority/00DA"),
        np.full(n, council.name), areas, areas, labels, np.strings.add(labels, " - Expenditure"),
        _codes(labels, 1000, 13), format_dates(csv_part["payment_date"].to_numpy(), "%d-%b-%y"),
        (5_000_000 + csv_part["seq"].to_numpy()).astype(str),
        format_amounts(pence, thousands=True, negative="brackets"),
        np.where(csv_part["kind"].to_numpy() == "construction", "Capital", "Revenue"),
        _text(csv_part, "supplier_name")])
    head = _header_line(header) + "\r\n"
    months = _month_keys(csv_part)
    outs = []
    for s, e in _runs(months):
        y, mo = _ym(months[s])
        total = int(pence[s:e].sum())
        amount = format_amounts(np.array([total]), thousands=True, negative="brackets")[0]
        body = _join(lines[s:e], "\r\n") + f',,,,,,,,,"{amount}",,\r\n'  # grand total only
        outs.append(_Out(
            f"{council.slug}/{PREFIX}leeds-spending-{y}-{mo:02d}.csv",
            (head + body).encode("cp1252"), "csv", "cp1252", e - s, total, 1,
            "CamelCase headers; cp1252 (curly apostrophe 0x92 in some names); CRLF; dd-Mon-yy "
            "dates; quoted thousands; bracketed credits '(1,234.56)'; grand-total line at the end "
            "with only NetAmount", f"{y}-{mo:02d}"))
    period = f"{last}-{(last + 1) % 100:02d}"
    months = _month_keys(xlsx_part)
    sheets = [(f"{_MONTH_ABBR[_ym(months[s])[1] - 1]} {_ym(months[s])[0]}", xlsx_part.iloc[s:e])
              for s, e in _runs(months)]
    outs.append(_Out(
        f"{council.slug}/{PREFIX}leeds-spending-{period}.xlsx", _leeds_xlsx(council, sheets),
        "xlsx", "n/a (xlsx)", len(xlsx_part), int(xlsx_part["pence"].sum()), 1,
        f"XLSX workbook, {len(sheets)} sheets (one per month, 'Apr 2025'...); 2015-code headers; "
        "real Excel dates; numeric amounts (credits negative)", period))
    return outs


_XLSX_HEADER = _LAYOUTS["leeds_xlsx"]


def _leeds_sheet_values(council: SampleCouncil, g: pd.DataFrame) -> list[np.ndarray]:
    """The XLSX columns: text, Excel date serials (int), numbers as their exact decimal text."""
    serial = (g["payment_date"].to_numpy().astype("datetime64[D]")
              - np.datetime64("1899-12-30")).astype(np.int64)
    # openpyxl writes numbers with '%.16g': the exact decimal, trailing zeros dropped.
    amount = np.strings.rstrip(np.strings.rstrip(format_amounts(g["pence"].to_numpy()), "0"), ".")
    return [np.full(len(g), council.name), _areas(g, "leeds"), _labels(g, "leeds"),
            _text(g, "description"), serial.astype(str),
            (5_000_000 + g["seq"].to_numpy()).astype(str), amount, _text(g, "supplier_name")]


_XLSX_KINDS = ("s", "s", "s", "s", "d", "n", "n", "s")


def _sheet_rows_xml(values: list[np.ndarray], first_row: int) -> str:
    """`<row>` elements exactly as openpyxl's write-only mode writes them, built column-wise.

    Cell kinds: 's' inline string, 'n' number, 'd' date serial with the date style (s="1").
    """
    n = len(values[0])
    if n == 0:
        return ""
    rows = (first_row + np.arange(n)).astype(str)
    out = np.strings.add(np.strings.add('<row r="', rows), '">')
    for letter, kind, col in zip("ABCDEFGH", _XLSX_KINDS, values, strict=True):
        ref = np.strings.add(np.strings.add(f'<c r="{letter}', rows), '"')
        if kind == "s":
            text = np.strings.replace(np.strings.replace(np.strings.replace(
                col, "&", "&amp;"), "<", "&lt;"), ">", "&gt;")
            cell = np.strings.add(np.strings.add(
                np.strings.add(ref, ' t="inlineStr"><is><t>'), text), "</t></is></c>")
        else:
            style = ' s="1" t="n"><v>' if kind == "d" else ' t="n"><v>'
            cell = np.strings.add(np.strings.add(np.strings.add(ref, style), col), "</v></c>")
        out = np.strings.add(out, cell)
    return "".join(np.strings.add(out, "</row>").tolist())


def _leeds_xlsx(council: SampleCouncil, sheets: list[tuple[str, pd.DataFrame]]) -> bytes:
    """One sheet per month: openpyxl writes the package, the rows are filled in column-wise.

    openpyxl builds a cell object per value (about 1 s per 10,000 rows), too slow for the
    benchmark corpus, so each sheet gets its header and first row from openpyxl (which also
    registers the date style) and the rest from `_sheet_rows_xml`, which writes the same XML.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    fixed = datetime(*_FIXED_TIME)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    wb.properties.creator = "spendkit sample (SYNTHETIC)"
    rest: dict[str, str] = {}
    for i, (title, g) in enumerate(sheets, start=1):
        ws = wb.create_sheet(title)
        ws.append(_XLSX_HEADER)
        first = g.iloc[:1]
        ws.append([council.name, _areas(first, "leeds")[0], _labels(first, "leeds")[0],
                   first["description"].iloc[0], first["payment_date"].iloc[0].date(),
                   5_000_000 + int(first["seq"].iloc[0]), int(first["pence"].iloc[0]) / 100,
                   first["supplier_name"].iloc[0]])
        rest[f"xl/worksheets/sheet{i}.xml"] = _sheet_rows_xml(
            _leeds_sheet_values(council, g.iloc[1:]), 3)
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue(), rest)


def _zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """A ZIP with fixed member timestamps (so its bytes depend only on the contents)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def _normalise_zip(data: bytes, extra_rows: dict[str, str] | None = None) -> bytes:
    """Rewrite an openpyxl package with fixed timestamps (openpyxl stamps 'now' on save).

    `extra_rows` maps a sheet part to `<row>` XML appended at the end of its sheetData.
    """
    stamp = datetime(*_FIXED_TIME).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    members = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            body = zf.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                              lambda m: m.group(1) + stamp, body)
            if extra_rows and info.filename in extra_rows:
                head, tail = body.split(b"</sheetData>", 1)
                body = head + extra_rows[info.filename].encode("utf-8") + b"</sheetData>" + tail
            members.append((info.filename, body))
    return _zip_bytes(members)


_WRITERS: dict[str, Callable[[SampleCouncil, pd.DataFrame], list[_Out]]] = {
    "bwd": _bwd, "hyndburn": _hyndburn, "trafford": _trafford, "oxford": _oxford,
    "leeds": _leeds,
}


def _check(seed: int, scale: float) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed={seed!r}: expected a non-negative integer")
    if not isinstance(scale, (int, float)) or not np.isfinite(scale) or not 0 < scale <= 10_000:
        raise InputError(f"scale={scale!r}: expected a number > 0 and <= 10000")


def sample_frame(*, seed: int = DEFAULT_SEED, scale: float = 1.0) -> pd.DataFrame:
    """The invented transactions behind the sample files, as a canonical-style table.

    Columns: publisher_name, publisher_code, payment_date (date), amount_gbp (decimal128(18,2)),
    supplier_name (before any per-file case change), service_area, description, is_redacted,
    plus ground truth `is_it_truth`, `it_category_truth` and `kind`. Useful as an oracle.
    """
    _check(seed, scale)
    parts = []
    for i, c in enumerate(SAMPLE_COUNCILS):
        f = _council_frame(c, i, seed, scale)
        parts.append(pd.DataFrame({
            "publisher_name": c.name, "publisher_code": c.gss_code,
            "payment_date": f["payment_date"].dt.date,
            "amount_gbp": pd.array(
                pa.array(format_amounts(f["pence"].to_numpy()).tolist()).cast(AMOUNT_TYPE),
                dtype=pd.ArrowDtype(AMOUNT_TYPE)),
            "supplier_name": f["supplier_name"], "service_area": f["service_group"].map(
                _AREAS[c.style]),
            "description": f["description"], "is_redacted": f["is_redacted"],
            "kind": f["kind"], "is_it_truth": f["is_it"], "it_category_truth": f["it_category"],
        }))
    return pd.concat(parts, ignore_index=True)


def generate_sample(out_dir: Path, *, seed: int = DEFAULT_SEED, scale: float = 1.0,
                    councils_dir: Path | None = None) -> list[Path]:
    """Write the synthetic sample files under `out_dir`; return their paths, sorted.

    One subfolder per council; `SYNTHETIC-manifest.csv` (path, council, format, encoding, rows,
    total_gbp, header_line, notes, gss_code, period) is written beside them but not returned,
    since it is not a spending file. The same seed and scale give byte-identical files. With
    `councils_dir` (the sample's own councils folder, e.g. data/sample/councils), the sample's
    council profiles (`sample_profiles`) are written there too.
    """
    _check(seed, scale)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: expected a folder to write the sample into, found a file")
    if councils_dir is not None:
        Path(councils_dir).mkdir(parents=True, exist_ok=True)
        for name, data in sample_profiles().items():
            (Path(councils_dir) / name).write_bytes(data)
    written: list[Path] = []
    manifest = []
    for i, council in enumerate(SAMPLE_COUNCILS):
        frame = _council_frame(council, i, seed, scale)
        for out in _WRITERS[council.style](council, frame):
            path = out_dir / out.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(out.data)
            written.append(path)
            manifest.append({
                "path": out.path, "council": council.name, "format": out.format,
                "encoding": out.encoding, "rows": out.rows,
                "total_gbp": pence_to_gbp(out.total_pence), "header_line": out.header_line,
                "notes": out.notes, "gss_code": council.gss_code, "period": out.period,
            })
    table = pd.DataFrame(manifest).sort_values("path", kind="mergesort")
    (out_dir / MANIFEST_NAME).write_bytes(
        table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return sorted(written)
