"""Council profiles: what an analyst knows about their own council that the data cannot say.

A profile is a YAML file the analyst owns, `<councils dir>/<slug>.yaml` (default
`data/councils/`, overridable with `SPENDKIT_COUNCILS_DIR`). Every key is optional except
`council`. The licensing and scenario models read it; without one they say which assumption
they use instead and never borrow another council's facts.

    council: Blackburn with Darwen Borough Council   # name or GSS code (resolved)
    vat_basis: net                                   # net | gross | unknown
    microsoft:
      agreements:                                    # oldest first
        - type: EA                                   # EA | MCA-E | CSP | other
          start: 2025-07-01
          term_years: 3
          billing: annual                            # annual | annual_monthly | monthly
          reseller: Phoenix Software
          seats: {Microsoft 365 E5: 1300}            # SKU (aliases such as E3 work) -> seats
          annual_cost_gbp: 670000                    # when published
          source: "infotec.news, 3 Jun 2025"
    it_staff:
      cost_gbp: {2024-25: 2500000}                   # in-house IT staff cost by financial year
      pay_award_pct: {2025-26: 3.2}
      source: "council budget book 2024-25"
    peers: [E06000009, E06000057]                    # chosen peers (GSS codes or names)
    core_spending_power_gbp: {2025-26: 180000000, 2026-27: 190000000}
    settlement_fixed_cash: true                      # a multi-year settlement fixed in cash
    sources: ["..."]

This module defines the profile's shape (the dataclasses below) and reads and validates the
files: errors name the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class MicrosoftAgreement:
    """One Microsoft agreement of the council (a term at fixed prices)."""

    type: str  # EA | MCA-E | CSP | other
    start: date
    term_years: int
    seats: dict[str, int]
    billing: str = "annual"
    reseller: str = ""
    annual_cost_gbp: float | None = None
    source: str = ""


@dataclass(frozen=True)
class ItStaff:
    """In-house IT staff costs, which published payments never include."""

    cost_gbp: dict[str, float]  # financial year label -> cost
    pay_award_pct: dict[str, float] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class CouncilProfile:
    """Everything a profile file says about one council, validated."""

    council: str  # official name, resolved
    gss_code: str
    path: str  # the file it was read from
    vat_basis: str = "unknown"
    microsoft: tuple[MicrosoftAgreement, ...] = ()
    it_staff: ItStaff | None = None
    peers: tuple[str, ...] = ()  # GSS codes
    core_spending_power_gbp: dict[str, float] = field(default_factory=dict)
    settlement_fixed_cash: bool | None = None
    sources: tuple[str, ...] = ()


__all__ = ["CouncilProfile", "ItStaff", "MicrosoftAgreement"]
