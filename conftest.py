"""Project-root pytest hooks (tests/conftest.py holds the fixtures)."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Anchor `--nbval-sanitize-with` to the project root: nbval opens it relative to the cwd."""
    path = getattr(config.option, "nbval_sanitize_with", None)
    if path and not os.path.isabs(path):
        config.option.nbval_sanitize_with = str(config.rootpath / path)
