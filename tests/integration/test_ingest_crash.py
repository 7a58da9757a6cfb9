"""A crash never shows (issue 22.1): `latest` is the old or the new complete version.

The ingest runs in a child process that kills itself (SIGKILL: no clean-up of any kind) as
the build passes each step; `latest` must then open as one complete version (its manifest
verified, its bytes those of the old build or of a fresh build of the new inputs), and the
next run must repair everything. A `latest` damaged behind the ingest's back is noticed and
rebuilt, not reported as up to date.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from ingest_helpers import month_rows, run_spendkit, small_corpus, spend_csv, tree_digest

from spendkit.datasets import latest_dir, read_transactions
from spendkit.ingest import ingest, versions
from spendkit.ingest.stages import STEPS

KILL_AT = """
import os, signal, sys
from spendkit.ingest import ingest, stages

def hook(name):
    if name == sys.argv[1]:
        os.kill(os.getpid(), signal.SIGKILL)

stages.STEP_HOOK = hook
ingest(sys.argv[2], sys.argv[3], progress=False, force=sys.argv[4] == "force")
"""


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Old inputs, new inputs (one file added), and the digests of their fresh builds."""
    base = tmp_path_factory.mktemp("crash")
    old_raw = base / "old_raw"
    small_corpus(old_raw)
    new_raw = base / "new_raw"
    shutil.copytree(old_raw, new_raw)
    spend_csv(new_raw / "oxford/2024-05.csv", month_rows(2024, 5, salt=7), "Oxford City Council")
    digests = {}
    for name, raw in (("old", old_raw), ("new", new_raw)):
        ingest(raw, base / f"fresh_{name}", progress=False)
        digests[name] = tree_digest(latest_dir(base / f"fresh_{name}"))
    # Two versions of the old inputs (the next build prunes the older), copied by each test.
    two = base / "two_versions"
    ingest(old_raw, two, progress=False)
    ingest(old_raw, two, progress=False, force=True)
    return {"old_raw": old_raw, "new_raw": new_raw, "two_versions": two, **digests}


def _state(out: Path) -> dict[str, str]:
    target = versions.latest_target(out)
    assert target is not None and target.is_dir(), "latest is missing"
    assert versions.verify(target) is None
    return tree_digest(target)


# Every step of an incremental build, and --force around the rename and the switch (where
# the old ingest deleted the live version before renaming the new one into its place).
CASES = [(step, False) for step in STEPS] + [("renamed", True), ("switched", True)]


@pytest.mark.parametrize(("step", "force"), CASES,
                         ids=[f"{s}-{'force' if f else 'incremental'}" for s, f in CASES])
def test_a_kill_at_any_step_leaves_the_old_or_the_new_version(builds: dict, tmp_path: Path,
                                                              step: str, force: bool) -> None:
    out = tmp_path / "out"
    shutil.copytree(builds["two_versions"], out, symlinks=True)
    assert _state(out) == builds["old"]
    raw = builds["new_raw"]

    child = run_spendkit([step, str(raw), str(out), "force" if force else ""], code=KILL_AT)
    assert child.returncode == -signal.SIGKILL, child.stderr
    state = _state(out)
    assert state in (builds["old"], builds["new"])
    assert state == (builds["old"] if step in ("writing", "written", "synced", "renamed")
                     else builds["new"])

    # The next run repairs: the new version, no staging left, at most two versions kept.
    again = ingest(raw, out, progress=False)
    assert _state(out) == builds["new"]
    assert again.up_to_date == (step not in ("writing", "written", "synced", "renamed"))
    kept = sorted(p.name for p in (out / versions.VERSIONS).iterdir())
    assert not [k for k in kept if k.startswith(versions.STAGING_PREFIX)]
    assert len(kept) <= 2


@pytest.mark.parametrize("damage", ["delete", "truncate", "dangling"])
def test_a_damaged_latest_is_rebuilt_not_trusted(builds: dict, tmp_path: Path,
                                                 damage: str) -> None:
    out = tmp_path / "out"
    ingest(builds["old_raw"], out, progress=False)
    target = latest_dir(out)
    part = next((target / "transactions").rglob("*.parquet"))
    if damage == "delete":  # what a kill during the old `rmtree(final)` left
        part.unlink()
    elif damage == "truncate":
        data = part.read_bytes()
        part.unlink()  # a new inode: the previous version's link is not damaged with it
        part.write_bytes(data[: len(data) // 2])
    else:
        shutil.rmtree(target)
    summary = ingest(builds["old_raw"], out, progress=False)
    assert not summary.up_to_date
    assert summary.notes and "rebuilt from the raw files" in summary.notes[0]
    assert _state(out) == builds["old"]
    assert len(read_transactions(out)) == summary.rows_kept


def test_stale_staging_and_links_are_removed(builds: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    stale = out / versions.VERSIONS / f"{versions.STAGING_PREFIX}99999-0"
    (stale / "transactions").mkdir(parents=True)
    (stale / "transactions" / "half.parquet").write_bytes(b"PAR1")
    os.symlink("nowhere", out / ".latest-99999")
    ingest(builds["old_raw"], out, progress=False)
    assert not stale.exists()
    assert not (out / ".latest-99999").is_symlink()
    assert _state(out) == builds["old"]
