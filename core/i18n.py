"""Translations of the report's fixed text (gettext catalogs under templates/locales/)."""

from __future__ import annotations

import functools
import gettext

from babel.support import Translations


@functools.lru_cache(maxsize=16)
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog for ``locale`` (e.g. ``es``, ``zh_Hant``); English text when there is none."""
    from importlib.resources import as_file, files

    folder = files("roistory.templates").joinpath("locales")
    with as_file(folder) as path:
        catalog = Translations.load(str(path), [locale], domain="roistory")
    return catalog
