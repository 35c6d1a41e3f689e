"""``--format sarif``: one SARIF 2.1.0 run for IDEs (VS Code SARIF viewer) and GitHub code scanning.

The log is built from sarif-om's classes and serialized by :func:`to_json_dict`, which uses each
attribute's ``schema_property_name`` and drops unset values and defaults (``attr.asdict`` would
write Python names such as ``schema_uri`` and is not valid SARIF).  sarif-om is imported here
only, so no other format pays for it.  Mappings (levels, security-severity, the root) are
documented in README.md, "SARIF details".
"""
from __future__ import annotations

import json

from ..engine.checks import SEVERITY_RANK
from ..fingerprint import GITHUB_KEY, LOGICAL_KEY, line_hashes, logical_fingerprints
from .sources import SourceCache, relative_path, root_uri, scan_root, uri_reference

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/iaclint/iaclint"
SRCROOT = "%SRCROOT%"
DEFAULT_AUTOMATION_ID = "iaclint/"

#: severity -> result level: what blocks (error), what needs attention (warning), the rest (note)
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
#: severity -> GitHub's properties["security-severity"] (GitHub: >9.0 critical, 7.0-8.9 high,
#: 4.0-6.9 medium, 0.1-3.9 low); a numeric string, as GitHub requires
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
DIAGNOSTIC_LEVELS = {"error": "error", "warning": "warning", "notice": "note"}

# GitHub code scanning upload limits ("SARIF support for code scanning", limits section).
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_TAGS = 20

# Attributes written even when they equal sarif-om's default, because readers should not have
# to know the default ("warning") to tell how serious a result is.
_ALWAYS = {"level"}


_NO_DEFAULT = object()
_FIELDS: dict[type, list[tuple[str, str, object]] | None] = {}


def _fields(cls) -> list[tuple[str, str, object]] | None:
    """(attribute, SARIF name, default) per attribute of a sarif-om class; None for other types."""
    if cls not in _FIELDS:
        import attr

        if not attr.has(cls):
            _FIELDS[cls] = None
        else:
            spec = []
            for f in attr.fields(cls):
                default = f.default
                if isinstance(default, attr.Factory):  # type: ignore[arg-type]
                    default = default.factory()
                if default is attr.NOTHING or f.name in _ALWAYS:
                    default = _NO_DEFAULT
                spec.append((f.name, f.metadata.get("schema_property_name", f.name), default))
            _FIELDS[cls] = spec
    return _FIELDS[cls]


