"""Views: what the notebooks show, built on the models; nothing here changes a number.

One module of notebook helpers per notebook (`overview` for 01, `trends` for 02, `licensing`
for 03, `scenarios` for 04) with their charts, plus the shared presentation pieces: `plotting`
(the plotly template and renderer policy), `html` (escaping), `exports` (CSV/Excel writers that
are safe to open in a spreadsheet).

A new notebook gets its own module here and calls model functions; logic that changes figures
belongs in `spendkit.models`, not here.
"""
