"""The per-file stage of a scan -- read, parse, per-file checks, slim -- over *units*, serially or
on worker processes, with the result cache in front.

A unit is one file, or one Terraform module directory (``parsers.terraform.parse_module`` parses
a directory's files together: variables and locals resolve across them).  Units are independent,
so they can run in any process and any order; results are put back in unit order, so the output
of ``--jobs N`` is byte-for-byte that of ``--jobs 1``.

When to use processes: forking is cheap (~10-30 ms per warm worker) but not free, and pickling
the results back costs ~10 % of the work.  So only the estimated work of the cache misses counts:
bytes, with Terraform bytes weighted ~20x (python-hcl2 parses ~200 KB/s against ~3 MB/s of
position-tracking YAML).  Below about a second of work, or with one unit, everything runs in
this process -- a pre-commit run on a few files never starts a worker.
"""
from __future__ import annotations

import os
import sys

from .discover import Candidate

#: cost multiplier of a Terraform byte against a YAML/Dockerfile byte (measured: see benchmarks/)
TERRAFORM_WEIGHT = 20
#: weighted bytes under which workers are not worth starting: ~1 s of single-process work (YAML and
#: Dockerfiles run at ~4 MB/s with checks); below that the best case saves a few hundred ms, and on
#: a busy machine the pool can cost more than it saves
PARALLEL_THRESHOLD = 4_000_000
_TERRAFORM_KINDS = ("terraform", "terraform-json")
#: files beside a scanned file that its parser reads too, so they belong to its cache key
#: (compose_interp interpolates a Compose file from the .env beside it)
SIDE_INPUTS = {"yaml": (".env",)}


class Unit:
    __slots__ = ("index", "kind", "path", "cands", "weight")

    def __init__(self, index: int, kind: str, path: str, cands: list[Candidate]):
        self.index = index
        self.kind = kind          # "file" or "module"
        self.path = path          # the file, or the module directory
        self.cands = cands
        size = sum(c.size for c in cands)
        self.weight = size * TERRAFORM_WEIGHT if kind == "module" else size

    @property
    def cache_name(self) -> str:
        """What, besides input bytes and settings, decides the result: the paths (they are in
        every location), the kind (an explicitly named file may be sniffed) and whether files were
        named (parse_module reports tfvars problems only for a walked directory)."""
        return "\0".join([self.kind, self.path] + sorted(f"{c.path}\0{c.kind}\0{c.explicit:d}" for c in self.cands))

    def input_hash(self, max_size: int) -> bytes | None:
        """Hash of what the unit's result depends on, or None when it must not be cached
        (unreadable, over the size limit: those are cheap notices anyway)."""
        from .cache import module_hash

        if self.kind == "module":
            return module_hash(self.path)
        from .scan import read_candidate

        cand = self.cands[0]
        data = read_candidate(cand, max_size)  # non-blocking: a FIFO swapped in cannot hang us
        return file_digest(data, side_hash(cand)) if isinstance(data, bytes) else None


def file_digest(data: bytes, side: bytes) -> bytes:
    """Cache key of a single-file unit: its bytes and the side inputs (``.env``) it reads."""
    from .cache import content_hash

    return content_hash(content_hash(data) + side)


def side_hash(cand: Candidate) -> bytes:
    """Hash of the SIDE_INPUTS beside ``cand`` (a missing one hashes differently from an empty one)."""
    names = SIDE_INPUTS.get(cand.kind)
    if not names:
        return b""
    from .cache import content_hash

    parts = []
    for name in names:
        try:
            with open(os.path.join(os.path.dirname(cand.path), name), "rb") as fh:
                parts.append(b"+" + content_hash(fh.read()))
        except OSError:
            parts.append(b"-")
    return b"".join(parts)


def make_units(cands: list[Candidate]) -> list[Unit]:
    """Files in discovery order, then Terraform modules by directory (the order scan results
    have always had; the final sort makes it invisible in reports anyway)."""
    units: list[Unit] = []
    modules: dict[str, list[Candidate]] = {}
    named_vars: set[str] = set()
    for c in cands:
        if c.kind in _TERRAFORM_KINDS:
            modules.setdefault(os.path.dirname(c.path), []).append(c)
        elif c.kind == "terraform-vars":
            # tfvars are read by their module's parse; a walked one needs nothing more, a named one
            # (a pre-commit run on a changed .tfvars) means "check the module these values feed".
            if c.explicit:
                named_vars.add(os.path.dirname(c.path))
        else:
            units.append(Unit(len(units), "file", c.path, [c]))
    for directory in sorted(named_vars - set(modules)):
        group = _module_files(directory)
        if group:
            modules[directory] = group
    for directory, group in sorted(modules.items()):
        units.append(Unit(len(units), "module", directory, group))
    return units


def _module_files(directory: str) -> list[Candidate]:
    from .discover import classify

    out = []
    try:
        names = sorted(os.listdir(directory or "."))
    except OSError:
        return out
    for name in names:
        kind = classify(name)
        path = os.path.join(directory, name) if directory else name
        if kind in _TERRAFORM_KINDS and os.path.isfile(path):
            out.append(Candidate(path, kind, os.path.getsize(path), explicit=True))
    return out


