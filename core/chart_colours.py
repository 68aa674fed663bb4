"""Chart colours and font for one report, from its brand (no matplotlib: the renderer sets the
style before any chart module loads).

The brand's primary and accent colours first, then the Okabe–Ito colours, which stay
distinguishable with the common forms of colour blindness. Every name (a channel, a model, a
series) gets its colour the first time a chart draws it and keeps it in every later chart of
the same report.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

# Okabe & Ito (2008), "Color Universal Design": safe for deuteranopia, protanopia and tritanopia
OKABE_ITO = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#999999", "#f0e442")
PALETTE = ("#1f4e79", "#2e86c1", *OKABE_ITO)  # the default theme's primary and accent, then Okabe–Ito


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))


def _close(a: str, b: str) -> bool:
    """Whether two colours would be mistaken for each other (Euclidean RGB distance)."""
    return math.dist(_rgb(a), _rgb(b)) < 0.25


def tint(colour: str, amount: float = 0.55) -> str:
    """``colour`` mixed with white: the lighter partner of a series (spend beside revenue)."""
    return "#" + "".join(f"{round((c + (1 - c) * amount) * 255):02x}" for c in _rgb(colour))


@dataclass
class ChartStyle:
    """One report's chart colours and font; names keep the colour they first got."""

    palette: tuple[str, ...] = PALETTE
    font_family: str | None = None
    assigned: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_brand(cls, brand: dict) -> ChartStyle:
        primary = (brand.get("primary_color") or PALETTE[0]).lower()
        accent = (brand.get("accent_color") or PALETTE[1]).lower()
        brand_colours = [primary] + ([accent] if not _close(accent, primary) else [])
        rest = [c for c in OKABE_ITO if not any(_close(c, b) for b in brand_colours)]
        font = brand.get("font_family")
        family = ",".join(f.strip().strip("'\"") for f in str(font).split(",")) if font else None
        return cls(tuple(brand_colours + rest), family)

    def color(self, name: str) -> str:
        if name not in self.assigned:
            self.assigned[name] = self.palette[len(self.assigned) % len(self.palette)]
        return self.assigned[name]


_style: ContextVar[ChartStyle] = ContextVar("roistory_chart_style")


def current_style() -> ChartStyle:
    style = _style.get(None)
    if style is None:  # a chart drawn outside a report (a plugin's own test): default colours
        style = ChartStyle()
        _style.set(style)
    return style


@contextmanager
def chart_style(brand: dict) -> Iterator[ChartStyle]:
    """Charts drawn inside use ``brand``'s colours and font, one colour per name."""
    token = _style.set(ChartStyle.from_brand(brand))
    try:
        yield _style.get()
    finally:
        _style.reset(token)
