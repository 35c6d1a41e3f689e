"""``--format json``: the stable schema documented in README.md ("JSON output")."""
from __future__ import annotations

import json

from .common import summary

SCHEMA_VERSION = 1


def finding_dict(f) -> dict:
    d = {
        "rule_id": f.rule_id,
        "rule_name": f.rule_name,
        "severity": f.severity,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "end_column": f.end_column,
        "message": f.message,
        "resource": f.resource,
        "suppressed": f.suppression is not None,
    }
    if f.suppression is not None:
        d["suppression"] = f.suppression.as_dict()
    return d


def render(ctx) -> str:
    doc = {
        "version": ctx.version,
        "schema_version": SCHEMA_VERSION,
        "findings": [finding_dict(f) for f in ctx.result.findings],
        "errors": [{"path": d.path, "line": d.line, "column": d.column, "level": d.level, "message": d.message}
                   for d in ctx.result.diagnostics],
        "summary": summary(ctx),
    }
    doc.update(ctx.extra.get("json_extra", {}))
    return json.dumps(doc, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
