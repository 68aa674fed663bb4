"""roistory: marketing exports in, a board-ready ROI narrative out.

The public API for plugin authors lives in :mod:`roistory.api` and is
re-exported here, so both spellings work::

    from roistory import hookimpl, Metric, period_total
    from roistory.api import hookimpl, Metric, period_total

Only ``hookimpl`` is imported eagerly; the rest (which needs pandas) loads on
first use, so ``roistory --help`` stays fast.
"""

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from roistory.hookspecs import hookimpl

try:
    __version__ = version("roistory")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"


def _api() -> Any:
    import importlib  # not `from roistory import api`: that would call __getattr__ again

    return importlib.import_module("roistory.api")


def __getattr__(name: str) -> Any:
    import importlib.util

    # `from roistory import history` asks for the attribute before importing the submodule:
    # answer with the submodule, so importing it never has to load the whole API.
    if importlib.util.find_spec(f"roistory.{name}") is not None:
        return importlib.import_module(f"roistory.{name}")
    api = _api()
    if name in api.__all__:
        return getattr(api, name)
    raise AttributeError(f"module 'roistory' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_api().__all__})


__all__ = ["hookimpl", "__version__"]
