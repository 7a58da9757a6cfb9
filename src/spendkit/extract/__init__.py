"""Extract: raw bytes → rows of string cells (a `Grid`), with nothing about their meaning lost.

What a file really is (`sniff`: CSV, XLSX, XLS, ZIP, whatever the extension says), its encoding
and line endings (`decode`), its delimiter and records (`fastcsv` for regular files, `delimited`
for the rest), Excel sheets (`excel`), and where the header is (`header`, whose vocabulary is
`package_data/loader/column_aliases.csv`). Nothing here reads amounts or dates: that is `transform`.

A new council quirk goes here only when it is about bytes or layout (a new encoding trap, a new
container); a new header spelling is a row in `column_aliases.csv`, not code.
"""
