"""Escape untrusted text (supplier names, file names, council names) before it goes into HTML
or Markdown.

Everything spendkit puts into a page from data or user input passes through `escape_html`
(HTML text and attributes) or `escape_markdown` (Markdown shown by IPython/nbconvert, which
passes raw HTML through). The table helper (`spendkit.views.tables`) escapes every cell.
"""

from __future__ import annotations

import html as _stdlib_html
import re
from typing import Any

# Markdown punctuation that could start emphasis, a link, an image, code, a heading, a list
# item or a table cell, or end an escape; each gets a backslash.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")


def escape_html(text: Any) -> str:
    """Return `text` (any value, via `str`) safe to place in HTML text or a quoted attribute.

    `&`, `<`, `>`, `"` and `'` become entities, so `<script>` shows as text and cannot run.
    """
    return _stdlib_html.escape("" if text is None else str(text), quote=True)


def escape_markdown(text: Any) -> str:
    """Return `text` safe to place in Markdown: shown literally, never as markup or HTML.

    `&`, `<` and `>` become entities first (Markdown renderers pass raw HTML through), then
    Markdown punctuation gets a backslash; line breaks become spaces so a name cannot start a
    block; a colon becomes `&#58;` so "http://…" in a name is not turned into a live link.
    """
    flat = " ".join(("" if text is None else str(text)).split())
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", _stdlib_html.escape(flat, quote=False))
    return escaped.replace(":", "&#58;")


def markdown_with_data(text: Any) -> str:
    """Markdown that spendkit wrote around values from the data, made safe to display.

    Keeps its emphasis and lists, but no raw HTML, link or image can come out of it: `&`, `<`
    and `>` become entities, `](` and `![` are escaped and "://" loses its colon, so a
    publisher called `<img src=x onerror=…>` or `[x](javascript:…)` shows as text.
    """
    safe = _stdlib_html.escape("" if text is None else str(text), quote=False)
    return safe.replace("](", "]\\(").replace("![", "!\\[").replace("://", "&#58;//")
