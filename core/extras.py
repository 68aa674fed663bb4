"""Optional dependencies: libraries only one plugin needs install as extras of roistory."""

from __future__ import annotations

import importlib
from types import ModuleType

from roistory.errors import ConfigError


def require_extra(module: str, extra: str, *, needed_for: str, key: str | None = None) -> ModuleType:
    """Import ``module``, or stop with one line naming the extra that brings it.

    ``needed_for`` says what the user asked for ("the sql source type"); ``key`` is the
    report.yaml key that asked for it, when there is one.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"{needed_for} needs the '{extra}' extra: pip install 'roistory[{extra}]'", key=key) from None
