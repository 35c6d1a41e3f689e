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
from .model import Diagnostic, ParsedFile

DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024


@dataclass
class ScanOptions:
    paths: list[str]
    checks: list[Check]
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    exclude: list[str] = field(default_factory=list)
    follow_links: bool = False
    is_ignored: object = None


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
    pf = ParsedFile(cand.path, cand.kind)
    if cand.size > max_size:
        pf.error(None, f"file is {cand.size / 1048576:.1f} MB, over the {max_size / 1048576:.1f} MB limit "
                       "(--max-file-size); skipped", level="notice")
        return pf
    try:
        with open(cand.path, "rb") as fh:
            data = fh.read(max_size + 1)
    except PermissionError:
        pf.error(None, "cannot read file: permission denied")
        return pf
    except IsADirectoryError:
        pf.error(None, "is a directory, not a file")
        return pf
    except OSError as exc:
        pf.error(None, f"cannot read file: {exc.strerror or exc}")
        return pf
    return parse_bytes(cand.path, cand.kind, data)


def parse_bytes(path: str, kind: str, data: bytes) -> ParsedFile:
    from .source import DecodeError, decode

    try:
        text = decode(data)
    except DecodeError as exc:
        pf = ParsedFile(path, kind)
        pf.error(exc.line, f"cannot decode file: {exc.message}")
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
        pf.error(None, f"internal error while parsing ({type(exc).__name__}: {exc}); please report this file")
    if "iaclint" in text:
        pf.lines = text.split("\n")
    return pf


def parse_candidates(cands: list[Candidate], max_size: int) -> list[ParsedFile]:
    out = []
    terraform: dict[str, list[Candidate]] = {}
    for c in cands:
        if c.kind in ("terraform", "terraform-json"):
            terraform.setdefault(os.path.dirname(c.path), []).append(c)
        else:
            out.append(read_and_parse(c, max_size))
    if terraform:
        from .parsers import terraform as tf

        for directory, group in sorted(terraform.items()):
            out.extend(tf.parse_module(directory, group, max_size))
    return out


def check_files(parsed: list[ParsedFile], checks: list[Check]) -> list[Finding]:
    per_file = [c for c in checks if not c.cross_file]
    cross = [c for c in checks if c.cross_file]
    findings: list[Finding] = []
    for pf in parsed:
        if pf.resources:
            findings.extend(run_checks(per_file, pf.resources))
    if cross:
        from .engine import crossfile

        everything = [r for pf in parsed for r in pf.resources]
        crossfile.compute(everything)
        findings.extend(run_checks(cross, everything))
    return findings


def scan(opts: ScanOptions) -> ScanResult:
    disc = discover(opts.paths, opts.exclude, opts.follow_links, opts.is_ignored)
    parsed = parse_candidates(disc.files, opts.max_file_size)
    findings = check_files(parsed, opts.checks)
    diagnostics = [d for pf in parsed for d in pf.diagnostics]
    diagnostics.extend(Diagnostic(p, line, msg, level=level) for p, line, msg, level in disc.notices)
    findings.sort(key=Finding.sort_key)
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
