#!/usr/bin/env python3
"""Mutation fuzzer for iaclint's read/parse/check/report path.

Takes real files of each format (tests/fixtures/hostile/seeds/, optionally a sample of the shared
corpus), applies a few random edits -- byte flips, truncation, indentation shifts, token and line
duplication, inserted syntax fragments, long repeats -- and runs each result through what a scan
does to one file: decode and parse (``linter.scan.parse_bytes``; Terraform through
``parsers.terraform.parse_module`` on a temporary directory), every built-in check
(``check_files``), suppressions, and the text and JSON reports.

A *crash* is an exception escaping that path, a diagnostic saying "internal error" (a parser bug
that the scan's safety net turned into a message), or an input that takes longer than
``--timeout`` seconds.  Each distinct crash is saved (input and traceback) for a regression test.

    nice python scripts/fuzz.py --inputs 100000 --seed 1
    nice python scripts/fuzz.py --inputs 20000 --seed 7 --corpus 200 --formats kubernetes,compose

tests/test_fuzz.py runs the same mutators under hypothesis with a small budget.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "fixtures" / "hostile" / "seeds"
CORPUS_INDEX = ROOT.parent / "shared" / "corpus" / "index.tsv"

#: fuzz format -> (file name the input is scanned under, discover kind, parser module it needs)
FORMATS = {
    "kubernetes": ("fuzz.yaml", "yaml", "linter.parsers.kubernetes"),
    "dockerfile": ("Dockerfile", "dockerfile", "linter.parsers.dockerfile"),
    "compose": ("compose.yaml", "yaml", "linter.parsers.compose"),
    "terraform": ("main.tf", "terraform", "linter.parsers.terraform"),
    "terraform-json": ("main.tf.json", "terraform-json", "linter.parsers.terraform"),
}
#: seed files per format (under SEEDS) and the corpus index's name for the format
SEED_FILES = {
    "kubernetes": ["workloads.yaml"],
    "dockerfile": ["Dockerfile"],
    "compose": ["compose.yaml"],
    "terraform": ["main.tf"],
    "terraform-json": ["task.tf.json"],
}
CORPUS_FORMAT = {"kubernetes": "k8s", "dockerfile": "dockerfile", "compose": "compose", "terraform": "terraform"}

#: fragments worth inserting: each one is syntax some parser treats specially
COMMON_TOKENS = [
    "\n", "\r", "\r\n", "\t", " ", "\x00", "\xff", "\ufeff", "\u2028", "\\", "\\\n", '"', "'", "`", "#",
    "${", "${VAR", "${VAR:-x}", "${VAR:?err}", "$$", "$(", "{{", "}}", "{{ .Values.x }}", "{{HF_TOKEN}}",
    "[", "]", "{", "}", ",", ":", ": ", "- ", "? ", "|", ">", "|-", "&a ", "*a", "<<: *a\n", "---\n",
    "...\n", "!!python/object/apply:os.system [id]", "!!binary", "!!set", "!!omap", "!Ref ", "!reset ",
    "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "null", "~", "true", "yes", "on", "NO", "0755", "0x1F", "22:22",
    "1e3", "99999999999999999999999", "-1", ".inf", ".nan", "=", "<<EOF\n", "<<-EOT\n", "EOF\n",
    "# iaclint: ignore=IAC101 reason=fuzz until=2000-01-01\n", "# iaclint:", "iaclint.io/ignore",
    "AKIAIOSFODNN7EXAMPLE", "ghp_", "password", "privileged", "securityContext", "containers", "image",
]
FORMAT_TOKENS = {
    "kubernetes": ["apiVersion: v1\n", "kind: List\n", "kind: Pod\n", "items:\n", "metadata:\n", "spec:\n",
                   "hostPath:\n", "runAsUser: ", "capabilities:\n", "valueFrom:\n", "secretKeyRef:\n"],
    "dockerfile": ["FROM ", "FROM scratch\n", "ARG ", "ENV ", "USER ", "USER 0\n", "RUN ", "RUN <<EOF\n",
                   "COPY ", "ADD ", "HEALTHCHECK NONE\n", "ONBUILD ", "SHELL [\"sh\"]\n", "# escape=`\n",
                   "# syntax=docker/dockerfile:1\n", "AS ", "--mount=", "--chown=", "EXPOSE ", "CMD [",
                   "NOTANINSTRUCTION x\n", "${BASE:-alpine}", "$BASE"],
    "compose": ["services:\n", "services: []\n", "environment: x\n", "extends: ", "<<: *common\n", "x-",
                "cap_add: ", "volumes:\n", "ports:\n", "- \"80:80\"\n", "secrets:\n", "include:\n", "profiles: ",
                "!override ", "deploy:\n"],
    "terraform": ["resource ", "variable ", "locals {\n", "module ", "data ", "dynamic ", "for_each = ",
                  "count = ", "jsonencode(", "yamlencode(", "file(", "templatefile(", "lookup(", "${",
                  "%{ if ", "%{ endif }", "local.", "var.", "each.", "= ", "=> ", "...", "[for x in ", " : x]",
                  "<<EOT\n", "EOT\n", "/*", "*/", "//", "null"],
    "terraform-json": ['{"', '":', '"resource"', '"variable"', '"locals"', '"module"', "[", "]", "{}", "[]",
                       "null", "1e999", '"${var.x}"', '"${jsonencode({})}"', "\\u0000", "\\ud800"],
}

#: values of another type or shape than the one written: what a structure-blind byte flip rarely makes
SHAPES = {
    "yaml": ["[a]", "[[1]]", "{a: 1}", "{}", "[]", "42", "-1", "1.5", ".inf", "null", "~", "true", "''", '"{{ x }}"',
             "*a", "&a x", "!!binary aGk=", "!!set {a}", "2020-01-01", "0755", "[{name: [x]}]", "{? [a] : b}"],
    "hcl": ["[1]", "{a = 1}", "{}", "[]", "null", "true", "42", '"x"', '"${var.x}"', "local.x", "var.y",
            "module.m.out", "data.d.x.y", "each.value", "count.index", "jsonencode({a = local.x})",
            "[for k, v in var.m : v]", "var.a ? 1 : 2", "file(\"x\")", "-1", "1e999"],
    "json": ["[1]", '{"a": 1}', "{}", "[]", "null", "true", "42", '"x"', '"${var.x}"', '"${local.x}"', "1e999", '""'],
    "dockerfile": ["$X", "${X:-root}", "0", "root", "0:0", "[\"a\"]", "[", "--flag=x", "\\", "'", "\"", ""],
}
SHAPE_KIND = {"kubernetes": "yaml", "compose": "yaml", "terraform": "hcl", "terraform-json": "json",
              "dockerfile": "dockerfile"}

N_OPS = 11  # flip, set byte, truncate, indent, dup token, dup line, insert, delete, repeat, swap, value shape


def tokens_for(fmt: str) -> list[bytes]:
    return [t.encode("utf-8", "surrogatepass") if t != "\xff" else b"\xff"
            for t in COMMON_TOKENS + FORMAT_TOKENS.get(fmt, [])]


def _line_spans(data: bytes) -> list[tuple[int, int]]:
    spans, start = [], 0
    while start <= len(data):
        end = data.find(b"\n", start)
        if end < 0:
            spans.append((start, len(data)))
            break
        spans.append((start, end + 1))
        start = end + 1
    return spans


def apply_edit(data: bytes, op: int, pos: int, arg: int, tokens: list[bytes], shapes=()) -> bytes:
    """One deterministic edit; ``pos`` and ``arg`` are any non-negative ints, reduced here."""
    op %= N_OPS
    n = len(data)
    if op == 6 or n == 0:  # insert a syntax fragment
        i = pos % (n + 1)
        return data[:i] + tokens[arg % len(tokens)] + data[i:]
    i = pos % n
    if op == 0:  # flip one bit
        return data[:i] + bytes([data[i] ^ (1 << (arg % 8))]) + data[i + 1:]
    if op == 1:  # set one byte
        return data[:i] + bytes([arg % 256]) + data[i + 1:]
    if op == 2:  # truncate
        return data[:i]
    if op == 7:  # delete a short span
        return data[:i] + data[i + 1 + arg % 32:]
    if op == 8:  # repeat a short span many times: long lines, deep nesting, huge lists
        span = data[i:i + 1 + arg % 8]
        return data[:i] + span * (2 + (arg >> 3) % 3000) + data[i:]
    lines = _line_spans(data)
    a, b = lines[pos % len(lines)]
    if op == 3:  # shift indentation
        how = arg % 4
        if how == 0:
            return data[:a] + b" " + data[a:]
        if how == 1:
            return data[:a] + b"  " + data[a:]
        if how == 2:
            return data[:a] + data[a + 1:] if data[a:a + 1] in (b" ", b"\t") else data
        return data[:a] + b"\t" + data[a:]
    if op == 4:  # duplicate the whitespace-delimited token around pos
        s = i
        while s > a and data[s - 1:s] not in (b" ", b"\t", b"\n"):
            s -= 1
        e = i
        while e < b and data[e:e + 1] not in (b" ", b"\t", b"\n"):
            e += 1
        token = data[s:e] or data[i:i + 1]
        return data[:e] + (b" " if arg % 2 else b"") + token + data[e:]
    if op == 10:  # give one value another type: `key: value`, `key = value`, `INSTR value`
        line = data[a:b]
        for sep in (b": ", b" = ", b"= ", b" "):
            k = line.find(sep)
            if k >= 0 and shapes:
                end = b - 1 if line.endswith(b"\n") else b
                return data[:a + k + len(sep)] + shapes[arg % len(shapes)] + data[end:]
        return data
    c, d = lines[arg % len(lines)]
    if op == 5:  # duplicate a line elsewhere (duplicate keys, repeated instructions)
        line = data[a:b] if data[a:b].endswith(b"\n") else data[a:b] + b"\n"
        return data[:c] + line + data[c:]
    # op == 9: swap two lines
    if (a, b) == (c, d):
        return data
    (a, b), (c, d) = sorted(((a, b), (c, d)))
    return data[:a] + data[c:d] + data[b:c] + data[a:b] + data[d:]


def shapes_for(fmt: str) -> list[bytes]:
    return [s.encode() for s in SHAPES[SHAPE_KIND[fmt]]]


def mutate(data: bytes, edits, tokens: list[bytes], shapes=()) -> bytes:
    for op, pos, arg in edits:
        data = apply_edit(data, op, pos, arg, tokens, shapes)
    return data


def random_edits(rng: random.Random, max_edits: int) -> list[tuple[int, int, int]]:
    # Mostly one or two edits: more edits mostly break the syntax, and the mappers behind the
    # syntax only see inputs that still parse.
    n = min(max_edits, 1 + int(rng.expovariate(0.9)))
    return [(rng.randrange(N_OPS), rng.randrange(1 << 30), rng.randrange(1 << 30)) for _ in range(n)]


# --------------------------------------------------------------------------- retyping whole trees

#: values of every type and shape a parser may meet where it expects another one
RETYPE_VALUES = [[], [[1]], ["x"], [None], {}, {"a": 1}, {"name": ["x"]}, [{"name": {"a": 1}}], 0, 42, -1, 1.5,
                 float("inf"), None, True, False, "", "x", "{{ x }}", "${X}", "$(X)", "ALL", "0", "root",
                 "a" * 300, "\x1b[31m", "line\nbreak"]
TREE_FORMATS = {"kubernetes": "yaml", "compose": "yaml", "terraform-json": "json"}


def _plain(node):
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def retype(node, rng: random.Random, p: float):
    """A copy of the tree with each value (and each key, rarely) replaced, with probability p, by
    one of RETYPE_VALUES: every wrong type at every place, not only where bytes can reach it."""
    if rng.random() < p:
        return _plain(rng.choice(RETYPE_VALUES))
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if rng.random() < p / 4:
                k = rng.choice([0, None, True, "", "x", 1.5])
            out[k] = retype(v, rng, p)
        return out
    if isinstance(node, list):
        return [retype(v, rng, p) for v in node]
    return node


def retype_text(fmt: str, data: bytes, rng: random.Random, p: float = 0.05) -> bytes:
    """Parse a YAML/JSON seed, retype its tree, write it back (None: the seed does not parse)."""
    import json

    import yaml

    if TREE_FORMATS[fmt] == "json":
        docs = [json.loads(data)]
        return json.dumps(retype(docs[0], rng, p), allow_nan=True).encode()
    docs = [_plain(d) for d in yaml.load_all(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))]
    out = [retype(d, rng, p) for d in docs if d is not None]
    return yaml.safe_dump_all(out, sort_keys=False, allow_unicode=True).encode()


# --------------------------------------------------------------------------- running one input

class FuzzTimeout(BaseException):
    """BaseException, so that no parser's ``except Exception`` safety net swallows it."""


