"""Transform: a `Grid` and its header → the canonical transactions table and its rejects.

`columns` maps header cells to canonical fields (`spendkit.schema`), `amounts` reads every
published amount style to exact pence, `dates` votes one date format per column, `text` cleans
cells, and `canonical` judges each row (kept, or rejected with a reason from
`spendkit.schema.REJECT_REASONS`) so that every raw row is accounted for.

A new amount or date style is a case in `amounts` or `dates` with a test; a new reject reason is
added to the schema's catalogue first.
"""
