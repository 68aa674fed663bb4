"""What exports look like in each language: total-row labels, number conventions, month names.

Data only, with where each value was found (the research notes behind it are summarised in
docs/sources.md). Confidence, as in those notes: *platform_doc* (the platform's own help in
that language), *export_seen* (several unrelated public projects reading real exports agree),
*third_party* (one public project only: a parser's alias list or a fixture).
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import get_month_names
from babel.numbers import get_decimal_symbol

# Labels of the summary rows platforms append to an export, beyond the English "Total",
# "Totals", "Grand Totals (12 records)" and "Subtotal" (and Spanish, Portuguese,
# Indonesian and French "Total", "Total :", which they cover):
TOTAL_WORDS = (
    "Totaal",  # nl, Google Ads "Totaal: account" - export_seen (usage notes of a real account)
    "Gesamt",  # de, Google Ads "Gesamt: Konto" - export_seen (a parser quoting downloads, a test suite)
    "Totale",  # it, Google Ads "Totale: account" - third_party (one generator of Google-shaped files)
    "合計",  # ja, Google Ads "合計: アカウント" - export_seen (two projects reading downloads)
    "总计",  # zh_Hans, Google Ads "总计：账号" - export_seen (three files reading the UI and downloads)
    "總計",  # zh_Hant, Google Ads "總計：帳戶" - third_party (one test suite)
)
# One label per cell: the English words as a word, the others followed by a colon, a space and
# a bracket, or nothing (so "Gesamtkampagne" or "Totale Sale" stay data).
TOTALS_LABEL = (
    r"(?i)^\s*(?:(?:grand\s+|sub-?\s*)?totals?\b|(?:"
    + "|".join(re.escape(word) for word in TOTAL_WORDS)
    + r")(?:\s*[:：]|\s*$|\s+\())"
)
# First byte (UTF-8) of every label above, so a column is only searched where one can start.
TOTAL_INITIAL_BYTES = sorted(
    {ord(c) for c in "TtSsGg"} | {word.encode()[0] for word in TOTAL_WORDS} | {9, 32, 0xC2, 0xEF}
)


def locale_of(code: str) -> Locale | None:
    """The Babel locale of a language or locale code (``nl``, ``pt_BR``, ``zh-Hant``), or None."""
    try:
        return Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def decimal_separator(code: str) -> str | None:
    """The decimal separator of a locale per CLDR ('.' for en, ja, zh, es_419; ',' for nl,
    de, fr, es, pt, it, id), or None for an unknown code."""
    locale = locale_of(code)
    return get_decimal_symbol(locale) if locale is not None else None


@lru_cache(maxsize=1)
def month_numbers() -> dict[str, int]:
    """Month names and abbreviations (with and without their dot, case-folded) in the languages
    exports come in, from CLDR, to read date ranges in title lines ("9 mei 2020 - 7 juni 2020")."""
    names: dict[str, int] = {}
    for code in ("en", "es", "id", "nl", "de", "fr", "pt", "pt_PT", "it"):
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale=code).items():
                    key = name.casefold()
                    names.setdefault(key, number)
                    names.setdefault(key.rstrip("."), number)
    return names
