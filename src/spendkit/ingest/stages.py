"""The ingest's stages as seen from outside: seconds per stage (`benchmarks/ingest.py
--profile`), and a hook called as a build passes its steps (tests kill the process there)."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable

#: Steps a build passes, in order: 'writing' (the first partition file queued), then the
#: publishing steps of `versions.publish`: 'written', 'synced', 'renamed', 'switched',
#: 'pruning' (an old version half removed), 'pruned'.
STEPS = ("writing", "written", "synced", "renamed", "switched", "pruning", "pruned")
#: Called with each step's name as a build passes it, when set.
STEP_HOOK: Callable[[str], None] | None = None


def step(name: str) -> None:
    """Tell STEP_HOOK (if any) that the build has reached `name`."""
    if STEP_HOOK is not None:
        STEP_HOOK(name)

#: Wall-clock seconds per stage of the ingest runs in this process. Timings only: nothing
#: written depends on them. Stages overlap when files load in parallel.
STAGE_SECONDS: dict[str, float] = collections.defaultdict(float)
#: CPU seconds of the thread that ran each stage (the main thread; loading and writing
#: threads are not in it): with `jobs=1`, where the ingest's own time goes.
STAGE_CPU: dict[str, float] = collections.defaultdict(float)


class Lap:
    """Charge the time since the previous lap to a stage of STAGE_SECONDS and STAGE_CPU."""

    def __init__(self) -> None:
        self._t = time.perf_counter()
        self._c = time.thread_time()

    def __call__(self, stage: str) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        STAGE_SECONDS[stage] += now - self._t
        STAGE_CPU[stage] += cpu - self._c
        self._t, self._c = now, cpu
