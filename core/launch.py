"""The ``roistory`` command's entry point: the render worker starts before anything heavy loads.

Forked here, the worker imports WeasyPrint and matplotlib while this process imports pandas
and the rest of roistory, on the other core (:mod:`roistory.pdf_worker`).
"""

from __future__ import annotations

import gc
import sys

from roistory import pdf_worker


def main() -> None:
    # importing makes objects by the hundred thousand and frees none: a collection then only
    # walks them (about a tenth of the import time); the worker starts with it off too
    gc.disable()
    if pdf_worker.RENDERING_COMMANDS & set(sys.argv[1:2]):
        pdf_worker.prestart()
    from roistory.cli import main as cli_main  # after the fork: the worker never loads pandas

    gc.freeze()  # the modules just loaded stay: the collector need not walk them at every collection
    gc.enable()
    cli_main()
