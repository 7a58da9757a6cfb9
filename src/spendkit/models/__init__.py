"""Models built on the enriched transactions: trends, licensing, scenarios and economy.

Each module takes tidy DataFrames (columns from `spendkit.fields`) and returns tidy DataFrames;
`economy` holds the reference series (deflators, CPI, funding) the others convert with.
"""
