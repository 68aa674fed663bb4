"""Print layout helpers: how wide a text prints, and splitting a wide table into bands that fit.

Sections pass the texts a table will print; :func:`column_bands` says which columns go in which
band (one table per band, the row labels repeated), so no column ever runs off the page in any
locale. Widths are estimates in points for DejaVu Sans, the report's text font, erring wide.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence

# A4 (210 mm) minus the page margins (2 × 16 mm), in points; Letter is wider, so A4 decides.
CONTENT_WIDTH_PT = 178 * 72 / 25.4
NARROW_EM = 0.66  # DejaVu Sans: digits 0.64 em, most letters less, W/M more (rare in numbers)
WIDE_EM = 1.0  # East Asian wide characters (CJK)


def text_width(text: str, font_size: float) -> float:
    """The printed width of ``text`` in points, at ``font_size`` pt."""
    return font_size * sum(WIDE_EM if unicodedata.east_asian_width(c) in "WF" else NARROW_EM for c in text)


def column_bands(
    row_labels: Sequence[str],
    columns: Sequence[Sequence[str]],
    *,
    font_size: float,
    padding: float,
    width: float = CONTENT_WIDTH_PT,
) -> list[range]:
    """Split ``columns`` (each: its header's longest word, then its cells) into bands that fit
    ``width`` beside the row labels, all bands the same size (13 columns: 13, or 7 + 6, or 5 + 4 + 4).

    ``padding`` is a cell's left plus right padding and border, in points.
    """
    label = max((text_width(t, font_size) for t in row_labels), default=0.0) + padding
    column = max((text_width(t, font_size) for texts in columns for t in texts), default=0.0) + padding
    fits = max(1, int((width - label) // column))
    count = len(columns)
    if count == 0:
        return []
    size = math.ceil(count / math.ceil(count / fits))
    return [range(start, min(start + size, count)) for start in range(0, count, size)]


def longest_word(text: str) -> str:
    """A header's longest word: headers wrap between words, so that is what must fit."""
    return max(text.split() or [""], key=lambda w: text_width(w, 1.0))
