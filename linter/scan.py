"""The pipeline: discover -> parse -> model -> check -> suppress -> report (report lives in linter.report).

Per-file work (reading, parsing, per-file checks) is independent per file (or per Terraform
module directory); cross-file checks run once on the merged model.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from .discover import Candidate, discover
from .engine.checks import Check, Registry
from .engine.run import Finding, run_checks
from .model import Diagnostic, ParsedFile, internal_error

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


@dataclass
class ScanOptions:
    paths: list[str]
    checks: list[Check]
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    exclude: list[str] = field(default_factory=list)
    follow_links: bool = False
    is_ignored: object = None
    #: linter.suppress.SuppressOptions (configuration, baseline, registry); None: inline only
    suppress: object = None
    #: worker processes for the per-file stage (linter/parallel.py); small runs stay in one anyway
    jobs: int = 1
    #: use the per-file result cache (.iaclint_cache/, linter/cache.py)
    cache: bool = False
    #: anything else that changes per-file results (none yet); part of the cache key
    cache_salt: str = ""
    #: a linter.progress.Progress, or None
    progress: object = None
    #: files named one by one (pre-commit) also see the repository's NetworkPolicies (linter/context.py);
    #: the CLI turns this on, library callers and the fixture tests judge files alone
    repository_context: bool = False


@dataclass
class ScanResult:
    findings: list[Finding]
    diagnostics: list[Diagnostic]
    files_scanned: int
    parsed: list[ParsedFile]
    missing_paths: list[str]

    @property
    def files_with_errors(self) -> int:
        return len({d.path for d in self.diagnostics if d.level == "error"})


def read_and_parse(cand: Candidate, max_size: int) -> ParsedFile:
    """Never raises: every failure becomes a diagnostic on the returned ParsedFile."""
    got = read_candidate(cand, max_size)
    return parse_bytes(cand.path, cand.kind, got) if isinstance(got, bytes) else got


def read_candidate(cand: Candidate, max_size: int) -> bytes | ParsedFile:
    """The file's bytes, or a ParsedFile holding the diagnostic that says why there are none."""
    pf = ParsedFile(cand.path, cand.kind)
    if cand.size > max_size:
        pf.error(None, f"file is {cand.size / 1048576:.1f} MB, over the {max_size / 1048576:.1f} MB limit "
                       "(--max-file-size); skipped", level="notice")
        return pf
    try:
        data = _read_regular(cand.path, max_size + 1)
    except PermissionError:
        pf.error(None, "cannot read file: permission denied")
        return pf
    except IsADirectoryError:
        pf.error(None, "is a directory, not a file")
        return pf
    except OSError as exc:
        pf.error(None, f"cannot read file: {exc.strerror or exc}")
        return pf
    if data is None:
        pf.error(None, "not a regular file (FIFO, socket or device); skipped", level="notice")
        return pf
    if len(data) > max_size:  # grew since discovery
        pf.error(None, f"file is over the {max_size / 1048576:.1f} MB limit (--max-file-size); skipped",
                 level="notice")
        return pf
    return data


