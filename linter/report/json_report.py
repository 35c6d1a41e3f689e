"""``--format json``: the stable schema documented in README.md ("JSON output")."""
from __future__ import annotations

import json
from json.encoder import encode_basestring as _encode_str  # the C function when available

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
    return "".join(render_chunks(ctx))


def render_chunks(ctx):
    """Same bytes as ``json.dumps(doc, indent=2)``, produced piece by piece: with an indent the
    json module falls back to its pure-Python encoder anyway, and one call over the whole
    document would hold every chunk of a 50k-finding report (and then the whole string, and
    its UTF-8 copy) in memory at once; streamed, a report costs one finding at a time."""
    head = {"version": ctx.version, "schema_version": SCHEMA_VERSION}
    lists = {
        "findings": (finding_dict(f) for f in ctx.result.findings),
        "errors": ({"path": d.path, "line": d.line, "column": d.column, "level": d.level, "message": d.message}
                   for d in ctx.result.diagnostics),
    }
    tail = {"summary": summary(ctx)}
    tail.update(ctx.extra.get("json_extra", {}))
    yield "{\n" + ",\n".join(_member(k, v) for k, v in head.items())
    for key, items in lists.items():
        yield f",\n  {_dumps(key)}: "
        first = True
        for item in items:
            yield ("[\n" if first else ",\n") + _item(item)
            first = False
        yield "[]" if first else "\n  ]"
    for k, v in tail.items():
        yield ",\n" + _member(k, v)
    yield "\n}\n"


def _item(d: dict) -> str:
    """``_indent(_dumps(d), "    ")``, without the pure-Python indenting encoder for the common
    case of a finding or an error whose values are all scalars (tests/test_report_formats.py
    compares the two on every kind of value)."""
    parts = []
    for k, v in d.items():
        if isinstance(v, str):
            text = _encode_str(v)
        elif v is None or isinstance(v, (bool, int)):
            text = "null" if v is None else ("true" if v is True else "false" if v is False else int.__repr__(v))
        else:
            return _indent(_dumps(d), "    ")
        parts.append(f"      {_encode_str(k)}: {text}")
    return "    {\n" + ",\n".join(parts) + "\n    }" if parts else "    {}"


def _dumps(v) -> str:
    return json.dumps(v, indent=2, ensure_ascii=False)


def _indent(text: str, pad: str) -> str:
    return pad + text.replace("\n", "\n" + pad)


def _member(key, value) -> str:
    return f"  {_dumps(key)}: " + _dumps(value).replace("\n", "\n  ")
