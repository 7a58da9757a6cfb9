"""Money: exact pence and decimals, and pounds for people to read.

Amounts are Arrow `decimal128(18, 2)` (`AMOUNT_TYPE`) from the loader to the models' outputs;
where arithmetic needs integers (sums, rolling windows, spreading a lump over months) it runs on
whole pence (int64) and converts back, so totals agree with their inputs to the penny. Every
conversion between the two, and every "£1,234.56" a person reads, is written here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.errors import InputError

#: Money is held exactly: Arrow decimal with two places (pence), never a bare float.
AMOUNT_TYPE = pa.decimal128(18, 2)
#: pandas dtype of every money column spendkit returns.
AMOUNT_DTYPE = pd.ArrowDtype(AMOUNT_TYPE)


# --- Arrow arrays <-> int64 pence (no Python per row) -------------------------------------------


def decimal_from_pence(pence: np.ndarray) -> pa.Array:
    """Arrow decimal128(18, 2) array whose unscaled integers are exactly `pence`."""
    pence = np.ascontiguousarray(pence, dtype=np.int64)
    words = np.empty((len(pence), 2), dtype=np.int64)
    words[:, 0] = pence
    words[:, 1] = np.where(pence < 0, -1, 0)  # sign-extend to 128 bits (little-endian)
    return pa.Array.from_buffers(AMOUNT_TYPE, len(pence), [None, pa.py_buffer(words)])


def pence_from_decimal(amounts: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """int64 pence from a decimal128(18, 2) column, read straight from its buffer."""
    arr = amounts.combine_chunks() if isinstance(amounts, pa.ChunkedArray) else amounts
    if arr.type != AMOUNT_TYPE:
        arr = arr.cast(AMOUNT_TYPE)
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    return words[2 * arr.offset: 2 * (arr.offset + len(arr)): 2].copy()


def sum_pence(amounts: pa.ChunkedArray | pa.Array) -> int:
    """Exact sum of a decimal amount column, in whole pence (0 for an empty column)."""
    return int(pence_from_decimal(amounts).sum()) if len(amounts) else 0


# --- pandas columns -----------------------------------------------------------------------------


def as_amount(values: pd.Series, name: str = "amount_gbp") -> pd.Series:
    """Return `values` as exact pence decimals (`AMOUNT_DTYPE`), accepting decimals or numbers.

    Floats are rounded to the penny first (a hand-made frame may use them); text is refused.
    """
    if isinstance(values.dtype, pd.ArrowDtype) and pa.types.is_decimal(values.dtype.pyarrow_dtype):
        if values.dtype == AMOUNT_DTYPE:
            return values
        arr = pa.array(values)
        return pd.Series(pc.cast(pc.round(arr, 2), AMOUNT_TYPE), index=values.index,
                         dtype=AMOUNT_DTYPE, name=values.name)
    if pd.api.types.is_numeric_dtype(values.dtype):
        as_float = pd.to_numeric(values).astype("float64").round(2)
        arr = pc.cast(pa.array(as_float, from_pandas=True), AMOUNT_TYPE, safe=False)
        return pd.Series(arr, index=values.index, dtype=AMOUNT_DTYPE, name=values.name)
    if values.dtype == object and values.dropna().map(type).eq(Decimal).all():
        arr = pc.cast(pa.array(values, from_pandas=True), AMOUNT_TYPE)
        return pd.Series(arr, index=values.index, dtype=AMOUNT_DTYPE, name=values.name)
    raise InputError(
        f"column {name!r}: expected an exact decimal amount (pd.ArrowDtype(decimal128(18, 2))) "
        f"or numbers, got dtype {values.dtype}"
    )


def to_pence(values: pd.Series) -> pd.Series:
    """Exact amounts as whole pence (nullable Int64), for integer arithmetic."""
    arr = pa.array(as_amount(values))
    pence = pc.cast(pc.multiply(arr, pa.scalar(100, pa.int64())), pa.int64())
    ints = pd.array(pd.arrays.ArrowExtensionArray(pence)).astype("Int64")
    return pd.Series(ints, index=values.index, name=values.name)


def from_pence(pence: pd.Series | np.ndarray, index: pd.Index | None = None) -> pd.Series:
    """Whole pence (ints, NA allowed) back to exact amounts (`AMOUNT_DTYPE`)."""
    if isinstance(pence, pd.Series):
        # Positional: the caller's `index` labels the values, it does not select them.
        series = pd.Series(pence.to_numpy(), index=pence.index if index is None else index)
    else:
        series = pd.Series(pence, index=index)
    series = series.astype("Int64")
    arr = pc.cast(pa.array(series, from_pandas=True, type=pa.int64()), pa.decimal128(20, 0))
    exact = pc.multiply(arr, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2)))
    return pd.Series(pc.cast(exact, AMOUNT_TYPE), index=series.index, dtype=AMOUNT_DTYPE)


def sum_amounts(df: pd.DataFrame, by: Sequence[str], column: str = "amount_gbp",
                count_name: str | None = "n_payments") -> pd.DataFrame:
    """Exact sum of `column` per group of `by` (groups sorted), with a payment count."""
    work = df[[*by]].copy()
    work["_pence"] = to_pence(df[column])
    if by:
        grouped = work.groupby(list(by), sort=True, dropna=False, observed=True)["_pence"]
        out = grouped.agg(["sum", "size"]).reset_index()
    else:
        out = pd.DataFrame({"sum": [work["_pence"].sum()], "size": [len(work)]})
    out[column] = from_pence(out.pop("sum"), out.index)
    size = out.pop("size")
    if count_name:
        out[count_name] = size.astype("int64")
    return out


# --- pounds for people ---------------------------------------------------------------------------


def _to_decimal(value: Any) -> Decimal | None:
    """Coerce a number-like value to a finite Decimal; None for missing (None, NaN, pd.NA)."""
    if value is None:
        return None
    try:
        if isinstance(value, Decimal):
            amount = value
        elif isinstance(value, float):  # includes numpy float64; repr is the shortest exact form
            amount = Decimal(repr(float(value)))
        elif isinstance(value, int):
            amount = Decimal(value)
        else:
            if value != value:  # NaN-like numpy/pandas scalars; pd.NA raises TypeError here
                return None
            amount = Decimal(str(value))
    except (TypeError, InvalidOperation) as exc:
        if type(value).__name__ == "NAType":  # pd.NA: missing, not an error
            return None
        raise TypeError(f"gbp(): expected a number, got {value!r}") from exc
    if amount.is_nan():
        return None
    if not amount.is_finite():
        raise TypeError(f"gbp(): expected a finite amount, got {value!r}")
    return amount


_COMPACT_UNITS: tuple[tuple[Decimal, str], ...] = (
    (Decimal(10**9), "bn"),
    (Decimal(10**6), "m"),
    (Decimal(10**3), "k"),
)


def gbp(value: Any, *, pence: bool = True, compact: bool = False, missing: str = "n/a") -> str:
    """Format an amount in pounds for prose and hovers: `£1,234.50`, `-£12`, `£1.2m`.

    `pence=False` rounds to whole pounds; `compact=True` gives `£950`, `£12.3k`, `£4.56m`,
    `£1.20bn` (three significant figures). Rounding is half-up on the exact decimal value.
    """
    amount = _to_decimal(value)
    if amount is None:
        return missing
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if compact:
        if amount.quantize(Decimal(1), rounding=ROUND_HALF_UP) >= 1000:
            # Round to three significant figures first, so 999,999 becomes £1.00m, not £1000k.
            step = Decimal(1).scaleb(amount.adjusted() - 2)
            amount = amount.quantize(step, rounding=ROUND_HALF_UP)
        for threshold, suffix in _COMPACT_UNITS:
            if amount >= threshold:
                scaled = amount / threshold
                places = 2 if scaled < 10 else 1 if scaled < 100 else 0
                q = scaled.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
                return f"{sign}£{q}{suffix}"
        q = amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return f"{'' if q == 0 else sign}£{q}"
    places = Decimal("0.01") if pence else Decimal(1)
    q = amount.quantize(places, rounding=ROUND_HALF_UP)
    if q == 0:
        sign = ""
    return f"{sign}£{q:,}"


def format_pence(pence: int) -> str:
    """'£1,234.56' / '-£0.05' for prose and error messages."""
    return gbp(Decimal(int(pence)).scaleb(-2))


__all__ = ["AMOUNT_DTYPE", "AMOUNT_TYPE", "as_amount", "decimal_from_pence", "format_pence",
           "from_pence", "gbp", "pence_from_decimal", "sum_amounts", "sum_pence", "to_pence"]
