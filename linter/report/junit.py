"""``--format junit``: JUnit XML as Jenkins, GitLab, Azure DevOps and CircleCI render it.

One ``<testsuite>`` per scanned file; a failing ``<testcase>`` per finding; an ``<error>`` per
file that could not be checked (parse errors); a ``<skipped>`` test case per suppressed finding and
per file the scan skipped (size limit, Helm template); a single passing test case for a file with
nothing to report.  Warnings (e.g. duplicate YAML keys) go to the suite's ``<system-out>``.
No timestamps or durations, so the same input gives the same bytes.
"""
from __future__ import annotations

import re

from .common import visible_findings

# XML 1.0 forbids most control characters even when escaped; a YAML error message can quote them.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _where(path: str, line, column) -> str:
    if not line:
        return path
    return f"{path}:{line}:{column or 1}"


def render(ctx) -> str:
    import xml.etree.ElementTree as ET

    res = ctx.result
    by_path: dict[str, dict[str, list]] = {}

    def bucket(path: str) -> dict[str, list]:
        return by_path.setdefault(path, {"findings": [], "suppressed": [], "errors": [], "skipped": [], "warnings": []})

    for pf in res.parsed:
        bucket(pf.path)
    for f in visible_findings(ctx, include_suppressed=True):
        bucket(f.path)["suppressed" if f.suppression is not None else "findings"].append(f)
    for d in res.diagnostics:
        kind = {"error": "errors", "notice": "skipped"}.get(d.level, "warnings")
        bucket(d.path)[kind].append(d)

    root = ET.Element("testsuites", name="iaclint")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for path in sorted(by_path):
        b = by_path[path]
        suite = ET.SubElement(root, "testsuite", name=_clean(path))
        cases = []
        for f in b["findings"]:
            case = ET.Element("testcase", name=_clean(f"{f.rule_id} {f.rule_name} at {f.line}:{f.column} ({f.resource})"),
                              classname=_clean(path), file=_clean(path), line=str(f.line))
            failure = ET.SubElement(case, "failure", message=_clean(f.message), type=f.severity)
            failure.text = _clean(f"{_where(path, f.line, f.column)}: {f.rule_id} [{f.severity}] {f.rule_name}: "
                                  f"{f.message}\nresource: {f.resource}\n")
            cases.append(("failure", case))
        for d in b["errors"]:
            case = ET.Element("testcase", name=_clean(f"parse {path}"), classname=_clean(path), file=_clean(path))
            if d.line:
                case.set("line", str(d.line))
            error = ET.SubElement(case, "error", message=_clean(d.message), type="parse-error")
            error.text = _clean(f"{_where(path, d.line, d.column)}: error: {d.message}\n")
            cases.append(("error", case))
        for f in b["suppressed"]:
            case = ET.Element("testcase", name=_clean(f"{f.rule_id} {f.rule_name} at {f.line}:{f.column} ({f.resource})"),
                              classname=_clean(path), file=_clean(path), line=str(f.line))
            ET.SubElement(case, "skipped", message=_clean(f"suppressed: {f.suppression.describe()}"))
            cases.append(("skipped", case))
        for d in b["skipped"]:
            case = ET.Element("testcase", name=_clean(f"scan {path}"), classname=_clean(path), file=_clean(path))
            ET.SubElement(case, "skipped", message=_clean(d.message))
            cases.append(("skipped", case))
        if not cases:
            cases.append(("pass", ET.Element("testcase", name="iaclint", classname=_clean(path), file=_clean(path))))
        counts = {"tests": len(cases), "failures": sum(k == "failure" for k, _ in cases),
                  "errors": sum(k == "error" for k, _ in cases), "skipped": sum(k == "skipped" for k, _ in cases)}
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.extend(case for _, case in cases)
        if b["warnings"]:
            out = ET.SubElement(suite, "system-out")
            out.text = _clean("".join(f"{_where(path, d.line, d.column)}: {d.level}: {d.message}\n"
                                      for d in b["warnings"]))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
