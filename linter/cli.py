"""Command line: ``iaclint scan|rules|explain``.

Start-up matters (pre-commit runs us on every commit): this module imports nothing heavy at
module level; typer is pinned to a release that does not import pydantic (see pyproject.toml),
and every command imports what it needs inside its body.
"""
from __future__ import annotations

import os
import sys
from typing import List, Optional

import typer

from . import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_enable=False,
                  help="iaclint: container-security policy linter for Dockerfiles, Compose, Kubernetes and Terraform.")


def _version_callback(value: bool):
    if value:
        typer.echo(f"iaclint {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                       help="Print the version and exit.")):
    pass


def _fail(message: str, code: int = EXIT_USAGE):
    typer.echo(f"iaclint: error: {message}", err=True)
    raise typer.Exit(code)


def _split(values: Optional[List[str]]) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _registry(checks_dirs: list[str]):
    from .engine.checks import CheckError, load_registry

    try:
        return load_registry(checks_dirs)
    except CheckError as exc:
        _fail(f"invalid check file {exc.path}:{exc.line or 1}: {exc.message}")


def _parse_formats(formats: list[str], output: Optional[str]) -> list[tuple[str, Optional[str]]]:
    """``-f text -f sarif:results.sarif``: a format may carry its own output path after a colon;
    ``--output`` goes to the single format that has none."""
    from .report import FORMATS

    specs: list[tuple[str, Optional[str]]] = []
    for f in formats or ["text"]:
        name, sep, path = f.partition(":")
        name = name.strip().lower()
        if name not in FORMATS:
            _fail(f"unknown format '{name}' (choose from: {', '.join(FORMATS)})")
        specs.append((name, path if sep and path else None))
    pathless = [i for i, (_, p) in enumerate(specs) if p is None]
    if output:
        if len(pathless) != 1:
            _fail("--output applies to exactly one format without its own path; use -f FORMAT:PATH for the others")
        i = pathless[0]
        specs[i] = (specs[i][0], output)
    elif len(pathless) > 1:
        _fail("only one format can go to standard output; give the others a path, e.g. -f sarif:results.sarif")
    return specs


@app.command()
def scan(
    paths: Optional[List[str]] = typer.Argument(None, help="Files or directories to scan (default: .)."),
    format: Optional[List[str]] = typer.Option(None, "--format", "-f",
                                               help="text, json, sarif, junit, github or gitlab; repeatable; "
                                                    "FORMAT:PATH writes that format to PATH."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to FILE (default: stdout)."),
    fail_on: str = typer.Option("low", "--fail-on",
                                help="Lowest severity that fails the run: critical, high, medium, low or info."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Only these checks (ids or names, comma-separated)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these checks (ids or names, comma-separated)."),
    checks_dir: Optional[List[str]] = typer.Option(None, "--checks-dir", help="Load extra checks from DIR (repeatable)."),
    profile: Optional[str] = typer.Option(None, "--profile",
                                          help="Only the Pod Security Standards checks of this profile: "
                                               "baseline, or restricted (which includes baseline)."),
    max_file_size: int = typer.Option(10, "--max-file-size", help="Skip files larger than this many MB."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Text format: print nothing when there are no findings."),
    no_color: bool = typer.Option(False, "--no-color", help="Never color the text output."),
    sarif_include_suppressed: bool = typer.Option(False, "--sarif-include-suppressed",
                                                  help="SARIF: include suppressed findings, marked with "
                                                       "their suppression."),
    automation_id: Optional[str] = typer.Option(None, "--automation-id",
                                                help="SARIF runAutomationDetails.id (default: iaclint/)."),
):
    """Scan files and directories and report findings."""
    from .engine.checks import SEVERITIES, SEVERITY_RANK
    from .report import ReportContext, render, write_atomic
    from .scan import ScanOptions, scan as run_scan, select_checks

    fail_on = fail_on.lower()
    if fail_on not in SEVERITIES:
        _fail(f"--fail-on must be one of: {', '.join(SEVERITIES)}")
    specs = _parse_formats(format or [], output)
    registry = _registry(_split(checks_dir))
    try:
        checks = select_checks(registry, _split(select), _split(ignore))
    except KeyError as exc:
        _fail(f"unknown check {exc.args[0]!r} (see `iaclint rules`)")
    if profile is not None:
        levels = {"baseline": {"baseline"}, "restricted": {"baseline", "restricted"}}.get(profile.lower())
        if levels is None:
            _fail("--profile must be baseline or restricted")
        checks = [c for c in checks if c.profile in levels]
    opts = ScanOptions(paths=list(paths or ["."]), checks=checks, max_file_size=max_file_size * 1024 * 1024)
    result = run_scan(opts)
    if result.missing_paths:
        for p in result.missing_paths:
            typer.echo(f"iaclint: error: path does not exist: {p}", err=True)
        raise typer.Exit(EXIT_USAGE)

    color_ok = not no_color and "NO_COLOR" not in os.environ
    for name, path in specs:
        ctx = ReportContext(result=result, checks=checks, version=__version__, roots=opts.paths,
                            color=color_ok and path is None and sys.stdout.isatty(),
                            include_suppressed_sarif=sarif_include_suppressed, automation_id=automation_id)
        content = render(name, ctx)
        if path:
            try:
                write_atomic(path, content)
            except OSError as exc:
                _fail(f"cannot write {path}: {exc.strerror or exc}")
        elif not (quiet and name == "text" and not result.findings and not result.diagnostics):
            sys.stdout.write(content)
            sys.stdout.flush()

    threshold = SEVERITY_RANK[fail_on]
    failing = any(SEVERITY_RANK[f.severity] >= threshold for f in result.findings if f.suppression is None)
    errors = any(d.level == "error" for d in result.diagnostics)
    raise typer.Exit(EXIT_FINDINGS if failing or errors else EXIT_OK)


@app.command()
def rules(
    format: str = typer.Option("text", "--format", "-f", help="text, json or markdown."),
    checks_dir: Optional[List[str]] = typer.Option(None, "--checks-dir", help="Load extra checks from DIR."),
):
    """List every check: id, name, severity, formats and title."""
    from .docs import render_rules

    registry = _registry(_split(checks_dir))
    if format not in ("text", "json", "markdown"):
        _fail("--format must be text, json or markdown")
    sys.stdout.write(render_rules(registry, format))


@app.command()
def explain(
    check: str = typer.Argument(..., help="Check id or name."),
    checks_dir: Optional[List[str]] = typer.Option(None, "--checks-dir", help="Load extra checks from DIR."),
):
    """Print a check's documentation: what, why, examples, fix, references."""
    from .docs import render_explain

    registry = _registry(_split(checks_dir))
    c = registry.get(check)
    if c is None:
        _fail(f"unknown check {check!r} (see `iaclint rules`)")
    sys.stdout.write(render_explain(c))


def main(argv: Optional[list[str]] = None) -> None:
    try:
        app(args=argv, prog_name="iaclint")
    except KeyboardInterrupt:
        sys.stderr.write("iaclint: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a bug in iaclint must not print a traceback at the user
        if os.environ.get("IACLINT_DEBUG"):
            raise
        sys.stderr.write(f"iaclint: internal error: {type(exc).__name__}: {exc}\n"
                         "Please report this (set IACLINT_DEBUG=1 for the traceback).\n")
        sys.exit(EXIT_USAGE)
