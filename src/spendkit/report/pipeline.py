"""The whole path in one call: raw files → processed dataset → notebooks → offline reports.

The CLI (`spendkit report`) and `python3 dev.py report` call `build_all`; each stage can also be
run on its own (`spendkit.ingest.ingest`, `spendkit.report.build_reports`). The `council` and
`years` parameters are checked against the ingested data before any kernel starts, so a typo
fails in a second with one line, not after a minute of notebooks.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spendkit import __version__
from spendkit.datasets import financial_years, publishers, query, read_ledger
from spendkit.errors import InputError
from spendkit.ingest import IngestSummary, ingest
from spendkit.reference.councils import UNKNOWN, resolve_council, unidentified_help
from spendkit.report.build import build_reports
from spendkit.report.notebooks import declared_parameters, default_notebooks_dir, find_notebooks
from spendkit.report.results import ReportSummary
from spendkit.views.overview import check_years
from spendkit.views.provenance import Provenance, provenance


def notebook_default(name: str, notebooks: Sequence[Path]) -> Any:
    """The default of parameter `name` in the first notebook declaring it (None if none does)."""
    for path in notebooks:
        declared = declared_parameters(path)
        if name in declared:
            try:
                return ast.literal_eval(str(declared[name]))
            except (ValueError, SyntaxError):
                return None
    return None


def choose_parameters(parameters: dict[str, Any], notebooks: Sequence[Path],
                      processed: Path | None = None) -> dict[str, Any]:
    """`parameters` with a council filled in when none was given and the data has only one.

    With several publishers and no `council`, the notebooks' own default applies.
    """
    if parameters.get("council"):
        return parameters
    names = sorted(set(publishers(processed)["publisher_name"].astype(str)))
    if len(names) == 1:
        return {**parameters, "council": names[0]}
    return parameters


def data_provenance(parameters: dict[str, Any], processed: Path | None = None,
                    default_council: str | None = None) -> Provenance:
    """Provenance of the data the reports will use; checks `council` and `years` first.

    Raises InputError (one line) for a council or year not in the ingested data. Reads the
    ledger and the distinct payment dates of the selection, never a column of every row.
    """
    wanted = parameters.get("council") or default_council
    council = resolve_council(wanted, available=publishers(processed)).name if wanted else None
    ledger = read_ledger(processed)
    if council == UNKNOWN:  # the pages are about one council: say how to name the files' one
        helps = [h for h in map(unidentified_help, ledger.to_dict("records")) if h]
        more = f" ({len(helps) - 1} more file(s) alike: see the ingest summary)" \
            if len(helps) > 1 else ""
        raise InputError("the reports need a council, and the publisher of these files was "
                         f"not identified. {helps[0] if helps else ''}{more}")
    years = check_years(parameters.get("years"), available=financial_years(processed))
    dates = query("SELECT DISTINCT publisher_name, payment_date FROM transactions "
                  "ORDER BY publisher_name, payment_date", processed,
                  publishers=[council] if council else None, years=years)
    return provenance(dates, ledger, council=council)


def run_summary(summary: IngestSummary, prov: Provenance) -> dict[str, Any]:
    """Facts for the report index: what the pages cover, the files, the ledger totals."""
    facts: dict[str, Any] = {}
    if prov.is_sample or prov.mixes_sample:
        facts["SYNTHETIC data"] = (
            f"{prov.sample_files} of {prov.files} raw files are the synthetic sample made by "
            "spendkit sample: invented payments, not any council's real spend.")
    covers = prov.council or "every council in the data"
    facts["covers"] = f"{covers}: {prov.years_text()}"
    return facts | {
        "spendkit version": __version__,
        "data": prov.sources_text(),
        "payments dated": (f"{prov.first_payment} to {prov.last_payment}"
                           if prov.last_payment else "none"),
        "rows kept": f"{summary.rows_kept:,}",
        "rows rejected": f"{summary.rows_rejected:,} (of which {summary.duplicates:,} "
                         "duplicate publications)",
        "total kept": f"£{summary.kept_total_gbp:,.2f}",
        "files that could not be read": str(len(summary.failed)),
    }


def build_all(*, raw_dir: Path | None = None, processed: Path | None = None,
              parameters: dict[str, Any] | None = None, no_input: bool = True,
              force_ingest: bool = False, progress: bool = True,
              notebooks: list[Path] | None = None, out_dir: Path | None = None,
              analyst: bool = False, export: Sequence[str] = (), pdf: bool = False,
              jobs: int | None = None) -> ReportSummary:
    """Ingest (skipped when the raw files are unchanged), check the parameters, build reports."""
    summary = ingest(raw_dir, processed, force=force_ingest, progress=None if progress else False)
    paths = notebooks if notebooks is not None else find_notebooks(default_notebooks_dir())
    parameters = choose_parameters(dict(parameters or {}), paths, processed)
    prov = data_provenance(parameters, processed, notebook_default("council", paths))
    title = f"Spending reports: {prov.council}" if prov.council else "Spending reports"
    data_date = (f"{prov.last_payment.day} {prov.last_payment:%B %Y}"
                 if prov.last_payment else None)
    return build_reports(paths, out_dir, parameters, no_input, progress,
                         summary=run_summary(summary, prov), analyst=analyst, export=export,
                         pdf=pdf, jobs=jobs, data_date=data_date, title=title)
