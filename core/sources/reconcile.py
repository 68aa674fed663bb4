"""The export's own total rows checked against the sum of its data rows.

Platforms append total rows ("Total: Account", "Totaal: account", "合計: アカウント") that
roistory does not read as data. Their numbers are still the platform's word on what the rows
add up to: each number column of the table is compared with the sum of the data rows. When
one of the total rows matches (within the rounding of the values the export shows), the
column is reconciled; when none does, the rows were misread (a decimal separator taken for a
thousands separator, rows lost) or the export is incomplete, and a warning says so.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from roistory.i18n import N_
from roistory.quality import Finding, Joined, Phrase
from roistory.sources.contract import NOT_ADDITIVE, TABLE_COLUMNS
from roistory.sources.state import SourceState

# the measures compared, in the order they are named
_ORDER = ("cost", "impressions", "clicks", "platform_conversions", "sent", "sessions", "amount", "revenue")


def reconcile_totals(
    frame: pd.DataFrame,
    table: str,
    state: SourceState,
    parse: Callable[[pd.Series, str], np.ndarray],
    *,
    source_name: str,
    line: Callable[[Any], Any],
) -> list[Finding]:
    """A finding per source: the totals that matched, or the first that did not."""
    if not state.total_rows or frame.empty:
        return []
    spec = TABLE_COLUMNS[table]
    measures = [c for c in spec if spec[c][0] == "number" and c not in NOT_ADDITIVE and c in frame.columns]
    measures.sort(key=lambda c: _ORDER.index(c) if c in _ORDER else len(_ORDER))
    matched: dict[str, tuple[float, str]] = {}
    mismatched: dict[str, tuple[float, float, Any, str]] = {}
    for column in measures:
        raw = pd.Series([cells.get(column) for _, _, cells in state.total_rows], dtype=object)
        if raw.isna().all():
            continue
        totals = parse(raw, column)
        data = frame[column].to_numpy(float)
        data_sum = float(np.nansum(data))
        tolerance = _rounding(data, totals)
        hits = [i for i, v in enumerate(totals) if not np.isnan(v) and abs(v - data_sum) <= tolerance]
        if hits:
            matched[column] = (data_sum, state.total_rows[hits[0]][1])
        else:
            i = next(i for i, v in enumerate(totals) if not np.isnan(v))
            row, label, _ = state.total_rows[i]
            mismatched[column] = (float(totals[i]), data_sum, row, label)
    findings = []
    if mismatched:
        column, (total, data_sum, row, label) = next(iter(mismatched.items()))
        others = [c for c in mismatched if c != column]
        if others:
            msgid = N_(
                "source '{source}': the export's total row '{label}' (row {row}) says {column} {total:,f} but the "
                "rows read add up to {sum:,f} (also {others}); check the decimal separator (options.decimal or the "
                "source's locale) and that no rows are missing"
            )
        else:
            msgid = N_(
                "source '{source}': the export's total row '{label}' (row {row}) says {column} {total:,f} but the "
                "rows read add up to {sum:,f}; check the decimal separator (options.decimal or the source's locale) "
                "and that no rows are missing"
            )
        findings.append(
            Finding.of(
                "warning",
                "totals_mismatch",
                len(mismatched),
                msgid,
                source=source_name,
                label=label,
                row=str(line(row)),  # a line of the file: shown as the file numbers it
                column=column,
                total=_amount(total),
                sum=_amount(data_sum),
                others=Joined(others),
            )
        )
    if matched:
        label = next(iter(matched.values()))[1]
        # TRANSLATORS: a column and its total, e.g. "cost 1,234.50"
        detail = [
            Phrase(N_("{column} {value:,f}"), column=column, value=_amount(value))
            for column, (value, _) in matched.items()
        ]
        findings.append(
            Finding.of(
                "info",
                "totals_reconciled",
                len(matched),
                N_("source '{source}': the rows add up to the export's own total ('{label}'): {detail}"),
                source=source_name,
                label=label,
                detail=Joined(detail),
            )
        )
    return findings


def _rounding(data: np.ndarray, totals: np.ndarray) -> float:
    """How far a sum may be from the shown total by rounding alone: none for whole numbers,
    else half a cent per row and for the total."""
    values = np.concatenate([data[~np.isnan(data)], totals[~np.isnan(totals)]])
    if np.all(values == np.round(values)):
        return 0.5
    return 0.005 * (len(data) + 1) + 1e-9


def _amount(value: float) -> Decimal:
    """A total as the export shows it: whole, or with cents (a Decimal keeps its decimals)."""
    return Decimal(f"{value:.0f}" if value == round(value) else f"{value:.2f}")
