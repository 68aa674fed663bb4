"""Data-quality findings: what was merged, dropped, unmatched or missing, stated plainly.

A finding's ``message`` is English (the JSON output and the CLI print it). Built with
:meth:`Finding.of`, a finding also keeps the translatable form the message was made from —
a :class:`Phrase`: an English msgid with ``{named}`` placeholders and their values — so a
report can show it in its own language with :meth:`Finding.render`.
"""

from __future__ import annotations

import gettext
import numbers
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from roistory.i18n import N_, Nn_

if TYPE_CHECKING:
    from roistory.formatting import Formatter

_EMAIL = re.compile(r"([A-Za-z0-9])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# +44 20 7946 0958, (555) 123-4567, 555-123-4567: never dates (2026-10-01) or counts (12,345)
_PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ()-]{7,}\d|\(\d{3}\) ?\d{3}-\d{4}|\d{3}[-. ]\d{3}[-. ]\d{4})(?!\w)")


def mask_personal_data(text: str) -> str:
    """E-mail addresses and phone numbers masked (p***@example.com, +*** ***): reports never print them."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: re.sub(r"\d", "*", m.group(0)), text)


_ENGLISH = gettext.NullTranslations()
_NUMBER_SPEC = re.compile(r",?(?:\.(?P<digits>\d+))?(?P<kind>[df%]?)")


@dataclass(frozen=True, eq=True, init=False)
class Phrase:
    """Translatable text: an English msgid (marked with ``N_``, or an ``Nn_`` singular/plural
    pair whose form the value ``count`` picks) and the values of its ``{placeholders}``.

    Values are shown as follows: numbers (``int``, ``float``, ``Decimal``, numpy's) with the report's
    locale formatter, honouring the placeholder's precision (``{share:.1%}``, ``{total:,f}``: a
    ``Decimal`` keeps its own decimals); a ``Phrase`` translated in turn; a :class:`Joined`
    list item by item; anything else (file, column and source names, codes, quoted cell
    values) as it is.
    """

    msgid: str | tuple[str, str]
    values: Mapping[str, Any]

    def __init__(self, msgid: str | tuple[str, str], /, **values: Any):
        object.__setattr__(self, "msgid", msgid)
        object.__setattr__(self, "values", values)  # a plain dict: frame.attrs are deep-copied

    def render(self, translations: gettext.NullTranslations | None = None, formatter: Formatter | None = None) -> str:
        """The text in ``translations``' language, numbers by ``formatter``.

        Without arguments: the English text, numbers as Python prints them (``Finding.message``).
        """
        translations = translations or _ENGLISH
        if isinstance(self.msgid, tuple):
            text = translations.ngettext(*self.msgid, self.values["count"])
        else:
            text = translations.gettext(self.msgid)
        return _Filler(translations, formatter).vformat(text, (), self.values)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Joined:
    """A list shown inside a phrase: its items (each shown like a phrase's value), joined by
    ``separator`` — translated too when it is a msgid (``、`` in Chinese)."""

    items: Sequence[Any]
    # TRANSLATORS: between the items of a list in a data-quality finding
    separator: str = N_(", ")


class _Filler(string.Formatter):
    """Fills a msgid's placeholders: the one place a finding's values become text."""

    def __init__(self, translations: gettext.NullTranslations, formatter: Formatter | None):
        self.translations, self.formatter = translations, formatter

    def format_field(self, value: Any, format_spec: str) -> str:
        if isinstance(value, Phrase):
            return value.render(self.translations, self.formatter)
        if isinstance(value, Joined):
            separator = self.translations.gettext(value.separator) if value.separator else ""  # gettext(""): the header
            return separator.join(self.format_field(item, "") for item in value.items)
        number = isinstance(value, numbers.Number) and not isinstance(value, bool)  # numpy's too
        if not number or self.formatter is None:
            return format(value, format_spec)  # names and codes as they are; English as Python prints it
        spec = _NUMBER_SPEC.fullmatch(format_spec)
        if spec is None:
            raise ValueError(f"unsupported number format '{{:{format_spec}}}' in a finding's msgid")
        if spec["kind"] == "%":
            return self.formatter.percent(float(value), int(spec["digits"] or 0))
        if isinstance(value, Decimal) and spec["digits"] is None:
            return self.formatter.number(float(value), max(0, -int(value.as_tuple().exponent)))
        return self.formatter.number(float(value), int(spec["digits"] or 0))


@dataclass(frozen=True)
class Finding:
    severity: str  # "info", "warning", "error"
    code: str
    count: int
    message: str  # English: the JSON output and the command line show it
    text: Phrase | None = field(default=None, compare=False, repr=False)  # what ``message`` was made from

    @classmethod
    def of(cls, severity: str, code: str, count: int, msgid: str | tuple[str, str], /, **values: Any) -> Finding:
        """A translatable finding: ``msgid`` (``N_("...")``, or ``Nn_("...", "...")`` whose form
        ``count`` picks) filled with ``values`` and ``count``; ``message`` is its English text."""
        text = Phrase(msgid, count=count, **values)
        return cls(severity, code, count, text.render(), text)

    def render(self, translations: gettext.NullTranslations, formatter: Formatter) -> str:
        """The finding in a report's language (``report.translations``, ``report.formatter``);
        a finding made without a msgid shows its ``message``."""
        return self.message if self.text is None else mask_personal_data(self.text.render(translations, formatter))

    def __post_init__(self) -> None:
        # findings quote input rows: mask personal data once, here, for every output (HTML, PDF, JSON, logs)
        object.__setattr__(self, "message", mask_personal_data(self.message))

    def as_json(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "count": self.count, "message": self.message}


def known(values: pd.Series, others: pd.Series) -> np.ndarray:
    """Which of ``values`` are among ``others``; a missing value never is. pyarrow's hash lookup:
    pandas' ``isin`` on text builds a Python object per value of ``others`` first."""
    import pyarrow as pa
    import pyarrow.compute as pc

    left, right = pa.array(values, from_pandas=True), pa.array(others.dropna(), from_pandas=True)
    if not (pa.types.is_string(left.type) or pa.types.is_large_string(left.type)) or left.type != right.type:
        return values.isin(set(others.dropna())).to_numpy(dtype=bool)
    return pc.is_in(left, value_set=right, skip_nulls=True).to_numpy(zero_copy_only=False)


def unmatched_touchpoints(touchpoints: pd.DataFrame, leads: pd.DataFrame | None) -> Finding | None:
    """Touchpoints of people the CRM does not know: their journeys cannot reach a lead."""
    if leads is None or "person_id" not in leads or leads["person_id"].isna().all():
        return None
    unknown = ~known(touchpoints["person_id"], leads["person_id"])
    people = touchpoints.loc[unknown, "person_id"].nunique()
    if not unknown.any():
        return None
    return Finding.of(
        "info",
        "touchpoints_without_lead",
        int(unknown.sum()),
        Nn_(
            "{count} touchpoint of {people} person matches no lead in the CRM export",
            "{count} touchpoints of {people} people match no lead in the CRM export",
        ),
        people=int(people),
    )


def overflowing_columns(tables: dict[str, pd.DataFrame]) -> list[Finding]:
    """Numeric columns whose values add up beyond the largest float (about 1.8e308): every
    total over them would be infinity, so the metrics built on them are not measurable."""
    findings = []
    for table, frame in tables.items():
        for column in frame.columns:
            if not pd.api.types.is_float_dtype(frame[column]) and not pd.api.types.is_integer_dtype(frame[column]):
                continue
            values = frame[column].to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(over="ignore", invalid="ignore"):
                total = np.nansum(np.abs(values))
            if not np.isfinite(total):
                findings.append(
                    Finding.of(
                        "error",
                        "values_overflow",
                        int((np.abs(values) > 1e300).sum()) or len(values),
                        N_(
                            "{table}.{column}: the values add up beyond the largest number a report can hold "
                            "(about 1.8e308), so the metrics built on it are not measurable"
                        ),
                        table=table,
                        column=column,
                    )
                )
    return findings
