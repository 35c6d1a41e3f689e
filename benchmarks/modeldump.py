#!/usr/bin/env python3
"""Dump what the parsers make of a list of files -- every resource's fields and locations and
every diagnostic -- in a canonical text form, so a speed change can be proven not to change the
model: dump before, dump after, ``cmp`` the two.

    python benchmarks/modeldump.py KIND LIST OUT      # KIND: dockerfile | yaml | terraform

Also prints the findings of the built-in checks per file (the end result users see).
"""
from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _canon(value, depth=0):
    from linter.model import Location, Resource

    if depth > 6:
        return "..."
    if isinstance(value, Location):
        return repr(value.astuple())
    if isinstance(value, Resource):
        return f"<{value.type_name} {value.ident}>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_canon(v, depth + 1)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_canon(v, depth + 1) for v in value) + "]"
    return repr(value)


def _fields(res) -> dict:
    names = set(getattr(res, "__dict__", {}))
    for cls in type(res).__mro__:
        names.update(getattr(cls, "__slots__", ()))
    return {n: getattr(res, n, None) for n in sorted(names)}


def main(argv) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    kind, list_path, out_path = argv
    sys.path.insert(0, os.path.dirname(HERE))
    from linter import scan
    from linter.engine import checks as C

    with open(list_path, encoding="utf-8") as fh:
        files = [line.strip() for line in fh if line.strip()]
    if kind == "terraform":
        from linter.discover import Candidate
        from linter.parallel import make_units, parse_unit

        parsed = [pf for u in make_units([Candidate(f, "terraform", os.path.getsize(f)) for f in files])
                  for pf in parse_unit(u, 10**8)[0]]
    else:
        parsed = []
        for f in files:
            with open(f, "rb") as fh:
                parsed.append(scan.parse_bytes(f, kind, fh.read()))
    per_file = [c for c in C.load_registry([]) if not c.cross_file]
    with open(out_path, "w", encoding="utf-8") as out:
        for pf in parsed:
            out.write(f"== {pf.path} {pf.format}\n")
            for d in pf.diagnostics:
                out.write(f"  diag {d.line}:{d.column} {d.level} {d.message}\n")
            for r in pf.resources:
                out.write(f"  {r.type_name} {r.ident}\n")
                for k, v in _fields(r).items():
                    out.write(f"    {k} = {_canon(v)}\n")
            for f in sorted(scan.check_file(pf, per_file), key=lambda f: f.sort_key()):
                out.write(f"  finding {f!r} [{f.resource}]\n")
    print(f"{len(parsed)} files -> {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
