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
    """Same bytes as ``json.dumps(doc, indent=2)``, but the long lists are encoded item by item:
    with an indent the json module falls back to its pure-Python encoder, and one call over the
    whole document holds every chunk of a 50k-finding report in memory at once."""
    head = {"version": ctx.version, "schema_version": SCHEMA_VERSION}
    lists = {
        "findings": (finding_dict(f) for f in ctx.result.findings),
        "errors": ({"path": d.path, "line": d.line, "column": d.column, "level": d.level, "message": d.message}
                   for d in ctx.result.diagnostics),
    }
    tail = {"summary": summary(ctx)}
    tail.update(ctx.extra.get("json_extra", {}))
    parts = [_member(k, v) for k, v in head.items()]
    for key, items in lists.items():
        encoded = [_indent(_dumps(item), "    ") for item in items]
        body = "[\n" + ",\n".join(encoded) + "\n  ]" if encoded else "[]"
        parts.append(f"  {_dumps(key)}: {body}")
    parts.extend(_member(k, v) for k, v in tail.items())
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _dumps(v) -> str:
    return json.dumps(v, indent=2, ensure_ascii=False)


def _indent(text: str, pad: str) -> str:
    return pad + text.replace("\n", "\n" + pad)


def _member(key, value) -> str:
    return f"  {_dumps(key)}: " + _dumps(value).replace("\n", "\n  ")