def to_json_dict(obj):
    """sarif-om object -> JSON-ready value (SARIF property names; None and defaults dropped)."""
    if isinstance(obj, (str, int, float)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [to_json_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_json_dict(v) for k, v in obj.items()}
    spec = _fields(type(obj))
    if spec is None:
        return obj
    out = {}
    for name, json_name, default in spec:
        value = getattr(obj, name)
        if value is None or (default is not _NO_DEFAULT and value == default):
            continue
        out[json_name] = to_json_dict(value)
    return out


def rule_tags(check) -> list[str]:
    """``security`` first, then the concept tags, CWE (GitHub's ``external/cwe/cwe-N`` form),
    formats, CIS and Pod Security ids; de-duplicated and capped at GitHub's 20."""
    std = check.standards or {}
    tags = ["security", *check.tags]
    tags += [f"external/cwe/{c.lower()}" for c in std.get("cwe") or ()]
    tags += list(check.formats)
    tags += [f"CIS-Docker-{x}" for x in std.get("cis_docker") or ()]
    tags += [f"CIS-Kubernetes-{x}" for x in std.get("cis_kubernetes") or ()]
    if check.profile:
        tags.append(f"PSS-{check.profile}")
    out: list[str] = []
    for t in tags:
        if t and t not in out:
            out.append(t)
    return out[:MAX_TAGS]


def _rule(check):
    import sarif_om as so

    from ..docs import _sections, render_explain

    markdown = "\n".join([f"**{check.title}**", ""] + _sections(check, "##")).strip() + "\n"
    level = LEVELS[check.severity]
    return so.ReportingDescriptor(
        id=check.id,
        name=check.name,
        short_description=so.MultiformatMessageString(text=check.title),
        full_description=so.MultiformatMessageString(text=(check.description or check.title).strip()),
        help=so.MultiformatMessageString(text=render_explain(check), markdown=markdown),
        help_uri=check.help_uri,
        default_configuration=so.ReportingConfiguration(level=level),
        properties={"tags": rule_tags(check), "security-severity": SECURITY_SEVERITY[check.severity],
                    "precision": "high", "problem.severity": _problem_severity(level)},
    )


def _problem_severity(level: str) -> str:
    # GitHub shows "Error/Warning/Note" for non-security alerts from this property.
    return {"error": "error", "warning": "warning"}.get(level, "recommendation")


def _end_column(f, sources: SourceCache) -> int | None:
    if f.end_column and f.end_column > 0:
        return f.end_column
    text = sources.line(f.path, f.end_line or f.line)
    if text is None:
        return None  # SARIF's default is the end of the line anyway
    end = len(text) + 1
    if (f.end_line or f.line) == f.line:
        end = max(end, f.column or 1)
    return end


def _select(findings: list, limit: int) -> tuple[list, int]:
    """At most ``limit`` findings, the most severe first, kept in report order."""
    if len(findings) <= limit:
        return findings, 0
    order = sorted(range(len(findings)), key=lambda i: (-SEVERITY_RANK[findings[i].severity], i))
    keep = sorted(order[:limit])
    return [findings[i] for i in keep], len(findings) - limit


def _result_parts(root, findings):
    """Per finding, what its SARIF result needs from the source file: (end column, GitHub line
    hash, logical fingerprint).  Files are read one at a time and forgotten after their findings
    (findings come grouped by path), so a 20,000-file report never holds every source at once."""
    sources = SourceCache()
    rel = {}
    parts = []
    keys = []
    i = 0
    while i < len(findings):
        path = findings[i].path
        j = i
        while j < len(findings) and findings[j].path == path:
            j += 1
        group = findings[i:j]
        rel[path] = relative_path(path, root)
        data = sources.raw(path)
        hashes = line_hashes(data, {f.line for f in group}) if data is not None else {}
        for f in group:
            parts.append((_end_column(f, sources), hashes.get(f.line)))
            keys.append((f.rule_id, rel[path], f.resource, sources.line(path, f.line) or ""))
        sources.forget(path)
        i = j
    return [(end, line_hash, fp) for (end, line_hash), fp in zip(parts, logical_fingerprints(keys))], rel


def _result(so, f, rule_index, uri, end_column, line_hash, fingerprint):
    region = so.Region(start_line=f.line, start_column=f.column or 1, end_line=max(f.end_line or f.line, f.line),
                       end_column=end_column)
    location = so.Location(
        physical_location=so.PhysicalLocation(
            artifact_location=so.ArtifactLocation(uri=uri, uri_base_id=SRCROOT),
            region=region),
        logical_locations=[so.LogicalLocation(name=f.resource.rsplit("/", 1)[-1],
                                              fully_qualified_name=f.resource, kind="resource")])
    partial = {LOGICAL_KEY: fingerprint}
    if line_hash:
        partial[GITHUB_KEY] = line_hash
    suppressions = None
    if f.suppression is not None:
        suppressions = [so.Suppression(kind=f.suppression.kind,
                                       justification=getattr(f.suppression, "justification", None))]
    return so.Result(
        rule_id=f.rule_id,
        rule_index=rule_index.get(f.rule_id, -1),
        level=LEVELS[f.severity],
        message=so.Message(text=f.message),
        locations=[location],
        partial_fingerprints=partial,
        suppressions=suppressions,
        properties={"severity": f.severity},
    )


#: stands for the results array while the rest of the log is serialized (see render_chunks)
_RESULTS_SLOT = "\0iaclint-results\0"


def _log(ctx, streamed: bool):
    """(log as a JSON-ready dict, iterator of result dicts).  ``streamed``: the log's results
    array holds _RESULTS_SLOT and the results come from the iterator, one at a time."""
    import sarif_om as so

    res = ctx.result
    root = scan_root(ctx.roots)
    checks = list(ctx.checks)[:MAX_RULES]
    rule_index = {c.id: i for i, c in enumerate(checks)}

    findings = [f for f in res.findings if ctx.include_suppressed_sarif or f.suppression is None]
    findings, omitted = _select(findings, MAX_RESULTS)
    parts, rel = _result_parts(root, findings)
    for d in res.diagnostics:
        if d.path not in rel:
            rel[d.path] = relative_path(d.path, root)
    uri = {p: uri_reference(r) for p, r in rel.items()}

    def results():
        for f, (end_column, line_hash, fingerprint) in zip(findings, parts):
            yield to_json_dict(_result(so, f, rule_index, uri[f.path], end_column, line_hash, fingerprint))

    notifications = []
    for d in res.diagnostics:
        region = so.Region(start_line=d.line, start_column=d.column or None) if d.line else None
        notifications.append(so.Notification(
            message=so.Message(text=d.message),
            level=DIAGNOSTIC_LEVELS.get(d.level, "warning"),
            locations=[so.Location(physical_location=so.PhysicalLocation(
                artifact_location=so.ArtifactLocation(uri=uri[d.path], uri_base_id=SRCROOT),
                region=region))]))
    if omitted:
        notifications.append(so.Notification(
            level="warning",
            message=so.Message(text=f"{omitted} of {omitted + len(findings)} results left out: GitHub code scanning "
                                    f"accepts at most {MAX_RESULTS} results per run; the most severe were kept")))

    run = so.Run(
        tool=so.Tool(driver=so.ToolComponent(name="iaclint", semantic_version=ctx.version,
                                              information_uri=INFORMATION_URI,
                                              rules=[_rule(c) for c in checks])),
        automation_details=so.RunAutomationDetails(id=ctx.automation_id or DEFAULT_AUTOMATION_ID),
        column_kind="unicodeCodePoints",
        original_uri_base_ids={SRCROOT: so.ArtifactLocation(uri=root_uri(root))},
        # The run "succeeded" only if every file could be checked: a parse error means findings
        # may be missing, which is also why such a run exits with status 1.
        invocations=[so.Invocation(execution_successful=not any(d.level == "error" for d in res.diagnostics),
                                   tool_execution_notifications=notifications or None)],
        results=_RESULTS_SLOT if streamed else [],
    )
    body = to_json_dict(so.SarifLog(schema_uri=SCHEMA_URI, version=SARIF_VERSION, runs=[run]))
    if not streamed:
        body["runs"][0]["results"] = list(results())
    # $schema and version first, as every SARIF example and reader expects to see them.
    return {"$schema": body.pop("$schema"), "version": body.pop("version"), **body}, results()


def build(ctx) -> dict:
    """The whole log as one JSON-ready dict (render_chunks writes the same bytes, streaming)."""
    return _log(ctx, streamed=False)[0]


def render_chunks(ctx):
    """``json.dumps(build(ctx))``, compact, written a result at a time: at 20,000 files a log of
    25,000 results held as objects, then as dicts, then as one string peaked at ~390 MB."""
    body, results = _log(ctx, streamed=True)
    text = _dumps(body)
    slot = _dumps(_RESULTS_SLOT)
    head, _, tail = text.partition(slot)
    yield head + "["
    first = True
    for r in results:
        yield _dumps(r) if first else "," + _dumps(r)
        first = False
    yield "]" + tail + "\n"


def _dumps(value) -> str:
    # Compact: a SARIF log runs to ~1 KB per result, and json's C encoder is used only without
    # indent (10x faster on a 15,000-result log). Viewers and GitHub do not need the whitespace.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def render(ctx) -> str:
    return "".join(render_chunks(ctx))
