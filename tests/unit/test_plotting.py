"""spendkit.views.plotting: renderer choice, template, money formatting, captions; html.escape_html."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spendkit.units.money import gbp
from spendkit.views import plotting
from spendkit.views.html import escape_html
from spendkit.views.plotting import (
    OKABE_ITO,
    REPORT_RENDERER,
    caption,
    gbp_axis,
    gbp_hovertemplate,
    setup_plotly,
)


@pytest.fixture()
def restore_plotly():
    """Put plotly's global defaults back after a test changes them."""
    renderer, template = pio.renderers.default, pio.templates.default
    yield
    pio.renderers.default = renderer
    pio.templates.default = template


def test_setup_default_is_mimetype_only(monkeypatch, restore_plotly):
    monkeypatch.delenv("SPENDKIT_REPORT", raising=False)
    assert setup_plotly() == "plotly_mimetype"
    assert pio.renderers.default == "plotly_mimetype"
    assert pio.templates.default == "plotly_white+spendkit"
    assert list(pio.templates["spendkit"].layout.colorway) == list(OKABE_ITO)


def test_setup_report_mode_adds_offline_html(monkeypatch, restore_plotly):
    monkeypatch.setenv("SPENDKIT_REPORT", "1")
    assert setup_plotly() == REPORT_RENDERER == "plotly_mimetype+spendkit_offline"
    assert setup_plotly() == REPORT_RENDERER  # idempotent


def test_offline_renderer_html_has_no_plotlyjs_mathjax_or_cdn():
    fig = go.Figure(go.Bar(x=["a", "<script>alert(1)</script>"], y=[1, 2]))
    bundle = plotting.OfflineHtmlRenderer().to_mimebundle(fig.to_dict())
    page = bundle["text/html"]
    assert set(bundle) == {"text/html"}
    assert 'class="plotly-graph-div"' in page and 'data-traces="bar"' in page
    assert "spendkitPlot(" in page  # drawn by the page's one loader, once plotly.js is ready
    assert "mathjax" not in page.lower()
    assert "http" not in page
    assert "* plotly.js v" not in page
    # < > & are JSON unicode escapes inside the script: a name cannot close the script tag
    assert "<script>alert(1)" not in page
    assert "\\u003cscript\\u003ealert(1)" in page
    assert page.count("<script") == 1


def test_figure_html_keeps_only_the_template_data_it_uses():
    fig = go.Figure(go.Scatter(x=[1], y=[2]))
    fig.update_layout(template="plotly_white")
    page = plotting.figure_html(fig.to_dict(), "f1")
    assert '"scatter":' in page and '"histogram2dcontour"' not in page


def test_offline_renderer_div_ids_are_deterministic(monkeypatch):
    monkeypatch.setattr(plotting, "_figure_count", 0)
    renderer = plotting.OfflineHtmlRenderer()
    fig = go.Figure(go.Bar(x=["a"], y=[1])).to_dict()
    first, second = (renderer.to_mimebundle(fig)["text/html"] for _ in range(2))
    assert 'id="spendkit-figure-1"' in first
    assert 'id="spendkit-figure-2"' in second
    assert first.replace("figure-1", "figure-2") == second


def test_offline_renderer_injects_nothing_on_activate(monkeypatch, restore_plotly):
    shown: list[str] = []
    monkeypatch.setattr(
        "plotly.io._base_renderers.ipython_display.display_html",
        lambda html, raw: shown.append(html),
    )
    plotting.OfflineHtmlRenderer().activate()
    assert shown == []  # the report page embeds plotly.js once; figures never carry it


@pytest.mark.parametrize(
    ("fig", "has_data"),
    [
        (go.Figure(go.Scatter(x=[1, 2], y=[None, float("nan")])), False),
        (go.Figure(go.Scatter(x=[1, 2], y=[None, 3])), True),
        (go.Figure(go.Bar(x=[], y=[])), False),
        (go.Figure(go.Bar(x=[5], y=["a"], orientation="h")), True),
        (go.Figure(go.Bar(x=[None], y=["a"], orientation="h")), False),
        (go.Figure(go.Heatmap(z=[[None]])), False),
        (go.Figure(go.Heatmap(z=[[1]])), True),
        (go.Figure(), False),
    ],
)
def test_figure_has_data(fig, has_data):
    assert plotting.figure_has_data(fig) is has_data


