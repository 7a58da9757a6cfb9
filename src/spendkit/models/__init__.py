"""Models: the analysis on enriched transactions: trends, Microsoft licensing, scenarios.

Each subpackage takes tidy DataFrames (columns from `spendkit.schema`) and returns tidy
DataFrames: `trends` (periods, totals, real terms, suppliers, completeness, like-for-like
peers), `licensing` (the Microsoft cost model; `licensing.renewals` for the council's own
agreements, renewal dates and deal readings), `scenarios` (spending-review projections on the
council's context, Monte Carlo, tornado; scenario files in `package_data/scenarios/`). Models
read reference data through `spendkit.reference`, take the council profile
(`reference.profiles.CouncilProfile`, or None) as an argument, and never read the processed
dataset, format a table or draw a chart themselves (that is `spendkit.views`).

A new scenario is a YAML file (see `scenarios.spec` for its schema), not code; a new Microsoft
price or deal is a row in `package_data/microsoft/`.
"""
