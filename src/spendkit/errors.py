"""Errors spendkit raises for bad input: each names the file, and the line and column if any."""

from __future__ import annotations


class SpendkitError(Exception):
    """Base class for user-facing errors (bad input, bad parameters)."""


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
