"""Placeholder: the loader is being written (see issue 2)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LoadResult:
    """Result of loading one file (placeholder)."""


def load(path, publisher=None):  # pragma: no cover - placeholder
    """Load one published spending file (placeholder)."""
    raise NotImplementedError
