"""Seconds per stage of the ingest runs in this process (`benchmarks/ingest.py --profile`)."""

from __future__ import annotations

import collections
import time

#: Wall-clock seconds per stage of the ingest runs in this process. Timings only: nothing
#: written depends on them. Stages overlap when files load in parallel.
STAGE_SECONDS: dict[str, float] = collections.defaultdict(float)


class Lap:
    """Charge the time since the previous lap to a stage of STAGE_SECONDS."""

    def __init__(self) -> None:
        self._t = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        STAGE_SECONDS[stage] += now - self._t
        self._t = now