def parse_unit(unit: Unit, max_size: int, digest: bool = True):
    """``(parsed_files, input_hash)``; the hash is of the bytes actually parsed (None: don't cache,
    and never computed when ``digest`` is false: a run without the cache hashes nothing)."""
    from .scan import parse_bytes, read_candidate

    if unit.kind == "file":
        cand = unit.cands[0]
        got = read_candidate(cand, max_size)
        if not isinstance(got, bytes):
            return [got], None
        if not digest:
            return [parse_bytes(cand.path, cand.kind, got)], None
        side = side_hash(cand)
        parsed = [parse_bytes(cand.path, cand.kind, got)]
        # a side input edited while we parsed would be cached under the wrong key: store nothing then
        return parsed, (file_digest(got, side) if side_hash(cand) == side else None)
    if not digest:
        return _parse_module(unit, max_size), None
    from .cache import module_hash

    before = module_hash(unit.path)
    parsed = _parse_module(unit, max_size)
    # A file edited while we parsed would be cached under the wrong hash: store nothing then.
    return parsed, (before if before is not None and module_hash(unit.path) == before else None)


def _parse_module(unit: Unit, max_size: int):
    from .model import ParsedFile, internal_error

    try:
        from .parsers import terraform

        return terraform.parse_module(unit.path, unit.cands, max_size)
    except RecursionError:
        message = "input nested too deeply to check"
    except Exception as exc:  # noqa: BLE001 - a parser bug must not end the run; report it per file
        message = internal_error(exc)
    out = []
    for c in unit.cands:
        pf = ParsedFile(c.path, c.kind)
        pf.error(None, message)
        out.append(pf)
    return out


class Context:
    """What a worker needs.  Picklable for spawn-start platforms: checks travel as their
    definitions and are rebuilt (compiled closures don't pickle); with fork nothing is sent."""

    def __init__(self, checks, max_size: int, cache, keep_types: frozenset):
        self.per_file = [c for c in checks if not c.cross_file]
        self.max_size = max_size
        self.cache = cache
        self.keep_types = keep_types

    def __getstate__(self):
        specs = [(c.raw, c.source, c.builtin, c.params) for c in self.per_file]
        return specs, self.max_size, self.cache, self.keep_types

    def __setstate__(self, state):
        from .engine.checks import Check

        specs, self.max_size, self.cache, self.keep_types = state
        self.per_file = [Check(raw, source, builtin, params) for raw, source, builtin, params in specs]


#: input size under which a unit runs with the cyclic garbage collector paused (see run_unit)
GC_PAUSE_LIMIT = 2_000_000


def run_unit(unit: Unit, ctx: Context):
    """Parse, check and slim one unit: ``(parsed_files, findings, input_hash)``.

    The cyclic collector is paused for the unit and then run once over what the unit allocated
    (the youngest generation): python-hcl2's parse makes so many containers that the collector
    otherwise starts every few hundred allocations and walks the same young survivors again and
    again -- a quarter of the CPU of a Terraform-heavy scan (17.5 s -> 13.7 s on the corpus's
    .tf files, same peak RSS).  One collection per unit still frees the unit's cyclic garbage, so
    memory stays bounded by the largest unit; units over GC_PAUSE_LIMIT bytes keep the
    collector running throughout."""
    from contextlib import nullcontext

    from .gcpause import collector_paused
    from .scan import check_file, slim

    small = sum(c.size for c in unit.cands) < GC_PAUSE_LIMIT
    with collector_paused(collect_young=True) if small else nullcontext():
        parsed, digest = parse_unit(unit, ctx.max_size, digest=ctx.cache is not None)
        findings = []
        for pf in parsed:
            found = check_file(pf, ctx.per_file)
            findings.extend(found)
            slim(pf, ctx.keep_types, found)
        return parsed, findings, digest


def _store(ctx: Context, unit: Unit, parsed, findings, digest) -> bytes | None:
    """In a worker: cache the unit's result, and pickle it for the parent (values and all)."""
    import pickle

    try:
        payload = pickle.dumps((parsed, findings), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a parser keeping unpicklable objects: run that unit in the parent
        return None
    if ctx.cache is not None and digest is not None:
        ctx.cache.put(unit.cache_name, digest, parsed, findings)
    return payload


# --------------------------------------------------------------------------- workers

_CTX: Context | None = None


def _init_worker(ctx: Context | None) -> None:
    import signal

    global _CTX
    if ctx is not None:  # spawn; a forked worker inherited _CTX
        _CTX = ctx
    # Ctrl-C goes to the whole process group; the parent alone handles it (and ends the workers),
    # so the terminal never fills with one traceback per worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_batch(units: list[Unit]) -> list[tuple[int, bytes | None]]:
    out = []
    for unit in units:
        parsed, findings, digest = run_unit(unit, _CTX)
        out.append((unit.index, _store(_CTX, unit, parsed, findings, digest)))
    return out


def _batches(units: list[Unit], jobs: int) -> list[list[Unit]]:
    """Largest first (a 1.9 MB manifest or a big module must not start last), small units packed
    together so each task carries enough work to pay for its round trip."""
    total = sum(u.weight for u in units)
    target = max(total // (jobs * 8), 32_768)
    batches: list[list[Unit]] = []
    current: list[Unit] = []
    weight = 0
    for u in sorted(units, key=lambda u: (-u.weight, u.index)):
        current.append(u)
        weight += u.weight
        if weight >= target:
            batches.append(current)
            current, weight = [], 0
    if current:
        batches.append(current)
    return batches


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))  # honours taskset/cgroup CPU pinning
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _start_method() -> str:
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    # fork shares the warm parent (imports, compiled checks, HCL grammar) for free; macOS lists
    # fork but its system frameworks are not fork-safe, so it gets spawn like Windows.
    return "fork" if "fork" in methods and sys.platform != "darwin" else "spawn"


