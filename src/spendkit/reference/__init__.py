"""Reference: the facts spendkit reads from package data, each with its source.

`councils` knows English councils and other local public bodies (names, GSS codes, the single
council resolver) and the publisher profiles; `economy` the deflator, CPI and funding series;
`microsoft` the dated Microsoft price catalogue, bundles, agreements and published deals.

A new Microsoft price, deal or economic figure is a row in its package-data CSV with a source
and a confidence (high / medium / low); no code changes.
"""
