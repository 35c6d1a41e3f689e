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


def _encodable(content: str) -> str:
    """File names that are not valid UTF-8 reach us as lone surrogates (PEP 383), which no UTF-8
    writer accepts; spell those bytes as escapes (``\\udcff``) rather than lose the report."""
    try:
        content.encode("utf-8")
        return content
    except UnicodeEncodeError:
        return content.encode("utf-8", "backslashreplace").decode("utf-8")


def _split(values: Optional[List[str]]) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _registry(checks_dirs: list[str]):
    from .cache import load_registry
    from .engine.checks import CheckError

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


def _overrides(select, ignore, fail_on, formats, checks_dir, baseline, no_gitignore, max_file_size) -> dict:
    """Command-line values that override the configuration file (None: not given)."""
    from .engine.checks import SEVERITIES

    if fail_on is not None and fail_on.lower() not in SEVERITIES:
        _fail(f"--fail-on must be one of: {', '.join(SEVERITIES)}")
    if max_file_size is not None and max_file_size < 1:
        _fail("--max-file-size must be at least 1 (MB)")
    return {"select": _split(select) or None, "ignore": _split(ignore) or None,
            "fail-on": fail_on.lower() if fail_on else None, "format": list(formats) if formats else None,
            "checks-dir": _split(checks_dir), "baseline": baseline, "gitignore": False if no_gitignore else None,
            "max-file-size": max_file_size}


def _settings(paths: list[str], config_file: Optional[str], overrides: dict):
    """Configuration file + flags, resolved against the loaded checks; exit 2 on any problem."""
    from .config import ConfigError, load, resolve

    try:
        cfg = load(paths, config_file, overrides)
        return cfg, resolve(cfg, _registry(cfg["checks-dir"]))
    except ConfigError as exc:
        _fail(f"{exc.key}: {exc.message}" if exc.path == "command line" else f"invalid configuration: {exc}")


def _write_baseline(path: str, result) -> None:
    from .baseline import write

    try:
        n = write(path, result.findings, __version__)
    except OSError as exc:
        _fail(f"cannot write {path}: {exc.strerror or exc}")
    errors = sum(1 for d in result.diagnostics if d.level == "error")
    typer.echo(f"iaclint: wrote {n} finding{'s' if n != 1 else ''} to {path}"
               + (f" ({errors} file error{'s' if errors != 1 else ''}: those files have no entries)" if errors else ""),
               err=True)
    raise typer.Exit(EXIT_OK)


