"""Escape untrusted text (supplier names, file names, council names) before it goes into HTML.

spendkit writes little HTML itself (the reports index); everything it puts there from data or
user input passes through `escape_html`. pandas `DataFrame.to_html` escapes by default: keep
`escape=True`.
"""

from __future__ import annotations

import html as _stdlib_html
from typing import Any


def escape_html(text: Any) -> str:
    """Return `text` (any value, via `str`) safe to place in HTML text or a quoted attribute.

    `&`, `<`, `>`, `"` and `'` become entities, so `<script>` shows as text and cannot run.
    """
    return _stdlib_html.escape("" if text is None else str(text), quote=True)
