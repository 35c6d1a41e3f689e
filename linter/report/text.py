"""Human-readable output: ``path:line:col: ID [severity] name: message``."""
from __future__ import annotations

import re

from .common import summary, visible_findings

# Input text (names, paths, messages) must not drive the terminal: `\x1b[2K` in a container name
# could erase the line that reports a finding.  Escape control characters, as `cat -v` would.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe(text) -> str:
    text = str(text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text) if _CONTROL.search(text) else text

_COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[37m"}
_RESET, _DIM, _BOLD = "\033[0m", "\033[2m", "\033[1m"


def render(ctx) -> str:
    color = ctx.color
    lines = []
    rows = []
    for f in visible_findings(ctx, ctx.show_suppressed):
        rows.append(((f.path, f.line, f.column, 0, f.rule_id), f))
    for d in ctx.result.diagnostics:
        rows.append(((d.path, d.line or 0, d.column or 0, 1, d.message), d))
    rows.sort(key=lambda r: r[0])
    for _, item in rows:
        if hasattr(item, "rule_id"):
            sev = item.severity
            tag = f"[{sev}]"
            if color:
                tag = f"{_COLORS[sev]}{tag}{_RESET}"
            line = (f"{_safe(item.path)}:{item.line}:{item.column}: {item.rule_id} {tag} {item.rule_name}: "
                    f"{_safe(item.message)}")
            if item.suppression is not None:
                line += f" (suppressed: {_safe(item.suppression.describe())})"
                if color:
                    line = f"{_DIM}{line}{_RESET}"
        else:
            where = f"{_safe(item.path)}:{item.line}:{item.column or 1}" if item.line else _safe(item.path)
            tag = item.level
            if color:
                tag = f"{_BOLD}{tag}{_RESET}"
            line = f"{where}: {tag}: {_safe(item.message)}"
        lines.append(line)
    s = summary(ctx)
    parts = [f"{n} {sev}" for sev, n in s["by_severity"].items() if n]
    text = f"{s['findings']} finding{'s' if s['findings'] != 1 else ''}"
    if parts:
        text += f" ({', '.join(parts)})"
    if s["suppressed"]:
        text += f", {s['suppressed']} suppressed"
    text += f"; {s['files_scanned']} file{'s' if s['files_scanned'] != 1 else ''} scanned"
    text += f", {s['files_with_errors']} with parse errors"
    for note in ctx.extra.get("summary_notes", []):
        text += f"; {note}"
    lines.append(text)
    return "\n".join(lines) + "\n"
