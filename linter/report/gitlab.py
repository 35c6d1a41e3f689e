"""``--format gitlab``: a GitLab Code Quality report (``artifacts:reports:codequality``).

A JSON array of issues with ``description``, ``check_name``, ``fingerprint``, ``severity``,
``location.path`` and ``location.lines.begin``.  The fingerprint is the logical one (see
linter.fingerprint), so a finding keeps its identity when lines are added above it and the merge
request widget does not report it as new.  Severity: critical -> blocker, high -> critical,
medium -> major, low -> minor, info -> info.  Files that could not be parsed are reported as
``iaclint/parse-error`` issues so an unchecked file cannot pass silently.
"""
from __future__ import annotations

import hashlib
import json

from ..fingerprint import logical_fingerprints
from .common import visible_findings
from .sources import SourceCache, relative_path, scan_root

SEVERITIES = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor", "info": "info"}
DIAGNOSTIC_SEVERITIES = {"error": "major", "warning": "minor"}


def render(ctx) -> str:
    root = scan_root(ctx.roots)
    sources = SourceCache()
    findings = visible_findings(ctx)
    rel = {p: relative_path(p, root) for p in {f.path for f in findings} | {d.path for d in ctx.result.diagnostics}}
    fingerprints = logical_fingerprints(
        (f.rule_id, rel[f.path], f.resource, text) for f, text in zip(findings, sources.finding_lines(findings)))
    issues = []
    for f, fp in zip(findings, fingerprints):
        issues.append({
            "type": "issue",
            "check_name": f"{f.rule_id} {f.rule_name}",
            "description": f"{f.rule_id} {f.rule_name}: {f.message}",
            "categories": ["Security"],
            "severity": SEVERITIES[f.severity],
            "fingerprint": fp,
            "location": {"path": rel[f.path], "lines": {"begin": f.line, "end": max(f.end_line or f.line, f.line)}},
        })
    for d in ctx.result.diagnostics:
        severity = DIAGNOSTIC_SEVERITIES.get(d.level)
        if severity is None:  # notices (skipped Helm templates, size limit) are not code quality issues
            continue
        digest = hashlib.sha256("\0".join(("iaclint/diagnostic", rel[d.path], d.level, d.message))
                                .encode("utf-8", "surrogatepass")).hexdigest()[:32]
        issues.append({
            "type": "issue",
            "check_name": "iaclint/parse-error",
            "description": f"{d.level}: {d.message}",
            "categories": ["Bug Risk"],
            "severity": severity,
            "fingerprint": digest,
            "location": {"path": rel[d.path], "lines": {"begin": d.line or 1}},
        })
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
