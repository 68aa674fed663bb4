"""roistory: marketing exports in, a board-ready ROI narrative out.

Public API for plugin authors::

    from roistory import hookimpl
"""

from importlib.metadata import PackageNotFoundError, version

from roistory.hookspecs import hookimpl

try:
    __version__ = version("roistory")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"

__all__ = ["hookimpl", "__version__"]