@app.command()
def scan(
    paths: Optional[List[str]] = typer.Argument(None, help="Files or directories to scan (default: .)."),
    format: Optional[List[str]] = typer.Option(None, "--format", "-f",
                                               help="text, json, sarif, junit, github or gitlab; repeatable; "
                                                    "FORMAT:PATH writes that format to PATH."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to FILE (default: stdout)."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on",
                                          help="Lowest severity that fails the run: critical, high, medium, low or "
                                               "info (default: low)."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Only these checks (ids or names, comma-separated)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these checks (ids or names, comma-separated)."),
    checks_dir: Optional[List[str]] = typer.Option(None, "--checks-dir", help="Load extra checks from DIR (repeatable)."),
    profile: Optional[str] = typer.Option(None, "--profile",
                                          help="Only the Pod Security Standards checks of this profile: "
                                               "baseline, or restricted (which includes baseline)."),
    max_file_size: Optional[int] = typer.Option(None, "--max-file-size",
                                                help="Skip files larger than this many MB (default: 10)."),
    config: Optional[str] = typer.Option(None, "--config", help="Use this configuration file instead of searching "
                                                                "for .iaclint.yaml / .iaclint.toml / pyproject.toml."),
    no_gitignore: bool = typer.Option(False, "--no-gitignore", help="Also scan files that git ignores."),
    show_suppressed: bool = typer.Option(False, "--show-suppressed",
                                         help="Text format: also list suppressed findings, with their suppression."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Report only findings not recorded in FILE."),
    write_baseline: Optional[str] = typer.Option(None, "--write-baseline",
                                                 help="Record the current findings in FILE and exit 0."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Text format: print nothing when there are no findings."),
    no_color: bool = typer.Option(False, "--no-color", help="Never color the text output."),
    sarif_include_suppressed: bool = typer.Option(False, "--sarif-include-suppressed",
                                                  help="SARIF: include suppressed findings, marked with "
                                                       "their suppression."),
    automation_id: Optional[str] = typer.Option(None, "--automation-id",
                                                help="SARIF runAutomationDetails.id (default: iaclint/)."),
    no_repo_context: bool = typer.Option(False, "--no-repo-context",
                                         help="Judge named files alone: do not read the repository's other "
                                              "NetworkPolicies (read by default when files are named, as "
                                              "pre-commit does)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j",
                                       help="Worker processes (default: number of CPUs; 1: none). Small scans "
                                            "always run in one process."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the result cache "
                                                            "(.iaclint_cache/)."),
):
    """Scan files and directories and report findings."""
    from .engine.checks import SEVERITY_RANK
    from .report import ReportContext, render_chunks, write_atomic
    from .scan import ScanOptions, scan as run_scan

    if jobs is not None and jobs < 0:
        _fail("--jobs must be 0 (one per CPU) or more")
    paths = list(paths or ["."])
    cfg, settings = _settings(paths, config, _overrides(select, ignore, fail_on, format, checks_dir, baseline,
                                                        no_gitignore, max_file_size))
    fail_on = settings.fail_on
    specs = _parse_formats(settings.formats, output)
    checks = settings.checks
    if profile is not None:
        levels = {"baseline": {"baseline"}, "restricted": {"baseline", "restricted"}}.get(profile.lower())
        if levels is None:
            _fail("--profile must be baseline or restricted")
        checks = [c for c in checks if c.profile in levels]
    base = None
    if settings.baseline and not write_baseline:
        from .baseline import Baseline, BaselineError

        try:
            base = settings.suppress.baseline = Baseline.load(settings.baseline)
        except BaselineError as exc:
            _fail(str(exc))
    from .parallel import default_jobs
    from .progress import for_terminal

    opts = ScanOptions(paths=paths, checks=checks, max_file_size=settings.max_file_size * 1024 * 1024,
                       is_ignored=settings.is_ignored, suppress=settings.suppress,
                       jobs=jobs or default_jobs(), cache=not no_cache, progress=for_terminal(quiet),
                       repository_context=not no_repo_context)
    result = run_scan(opts)
    if result.missing_paths:
        for p in result.missing_paths:
            typer.echo(f"iaclint: error: path does not exist: {p}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if write_baseline:
        _write_baseline(write_baseline, result)
    extra = {"summary_notes": base.summary_notes(), "json_extra": base.json_extra()} if base else {}

    color_ok = not no_color and "NO_COLOR" not in os.environ
    for name, path in specs:
        ctx = ReportContext(result=result, checks=checks, version=__version__, roots=opts.paths,
                            color=color_ok and path is None and sys.stdout.isatty(),
                            include_suppressed_sarif=sarif_include_suppressed, automation_id=automation_id,
                            show_suppressed=show_suppressed, extra=extra)
        content = (_encodable(chunk) for chunk in render_chunks(name, ctx))
        if path:
            try:
                write_atomic(path, content)
            except OSError as exc:
                _fail(f"cannot write {path}: {exc.strerror or exc}")
        elif not (quiet and name == "text" and all(f.suppression is not None for f in result.findings)
                  and not result.diagnostics):
            for chunk in content:
                sys.stdout.write(chunk)
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

    registry = _registry(_config_checks_dirs() + _split(checks_dir))
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

    registry = _registry(_config_checks_dirs() + _split(checks_dir))
    c = registry.get(check)
    if c is None:
        _fail(f"unknown check {check!r} (see `iaclint rules`)")
    sys.stdout.write(render_explain(c))


def _config_checks_dirs() -> list[str]:
    """The configuration's checks-dir (found from the current directory), so `rules` and `explain`
    list the same checks as `scan`."""
    from .config import ConfigError, load

    try:
        return load(["."])["checks-dir"]
    except ConfigError as exc:
        _fail(f"invalid configuration: {exc}")


@app.command("config")
def config_command(
    paths: Optional[List[str]] = typer.Argument(None, help="Where the scan would start (default: .); the "
                                                           "configuration is searched from the first path."),
    config: Optional[str] = typer.Option(None, "--config", help="Use this configuration file."),
    select: Optional[List[str]] = typer.Option(None, "--select", help="As for scan."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="As for scan."),
    fail_on: Optional[str] = typer.Option(None, "--fail-on", help="As for scan."),
    format: Optional[List[str]] = typer.Option(None, "--format", "-f", help="As for scan."),
    checks_dir: Optional[List[str]] = typer.Option(None, "--checks-dir", help="As for scan."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="As for scan."),
    no_gitignore: bool = typer.Option(False, "--no-gitignore", help="As for scan."),
    max_file_size: Optional[int] = typer.Option(None, "--max-file-size", help="As for scan."),
    json_output: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
):
    """Print the effective configuration and where each value came from (default, file, command line)."""
    from .config import render

    cfg, _ = _settings(list(paths or ["."]), config, _overrides(select, ignore, fail_on, format, checks_dir,
                                                                baseline, no_gitignore, max_file_size))
    if format:
        _parse_formats(cfg["format"], None)
    sys.stdout.write(render(cfg, "json" if json_output else "text"))


@app.command()
def clean(
    paths: Optional[List[str]] = typer.Argument(None, help="A path inside the project (default: .)."),
):
    """Remove the result cache (.iaclint_cache/ at the git root, or the scanned directory)."""
    from .cache import clean as remove_cache

    try:
        directory, removed = remove_cache(list(paths or ["."]))
    except OSError as exc:
        _fail(f"cannot remove the cache: {exc.strerror or exc}")
    typer.echo(f"iaclint: removed {directory}" if removed else f"iaclint: no cache at {directory}", err=True)


@app.command("check-rules")
def check_rules(
    dirs: List[str] = typer.Argument(..., help="Directories of check files to validate and test."),
):
    """Validate check files and run the examples they declare; exit 1 if an example fails, 2 if a file is invalid."""
    from . import checkrules

    registry = _registry(dirs)
    wanted = {os.path.abspath(d) for d in dirs}
    ours = [c for c in registry if not c.builtin and any(os.path.abspath(c.source).startswith(d + os.sep)
                                                          for d in wanted)]
    outcomes = checkrules.run(ours)
    sys.stdout.write(checkrules.render(outcomes))
    raise typer.Exit(EXIT_FINDINGS if any(o.failures for o in outcomes) else EXIT_OK)


class _Interrupted(BaseException):
    """Raised by main()'s SIGINT handler.  typer turns a KeyboardInterrupt into a silent exit 130
    before main() can see it; an exception it does not know passes through to the message."""


def _on_sigint(signum, frame):
    raise _Interrupted()


def _install_sigint():
    import signal

    try:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when ignored (nohup, &)
            return signal.signal(signal.SIGINT, _on_sigint)
    except ValueError:  # not the main thread (embedded use): keep Python's behaviour
        pass
    return None


def main(argv: Optional[list[str]] = None) -> None:
    previous = _install_sigint()
    try:
        app(args=argv, prog_name="iaclint")
    except (KeyboardInterrupt, _Interrupted):
        sys.stderr.write("iaclint: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - a bug in iaclint must not print a traceback at the user
        if os.environ.get("IACLINT_DEBUG"):
            raise
        sys.stderr.write(f"iaclint: internal error: {type(exc).__name__}: {exc}\n"
                         "Please report this (set IACLINT_DEBUG=1 for the traceback).\n")
        sys.exit(EXIT_USAGE)
    finally:
        if previous is not None:  # main() may run in-process (tests, embedding)
            import signal

            signal.signal(signal.SIGINT, previous)