@contextmanager
def time_limit(seconds: float):
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def _expired(signum, frame):
        raise FuzzTimeout(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Harness:
    """Everything a scan of one file does, in-process, with every built-in check enabled."""

    def __init__(self, workdir: str, formats_reports=("text", "json")):
        from linter.engine.checks import load_registry

        self.checks = sorted(load_registry(), key=lambda c: c.id)  # optional checks too
        self.workdir = workdir
        self.reports = formats_reports

    def run(self, fmt: str, data: bytes):
        """``(parsed, findings, rendered)``; raises whatever the scan path raises."""
        from linter.scan import ScanResult, check_files, parse_bytes
        from linter.suppress import apply_suppressions

        name, kind, _ = FORMATS[fmt]
        if kind in ("terraform", "terraform-json"):
            parsed = self._terraform(name, kind, data)
        else:
            parsed = [parse_bytes(name, kind, data)]
        findings = check_files(parsed, self.checks)
        findings, extra = apply_suppressions(parsed, findings, self.checks, None)
        diagnostics = [d for pf in parsed for d in pf.diagnostics] + list(extra)
        result = ScanResult(findings, diagnostics, len(parsed), parsed, [])
        rendered = {}
        if self.reports:
            from linter import __version__
            from linter.report import ReportContext, render

            for report in self.reports:
                rendered[report] = render(report, ReportContext(result=result, checks=self.checks,
                                                                version=__version__, roots=["."]))
        return parsed, findings, diagnostics, rendered

    def _terraform(self, name: str, kind: str, data: bytes):
        from linter.discover import Candidate
        from linter.parsers import terraform

        module = os.path.join(self.workdir, "module")
        shutil.rmtree(module, ignore_errors=True)
        os.makedirs(module)
        path = os.path.join(module, name)
        with open(path, "wb") as fh:
            fh.write(data)
        return terraform.parse_module(module, [Candidate(path, kind, len(data))], 10 * 1024 * 1024)


def capture_internal_tracebacks() -> list[str]:
    """Make every "internal error" diagnostic also record the traceback being handled (parsers
    turn their exceptions into diagnostics, which keeps the run alive but loses the stack)."""
    from linter.model import ParsedFile

    captured: list[str] = []
    original = ParsedFile.error

    def error(self, line, message, *args, **kw):
        if "internal error" in message and sys.exc_info()[0] is not None:
            captured.append(traceback.format_exc())
        return original(self, line, message, *args, **kw)

    ParsedFile.error = error
    return captured


def problems_of(diagnostics) -> list[str]:
    """Diagnostics that are bugs rather than reports about the input."""
    return [f"{d.path}:{d.line}: {d.message}" for d in diagnostics if "internal error" in d.message]


# --------------------------------------------------------------------------- the long run

def load_seeds(formats: list[str], corpus: int, rng: random.Random) -> dict[str, list[tuple[str, bytes]]]:
    seeds: dict[str, list[tuple[str, bytes]]] = {f: [] for f in formats}
    for fmt in formats:
        for name in SEED_FILES[fmt]:
            seeds[fmt].append((f"seeds/{name}", (SEEDS / name).read_bytes()))
    if corpus and CORPUS_INDEX.is_file():
        by_format: dict[str, list[str]] = {}
        for row in CORPUS_INDEX.read_text().splitlines()[1:]:
            parts = row.split("\t")
            if len(parts) == 3 and int(parts[2]) <= 64 * 1024:  # small ones: mutations stay cheap
                by_format.setdefault(parts[1], []).append(parts[0])
        for fmt in formats:
            paths = sorted(by_format.get(CORPUS_FORMAT.get(fmt, ""), []))
            for rel in rng.sample(paths, min(corpus, len(paths))):
                seeds[fmt].append((rel, (CORPUS_INDEX.parent / rel).read_bytes()))
    return seeds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", type=int, default=10_000, help="mutated inputs to try (all formats together)")
    ap.add_argument("--seed", type=int, default=1, help="random seed: the same seed replays the same inputs")
    ap.add_argument("--formats", default=",".join(FORMATS), help="comma-separated subset of: " + ", ".join(FORMATS))
    ap.add_argument("--max-edits", type=int, default=6, help="edits applied to a seed per input (1..N)")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds before an input counts as a hang")
    ap.add_argument("--corpus", type=int, default=0,
                    help="also seed from N random small files per format of the shared corpus")
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "iaclint-fuzz"),
                    help="directory for crash reproducers")
    ap.add_argument("--reports", default="text,json", help="report formats rendered per input ('' for none)")
    ap.add_argument("--progress", type=int, default=1000, help="print a line every N inputs (0: never)")
    ap.add_argument("--retype-share", type=float, default=0.3,
                    help="share of YAML/JSON inputs made by retyping the parsed tree instead of editing bytes")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    formats = []
    for fmt in args.formats.split(","):
        fmt = fmt.strip()
        if fmt not in FORMATS:
            ap.error(f"unknown format {fmt!r}")
        try:
            __import__(FORMATS[fmt][2])
        except ImportError:
            print(f"skipping {fmt}: {FORMATS[fmt][2]} is not available")
            continue
        formats.append(fmt)
    rng = random.Random(args.seed)
    seeds = load_seeds(formats, args.corpus, rng)
    tokens = {fmt: tokens_for(fmt) for fmt in formats}
    shapes = {fmt: shapes_for(fmt) for fmt in formats}
    os.makedirs(args.out, exist_ok=True)
    crashes: dict[str, str] = {}     # signature -> reproducer path
    counts = {fmt: 0 for fmt in formats}
    slowest = (0.0, "")
    start = time.perf_counter()
    tracebacks = capture_internal_tracebacks()
    with tempfile.TemporaryDirectory(prefix="iaclint-fuzz-") as work:
        harness = Harness(work, tuple(r for r in args.reports.split(",") if r))
        for n in range(1, args.inputs + 1):
            fmt = formats[n % len(formats)]
            # half the inputs from the hand-made seeds (every construct the parser maps), half from
            # the corpus sample (real-world variety)
            pool = seeds[fmt]
            own = [s for s in pool if s[0].startswith("seeds/")]
            origin, base = rng.choice(own if own and rng.random() < 0.5 else pool)
            data = None
            if fmt in TREE_FORMATS and rng.random() < args.retype_share:
                try:
                    data = retype_text(fmt, base, rng)
                except Exception:  # noqa: BLE001 - a corpus seed our plain loader cannot read
                    data = None
            if data is None:
                data = mutate(base, random_edits(rng, args.max_edits), tokens[fmt], shapes[fmt])
            counts[fmt] += 1
            t0 = time.perf_counter()
            signature = detail = None
            tracebacks.clear()
            try:
                with time_limit(args.timeout):
                    _, _, diagnostics, _ = harness.run(fmt, data)
                bugs = problems_of(diagnostics)
                if bugs:
                    where = ""
                    if tracebacks:  # the innermost frame tells bugs apart better than the message
                        last = [ln for ln in tracebacks[0].splitlines() if ln.strip().startswith("File ")][-1:]
                        where = " at " + last[0].strip().split("/")[-1].replace('", line ', ":").split(",")[0] \
                            if last else ""
                    cls = bugs[0].split("(", 1)[-1].split(":", 1)[0]
                    # one signature per raising line, whatever the value's type in the message
                    signature = f"{fmt}: {cls}{where}" if where else f"{fmt}: {bugs[0].split(': ', 1)[1][:100]}"
                    detail = "\n".join(bugs + tracebacks)
            except FuzzTimeout as exc:
                signature, detail = f"{fmt}: hang", str(exc)
            except BaseException as exc:  # noqa: BLE001 - that is what we are looking for
                if isinstance(exc, KeyboardInterrupt):
                    print("interrupted")
                    break
                tb = traceback.extract_tb(exc.__traceback__)
                where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else "?"
                signature, detail = f"{fmt}: {type(exc).__name__} at {where}", traceback.format_exc()
            elapsed = time.perf_counter() - t0
            if elapsed > slowest[0]:
                slowest = (elapsed, f"{fmt} input {n} from {origin} ({len(data)} bytes)")
            if signature and signature not in crashes:
                digest = hashlib.sha1(data).hexdigest()[:12]
                path = os.path.join(args.out, f"crash-{fmt}-{digest}-{FORMATS[fmt][0]}")
                with open(path, "wb") as fh:
                    fh.write(data)
                with open(path + ".txt", "w") as fh:
                    fh.write(f"{signature}\nseed file: {origin}\ninput #{n} of --seed {args.seed}\n\n{detail}\n")
                crashes[signature] = path
                print(f"CRASH {signature}\n  reproducer: {path}", flush=True)
            if args.progress and n % args.progress == 0:
                print(f"{n} inputs, {time.perf_counter() - start:.0f} s, {len(crashes)} distinct crashes",
                      flush=True)
    total = sum(counts.values())
    seconds = time.perf_counter() - start
    print(f"\ninputs tried: {total} ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    print(f"seconds: {seconds:.1f} ({total / seconds:.0f} inputs/s)" if seconds else "seconds: 0")
    print(f"slowest input: {slowest[0]:.2f} s, {slowest[1]}")
    print(f"distinct crashes: {len(crashes)}")
    for sig, path in crashes.items():
        print(f"  {sig}\n    {path}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
