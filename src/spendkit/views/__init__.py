"""Views: what the notebooks show, built on the models; nothing here changes a number.

One module of notebook helpers per notebook (`overview` for 01, `trends` for 02, `licensing`
for 03; 04 uses `spendkit.models.scenarios.review` and `scenarios_charts` for now) with their
charts, plus the shared presentation pieces every notebook uses:

* `tables` — the one table helper (`table(df)`): £ and % formats, human headers, no index,
  "Top N of M", tables that fit the page, never `nan`;
* `provenance` — what a page rests on, from the ledger: sample or real, publishers, files,
  years and months (part-years marked); the page header and chart notes come from it;
* `plotting` — the plotly template, the renderer policy and `show_figure` (a sentence instead
  of an empty chart);
* `html` — escaping for HTML and Markdown; `exports` — workbooks and CSVs for finance
  colleagues (and the older one-call writers); `safe` — formula neutralisation.

A new notebook gets its own module here and calls model functions; logic that changes figures
belongs in `spendkit.models`, not here.
"""
