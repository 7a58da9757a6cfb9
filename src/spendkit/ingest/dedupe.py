"""Duplicate publications: the same payment published twice is counted once.

A payment is fingerprinted by (publisher, date, amount, supplier name in lower case):
transaction ids are left out because a republication often drops or renumbers them. Files are
taken in path order; a row of a later file whose fingerprint earlier files already kept (as
many times as this file has it, or more) is a `duplicate_publication`, naming the first file
that kept it. A file that repeats a payment more often than earlier files did keeps the extra
copies (a council can pay the same supplier the same amount twice in a day).

The state is kept per (publisher, month): the date is part of the fingerprint, so a duplicate
is always in the same month, and each month's state stays small. Merging a batch into it costs
the size of the months the batch touches, so the whole run is linear in its rows (a single
sorted state per publisher grew with every batch: 4.6 s of `np.insert` at 10M rows).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from spendkit.transform.text import dictionary_encoded
from spendkit.units.money import pence_from_decimal


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads bits so combined keys rarely collide."""
    x = x.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def _string_hashes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Stable 64-bit hash per row of a string column (nulls as ""), computed once per
    distinct value; a dictionary array is taken as already encoded."""
    encoded = dictionary_encoded(values)
    if not len(encoded.dictionary):
        return np.zeros(len(values), np.uint64)
    per_value = np.array(
        [int.from_bytes(hashlib.blake2b(v.encode(), digest_size=8).digest(), "little")
         for v in encoded.dictionary.to_pylist()], dtype=np.uint64)
    return per_value[encoded.indices.to_numpy(zero_copy_only=False)]


def fingerprints(table: pa.Table, supplier: pa.DictionaryArray | None = None,
                 publisher: pa.DictionaryArray | None = None) -> np.ndarray:
    """Per-row fingerprint of (publisher, date, amount, supplier name in lower case).

    `supplier` and `publisher` are the table's columns already encoded by
    `dictionary_encoded`, if the caller has them (their distinct values are lower-cased and
    hashed, not every row).
    """
    n = table.num_rows
    if n == 0:
        return np.zeros(0, np.uint64)
    if supplier is None:
        supplier = dictionary_encoded(table.column("supplier_name"))
    if publisher is None:
        publisher = dictionary_encoded(table.column("publisher_name"))
    lower = pa.DictionaryArray.from_arrays(supplier.indices, pc.utf8_lower(supplier.dictionary))
    days = table.column("payment_date").cast(pa.int32()).to_numpy(zero_copy_only=False)
    pence = pence_from_decimal(table.column("amount_gbp"))
    fp = _mix(_string_hashes(lower))
    with np.errstate(over="ignore"):
        for part in (_string_hashes(publisher),
                     days.astype(np.int64).view(np.uint64), pence.view(np.uint64)):
            fp = _mix(fp ^ _mix(part + np.uint64(0x9E3779B97F4A7C15)))
    return fp


def months_of(dates: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Calendar month index (months since 1970-01) of each date32 value."""
    days = dates.cast(pa.int32()).to_numpy(zero_copy_only=False)
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


# State of one (publisher, month): (fingerprints, sorted and distinct; times each was kept;
# the index of the first file that kept it). A row of file j is a duplicate iff its occurrence
# rank among the rows of file j with the same fingerprint is below the number of times earlier
# files kept that fingerprint; the row names the first file that kept it.
# Counts and file indices as int32: 16 bytes per payment kept (10M rows: 160 MB).
_State = tuple[np.ndarray, np.ndarray, np.ndarray]
_EMPTY_STATE: _State = (np.zeros(0, np.uint64), np.zeros(0, np.int32), np.zeros(0, np.int32))


