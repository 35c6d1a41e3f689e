"""One way to pause Python's cyclic garbage collector around allocation-heavy work.

Parsers build containers by the hundred thousand and free few of them until they are done, so
the collector (started every 700 net allocations) walks the same young survivors again and
again: ~20% of a YAML load, ~25% of a Terraform parse.  The callers (``yamlfile.parse``,
``parallel.run_unit``) pause it for one file or unit; the state is always restored, and nested
pauses are no-ops, so the innermost caller never re-enables what an outer one paused.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def collector_paused(collect_young: bool = False):
    """Pause the collector for the block.  ``collect_young``: afterwards, collect the youngest
    generation once -- everything the block allocated -- so cyclic garbage it made is freed."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        if collect_young:
            gc.collect(0)
