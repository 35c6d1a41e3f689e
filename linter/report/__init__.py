"""Report formats.  Each module exposes ``render(ctx: ReportContext) -> str``; they are imported
lazily so a text run never pays for the SARIF or JUnit machinery."""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from importlib import import_module

from ..engine.checks import Check

#: --format name -> module under linter.report
FORMATS = {
    "text": "text",
    "json": "json_report",
    "sarif": "sarif",
    "junit": "junit",
    "github": "github",
    "gitlab": "gitlab",
}


@dataclass
class ReportContext:
    result: object                      # linter.scan.ScanResult
    checks: list[Check]                 # the checks that ran
    version: str
    roots: list[str] = field(default_factory=list)
    color: bool = False
    show_suppressed: bool = False
    include_suppressed_sarif: bool = False
    #: SARIF runAutomationDetails.id (GitHub: "category/run-id"); None means "iaclint/"
    automation_id: str | None = None
    extra: dict = field(default_factory=dict)


def render(fmt: str, ctx: ReportContext) -> str:
    module = import_module(f".{FORMATS[fmt]}", __name__)
    return module.render(ctx)


def render_chunks(fmt: str, ctx: ReportContext):
    """The report as an iterable of strings; formats that can stream (JSON) expose
    ``render_chunks`` so a large report is never held in memory whole."""
    module = import_module(f".{FORMATS[fmt]}", __name__)
    chunks = getattr(module, "render_chunks", None)
    return chunks(ctx) if chunks is not None else (module.render(ctx),)


def write_atomic(path: str, content) -> None:
    """Write a report so that a crash or Ctrl-C never leaves half of it behind."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".iaclint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            for chunk in ([content] if isinstance(content, str) else content):
                fh.write(chunk)
        # mkstemp creates 0600; a report is an ordinary file, readable as the umask allows.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
