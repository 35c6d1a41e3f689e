#!/usr/bin/env python3
"""Where one format's time goes inside one process: parse (our parser + model mapping), the
per-file checks, each check, the report -- against the bare library parse of the same bytes.

    python benchmarks/stages.py FORMAT [--list FILE] [--rounds N] [--checks N]

FORMAT is dockerfile, compose, k8s or terraform; the files are the real corpus's (classified as
benchmarks/run.py does, from its list cache under /tmp/iaclint-bench/real-lists) unless --list
names a file of paths.  Figures are the best of --rounds in-process rounds (files already read,
so no I/O); run.py measures whole processes, this script says which stage to work on.
"""
from __future__ import annotations

import argparse
import io
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KIND = {"dockerfile": "dockerfile", "compose": "yaml", "k8s": "yaml", "terraform": "terraform"}


def _default_list(fmt: str) -> str:
    path = os.path.join("/tmp/iaclint-bench/real-lists", f"{fmt}.txt")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run `python benchmarks/run.py --only formats --rounds 1` once, or pass --list")
    return path


def _best(fn, rounds: int):
    best, out = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _library_parse(fmt: str, datas: list[bytes]) -> None:
    if fmt == "dockerfile":
        from dockerfile_parse import DockerfileParser

        for d in datas:
            DockerfileParser(fileobj=io.BytesIO(d)).structure
    elif fmt == "terraform":
        import hcl2

        for d in datas:
            try:
                hcl2.loads(d.decode("utf-8-sig", "replace"))
            except Exception:  # noqa: BLE001 - the floor counts failed parses too
                pass
    else:
        import yaml

        for d in datas:
            try:
                for _ in yaml.load_all(d, Loader=yaml.CSafeLoader):
                    pass
            except yaml.YAMLError:
                pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("format", choices=sorted(KIND))
    ap.add_argument("--list")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--checks", type=int, default=12, help="how many of the costliest checks to list")
    args = ap.parse_args(argv)
    sys.path.insert(0, os.path.dirname(HERE))
    from linter import scan
    from linter.engine import checks as C
    from linter.engine.run import run_checks
    from linter.report import ReportContext, json_report

    with open(args.list or _default_list(args.format), encoding="utf-8") as fh:
        files = [line.strip() for line in fh if line.strip()]
    datas = []
    for f in files:
        with open(f, "rb") as fh:
            datas.append(fh.read())
    kind = KIND[args.format]
    t_lib, _ = _best(lambda: _library_parse(args.format, datas), args.rounds)
    registry = C.load_registry([])
    per_file = [c for c in registry if not c.cross_file and c.enabled]
    for c in per_file:
        c.compile()
    if kind == "terraform":
        from linter.parallel import make_units, parse_unit
        from linter.discover import Candidate

        cands = [Candidate(f, "terraform") for f in files]
        t_parse, parsed = _best(lambda: [pf for u in make_units(cands) for pf in parse_unit(u, 10**8)[0]],
                                args.rounds)
    else:
        t_parse, parsed = _best(lambda: [scan.parse_bytes(f, kind, d) for f, d in zip(files, datas)], args.rounds)
    t_checks, found = _best(lambda: [f for pf in parsed for f in scan.check_file(pf, per_file)], args.rounds)
    found.sort(key=lambda f: f.sort_key())
    result = scan.ScanResult(found, [d for pf in parsed for d in pf.diagnostics], n_files := len(files), parsed, [])
    ctx = ReportContext(result, per_file, "bench")
    t_report, _ = _best(lambda: sum(len(c) for c in json_report.render_chunks(ctx)), args.rounds)
    n = len(files)
    print(f"{args.format}: {n} files, {sum(map(len, datas)) / 1e6:.1f} MB, {len(found)} findings, best of {args.rounds}")
    print(f"  library parse   {t_lib * 1e3:8.1f} ms  {t_lib / n * 1e6:7.0f} us/file")
    print(f"  iaclint parse   {t_parse * 1e3:8.1f} ms  {t_parse / n * 1e6:7.0f} us/file  ({t_parse / t_lib:.2f}x library)")
    print(f"  per-file checks {t_checks * 1e3:8.1f} ms  {t_checks / n * 1e6:7.0f} us/file")
    print(f"  JSON report     {t_report * 1e3:8.1f} ms")
    total = t_parse + t_checks + t_report
    print(f"  in-process total {total / t_lib:.2f}x the library parse (start-up not included)")
    costs = []
    resources = [pf.resources for pf in parsed if pf.resources]
    for c in per_file:
        t, hits = _best(lambda: sum(len(run_checks([c], r)) for r in resources), args.rounds)
        costs.append((t, c.id, c.name, hits))
    costs.sort(reverse=True)
    print(f"  costliest checks (of {len(per_file)}):")
    for t, cid, name, hits in costs[:args.checks]:
        print(f"    {t * 1e3:7.1f} ms  {cid} {name} ({hits} findings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