def test_show_figure_says_what_is_missing_instead_of_an_empty_chart(monkeypatch):
    shown: list = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    plotting.show_figure(go.Figure(go.Scatter(x=[1], y=[None])), "no IT payments in <May>")
    (note,) = shown
    assert note.data == "*No chart: no IT payments in &lt;May&gt;.*"


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (1234.5, {}, "£1,234.50"),
        (-12, {}, "-£12.00"),
        (-0.001, {}, "£0.00"),
        (Decimal("1234567.891"), {}, "£1,234,567.89"),
        (Decimal("0.005"), {}, "£0.01"),  # half-up, not banker's rounding
        (1234.5, {"pence": False}, "£1,235"),
        (950, {"compact": True}, "£950"),
        (999.5, {"compact": True}, "£1.00k"),
        (12345, {"compact": True}, "£12.3k"),
        (999_999, {"compact": True}, "£1.00m"),
        (-4_560_000, {"compact": True}, "-£4.56m"),
        (2.5e9, {"compact": True}, "£2.50bn"),
        (np.float64(3.3), {}, "£3.30"),
        (np.int64(7), {}, "£7.00"),
        ("12.5", {}, "£12.50"),
        (None, {}, "n/a"),
        (float("nan"), {}, "n/a"),
        (pd.NA, {"missing": "–"}, "–"),
    ],
)
def test_gbp_examples(value, kwargs, expected):
    assert gbp(value, **kwargs) == expected


def test_gbp_arrow_decimal_scalar():
    s = pd.Series([Decimal("125000.50"), None], dtype=pd.ArrowDtype(pa.decimal128(18, 2)))
    assert gbp(s.iloc[0]) == "£125,000.50"
    assert gbp(s.iloc[1]) == "n/a"


@pytest.mark.parametrize("bad", ["abc", float("inf"), object()])
def test_gbp_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match="gbp"):
        gbp(bad)


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_gbp_round_trips_pence(amount: Decimal):
    text = gbp(amount)
    assert re.fullmatch(r"-?£\d{1,3}(,\d{3})*\.\d{2}", text)
    assert Decimal(text.replace("£", "").replace(",", "")) == amount


@given(st.decimals(min_value=0, max_value=10**13, allow_nan=False, allow_infinity=False))
def test_gbp_compact_is_three_significant_figures(amount: Decimal):
    text = gbp(amount, compact=True)
    m = re.fullmatch(r"£(\d+(?:\.\d+)?)(k|m|bn)?", text)
    assert m, text
    number, unit = Decimal(m.group(1)), m.group(2)
    scale = {"k": 10**3, "m": 10**6, "bn": 10**9, None: 1}[unit]
    if unit:
        assert Decimal(1) <= number < 1000 or unit == "bn"
        step = Decimal(1).scaleb(amount.adjusted() - 2)
        assert number * scale == amount.quantize(step, rounding=ROUND_HALF_UP)
    else:
        assert number == amount.quantize(Decimal(1), rounding=ROUND_HALF_UP) < 1000


def test_gbp_hovertemplate():
    assert gbp_hovertemplate() == "%{x}<br>£%{y:,.0f}<extra></extra>"
    assert gbp_hovertemplate("x", label="%{y}", pence=True) == "%{y}<br>£%{x:,.2f}<extra></extra>"


def test_gbp_axis_compact_and_full():
    fig = gbp_axis(go.Figure(go.Bar(x=["a"], y=[1e6])))
    assert fig.layout.yaxis.tickprefix == "£"
    assert fig.layout.yaxis.exponentformat == "B"
    fig = gbp_axis(go.Figure(go.Bar(x=[1e6], y=["a"], orientation="h")), "x", compact=False)
    assert (fig.layout.xaxis.tickprefix, fig.layout.xaxis.tickformat) == ("£", ",.0f")
    with pytest.raises(ValueError, match="axis must be"):
        gbp_axis(go.Figure(), "z")


def test_caption_adds_escaped_note_and_room_below():
    fig = caption(go.Figure(), "Coverage: 11 of 12 months <Leeds & York>")
    (note,) = fig.layout.annotations
    assert note.text == "Coverage: 11 of 12 months &lt;Leeds &amp; York&gt;"
    assert (note.xref, note.yref, note.yanchor, note.showarrow) == ("paper", "paper", "top", False)
    assert fig.layout.margin.b >= 100
    trusted = caption(go.Figure(), "line one<br>line two", escape=False)
    assert trusted.layout.annotations[0].text == "line one<br>line two"


def test_escape_html():
    assert escape_html("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape_html('=HYPERLINK("http://x","y")') == "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)"
    assert escape_html("O'Neil & Sons") == "O&#x27;Neil &amp; Sons"
    assert escape_html(None) == ""
    assert escape_html(12) == "12"
