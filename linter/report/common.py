"""Helpers shared by report formats."""
from __future__ import annotations

from ..engine.checks import SEVERITIES


def visible_findings(ctx, include_suppressed: bool = False):
    fs = ctx.result.findings
    if include_suppressed:
        return list(fs)
    return [f for f in fs if f.suppression is None]


def summary(ctx) -> dict:
    res = ctx.result
    active = [f for f in res.findings if f.suppression is None]
    by_sev = {s: 0 for s in SEVERITIES}
    for f in active:
        by_sev[f.severity] += 1
    return {
        "findings": len(active),
        "by_severity": by_sev,
        "suppressed": len(res.findings) - len(active),
        "files_scanned": res.files_scanned,
        "files_with_errors": res.files_with_errors,
        "errors": sum(1 for d in res.diagnostics if d.level == "error"),
    }