def _read_regular(path: str, limit: int) -> bytes | None:
    """At most ``limit`` bytes of a regular file; None for anything else.  Opened non-blocking and
    checked with fstat, so a file swapped for a FIFO after discovery cannot hang the scan."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(limit)
    finally:
        os.close(fd)


def parse_bytes(path: str, kind: str, data: bytes) -> ParsedFile:
    from .source import DecodeError, decode

    try:
        text = decode(data)
    except DecodeError as exc:
        pf = ParsedFile(path, kind)
        pf.error(exc.line, f"cannot decode file: {exc.message}", exc.column)
        return pf
    try:
        if kind == "dockerfile":
            from .parsers import dockerfile

            pf = dockerfile.parse(path, text)
        elif kind == "yaml":
            from .parsers import yamlfile

            pf = yamlfile.parse(path, text)
        else:
            pf = ParsedFile(path, kind)
            pf.error(None, f"no parser for {kind} files", level="notice")
    except RecursionError:
        pf = ParsedFile(path, kind)
        pf.error(None, "input nested too deeply to check")
    except Exception as exc:  # noqa: BLE001 - a parser bug must not end the run; report it as a diagnostic
        pf = ParsedFile(path, kind)
        pf.error(None, internal_error(exc))
    if "iaclint" in text:
        pf.lines = text.split("\n")
    return pf


def parse_candidates(cands: list[Candidate], max_size: int) -> list[ParsedFile]:
    """Files one by one, Terraform per module directory (linter.parallel.make_units)."""
    from .parallel import make_units, parse_unit

    return [pf for unit in make_units(cands) for pf in parse_unit(unit, max_size)[0]]


#: model types read after the per-file checks by engine.crossfile / linter.context (workloads and
#: policies); the targets of cross-file checks are added in keep_types()
CROSS_FILE_INPUTS = frozenset({"workload", "network_policy", "service_account"})


def keep_types(checks: list[Check]) -> frozenset:
    return CROSS_FILE_INPUTS | {c.target for c in checks if c.cross_file}


def slim(pf: ParsedFile, keep: frozenset, findings: list[Finding]) -> None:
    """Drop the resources no stage after the per-file checks reads, so a 20k-file scan does not
    keep every model alive (and the cache does not store them).  Kept: everything of a file that
    mentions iaclint (``pf.lines`` set: suppression comments and annotations map lines to any
    resource), the cross-file inputs (``keep``) and the Settings findings point at (the
    ``secrets.allow`` configuration matches the flagged Setting's name and value).  Resources
    reachable from a kept one (a workload's containers) stay with it."""
    if pf.lines is not None or not pf.resources:
        return
    flagged = {f.resource for f in findings}
    pf.resources = [r for r in pf.resources
                    if r.type_name in keep or (r.type_name == "setting" and r.ident in flagged)]


def check_file(pf: ParsedFile, per_file: list[Check]) -> list[Finding]:
    """Per-file checks over one file; a check that raises costs only this file (a diagnostic)."""
    if not pf.resources:
        return []
    try:
        return run_checks(per_file, pf.resources)
    except Exception as exc:  # noqa: BLE001 - one odd model must not end the run
        pf.error(None, internal_error(exc, "checking"))
        return []


def check_files(parsed: list[ParsedFile], checks: list[Check], context: list | None = None) -> list[Finding]:
    """``context``: NetworkPolicies from files outside the scan (see linter.context); they feed the
    cross-file facts and are never reported on."""
    per_file = [c for c in checks if not c.cross_file]
    findings: list[Finding] = []
    for pf in parsed:
        findings.extend(check_file(pf, per_file))
    findings.extend(cross_file_findings(parsed, checks, context))
    return findings


def cross_file_findings(parsed: list[ParsedFile], checks: list[Check], context: list | None = None) -> list[Finding]:
    cross = [c for c in checks if c.cross_file]
    findings: list[Finding] = []
    if cross:
        from .engine import crossfile

        everything = [r for pf in parsed for r in pf.resources]
        if context is not None:
            from .context import compute

            compute(everything, context)
        else:
            crossfile.compute(everything)
        findings.extend(run_checks(cross, everything))
    return findings


def scan(opts: ScanOptions) -> ScanResult:
    from .parallel import run_per_file

    disc = discover(opts.paths, opts.exclude, opts.follow_links, opts.is_ignored)
    cache = None
    if opts.cache and disc.files:
        from .cache import ResultCache

        cache = ResultCache.open(opts.paths, opts.checks, opts.max_file_size, opts.cache_salt)
    lookup = None
    # only YAML and Terraform define the workloads that NetworkPolicies select
    if opts.repository_context and any(c.explicit and c.kind != "dockerfile" for c in disc.files) \
            and any(c.cross_file for c in opts.checks):
        from . import context as repo_context  # pre-commit: see linter/context.py

        lookup = repo_context.Lookup(disc.files)  # git searches the repository meanwhile
    context = None
    try:
        # parse + per-file checks + slim, per file or Terraform module, maybe on workers, maybe cached
        parsed, findings = run_per_file(disc.files, opts.checks, opts.max_file_size, jobs=opts.jobs, cache=cache,
                                        keep_types=keep_types(opts.checks), progress=opts.progress,
                                        need_values=bool(getattr(opts.suppress, "secret_allow", None)))
        if lookup is not None and repo_context.wanted(disc.files, opts.checks, parsed):
            context = lookup.policies(disc.files, opts, cache)
    finally:
        if lookup is not None:
            lookup.cancel()
    findings.extend(cross_file_findings(parsed, opts.checks, context))
    diagnostics = [d for pf in parsed for d in pf.diagnostics]
    diagnostics.extend(Diagnostic(p, line, msg, level=level) for p, line, msg, level in disc.notices)
    findings.sort(key=Finding.sort_key)
    from .suppress import apply_suppressions

    findings, extra = apply_suppressions(parsed, findings, opts.checks, opts.suppress)
    diagnostics.extend(extra)
    diagnostics.sort(key=Diagnostic.sort_key)
    return ScanResult(findings, diagnostics, len(disc.files), parsed, disc.missing)


def select_checks(registry: Registry, select: list[str] | None, ignore: list[str] | None) -> list[Check]:
    """``select`` replaces the default set (and may enable optional checks); ``ignore`` removes."""
    if select:
        chosen = []
        for key in select:
            c = registry.get(key)
            if c is None:
                raise KeyError(key)
            if c not in chosen:
                chosen.append(c)
    else:
        chosen = [c for c in registry if c.enabled]
    for key in ignore or []:
        c = registry.get(key)
        if c is None:
            raise KeyError(key)
        if c in chosen:
            chosen.remove(c)
    return sorted(chosen, key=lambda c: c.id)
