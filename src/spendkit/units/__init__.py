"""Units: the small vocabularies every stage shares, each written once.

`money` holds exact amounts (Arrow decimal, whole pence) and the one way to show pounds to a
person; `periods` holds the UK financial year (April to March, '2021-22') in every form a stage
needs (one date, a pandas column, an Arrow column, a month index). Nothing here reads files or
knows about councils.
"""
