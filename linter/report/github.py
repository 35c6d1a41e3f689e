"""``--format github``: GitHub Actions workflow commands, shown as annotations on the pull request.

``::error file=k8s/api.yaml,line=15,col=13,endLine=15,endColumn=29,title=IAC102 privileged-container::message``

Severity -> command: critical and high are ``error``, medium ``warning``, low and info ``notice``
(the same split as SARIF's levels).  Parse problems are annotated too.  Escaping follows the
Actions runner: ``%``, CR and LF in every part, and ``:`` and ``,`` as well in property values.
"""
from __future__ import annotations

import os

from .common import visible_findings
from .sources import relative_path

COMMANDS = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}
DIAGNOSTIC_COMMANDS = {"error": "error", "warning": "warning", "notice": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props) -> str:
    parts = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items() if v not in (None, "", 0))
    return f"::{name} {parts}::{escape_data(message)}" if parts else f"::{name}::{escape_data(message)}"


def _path(path: str) -> str:
    # Annotations resolve paths against the workspace, i.e. the directory the job runs in.
    return relative_path(path, os.getcwd())


def render(ctx) -> str:
    rows = []
    for f in visible_findings(ctx):
        props = {"file": _path(f.path), "line": f.line, "col": f.column, "endLine": f.end_line or f.line,
                 "endColumn": f.end_column or None, "title": f"{f.rule_id} {f.rule_name}"}
        rows.append(((f.path, f.line, f.column, 0, f.rule_id), command(COMMANDS[f.severity], f.message, **props)))
    for d in ctx.result.diagnostics:
        props = {"file": _path(d.path), "line": d.line, "col": d.column, "title": "iaclint: file not fully checked"
                 if d.level == "error" else "iaclint"}
        rows.append(((d.path, d.line or 0, d.column or 0, 1, d.message),
                     command(DIAGNOSTIC_COMMANDS.get(d.level, "warning"), d.message, **props)))
    rows.sort(key=lambda r: r[0])
    return "".join(line + "\n" for _, line in rows)
