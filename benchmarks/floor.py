#!/usr/bin/env python3
"""The performance floor for iaclint: read each file and parse it with the library iaclint uses,
nothing else (no model, no checks, no report).

    python benchmarks/floor.py FORMAT=LIST [FORMAT=LIST ...]

FORMAT is how the files of LIST (one absolute path per line, as make_scaled_corpus.py writes
``OUT/lists/<format>.txt``) are parsed:

* ``k8s``, ``compose``: ``yaml.load_all(data, Loader=yaml.CSafeLoader)`` (libyaml)
* ``dockerfile``: ``DockerfileParser(fileobj=BytesIO(data)).structure`` (dockerfile-parse, from
  ``pip install ".[bench]"``).  iaclint reads Dockerfiles with its own BuildKit-rules reader, so
  this is not literally its parser; it stays the floor because it is the plain Python library
  parse of a Dockerfile, independent of iaclint's code (a floor made of our own reader would
  move whenever the reader does).
* ``terraform``, ``tfvars``: ``hcl2.loads(text)`` (python-hcl2, the Lark grammar iaclint uses)

A file that fails to parse counts as parsed (iaclint pays for the attempt too).  Libraries are
imported only for the formats present, as iaclint does.  Prints one line per format.
"""
import io
import sys
import time

PARSERS = {}


def _yaml():
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def parse(data):
        for _ in yaml.load_all(data, Loader=loader):
            pass
    return parse, (yaml.YAMLError,)


def _dockerfile():
    from dockerfile_parse import DockerfileParser

    def parse(data):
        DockerfileParser(fileobj=io.BytesIO(data)).structure
    return parse, (Exception,)


def _hcl():
    import hcl2
    from lark.exceptions import LarkError

    def parse(data):
        hcl2.loads(data.decode("utf-8-sig", "replace"))
    return parse, (LarkError, RuntimeError, ValueError, RecursionError)


FACTORIES = {"k8s": _yaml, "compose": _yaml, "dockerfile": _dockerfile, "terraform": _hcl, "tfvars": _hcl}


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    jobs = []
    for arg in argv:
        fmt, sep, path = arg.partition("=")
        if not sep or fmt not in FACTORIES:
            print(f"floor.py: expected FORMAT=LIST with FORMAT in {', '.join(FACTORIES)}, got {arg!r}", file=sys.stderr)
            return 2
        with open(path, encoding="utf-8") as fh:
            jobs.append((fmt, [line.rstrip("\n") for line in fh if line.strip()]))
    for fmt, files in jobs:
        t0 = time.perf_counter()
        parse, errors = FACTORIES[fmt]()
        nbytes = failed = 0
        for path in files:
            with open(path, "rb") as fh:
                data = fh.read()
            nbytes += len(data)
            try:
                parse(data)
            except errors:
                failed += 1
        print(f"{fmt}: files={len(files)} bytes={nbytes} parse_errors={failed} seconds={time.perf_counter() - t0:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
