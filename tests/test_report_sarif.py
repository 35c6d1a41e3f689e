"""``--format sarif``: every log the tests produce is validated against the official OASIS SARIF
2.1.0 schema (tests/data/sarif-schema-2.1.0.json, draft-04); then the fields GitHub code
scanning and IDEs rely on are checked one by one, and the fingerprints against GitHub's own
published test vectors."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from linter.fingerprint import line_hashes, logical_fingerprint, logical_fingerprints

DATA = Path(__file__).parent / "data"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "real"

POD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: prod
spec:
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: web
          image: nginx:latest
          securityContext:
            privileged: true
          env:
            - name: DB_PASSWORD
              value: "Zq8vLp2Rr7tYw3Kd"
"""


@pytest.fixture(scope="session")
def validator():
    import jsonschema

    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


@pytest.fixture
def sarif(validator, registry):
    """sarif(result, **context) -> the SARIF log as a dict, after schema validation."""
    from linter.report import ReportContext, render
    from linter.scan import select_checks

    def run(result, checks=None, roots=(".",), **kw):
        ctx = ReportContext(result=result, checks=checks or select_checks(registry, None, None), version="0.1.0",
                            roots=list(roots), **kw)
        text = render("sarif", ctx)
        log = json.loads(text)
        errors = sorted(validator.iter_errors(log), key=lambda e: list(map(str, e.absolute_path)))
        assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])
        return log

    return run


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _by_rule(log) -> dict:
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    return {rules[r["ruleIndex"]]["name"]: r for r in run["results"]}


def _region_text(path: Path, region) -> str:
    line = path.read_text(encoding="utf-8").split("\n")[region["startLine"] - 1]
    return line[region["startColumn"] - 1: region["endColumn"] - 1]


class FakeSuppression:
    """What the suppression pass attaches to a finding (its interface, not its implementation)."""

    def __init__(self, kind="inSource", justification="debug pod, deleted after the incident"):
        self.kind, self.justification = kind, justification

    def describe(self):
        return f"{self.kind}: {self.justification}"

    def as_dict(self):
        return {"kind": self.kind, "justification": self.justification}


# --- log, tool and rules ---------------------------------------------------------------------

