#!/usr/bin/env python3
"""iaclint benchmark harness: run by hand, never as a test.

    python benchmarks/run.py                       # everything (long: ~1 h on 2 busy cores)
    python benchmarks/run.py --only single,import  # the pre-commit figures (~1 min)
    python benchmarks/run.py --only formats --corpora real --rounds 3
    python benchmarks/run.py --only scale --corpora 1k,5k,20k --rounds 1

Sections (``--only``, comma-separated; default all):

single   whole-process latency of ``iaclint scan FILE`` for one Dockerfile, one Kubernetes
         manifest, one Compose file and one .tf file (median of --single-rounds runs,
         alternating with ``python -c pass`` as the yardstick)
import   ``python -X importtime`` of the CLI on one YAML file and one Dockerfile
formats  per format and overall, on each of --corpora: iaclint (default --jobs), iaclint
         --jobs 1 and the floor (benchmarks/floor.py: same files, same parsers, nothing else),
         alternating; files/s, CPU, peak RSS and iaclint/floor ratios
cache    cold (empty cache) against warm (unchanged tree) runs on --cache-corpus
scale    overall iaclint and floor runs on each of --corpora; t(5k)/t(1k), t(20k)/t(5k)
checkov  only when IACLINT_BENCH_CHECKOV names a virtualenv holding checkov: checkov on the same
         directory, alternating with iaclint, and the ratio (never a dependency of iaclint)

Corpora: ``real`` is /work/shared/corpus/real (or --real); ``1k``, ``5k``, ``20k`` are generated
into --bench-dir by make_scaled_corpus.py when missing (never commit them).  Per-format runs pass
the format's file list on the command line, as make_scaled_corpus writes it (OUT/lists/).

Comparability (see shared/bench/README.md): iaclint runs with ``--no-cache`` unless the cache is
what is measured, output goes to a JSON file, the page cache is warmed first, and every ratio
comes from runs alternated in the same session.  Bytecode: this environment may set
PYTHONDONTWRITEBYTECODE, which makes every run recompile iaclint's modules (~25 ms) -- an installed
package has its .pyc files, so iaclint and the floor run with PYTHONPYCACHEPREFIX pointing into
--bench-dir (``--keep-env`` to measure the environment as it is).  The code measured is a copy
of linter/ and checks/ taken at start (``--no-snapshot`` to run the working tree): in a shared
checkout, an edit landing mid-run would otherwise make "identical output" comparisons lie.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from measure import Series, alternate, median, run  # noqa: E402

FORMATS = ("dockerfile", "compose", "k8s", "terraform")
SCALES = {"1k": 1000, "5k": 5000, "20k": 20000}
SINGLE = {  # relative to the real corpus
    "dockerfile": "dockersamples__example-voting-app/vote/Dockerfile",
    "k8s": "kubernetes__examples/web/guestbook/frontend-deployment.yaml",
    "compose": "dockersamples__example-voting-app/docker-compose.yml",
    "terraform": "kreuzwerker__terraform-provider-docker/examples/ssh-protocol/main.tf",
}


def default_shared() -> str:
    for candidate in (os.path.join(HERE, "..", "..", "shared"), "/work/shared"):
        if os.path.isdir(os.path.join(candidate, "bench")):
            return os.path.abspath(candidate)
    return "/work/shared"


# --------------------------------------------------------------------------- setup

class Bench:
    def __init__(self, args):
        self.args = args
        self.shared = args.shared
        self.real = args.real or os.path.join(self.shared, "corpus", "real")
        self.dir = args.bench_dir
        os.makedirs(self.dir, exist_ok=True)
        self.python = sys.executable
        self.iaclint = _find_iaclint()
        self.env = dict(os.environ)
        if not args.keep_env:
            self.env.pop("PYTHONDONTWRITEBYTECODE", None)
            self.env["PYTHONPYCACHEPREFIX"] = os.path.join(self.dir, "pycache")
        self.env.pop("IACLINT_CACHE_DIR", None)
        self.snapshot = None if args.no_snapshot else snapshot_code(self.dir)
        if self.snapshot:
            # first on sys.path, ahead of the editable install: iaclint runs the snapshot
            self.env["PYTHONPATH"] = self.snapshot + os.pathsep + self.env.get("PYTHONPATH", "")
        self.results: dict = {"machine": machine(), "snapshot": self.snapshot}
        self.out = os.path.join(self.dir, "out")
        os.makedirs(self.out, exist_ok=True)

    def corpus(self, name: str) -> tuple[str, dict[str, str]]:
        """(directory, {format: list file}) for ``real`` or a scale name."""
        if name == "real":
            return self.real, self._real_lists()
        n = SCALES[name]
        directory = os.path.join(self.dir, name)
        if not os.path.isdir(os.path.join(directory, "lists")):
            print(f"# generating the {name} corpus in {directory}", file=sys.stderr)
            subprocess_run([self.python, os.path.join(self.shared, "bench", "make_scaled_corpus.py"), str(n),
                            directory, "--src", self.real])
        lists = {f: os.path.join(directory, "lists", f"{f}.txt") for f in FORMATS + ("tfvars",)}
        return directory, lists

    def _real_lists(self) -> dict[str, str]:
        """Classify the real corpus exactly as make_scaled_corpus.py does (same function)."""
        out_dir = os.path.join(self.dir, "real-lists")
        lists = {f: os.path.join(out_dir, f"{f}.txt") for f in FORMATS + ("tfvars",)}
        if all(os.path.exists(p) for p in lists.values()):
            return lists
        sys.path.insert(0, os.path.join(self.shared, "bench"))
        import make_scaled_corpus as msc

        groups = msc.scan(self.real)
        os.makedirs(out_dir, exist_ok=True)
        for fmt, path in lists.items():
            files = sorted(os.path.join(self.real, rel) for d in groups.get(fmt, {}).values() for rel in d)
            with open(path, "w", encoding="utf-8") as fh:
                fh.writelines(f + "\n" for f in files)
        return lists

    def iaclint_cmd(self, *args: str) -> list[str]:
        return [self.iaclint, "scan", *args]

    def floor_cmd(self, specs: list[tuple[str, str]]) -> list[str]:
        return [self.python, os.path.join(HERE, "floor.py")] + [f"{fmt}={path}" for fmt, path in specs]


def snapshot_code(bench_dir: str) -> str | None:
    """Copy linter/ and checks/ aside, so that edits made while a long benchmark runs (a shared
    checkout) cannot make two runs of one comparison execute different code."""
    repo = os.path.dirname(HERE)
    if not os.path.isdir(os.path.join(repo, "linter")):
        return None
    target = os.path.join(bench_dir, "snapshot", time.strftime("%Y%m%d-%H%M%S"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(os.path.join(repo, "linter"), os.path.join(target, "linter"), ignore=ignore)
    shutil.copytree(os.path.join(repo, "checks"), os.path.join(target, "checks"), ignore=ignore)
    return target


def _find_iaclint() -> str:
    # The script of *this* interpreter's environment: a pyenv/asdf shim would add ~40 ms of shell.
    near = os.path.join(os.path.dirname(sys.executable), "iaclint")
    if os.path.exists(near):
        return near
    found = shutil.which("iaclint")
    if not found:
        sys.exit("run.py: iaclint is not installed in this environment (pip install -e .)")
    return found


def subprocess_run(cmd):
    import subprocess

    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def read_list(path: str) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [line.rstrip("\n") for line in fh if line.strip()]


def warm_page_cache(files) -> int:
    n = 0
    for f in files:
        with open(f, "rb") as fh:
            n += len(fh.read())
    return n


def machine() -> dict:
    import yaml

    try:
        mem = next(int(line.split()[1]) // 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem = None
    return {"cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else None, "ram_mb": mem, "python": platform.python_version(), "platform": platform.platform(),
            "libyaml": bool(getattr(yaml, "__with_libyaml__", False)), "loadavg_start": os.getloadavg()}


# --------------------------------------------------------------------------- sections

def section_single(b: Bench) -> None:
    rounds = b.args.single_rounds
    commands = {"python -c pass": ([b.python, "-c", "pass"], b.env, os.devnull)}
    for fmt, rel in SINGLE.items():
        path = os.path.join(b.real, rel)
        commands[f"iaclint scan {fmt}"] = (b.iaclint_cmd(path), b.env, os.devnull)
    for fmt in ("dockerfile", "k8s"):
        commands[f"iaclint scan --no-cache {fmt}"] = (b.iaclint_cmd("--no-cache", os.path.join(b.real, SINGLE[fmt])),
                                                     b.env, os.devnull)
    series = alternate(commands, rounds, warmup=True)
    print(f"\n## Single-file latency (median of {rounds} whole-process runs, alternating)\n")
    print("| command | median ms | min-max s | CPU ms | peak RSS MB |\n|---|---|---|---|---|")
    for label, s in series.items():
        print(f"| `{label}` | {s.wall * 1000:.0f} | {s.spread} | {s.cpu * 1000:.0f} | {s.rss_mb:.0f} |")
    print(f"\nfiles: {', '.join(f'{k}={v}' for k, v in SINGLE.items())} (under {b.real}; the tree is read-only, "
          "so the result cache is off and every run parses: the changed-file case)")
    b.results["single"] = {k: s.as_dict() for k, s in series.items()}


def section_import(b: Bench) -> None:
    import subprocess

    print("\n## Import time (`python -X importtime`, CLI main run in-process on one file)\n")
    b.results["import"] = {}
    for fmt in ("k8s", "dockerfile"):
        path = os.path.join(b.real, SINGLE[fmt])
        code = ("import sys; sys.argv=['iaclint','scan',%r]\nfrom linter.cli import main\n"
                "try: main()\nexcept SystemExit: pass\n" % path)
        totals, tops = [], {}
        for _ in range(max(3, b.args.single_rounds // 3)):
            proc = subprocess.run([b.python, "-X", "importtime", "-c", code], env=b.env, capture_output=True,
                                  text=True)
            total, top = parse_importtime(proc.stderr)
            totals.append(total)
            for k, v in top.items():
                tops.setdefault(k, []).append(v)
        top_med = sorted(((median(v), k) for k, v in tops.items()), reverse=True)[:10]
        print(f"**{fmt}** ({SINGLE[fmt]}): all imports {median(totals) / 1000:.1f} ms (median of {len(totals)}); "
              "largest top-level imports: "
              + ", ".join(f"{k} {v / 1000:.1f}" for v, k in top_med) + " (ms, cumulative)\n")
        b.results["import"][fmt] = {"total_us": median(totals), "top_us": {k: v for v, k in top_med}}


def parse_importtime(stderr: str) -> tuple[int, dict]:
    """Sum of the top-level (not nested) cumulative times, and those per module."""
    top = {}
    for line in stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) == 1:  # one space: imported by the script itself
            top[m.group(4)] = top.get(m.group(4), 0) + int(m.group(2))
    return sum(top.values()), top


def section_formats(b: Bench) -> None:
    for name in b.args.corpora:
        directory, lists = b.corpus(name)
        files = {f: read_list(p) for f, p in lists.items() if os.path.exists(p)}
        warm_page_cache(f for fs in files.values() for f in fs)
        rounds = b.args.rounds
        print(f"\n## Throughput against the floor: {name} ({directory}), median of {rounds} alternating rounds\n")
        print("| format | files | MB | iaclint s (CPU s) | iaclint -j1 s (CPU s) | floor s (CPU s) | files/s "
              "| ratio wall (-j1) | ratio CPU | ratio CPU after start-up | peak RSS MB iaclint / -j1 / floor |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        rows = {}
        startup = _startup(b, rounds)
        for fmt in FORMATS + ("overall",):
            if b.args.formats and fmt not in b.args.formats:
                continue
            if fmt == "overall":
                targets = [directory]
                specs = [(f, lists[f]) for f in FORMATS + ("tfvars",) if files.get(f)]
                nfiles = sum(len(v) for v in files.values())
                nbytes = sum(os.path.getsize(f) for v in files.values() for f in v)
            else:
                targets = files.get(fmt, [])
                if not targets:
                    continue
                specs = [(fmt, lists[fmt])] + ([("tfvars", lists["tfvars"])] if fmt == "terraform" and
                                              files.get("tfvars") else [])
                nfiles = len(targets)
                nbytes = sum(os.path.getsize(f) for f in targets)
            out = os.path.join(b.out, f"{name}-{fmt}")
            commands = {
                "iaclint": (b.iaclint_cmd("--no-cache", "-f", "json", "-o", out + ".json", *targets), b.env,
                            out + ".stdout"),
                "iaclint -j1": (b.iaclint_cmd("--no-cache", "-j", "1", "-f", "json", "-o", out + "-j1.json",
                                              *targets), b.env, out + "-j1.stdout"),
                "floor": (b.floor_cmd(specs), b.env, out + ".floor"),
            }
            s = alternate(commands, rounds, warmup=False)
            same = _same(out + ".json", out + "-j1.json")
            it, j1, fl = s["iaclint"], s["iaclint -j1"], s["floor"]
            marginal = (j1.cpu - startup["iaclint"].cpu) / max(fl.cpu - startup["floor"].cpu, 1e-3)
            print(f"| {fmt} | {nfiles} | {nbytes / 1e6:.1f} | {it.wall:.2f} ({it.cpu:.2f}) | {j1.wall:.2f} "
                  f"({j1.cpu:.2f}) | {fl.wall:.2f} ({fl.cpu:.2f}) | {nfiles / it.wall:.0f} | "
                  f"{it.wall / fl.wall:.2f} ({j1.wall / fl.wall:.2f}) | {j1.cpu / fl.cpu:.2f} | {marginal:.2f} | "
                  f"{it.rss_mb:.0f} / {j1.rss_mb:.0f} / {fl.rss_mb:.0f} |")
            rows[fmt] = {"files": nfiles, "bytes": nbytes, "identical_j1_jN": same, "ratio_cpu_after_startup": marginal,
                         **{k: v.as_dict() for k, v in s.items()}}
            if not same:
                print(f"\n**WARNING: {fmt}: --jobs 1 and default --jobs outputs differ** ({out}.json)\n")
        print(f"\nstart-up (nothing to scan, median CPU): iaclint {startup['iaclint'].cpu:.3f} s, floor "
              f"{startup['floor'].cpu:.3f} s.")
        print("\nratio wall = iaclint (default --jobs) / floor, (-j1) = iaclint --jobs 1 / floor; ratio CPU = "
              "iaclint -j1 CPU / floor CPU; after start-up = the same with each side's start-up CPU taken "
              "off (the cost per file, which decides large runs). The floor is one process; `-j1` vs default "
              "is the parallel speedup "
              "(outputs compared byte for byte: "
              + ("identical" if all(r["identical_j1_jN"] for r in rows.values()) else "DIFFERENT") + ").")
        b.results.setdefault("formats", {})[name] = rows


def _startup(b: Bench, rounds: int) -> dict:
    """Whole-process cost of a run with nothing to do: iaclint on an empty directory (CLI,
    configuration, checks, report) and the floor on an empty list (interpreter, parser imports)."""
    empty = os.path.join(b.dir, "empty")
    os.makedirs(empty, exist_ok=True)
    empty_list = os.path.join(b.dir, "empty.txt")
    open(empty_list, "w").close()
    out = os.path.join(b.out, "startup")
    return alternate({"iaclint": (b.iaclint_cmd("--no-cache", "-j", "1", "-f", "json", "-o", out + ".json", empty),
                                  b.env, out + ".stdout"),
                      "floor": (b.floor_cmd([("dockerfile", empty_list), ("k8s", empty_list)]), b.env,
                                out + ".floor")}, max(rounds, 5))


def _same(a: str, b_: str) -> bool:
    with open(a, "rb") as x, open(b_, "rb") as y:
        return x.read() == y.read()


def section_cache(b: Bench) -> None:
    name = b.args.cache_corpus
    directory, lists = b.corpus(name)
    warm_page_cache(f for p in lists.values() if os.path.exists(p) for f in read_list(p))
    cache_dir = tempfile.mkdtemp(prefix="iaclint-bench-cache-", dir=b.dir)
    env = dict(b.env, IACLINT_CACHE_DIR=cache_dir)
    out = os.path.join(b.out, f"cache-{name}")
    cold, warm = Series("cold"), Series("warm")
    for _ in range(b.args.rounds):
        shutil.rmtree(cache_dir, ignore_errors=True)
        cold.add(run(b.iaclint_cmd("-f", "json", "-o", out + "-cold.json", directory), env, out + ".stdout"))
        warm.add(run(b.iaclint_cmd("-f", "json", "-o", out + "-warm.json", directory), env, out + ".stdout"))
    nocache = run(b.iaclint_cmd("--no-cache", "-f", "json", "-o", out + "-nocache.json", directory), b.env,
                  out + ".stdout")
    same = _same(out + "-cold.json", out + "-warm.json") and _same(out + "-cold.json", out + "-nocache.json")
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(cache_dir) for f in fs)
    shutil.rmtree(cache_dir, ignore_errors=True)
    print(f"\n## Result cache: {name} ({directory}), median of {b.args.rounds} rounds (empty cache, then unchanged tree)\n")
    print("| run | wall s | CPU s | peak RSS MB |\n|---|---|---|---|")
    for s in (cold, warm):
        print(f"| {s.label} | {s.wall:.2f} ({s.spread}) | {s.cpu:.2f} | {s.rss_mb:.0f} |")
    print(f"| --no-cache (once) | {nocache.wall:.2f} | {nocache.cpu:.2f} | {nocache.rss_mb:.0f} |")
    print(f"\nwarm/cold wall = **{warm.wall / cold.wall:.3f}**, CPU = {warm.cpu / cold.cpu:.3f}; cache size "
          f"{size / 1e6:.1f} MB; reports cold = warm = --no-cache: {'identical' if same else 'DIFFERENT'}")
    b.results["cache"] = {"corpus": name, "cold": cold.as_dict(), "warm": warm.as_dict(),
                          "nocache": vars(nocache), "identical": same, "size_bytes": size}


def section_scale(b: Bench) -> None:
    rows = {}
    for name in b.args.corpora:
        directory, lists = b.corpus(name)
        files = {f: read_list(p) for f, p in lists.items() if os.path.exists(p)}
        warm_page_cache(f for fs in files.values() for f in fs)
        specs = [(f, lists[f]) for f in FORMATS + ("tfvars",) if files.get(f)]
        out = os.path.join(b.out, f"scale-{name}")
        commands = {"iaclint": (b.iaclint_cmd("--no-cache", "-f", b.args.report_format, "-o", out + ".json", directory),
                                b.env, out + ".stdout"),
                    "floor": (b.floor_cmd(specs), b.env, out + ".floor")}
        s = alternate(commands, b.args.rounds, warmup=False)
        rows[name] = (sum(len(v) for v in files.values()), s)
    print(f"\n## Scale (overall, default --jobs, median of {b.args.rounds} alternating rounds)\n")
    print("| corpus | files | iaclint wall s | CPU s | files/s | peak RSS MB | floor wall s | floor CPU s | ratio wall | ratio CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, (n, s) in rows.items():
        it, fl = s["iaclint"], s["floor"]
        print(f"| {name} | {n} | {it.wall:.1f} ({it.spread}) | {it.cpu:.1f} | {n / it.wall:.0f} | {it.rss_mb:.0f} | "
              f"{fl.wall:.1f} | {fl.cpu:.1f} | {it.wall / fl.wall:.2f} | {it.cpu / fl.cpu:.2f} |")
    names = list(rows)
    for a, c in zip(names, names[1:]):
        (na, sa), (nc, sc) = rows[a], rows[c]
        print(f"\nt({c})/t({a}) = {sc['iaclint'].wall / sa['iaclint'].wall:.2f} wall, "
              f"{sc['iaclint'].cpu / sa['iaclint'].cpu:.2f} CPU (files x{nc / na:.2f}; floor "
              f"{sc['floor'].cpu / sa['floor'].cpu:.2f} CPU)")
    b.results["scale"] = {k: {"files": n, **{lab: v.as_dict() for lab, v in s.items()}} for k, (n, s) in rows.items()}


def section_checkov(b: Bench) -> None:
    venv = os.environ.get("IACLINT_BENCH_CHECKOV")
    if not venv:
        print("\n## Checkov: skipped (set IACLINT_BENCH_CHECKOV=/path/to/venv with checkov installed)")
        return
    checkov = os.path.join(venv, "bin", "checkov")
    if not os.path.exists(checkov):
        print(f"\n## Checkov: skipped ({checkov} does not exist)")
        return
    name = b.args.corpora[0]
    directory, _ = b.corpus(name)
    out = os.path.join(b.out, f"checkov-{name}")
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE")
    commands = {
        "iaclint": (b.iaclint_cmd("--no-cache", "-f", "json", "-o", out + "-iaclint.json", directory), b.env,
                    out + ".stdout"),
        "checkov": ([checkov, "--directory", directory, "--skip-download", "--quiet", "--compact", "--output", "json",
                     "--framework", "dockerfile", "kubernetes", "terraform"], env, out + "-checkov.json"),
    }
    s = alternate(commands, b.args.rounds, warmup=False)
    it, ck = s["iaclint"], s["checkov"]
    print(f"\n## Checkov ({name}, same directory, alternating, median of {b.args.rounds})\n")
    print("| tool | wall s | CPU s | peak RSS MB |\n|---|---|---|---|")
    for x in (it, ck):
        print(f"| {x.label} | {x.wall:.1f} | {x.cpu:.1f} | {x.rss_mb:.0f} |")
    print(f"\ncheckov / iaclint: wall {ck.wall / it.wall:.2f}x, CPU {ck.cpu / it.cpu:.2f}x (Checkov skips Compose "
          "files and some Dockerfile names; see shared/notes)")
    b.results["checkov"] = {k: v.as_dict() for k, v in s.items()}


SECTIONS = {"single": section_single, "import": section_import, "formats": section_formats,
            "cache": section_cache, "scale": section_scale, "checkov": section_checkov}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated (default: all)")
    ap.add_argument("--corpora", default=None,
                    help="for formats/scale/checkov: real,1k,5k,20k (default: real for formats, 1k,5k,20k for scale)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds per corpus measurement (default 3)")
    ap.add_argument("--single-rounds", type=int, default=15, help="runs per single-file command (default 15)")
    ap.add_argument("--cache-corpus", default="5k", help="corpus of the cache section (default 5k)")
    ap.add_argument("--bench-dir", default=os.path.join(tempfile.gettempdir(), "iaclint-bench"),
                    help="scaled corpora, outputs, bytecode (default /tmp/iaclint-bench)")
    ap.add_argument("--shared", default=default_shared(), help="the shared directory (bench/ and corpus/)")
    ap.add_argument("--real", default=None, help="the real corpus (default SHARED/corpus/real)")
    ap.add_argument("--keep-env", action="store_true", help="do not set PYTHONPYCACHEPREFIX (see above)")
    ap.add_argument("--no-snapshot", action="store_true",
                    help="run the working tree itself instead of a copy of linter/ and checks/ taken at start")
    ap.add_argument("--formats", default=None, help="formats section: only these rows, comma-separated "
                                                     "(dockerfile,compose,k8s,terraform,overall)")
    ap.add_argument("--json", default=None, help="also write every measurement to this JSON file")
    ap.add_argument("--report-format", default="json",
                    help="iaclint's --format in the scale section (default json, what CI would use)")
    args = ap.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in only if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s): {', '.join(unknown)}")
    args.formats = [f.strip() for f in args.formats.split(",")] if args.formats else None
    b = Bench(args)
    m = b.results["machine"]
    print(f"# iaclint benchmark ({time.strftime('%Y-%m-%d %H:%M')})\n\nmachine: {m['cores']} cores "
          f"(affinity {m['affinity']}), {m['ram_mb']} MB RAM, Python {m['python']}, libyaml {m['libyaml']}, "
          f"load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_start'])}; iaclint: {b.iaclint}; "
          f"bytecode: {'environment as is' if args.keep_env else 'cached under ' + b.env['PYTHONPYCACHEPREFIX']}; "
          f"code: {b.snapshot or 'working tree'}")
    corpora = [c.strip() for c in args.corpora.split(",") if c.strip()] if args.corpora else None
    bad = [c for c in corpora or () if c != "real" and c not in SCALES]
    if bad:
        ap.error(f"unknown corpus {', '.join(bad)} (real, {', '.join(SCALES)})")
    for section in only:
        args.corpora = corpora or (["real"] if section in ("formats", "checkov") else list(SCALES))
        t0 = time.perf_counter()
        SECTIONS[section](b)
        print(f"\n_({section}: {time.perf_counter() - t0:.0f} s, load average now "
              f"{', '.join(f'{x:.2f}' for x in os.getloadavg())})_", flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(b.results, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
