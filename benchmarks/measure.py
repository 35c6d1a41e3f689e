"""Whole-process measurement for the benchmark harness (standard library only, POSIX).

A command runs with its output sent to a file, and ``os.wait4`` returns its resource usage:
wall time from our own clock, CPU as user + system time of the process *and its reaped children*
(iaclint's workers), peak RSS as ``ru_maxrss`` -- on Linux the largest single process of the tree,
which is what matters for a memory limit (workers fork from the parent and share its pages).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    rc: int


@dataclass
class Series:
    label: str
    runs: list = field(default_factory=list)

    def add(self, run: Run) -> None:
        self.runs.append(run)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def rss_mb(self) -> float:
        return max(r.rss_mb for r in self.runs)

    @property
    def spread(self) -> str:
        walls = [r.wall for r in self.runs]
        return f"{min(walls):.2f}-{max(walls):.2f}"

    def as_dict(self) -> dict:
        return {"label": self.label, "wall_median": self.wall, "cpu_median": self.cpu, "peak_rss_mb": self.rss_mb,
                "runs": [vars(r) for r in self.runs]}


def run(cmd: list[str], env: dict | None = None, stdout_path: str = os.devnull, cwd: str | None = None,
        ok_codes=(0, 1)) -> Run:
    """Run ``cmd`` to completion and measure it; raise on an unexpected exit code (a broken
    benchmark must not print plausible numbers)."""
    with open(stdout_path, "wb") as out, open(stdout_path + ".err" if stdout_path != os.devnull else os.devnull,
                                              "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    if proc.returncode not in ok_codes:
        detail = ""
        if stdout_path != os.devnull:
            with open(stdout_path + ".err", "rb") as fh:
                detail = fh.read()[-2000:].decode("utf-8", "replace")
        raise RuntimeError(f"exit code {proc.returncode}: {' '.join(cmd[:6])} ...\n{detail}")
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode)


def alternate(commands: dict[str, tuple], rounds: int, warmup: bool = True) -> dict[str, Series]:
    """Run every command once per round, in turn (A B C A B C ...), so that load from other users
    of the machine hits all of them alike.  ``commands``: label -> (argv, env, stdout_path)."""
    series = {label: Series(label) for label in commands}
    if warmup:
        for argv, env, out in commands.values():
            run(argv, env, out)
    for _ in range(rounds):
        for label, (argv, env, out) in commands.items():
            series[label].add(run(argv, env, out))
    return series


def median(values):
    return statistics.median(values)