def test_log_run_and_tool(project, scan_files, sarif, registry):
    from linter.scan import select_checks

    log = sarif(scan_files({"k8s/api.yaml": POD}))
    assert log["$schema"].endswith("sarif-schema-2.1.0.json") and log["version"] == "2.1.0"
    assert list(log)[:2] == ["$schema", "version"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "iaclint" and driver["semanticVersion"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == [c.id for c in select_checks(registry, None, None)]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["automationDetails"] == {"id": "iaclint/"}
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": project.as_uri() + "/"}}
    assert run["invocations"] == [{"executionSuccessful": True}]


def test_rules_carry_documentation_tags_and_security_severity(project, scan_files, sarif, registry):
    checks = list(registry)  # every check, optional ones too
    log = sarif(scan_files({"k8s/api.yaml": POD}), checks=checks)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) == len(checks)
    expected = {"critical": ("9.5", "error"), "high": ("8.0", "error"), "medium": ("5.5", "warning"),
                "low": ("3.0", "note"), "info": ("0.0", "note")}
    for rule, check in zip(rules, checks):
        assert rule["id"] == check.id and rule["name"] == check.name
        assert rule["shortDescription"]["text"] == check.title
        assert rule["fullDescription"]["text"]
        assert rule["helpUri"] == check.help_uri
        assert check.remediation.split()[0] in rule["help"]["text"]
        assert "## How to fix" in rule["help"]["markdown"]
        for snippet in check.snippets:
            assert snippet["fixed"].strip() in rule["help"]["markdown"]
        severity, level = expected[check.severity]
        assert rule["properties"]["security-severity"] == severity
        float(rule["properties"]["security-severity"])
        assert rule["defaultConfiguration"]["level"] == level
        tags = rule["properties"]["tags"]
        assert tags[0] == "security" and len(tags) == len(set(tags)) <= 20
        assert set(check.tags) <= set(tags) or len(tags) == 20
    privileged = next(r for r in rules if r["name"] == "privileged-container")
    tags = privileged["properties"]["tags"]
    assert "kubernetes" in tags and any(t.startswith("CIS-Kubernetes-") for t in tags)
    assert any(t.startswith("external/cwe/cwe-") for t in tags)


def test_tags_are_capped_at_twenty(registry):
    from linter.report.sarif import rule_tags

    check = registry.get("privileged-container")
    saved = check.tags
    try:
        check.tags = [f"t{i}" for i in range(40)]
        tags = rule_tags(check)
    finally:
        check.tags = saved
    assert len(tags) == 20 and tags[0] == "security"


# --- results ---------------------------------------------------------------------------------

def test_results_levels_locations_and_logical_locations(project, scan_files, sarif):
    log = sarif(scan_files({"k8s/api.yaml": POD}))
    results = _by_rule(log)
    levels = {name: r["level"] for name, r in results.items()}
    assert levels["privileged-container"] == "error"   # critical
    assert levels["plaintext-secret"] == "error"       # high
    assert levels["unpinned-image"] == "warning"       # medium
    for name, r in results.items():
        assert r["ruleId"] == log["runs"][0]["tool"]["driver"]["rules"][r["ruleIndex"]]["id"]
        assert r["message"]["text"]
        (loc,) = r["locations"]
        assert loc["physicalLocation"]["artifactLocation"] == {"uri": "k8s/api.yaml", "uriBaseId": "%SRCROOT%"}
    priv = results["privileged-container"]["locations"][0]
    assert priv["logicalLocations"] == [{"fullyQualifiedName": "Deployment/prod/api/container/web", "kind": "resource",
                                         "name": "web"}]
    region = priv["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endLine"]) == (15, 13, 15)
    assert _region_text(project / "k8s/api.yaml", region) == "privileged: true"
    assert all("Lp2Rr7tY" not in json.dumps(r) for r in log["runs"][0]["results"])  # messages stay masked


def test_unknown_end_column_extends_to_the_end_of_the_line(project, scan_files, sarif):
    log = sarif(scan_files({"k8s/api.yaml": POD}))
    region = _by_rule(log)["missing-network-policy"]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"], region["endColumn"]) == (1, 1, len("apiVersion: apps/v1") + 1)


def test_columns_count_code_points(project, scan_files, sarif):
    text = POD.replace("labels: {app: api}", "labels: {app: api, owner: \"zoë-😀\"}").replace(
        "image: nginx:latest", "image: \"nginx:latest\" # ünïcödé 😀")
    text = text.replace("- name: web\n", "- {name: \"wéb😀\", image: \"nginx:latest\"}\n        - name: web\n")
    log = sarif(scan_files({"k8s/api.yaml": text}), roots=["."])
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in log["runs"][0]["results"]
               if r["ruleId"] == "IAC401"]
    lines = (project / "k8s/api.yaml").read_text(encoding="utf-8").split("\n")
    flow = next(rg for rg in regions if "😀" in lines[rg["startLine"] - 1])
    assert _region_text(project / "k8s/api.yaml", flow).startswith(("image", "\"nginx:latest\"", "nginx:latest"))
    for rg in regions:  # an end column never exceeds the line (code points, not UTF-16 units or bytes)
        assert rg["endColumn"] <= len(lines[rg["startLine"] - 1]) + 1


def test_uris_are_percent_encoded(project, scan_files, sarif):
    log = sarif(scan_files({"my apps/api#1.yaml": POD}))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"my%20apps/api%231.yaml"}