def _groups(fps: np.ndarray, files: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort rows by (fingerprint, file, row) and find the runs of equal fingerprints."""
    order = np.argsort(fps, kind="stable")  # rows arrive in (file, row) order already
    sf, sfile = fps[order], files[order]
    new_fp = np.ones(len(sf), bool)
    new_fp[1:] = sf[1:] != sf[:-1]
    return order, sf, sfile, new_fp


def _lookup(state: _State, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position in state, found?) of each key (keys sorted, for a cache-friendly search)."""
    known = state[0]
    pos = np.searchsorted(known, keys)
    found = pos < len(known)
    found[found] = known[pos[found]] == keys[found]
    return pos, found


def _updated(state: _State, keys: np.ndarray, pos: np.ndarray, found: np.ndarray,
             times: np.ndarray, first: np.ndarray) -> _State:
    """state with (keys, times, first) set: known keys updated, new ones inserted in order."""
    known, t, f = state
    if found.any():
        t = t.copy()
        t[pos[found]] = times[found]
    new = ~found
    if new.any():
        at = pos[new]
        known = np.insert(known, at, keys[new])
        t = np.insert(t, at, times[new])
        f = np.insert(f, at, first[new])
    return known, t, f


def _dedupe(state: _State | None, fps: np.ndarray,
            files: np.ndarray) -> tuple[np.ndarray, np.ndarray, _State]:
    """(keep mask, file each dropped row repeats or -1, new state) for one state's rows.

    `fps` are the rows of several files in path order (`files` their file indices, not
    decreasing); each file is checked against the state and the files before it, as if they
    came one at a time. Most fingerprints occur once and are new: those are kept and added
    with one sort; the rest go through `_dedupe_exact`.
    """
    state = _EMPTY_STATE if state is None else state
    n = len(fps)
    keep = np.ones(n, bool)
    dup_of = np.full(n, -1, np.int64)
    if n == 0:
        return keep, dup_of, state
    order = np.argsort(fps)  # not stable: equal fingerprints are handled exactly below
    sf = fps[order]
    _pos, found = _lookup(state, sf)
    hard = found
    same = sf[1:] == sf[:-1]
    hard[1:] |= same
    hard[:-1] |= same
    if hard.any():
        rows = np.sort(order[hard])
        keep[rows], dup_of[rows], state = _dedupe_exact(state, fps[rows], files[rows])
        easy = ~hard
        order, sf = order[easy], sf[easy]
    # The rest: fingerprints seen once here and never before, kept once by their own file.
    pos, found = _lookup(state, sf)
    state = _updated(state, sf, pos, found, np.ones(len(sf), np.int64), files[order])
    return keep, dup_of, state


def _dedupe_exact(state: _State, fps: np.ndarray,
                  files: np.ndarray) -> tuple[np.ndarray, np.ndarray, _State]:
    """`_dedupe` for any rows. Within a fingerprint, the times kept before file j is the
    running maximum of the per-file counts before it (and of the state's count)."""
    n = len(fps)
    order, sf, sfile, new_fp = _groups(fps, files)
    new_run = new_fp.copy()
    new_run[1:] |= sfile[1:] != sfile[:-1]
    run_start = np.flatnonzero(new_run)
    run_len = np.diff(np.append(run_start, n))
    group = np.cumsum(new_fp) - 1
    run_group = group[run_start]
    group_start = np.flatnonzero(new_fp)
    keys = sf[group_start]
    pos, found = _lookup(state, keys)
    before = np.zeros(len(keys), np.int64)
    before[found] = state[1][pos[found]]
    first = sfile[group_start].astype(np.int64)
    first[found] = state[2][pos[found]]
    # Running max of run lengths within each group: offset each group above all earlier ones.
    offset = run_group * (n + 1)
    incl = np.maximum.accumulate(run_len + offset) - offset
    excl = np.zeros_like(incl)
    excl[1:] = incl[:-1]
    starts_group = new_fp[run_start]
    excl[starts_group] = 0
    times_before = np.maximum(excl, before[run_group])
    rank = np.arange(n) - np.repeat(run_start, run_len)
    dup_sorted = rank < np.repeat(times_before, run_len)
    keep = np.empty(n, bool)
    keep[order] = ~dup_sorted
    dup_of = np.full(n, -1, np.int64)
    dup_of[order] = np.where(dup_sorted, first[group], -1)
    last_run = np.append(starts_group[1:], True)
    times = np.maximum(before, incl[last_run])
    return keep, dup_of, _updated(state, keys, pos, found, times, first)


class Seen:
    """Fingerprints kept so far, per (publisher, month)."""

    def __init__(self) -> None:
        self._state: dict[tuple[str, int], _State] = {}

    def dedupe(self, publisher: str, fps: np.ndarray, files: np.ndarray,
               months: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """keep mask and dup_of (file index or -1) of one publisher's rows of consecutive
        files (in path order), given each row's fingerprint, file index and month."""
        n = len(fps)
        keep = np.ones(n, bool)
        dup_of = np.full(n, -1, np.int64)
        if n == 0:
            return keep, dup_of
        order = np.argsort(months, kind="stable")  # rows of a month stay in (file, row) order
        sorted_months = months[order]
        starts = np.flatnonzero(np.r_[True, sorted_months[1:] != sorted_months[:-1]])
        ends = np.r_[starts[1:], n]
        for a, z in zip(starts.tolist(), ends.tolist(), strict=True):
            rows = order[a:z]
            key = (publisher, int(sorted_months[a]))
            keep[rows], dup_of[rows], self._state[key] = _dedupe(
                self._state.get(key), fps[rows], files[rows])
        return keep, dup_of
