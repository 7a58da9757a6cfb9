"""The errors spendkit raises, one small hierarchy: each names what was wrong and where.

- `UnreadableFileError`: a raw file that cannot be loaded (names the file, line, column).
- `InputError`: a bad argument or table given to a function (names it and what was expected).
- `ReferenceDataError`: a data file spendkit reads for reference or configuration (package
  data, a scenario YAML, a council profile) is malformed (names the file and row or key).
- `NoDataError`: the data asked for is not there (nothing ingested, no rows for a selection,
  a series that does not cover a year).
- `BuildError`: an ingest or report build could not finish (names the file or notebook).

All derive from `SpendkitError`, so `except SpendkitError` catches every user-facing error;
anything else escaping spendkit is a bug.
"""

from __future__ import annotations


class SpendkitError(Exception):
    """Base class for user-facing errors (bad input, bad parameters, missing data)."""


class UnreadableFileError(SpendkitError):
    """A file that cannot be loaded as spending data: says which file and what was found."""

    def __init__(self, path: str, problem: str, *, line: int | None = None,
                 column: str | None = None) -> None:
        where = path
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.problem = problem
        self.line = line
        self.column = column


class InputError(SpendkitError, ValueError):
    """A bad argument or table: names the argument or column and what was expected."""


class ReferenceDataError(SpendkitError, ValueError):
    """A reference or configuration file is malformed: names the file and the row or key.

    Raised with one message, or as `ReferenceDataError(source, key, problem)`, which reads
    "source: key: problem" and keeps the three parts as attributes.
    """

    def __init__(self, message: str, key: str | None = None, problem: str | None = None) -> None:
        if key is None:
            super().__init__(message)
            self.source, self.key, self.problem = "", "", message
        else:
            super().__init__(f"{message}: {key}: {problem}")
            self.source, self.key, self.problem = message, key, problem or ""


class NoDataError(SpendkitError):
    """The data asked for is not there: nothing ingested, nothing selected, a year uncovered."""


class BuildError(SpendkitError):
    """An ingest or a report build could not finish: names the file or notebook and why."""


__all__ = ["BuildError", "InputError", "NoDataError", "ReferenceDataError", "SpendkitError",
           "UnreadableFileError"]