def test_root_is_the_current_directory_or_the_common_directory(tmp_path, monkeypatch):
    from linter.report.sources import relative_path, scan_root

    (tmp_path / "repo" / "a").mkdir(parents=True)
    (tmp_path / "other" / "x").mkdir(parents=True)
    (tmp_path / "other" / "y").mkdir(parents=True)
    (tmp_path / "other" / "x" / "f.yaml").write_text("a: 1\n")
    monkeypatch.chdir(tmp_path / "repo")
    assert scan_root(["."]) == str(tmp_path / "repo")
    assert scan_root(["a", str(tmp_path / "repo" / "a")]) == str(tmp_path / "repo")
    root = scan_root([str(tmp_path / "other" / "x" / "f.yaml"), str(tmp_path / "other" / "y")])
    assert root == str(tmp_path / "other")
    assert relative_path(str(tmp_path / "other" / "x" / "f.yaml"), root) == "x/f.yaml"
    assert scan_root([str(tmp_path / "other" / "x" / "f.yaml")]) == str(tmp_path / "other" / "x")


def test_paths_outside_the_current_directory(project, tmp_path, sarif, registry):
    from linter.scan import ScanOptions, scan, select_checks

    outside = tmp_path / "elsewhere" / "deploy"
    outside.mkdir(parents=True)
    (outside / "api.yaml").write_text(POD)
    (project / "sub").mkdir()
    os.chdir(project / "sub")
    result = scan(ScanOptions(paths=[str(outside)], checks=select_checks(registry, None, None)))
    log = sarif(result, roots=[str(outside)])
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == outside.as_uri() + "/"
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {"api.yaml"}


# --- fingerprints ----------------------------------------------------------------------------

# Published by GitHub with the upload action's implementation (src/fingerprints.test.ts in
# github/codeql-action); our values must be identical or every upload logs a mismatch warning.
GITHUB_VECTORS = [
    ("", ["c129715d7a2bc9a3:1"]),
    (" a\nb\n  \t\tc\n d", ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"]),
    (" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
     ["8b7cf3e952e7aeb2:1", "b1ae1287ec4718d9:1", "bff680108adb0fcc:1", "c6805c5e1288b612:1", "b86d3392aea1be30:1",
      "e6ceba753e1a442:1"]),
    *[(text, ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1",
              "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"])
      for text in (" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
                   " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
                   " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
                   " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n")],
    ("Lorem ipsum dolor sit amet.\n" * 10,
     ["a7f2ff13bc495cf2:1", "a7f2ff13bc495cf2:2", "a7f2ff13bc495cf2:3", "a7f2ff13bc495cf2:4", "a7f2ff13bc495cf2:5",
      "a7f2ff13bc495cf2:6", "a7f2ff1481e87703:1", "a9cf91f7bbf1862b:1", "55ec222b86bcae53:1", "cc97dc7b1d7d8f7b:1",
      "c129715d7a2bc9a3:1"]),
]


@pytest.mark.parametrize("text,expected", GITHUB_VECTORS)
def test_primary_location_line_hash_matches_github(text, expected):
    assert line_hashes(text) == {i: h for i, h in enumerate(expected, 1)}
    assert line_hashes(text.encode()) == line_hashes(text)
    last = len(expected)
    assert line_hashes(text, [last, last + 5]) == {last: expected[-1]}  # only what was asked for


def test_line_hash_reads_utf16_code_units_and_keeps_the_bom():
    # an astral character is two UTF-16 code units in JavaScript, so it changes the hash differently
    # from a BMP character; the BOM is hashed as Node reads it (not stripped)
    astral, bmp = line_hashes("a😀b\n"), line_hashes("a\uffffb\n")
    assert astral[1] != bmp[1]
    assert line_hashes(b"\xef\xbb\xbfa\n")[1] != line_hashes(b"a\n")[1]
    assert line_hashes(b"a\xffb\n") == line_hashes("a\ufffdb\n")


