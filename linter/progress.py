"""A progress bar on stderr for long scans.

Only when stderr is a terminal (the report goes to stdout or a file, so the bar never ends up in
machine-readable output), and only once a scan has run for about a second: a pre-commit run or a
small project never sees it.  Redrawn at most 10 times a second, erased when the stage ends.
"""
from __future__ import annotations

import sys
import time

DELAY = 1.0
INTERVAL = 0.1
WIDTH = 24


def for_terminal(quiet: bool, stream=None) -> "Progress | None":
    stream = stream or sys.stderr
    if quiet:
        return None
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        return None
    return Progress(stream) if tty else None


class Progress:
    def __init__(self, stream, clock=time.monotonic):
        self.stream = stream
        self.clock = clock
        self.t0 = clock()
        self.files = self.done_files = 0
        self.work = self.done_work = 0
        self.last = 0.0
        self.shown = False

    def start(self, files: int, work: int, done_files: int = 0) -> None:
        """``work``: weighted bytes still to process (cache hits are already done)."""
        self.files, self.done_files = files, done_files
        self.work, self.done_work = max(work, 1), 0

    def advance(self, files: int, work: int) -> None:
        self.done_files += files
        self.done_work += work
        now = self.clock()
        if now - self.t0 < DELAY or now - self.last < INTERVAL:
            return
        self.last = now
        self._draw()

    def _draw(self) -> None:
        frac = min(self.done_work / self.work, 1.0)
        filled = int(frac * WIDTH)
        line = (f"\riaclint: [{'#' * filled}{'.' * (WIDTH - filled)}] {frac * 100:3.0f}%  "
                f"{self.done_files}/{self.files} files")
        try:
            self.stream.write(line)
            self.stream.flush()
        except (OSError, ValueError):
            return
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            try:
                self.stream.write("\r\033[K")
                self.stream.flush()
            except (OSError, ValueError):
                pass
            self.shown = False
