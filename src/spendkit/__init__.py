"""spendkit: load, clean and analyse English councils' published spending, with a focus on IT.

Stages, each a subpackage or module with its own contract:

* `spendkit.extract`   raw bytes → decoded text/cells, with encoding, layout and header found;
* `spendkit.transform` cells → the canonical transactions table (`spendkit.schema`);
* `spendkit.loader`      one file end to end: `load(path) -> LoadResult`;
* `spendkit.ingest`    a folder → partitioned Parquet in data/processed;
* `spendkit.enrich`    supplier names resolved, IT spend classified;
* `spendkit.models`    trends, Microsoft licensing, spending-review scenarios;
* `spendkit.report`    notebooks → offline HTML reports.
"""

from __future__ import annotations

__version__ = "0.1.0"

from spendkit.errors import SpendkitError, UnreadableFileError  # noqa: E402
from spendkit.loader import LoadResult, load  # noqa: E402

__all__ = ["LoadResult", "SpendkitError", "UnreadableFileError", "__version__", "load"]