def test_results_carry_both_fingerprints(project, scan_files, sarif):
    log = sarif(scan_files({"k8s/api.yaml": POD}))
    data = (project / "k8s/api.yaml").read_bytes()
    hashes = line_hashes(data)
    for r in log["runs"][0]["results"]:
        region = r["locations"][0]["physicalLocation"]["region"]
        fp = r["partialFingerprints"]
        assert fp["primaryLocationLineHash"] == hashes[region["startLine"]]
        assert len(fp["iaclint/v1"]) == 32
    assert len({r["partialFingerprints"]["iaclint/v1"] for r in log["runs"][0]["results"]}) == \
        len(log["runs"][0]["results"])


def test_logical_fingerprint_survives_lines_added_above(project, scan_files, sarif):
    before = _by_rule(sarif(scan_files({"k8s/api.yaml": POD})))
    shifted = "# owned by team shop\n# see the runbook\n\n" + POD
    after = _by_rule(sarif(scan_files({"k8s/api.yaml": shifted})))
    assert before.keys() == after.keys()
    for name in before:
        b, a = before[name], after[name]
        line_b = b["locations"][0]["physicalLocation"]["region"]["startLine"]
        line_a = a["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert line_a == line_b + 3
        assert a["partialFingerprints"]["iaclint/v1"] == b["partialFingerprints"]["iaclint/v1"], name
    # whereas a change to the offending line itself is a different finding
    changed = _by_rule(sarif(scan_files({"k8s/api.yaml": POD.replace("nginx:latest", "nginx")})))
    assert changed["unpinned-image"]["partialFingerprints"]["iaclint/v1"] != \
        before["unpinned-image"]["partialFingerprints"]["iaclint/v1"]


def test_logical_fingerprint_inputs():
    base = logical_fingerprint("IAC102", "k8s/a.yaml", "Pod/x/y/container/c", "  privileged:   true")
    assert base == logical_fingerprint("IAC102", "k8s/a.yaml", "Pod/x/y/container/c", "privileged: true  ")
    for other in (("IAC103", "k8s/a.yaml", "Pod/x/y/container/c", "privileged: true"),
                  ("IAC102", "k8s/b.yaml", "Pod/x/y/container/c", "privileged: true"),
                  ("IAC102", "k8s/a.yaml", "Pod/x/y/container/d", "privileged: true"),
                  ("IAC102", "k8s/a.yaml", "Pod/x/y/container/c", "privileged: yes")):
        assert logical_fingerprint(*other) != base
    twins = logical_fingerprints([("R", "p", "r", "x: 1"), ("R", "p", "r", " x:  1")])
    assert twins[0] == logical_fingerprint("R", "p", "r", "x: 1") and twins[0] != twins[1]


# --- suppressions, diagnostics, limits -------------------------------------------------------

def test_suppressed_findings_are_left_out_unless_asked_for(project, scan_files, sarif):
    result = scan_files({"k8s/api.yaml": POD})
    target = next(f for f in result.findings if f.rule_name == "privileged-container")
    target.suppression = FakeSuppression()
    external = next(f for f in result.findings if f.rule_name == "unpinned-image")
    external.suppression = FakeSuppression("external", None)
    default = _by_rule(sarif(result))
    assert "privileged-container" not in default and "unpinned-image" not in default
    assert all("suppressions" not in r for r in default.values())
    included = _by_rule(sarif(result, include_suppressed_sarif=True))
    assert included["privileged-container"]["suppressions"] == [
        {"kind": "inSource", "justification": "debug pod, deleted after the incident"}]
    assert included["unpinned-image"]["suppressions"] == [{"kind": "external"}]
    assert len(included) == len(default) + 2


def test_inline_suppression_end_to_end(project, scan_files, sarif):
    text = POD.replace("privileged: true", "privileged: true  # iaclint: ignore[privileged-container] -- CNI plugin")
    result = scan_files({"k8s/api.yaml": text})
    assert "privileged-container" not in _by_rule(sarif(result))
    included = _by_rule(sarif(result, include_suppressed_sarif=True))
    assert included["privileged-container"]["suppressions"] == [{"kind": "inSource", "justification": "CNI plugin"}]


def test_parse_errors_become_tool_execution_notifications(project, scan_files, sarif):
    result = scan_files({
        "k8s/api.yaml": POD,
        "k8s/broken.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [\n",
        "k8s/dup.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\ndata: {b: '2'}\n",
    })
    (invocation,) = sarif(result)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    notes = {n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n
             for n in invocation["toolExecutionNotifications"]}
    assert notes["k8s/broken.yaml"]["level"] == "error"
    assert notes["k8s/broken.yaml"]["message"]["text"].startswith("YAML syntax error")
    assert notes["k8s/broken.yaml"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 6
    assert notes["k8s/dup.yaml"]["level"] == "warning"
    assert notes["k8s/dup.yaml"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 5


def test_warnings_and_notices_leave_the_run_successful(project, scan_files, sarif):
    result = scan_files({
        "k8s/dup.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\ndata: {b: '2'}\n",
        "chart/templates/x.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n",
    })
    (invocation,) = sarif(result)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert {n["level"] for n in invocation["toolExecutionNotifications"]} == {"warning", "note"}


def test_result_limit_keeps_the_most_severe(project, scan_files, sarif, monkeypatch):
    from linter.report import sarif as sarif_module

    assert sarif_module.MAX_RESULTS == 25_000 and sarif_module.MAX_RULES == 25_000
    result = scan_files({"k8s/api.yaml": POD})
    monkeypatch.setattr(sarif_module, "MAX_RESULTS", 3)
    log = sarif(result)
    run = log["runs"][0]
    kept = [r["properties"]["severity"] for r in run["results"]]
    assert sorted(kept) == sorted(["critical", "high", "high"])
    lines = [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]]
    assert lines == sorted(lines)  # still in report order
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert note["level"] == "warning" and f"{len(result.findings) - 3} of {len(result.findings)}" in note["message"]["text"]


def test_automation_id(project, scan_files, sarif):
    log = sarif(scan_files({"k8s/api.yaml": POD}), automation_id="iaclint/prod-cluster/")
    assert log["runs"][0]["automationDetails"] == {"id": "iaclint/prod-cluster/"}


def test_empty_scan_is_a_valid_log(project, scan_files, sarif):
    run = sarif(scan_files({"README.md": "nothing to scan\n"}))["runs"][0]
    assert run["results"] == []


def test_sarif_om_is_imported_only_for_sarif(project):
    (project / "api.yaml").write_text(POD)
    code = ("import sys\nfrom linter.cli import main\n"
            "try:\n    main(['scan', '-q', '-f', '{fmt}', 'api.yaml'])\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(str('sarif_om' in sys.modules))\n")
    for fmt, expected in (("text", "False"), ("junit", "False"), ("sarif", "True")):
        proc = subprocess.run([sys.executable, "-c", code.format(fmt=fmt)], capture_output=True, text=True,
                              cwd=project, env=dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent)))
        assert proc.stderr.strip().endswith(expected), (fmt, proc.stderr)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="real-world corpus not available")
def test_real_corpus_log_validates_and_respects_github_limits(sarif, registry, monkeypatch):
    """The one slow test: the real corpus (Terraform excluded: HCL parsing would take ~30 s and
    adds nothing the SARIF writer does not already see in the other formats)."""
    from linter.scan import ScanOptions, scan

    monkeypatch.chdir(CORPUS.parent)
    result = scan(ScanOptions(paths=["real"], checks=list(registry), exclude=["*.tf", "*.tf.json", "*.tfvars"]))
    assert len(result.findings) > 1000
    log = sarif(result, checks=list(registry), roots=["real"])
    run = log["runs"][0]
    assert 0 < len(run["results"]) <= 25_000
    assert len(run["tool"]["driver"]["rules"]) <= 25_000
    assert all(len(r["locations"]) <= 1000 for r in run["results"])
    assert all(len(rule["properties"]["tags"]) <= 20 for rule in run["tool"]["driver"]["rules"])
    assert all("primaryLocationLineHash" in r["partialFingerprints"] for r in run["results"])
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("real/")
               for r in run["results"])
