"""The SYNTHETIC sample never mixes with real data (issue 17.5).

The sample lives in data/sample/raw and is processed into data/sample/processed; data/raw
ships empty. Settings use the sample only while data/raw holds no data file, and say so; an
ingest that would add sample files to real ones refuses unless asked; every summary says
loudly when its data is the sample.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ingest_helpers import SAMPLE, month_rows, small_corpus, spend_csv

from spendkit.cli import main
from spendkit.datasets import ensure_processed, latest_dir, read_ledger
from spendkit.errors import BuildError
from spendkit.ingest import ingest
from spendkit.settings import get_settings

SAMPLE_FILES = ("hyndburn-borough-council/SYNTHETIC-hyndburn-April-2021.csv",
                "hyndburn-borough-council/SYNTHETIC-hyndburn-May-2021.csv")


@pytest.fixture
def data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An empty data folder and a small copy of the bundled sample, as the settings' own."""
    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    (data / "raw" / "README.md").write_text("put your files here\n")
    sample = tmp_path / "sample"
    for rel in SAMPLE_FILES:
        (sample / "raw" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / rel, sample / "raw" / rel)
    shutil.copy(SAMPLE / "SYNTHETIC-manifest.csv", sample / "raw")
    monkeypatch.setenv("SPENDKIT_DATA_DIR", str(data))
    monkeypatch.setenv("SPENDKIT_SAMPLE_DIR", str(sample))
    return data, sample


def test_the_bundled_sample_ships_apart_from_data_raw() -> None:
    root = SAMPLE.parents[2]
    assert sorted(p.name for p in (root / "data" / "raw").iterdir()) == ["README.md"]
    assert (SAMPLE / "SYNTHETIC-manifest.csv").exists()


def test_settings_use_the_sample_only_while_data_raw_is_empty(data_dirs: tuple[Path, Path]
                                                              ) -> None:
    data, sample = data_dirs
    settings = get_settings()
    assert settings.uses_sample
    assert settings.raw_dir == (sample / "raw").resolve()
    assert settings.processed_dir == (sample / "processed").resolve()
    spend_csv(data / "raw" / "oxford" / "2024-04.csv", month_rows(2024, 4), "Oxford City Council")
    settings = get_settings()
    assert not settings.uses_sample
    assert settings.raw_dir == (data / "raw").resolve()
    assert settings.processed_dir == (data / "processed").resolve()


def test_a_fresh_clone_ingests_the_sample_into_its_own_folder(data_dirs: tuple[Path, Path]
                                                              ) -> None:
    data, sample = data_dirs
    summary = ingest(progress=False)
    assert summary.is_synthetic and summary.raw_dir == (sample / "raw").resolve()
    assert latest_dir() == latest_dir(sample / "processed")
    assert not (data / "processed").exists()
    text = (latest_dir() / "summary.txt").read_text()
    assert "SYNTHETIC SAMPLE" in text and "data/raw" in text
    assert read_ledger()["is_synthetic"].all()
    # Real files arrive: they are ingested on their own, into data/processed.
    small_corpus(data / "raw")
    assert ensure_processed() == latest_dir(data / "processed")
    ledger = read_ledger()
    assert not ledger["is_synthetic"].any()
    assert not ledger["source_file"].str.contains("SYNTHETIC").any()
    assert "SYNTHETIC" not in (latest_dir() / "summary.txt").read_text()


def test_sample_files_beside_real_files_are_refused(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    raw = tmp_path / "raw"
    small_corpus(raw)
    for rel in SAMPLE_FILES:
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / rel, raw / rel)
    with pytest.raises(BuildError, match="SYNTHETIC sample.*allow-sample-mix"):
        ingest(raw, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
    assert main(["ingest", str(raw), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2 file(s) of the SYNTHETIC sample" in err[0]
    # Asked for explicitly: ingested, and the summary and ledger say which is which.
    summary = ingest(raw, tmp_path / "out", progress=False, allow_sample_mix=True)
    assert "MIXED: 2 of 7 files are the SYNTHETIC sample" in summary.text()
    ledger = read_ledger(tmp_path / "out").set_index("source_file")
    assert ledger["is_synthetic"].sum() == 2
    assert ledger.loc[SAMPLE_FILES[0], "is_synthetic"]


def test_a_renamed_sample_file_is_still_known_by_the_manifest(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(SAMPLE / "hyndburn-borough-council", raw / "hyndburn-borough-council")
    shutil.copy(SAMPLE / "SYNTHETIC-manifest.csv", raw)
    spend_csv(raw / "oxford" / "2024-04.csv", month_rows(2024, 4), "Oxford City Council")
    with pytest.raises(BuildError, match="60 file"):
        ingest(raw, tmp_path / "out", progress=False)
    # The manifest lists the file even under a name without the prefix.
    src = raw / SAMPLE_FILES[0]
    src.rename(src.with_name("april-2021.csv"))
    manifest = (raw / "SYNTHETIC-manifest.csv").read_text()
    (raw / "SYNTHETIC-manifest.csv").write_text(
        manifest.replace(SAMPLE_FILES[0], "hyndburn-borough-council/april-2021.csv"))
    with pytest.raises(BuildError, match="60 file"):
        ingest(raw, tmp_path / "out", progress=False)