def _warm(kinds: set) -> None:
    """Import the parsers (and load the HCL grammar) once here, before forking, rather than once
    per worker: ~30 ms for YAML, ~150 ms for Terraform, saved (jobs - 1) times."""
    from .facts import secrets  # noqa: F401 - compiles its token regexes at import
    if "yaml" in kinds:
        from .parsers import compose, kubernetes, yamlfile  # noqa: F401
    if "dockerfile" in kinds:
        from .parsers import dockerfile  # noqa: F401
    if kinds & set(_TERRAFORM_KINDS):
        from .parsers import hcl, terraform  # noqa: F401

        try:
            hcl.parse("a = 1\n")
        except Exception:  # noqa: BLE001 - warming is an optimisation; the workers report real errors
            pass


def _run_pool(units: list[Unit], ctx: Context, jobs: int, results: dict, progress) -> list[Unit]:
    """Run ``units`` on ``jobs`` worker processes; returns the units left for the parent
    (unpicklable results, or everything not done when a worker died)."""
    import concurrent.futures as cf
    import multiprocessing
    import pickle

    global _CTX
    method = _start_method()
    _CTX = ctx
    if method == "fork":
        _warm({u.cands[0].kind for u in units})
    batches = _batches(units, jobs)
    by_index = {u.index: u for u in units}
    leftover: list[Unit] = []
    pending = set()
    ex = cf.ProcessPoolExecutor(max_workers=min(jobs, len(batches)),
                                mp_context=multiprocessing.get_context(method),
                                initializer=_init_worker, initargs=(None if method == "fork" else ctx,))
    try:
        futures = {ex.submit(_run_batch, b): b for b in batches}
        pending = set(futures)
        for fut in cf.as_completed(futures):
            pending.discard(fut)
            try:
                done = fut.result()
            except cf.process.BrokenProcessPool:
                leftover.extend(futures[fut])
                continue
            for index, payload in done:
                unit = by_index[index]
                if payload is None:
                    leftover.append(unit)
                    continue
                parsed, findings = pickle.loads(payload)
                results[index] = (parsed, findings)
                if progress is not None:
                    progress.advance(len(unit.cands), unit.weight)
    except BaseException:
        # Ctrl-C or an error: end the workers now instead of waiting for their queues to drain.
        for p in list((getattr(ex, "_processes", None) or {}).values()):
            p.terminate()
        ex.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        _CTX = None
    ex.shutdown(wait=True)
    for fut in pending:
        leftover.extend(futures[fut])
    return leftover


# --------------------------------------------------------------------------- the stage

def run_per_file(cands: list[Candidate], checks, max_size: int, jobs: int = 1, cache=None,
                 keep_types: frozenset = frozenset(), progress=None, need_values: bool = False):
    """Parsed (slimmed) files and per-file findings for ``cands``, in unit order.
    ``need_values``: the suppression pass reads flagged Settings' values (see ResultCache.get)."""
    units = make_units(cands)
    ctx = Context(checks, max_size, cache, keep_types)
    results: dict[int, tuple] = {}
    misses = units
    if cache is not None:
        misses = []
        for u in units:
            digest = u.input_hash(max_size)
            hit = cache.get(u.cache_name, digest, need_values) if digest is not None else None
            if hit is None:
                misses.append(u)
            else:
                results[u.index] = hit
    if progress is not None:
        progress.start(sum(len(u.cands) for u in units), sum(u.weight for u in misses),
                       done_files=sum(len(units[i].cands) for i in results))
    if jobs > 1 and len(misses) > 1 and sum(u.weight for u in misses) >= PARALLEL_THRESHOLD:
        misses = _run_pool(misses, ctx, jobs, results, progress)
    for u in misses:
        parsed, findings, digest = run_unit(u, ctx)
        if cache is not None and digest is not None:
            cache.put(u.cache_name, digest, parsed, findings)
        results[u.index] = (parsed, findings)
        if progress is not None:
            progress.advance(len(u.cands), u.weight)
    if progress is not None:
        progress.finish()
    parsed_all, findings_all = [], []
    for i in range(len(units)):
        parsed, findings = results[i]
        parsed_all.extend(parsed)
        findings_all.extend(findings)
    return parsed_all, findings_all
