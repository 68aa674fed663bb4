"""Translations of the report's fixed text (gettext catalogs under templates/locales/).

Catalogs are plain ``.po`` files, ``templates/locales/<locale>/LC_MESSAGES/roistory.po``,
compiled in memory on first use (no ``.mo`` build step); ``scripts/update-translations``
extracts the msgids and updates them. A locale without a catalog (``en``) gets the
English text.
"""

from __future__ import annotations

import functools
import gettext
import re
from dataclasses import dataclass
from importlib.abc import Traversable
from importlib.resources import files
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "roistory"
_NAME = re.compile(r"[A-Za-z]{2,8}(?:_[A-Za-z0-9]{2,8})*")  # a catalog folder name, never a path


@dataclass(frozen=True)
class Catalog:
    """A plugin's gettext catalogs: ``folder/<locale>/LC_MESSAGES/<domain>.po``."""

    domain: str
    folder: Traversable | Path

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.domain):
            raise ValueError(f"catalog domain '{self.domain}' must be a plain name like my_plugin")


def locales_folder() -> Traversable:
    """``templates/locales`` inside the installed package (a folder, or a zip member)."""
    return files("roistory.templates").joinpath("locales")


def catalog_file(locale: str) -> Traversable:
    """Where the ``.po`` catalog of a catalog folder name (``es``, ``zh_Hant``) lives."""
    return locales_folder().joinpath(locale, "LC_MESSAGES", f"{DOMAIN}.po")


def available_locales() -> list[str]:
    """The catalog folder names that hold a catalog, sorted."""
    folder = locales_folder()
    if not folder.is_dir():
        return []
    return sorted(node.name for node in folder.iterdir() if catalog_file(node.name).is_file())


def _candidates(locale: str) -> list[str]:
    """Catalog names to try for a locale, most specific first.

    ``es_MX`` → ``es_MX``, ``es``; ``zh_Hant_TW`` → ``zh_Hant_TW``, ``zh_Hant``;
    ``zh_TW`` / ``zh_HK`` → ``zh_Hant`` (Traditional script). ``zh`` and ``zh_Hans``
    never fall back to the Traditional catalog.
    """
    raw = locale.replace("-", "_")
    try:
        parsed = Locale.parse(raw)
    except (UnknownLocaleError, ValueError, TypeError, LookupError):
        return [raw] if _NAME.fullmatch(raw) else []
    language, script, territory = parsed.language, parsed.script, parsed.territory
    if language == "zh" and script is None and territory in ("TW", "HK", "MO"):
        script = "Hant"
    names = [raw, str(parsed)]
    if script:
        names.append(f"{language}_{script}")
    if language != "zh" or script is None:
        # zh_Hans never falls back to a plain ``zh`` catalog of unknown script
        names.append(language)
    return [n for n in dict.fromkeys(names) if _NAME.fullmatch(n)]


def load_catalog(locale: str, source: Catalog | None = None) -> Translations | None:
    """The compiled catalog for a catalog name (roistory's, or a plugin's), or None."""
    domain = source.domain if source else DOMAIN
    node = source.folder.joinpath(locale, "LC_MESSAGES", f"{domain}.po") if source else catalog_file(locale)
    if not node.is_file():
        return None
    with node.open("rb") as po:
        catalog = read_po(po, locale=locale.split("_")[0], domain=domain)
    mo = BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)  # fuzzy and empty entries fall back to English
    mo.seek(0)
    return Translations(fp=mo, domain=domain)


def _best(locale: str, source: Catalog | None = None) -> Translations | None:
    return next((c for name in _candidates(locale) if (c := load_catalog(name, source))), None)


@functools.lru_cache(maxsize=16)
def translations(locale: str, plugins: tuple[Catalog, ...] = ()) -> gettext.NullTranslations:
    """The catalog for ``locale`` (e.g. ``es``, ``zh_Hant``); English text when there is none.

    ``plugins``' catalogs are consulted after roistory's own, in the order given.
    """
    merged = _best(locale) or gettext.NullTranslations()
    for source in plugins:
        if (extra := _best(locale, source)) is not None:
            merged.add_fallback(extra)
    return merged


def N_(message: str) -> str:
    """Mark a string for ``scripts/update-translations`` without translating it here.

    For labels kept in constants and translated later with ``report.gettext``.
    """
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular/plural msgid pair for ``scripts/update-translations`` (an ngettext entry).

    The pair is translated later with ``ngettext``, e.g. by :class:`roistory.quality.Phrase`.
    """
    return singular, plural
