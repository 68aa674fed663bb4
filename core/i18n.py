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
from importlib.abc import Traversable
from importlib.resources import files
from io import BytesIO

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "roistory"
_NAME = re.compile(r"[A-Za-z]{2,8}(?:_[A-Za-z0-9]{2,8})*")  # a catalog folder name, never a path


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


def load_catalog(locale: str) -> Translations | None:
    """The compiled catalog for a catalog name, or None when there is none."""
    node = catalog_file(locale)
    if not node.is_file():
        return None
    with node.open("rb") as po:
        catalog = read_po(po, locale=locale.split("_")[0], domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)  # fuzzy and empty entries fall back to English
    mo.seek(0)
    return Translations(fp=mo, domain=DOMAIN)


@functools.lru_cache(maxsize=16)
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog for ``locale`` (e.g. ``es``, ``zh_Hant``); English text when there is none."""
    for name in _candidates(locale):
        catalog = load_catalog(name)
        if catalog is not None:
            return catalog
    return gettext.NullTranslations()


def N_(message: str) -> str:
    """Mark a string for ``scripts/update-translations`` without translating it here.

    For labels kept in constants and translated later with ``report.gettext``.
    """
    return message
