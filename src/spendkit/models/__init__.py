"""Models: the analysis on enriched transactions: trends, Microsoft licensing, scenarios.

Each subpackage takes tidy DataFrames (columns from `spendkit.schema`) and returns tidy
DataFrames: `trends` (periods, totals, real terms, suppliers, completeness, peers),
`licensing` (the Microsoft cost model), `scenarios` (spending-review projections, Monte Carlo,
tornado; scenario files in `package_data/scenarios/`). Models read reference data through
`spendkit.reference` and never read the processed dataset or draw a chart themselves.

A new scenario is a YAML file (see `scenarios.spec` for its schema), not code.
"""
