"""CI report formats (JUnit XML, GitHub Actions workflow commands, GitLab Code Quality), several
reports from one run of the installed CLI, and byte-identical output across runs."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: shop
spec:
  containers:
    - name: shell
      image: busybox:latest
      securityContext:
        privileged: true
"""
BROKEN = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [\n"
DUPLICATE = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: '1'}\ndata: {b: '2'}\n"
NOT_A_MANIFEST = "stages: [build, test]\n"  # YAML the linter reads but finds nothing to check in


class FakeSuppression:
    kind, justification = "inSource", "accepted for the demo"

    def describe(self):
        return "inline comment: accepted for the demo"

    def as_dict(self):
        return {"kind": self.kind, "justification": self.justification}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def report(registry):
    from linter.report import ReportContext, render
    from linter.scan import select_checks

    def run(fmt, result, **kw):
        ctx = ReportContext(result=result, checks=select_checks(registry, None, None), version="0.1.0",
                            roots=["."], **kw)
        return render(fmt, ctx)

    return run


@pytest.fixture
def mixed(project, scan_files):
    """Findings in one file, a parse error in another, a warning in a third, a clean file."""
    return scan_files({"k8s/pod.yaml": POD, "k8s/broken.yaml": BROKEN, "k8s/dup.yaml": DUPLICATE,
                       "ci/config.yaml": NOT_A_MANIFEST})


# --- JUnit -----------------------------------------------------------------------------------

def _suites(xml_text: str):
    root = ET.fromstring(xml_text)
    assert root.tag == "testsuites"
    return root, {s.get("name"): s for s in root.findall("testsuite")}


def _counts_add_up(root):
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        counted = {"tests": len(cases), "failures": sum(c.find("failure") is not None for c in cases),
                   "errors": sum(c.find("error") is not None for c in cases),
                   "skipped": sum(c.find("skipped") is not None for c in cases)}
        assert {k: int(suite.get(k)) for k in counted} == counted, suite.get("name")
        for k in totals:
            totals[k] += counted[k]
    assert {k: int(root.get(k)) for k in totals} == totals


def test_junit_suites_cases_and_counts(mixed, report):
    text = report("junit", mixed)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root, suites = _suites(text)
    _counts_add_up(root)
    assert set(suites) == {"k8s/pod.yaml", "k8s/broken.yaml", "k8s/dup.yaml", "ci/config.yaml"}
    pod = suites["k8s/pod.yaml"]
    pod_findings = [f for f in mixed.findings if f.path == "k8s/pod.yaml"]
    assert int(pod.get("failures")) == len(pod_findings) == int(pod.get("tests"))
    priv = next(c for c in pod.findall("testcase") if c.get("name").startswith("IAC102 privileged-container"))
    assert priv.get("line") == "11" and priv.get("file") == "k8s/pod.yaml"
    failure = priv.find("failure")
    assert failure.get("type") == "critical" and "shell runs privileged" in failure.get("message")
    assert failure.text.startswith("k8s/pod.yaml:11:9: IAC102 [critical] privileged-container:")
    broken = suites["k8s/broken.yaml"]
    (case,) = broken.findall("testcase")
    assert case.find("error").get("message").startswith("YAML syntax error")
    assert broken.get("errors") == "1" and root.get("errors") == "1"
    (passing,) = suites["ci/config.yaml"].findall("testcase")
    assert list(passing) == [] and suites["ci/config.yaml"].get("failures") == "0"
    assert "duplicate key" in suites["k8s/dup.yaml"].find("system-out").text


def test_junit_suppressed_findings_are_skipped_cases(mixed, report):
    f = next(f for f in mixed.findings if f.rule_name == "privileged-container")
    f.suppression = FakeSuppression()
    root, suites = _suites(report("junit", mixed))
    _counts_add_up(root)
    skipped = [c for c in suites["k8s/pod.yaml"].findall("testcase") if c.find("skipped") is not None]
    assert len(skipped) == 1 and "accepted for the demo" in skipped[0].find("skipped").get("message")


def test_junit_survives_characters_xml_cannot_hold(report):
    from linter.model import Diagnostic
    from linter.scan import ScanResult

    result = ScanResult(findings=[], diagnostics=[Diagnostic("odd\x01name.yaml", 2, "bad byte \x00 and \x1b[31m")],
                        files_scanned=1, parsed=[], missing_paths=[])
    root, suites = _suites(report("junit", result))
    (suite,) = suites.values()
    assert "\\x00" in suite.find("testcase/error").get("message")
    _counts_add_up(root)


# --- GitHub workflow commands ----------------------------------------------------------------

def test_github_commands(mixed, report):
    lines = report("github", mixed).splitlines()
    priv = next(line for line in lines if "privileged-container" in line)
    assert priv == ("::error file=k8s/pod.yaml,line=11,col=9,endLine=11,endColumn=25,"
                    "title=IAC102 privileged-container::shell runs privileged: it has every capability and access "
                    "to all host devices")
    commands = {line.split(" ", 1)[0] for line in lines}
    assert commands <= {"::error", "::warning", "::notice"}
    unpinned = next(line for line in lines if "unpinned-image" in line)
    assert unpinned.startswith("::warning ")  # medium
    assert any(line.startswith("::error file=k8s/broken.yaml,line=6,") and "YAML syntax error" in line
               for line in lines)
    assert any(line.startswith("::warning file=k8s/dup.yaml,line=5,") for line in lines)
    assert len(lines) == len(mixed.findings) + len(mixed.diagnostics)


def test_github_escaping():
    from linter.report.github import command, escape_data, escape_property

    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert command("warning", "x: y, z", file="dir,1/a:b.yaml", line=3, col=None, title="T: 1") == \
        "::warning file=dir%2C1/a%3Ab.yaml,line=3,title=T%3A 1::x: y, z"


# --- GitLab Code Quality ---------------------------------------------------------------------

def test_gitlab_code_quality(mixed, report, registry):
    issues = json.loads(report("gitlab", mixed))
    assert isinstance(issues, list)
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= issue.keys()
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["lines"]["begin"], int) and not issue["location"]["path"].startswith("/")
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    by_check = {i["check_name"]: i for i in issues}
    priv = by_check["IAC102 privileged-container"]
    assert priv["severity"] == "blocker" and priv["location"] == {"path": "k8s/pod.yaml", "lines": {"begin": 11, "end": 11}}
    mapping = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor", "info": "info"}
    for f in mixed.findings:
        assert by_check[f"{f.rule_id} {f.rule_name}"]["severity"] == mapping[f.severity]
    errors = [i for i in issues if i["check_name"] == "iaclint/parse-error"]
    assert {i["location"]["path"] for i in errors} == {"k8s/broken.yaml", "k8s/dup.yaml"}


def test_gitlab_fingerprint_is_the_sarif_logical_fingerprint(mixed, report):
    issues = json.loads(report("gitlab", mixed))
    sarif = json.loads(report("sarif", mixed))
    from_sarif = {r["partialFingerprints"]["iaclint/v1"] for r in sarif["runs"][0]["results"]}
    from_gitlab = {i["fingerprint"] for i in issues if i["check_name"] != "iaclint/parse-error"}
    assert from_gitlab == from_sarif


# --- determinism and the installed CLI -------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github", "gitlab"])
def test_output_is_byte_identical_across_runs(fmt, project, scan_files, report):
    files = {"k8s/pod.yaml": POD, "k8s/broken.yaml": BROKEN, "k8s/dup.yaml": DUPLICATE, "Dockerfile": "FROM alpine:latest\nRUN apk add curl\n"}
    first = report(fmt, scan_files(files))
    second = report(fmt, scan_files(files))
    assert first == second and first


def _cli() -> list[str]:
    exe = shutil.which("iaclint", path=os.path.dirname(sys.executable)) or shutil.which("iaclint")
    return [exe] if exe else [sys.executable, "-m", "linter"]


def test_cli_writes_several_reports_in_one_run(project):
    (project / "k8s").mkdir()
    (project / "k8s" / "pod.yaml").write_text(POD)
    (project / "k8s" / "broken.yaml").write_text(BROKEN)
    cmd = _cli() + ["scan", "-f", "text", "-f", "sarif:out/results.sarif", "-f", "junit:out/junit.xml",
                    "--automation-id", "iaclint/ci/", "."]
    (project / "out").mkdir()
    runs, reports = [], []
    for _ in range(2):  # the second run reads the result cache: reports must not change
        runs.append(subprocess.run(cmd, cwd=project, capture_output=True, text=True))
        reports.append([(project / "out" / name).read_bytes() for name in ("results.sarif", "junit.xml")])
    assert reports[0] == reports[1]
    proc = runs[0]
    assert proc.returncode == 1, proc.stderr
    assert "k8s/pod.yaml:11:9: IAC102 [critical] privileged-container" in proc.stdout
    log = json.loads((project / "out" / "results.sarif").read_text())
    run = log["runs"][0]
    assert run["automationDetails"] == {"id": "iaclint/ci/"}
    assert "IAC102" in {r["ruleId"] for r in run["results"]}
    assert run["invocations"][0]["executionSuccessful"] is False
    ET.fromstring((project / "out" / "junit.xml").read_text())
    assert runs[0].stdout == runs[1].stdout
    assert not [p.name for p in (project / "out").iterdir() if p.name.startswith(".iaclint-")]  # no temp files left


def test_cli_sarif_include_suppressed_flag_is_accepted(project):
    (project / "pod.yaml").write_text(POD)
    proc = subprocess.run(_cli() + ["scan", "-f", "sarif", "--sarif-include-suppressed", "pod.yaml"], cwd=project,
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["version"] == "2.1.0"


def test_json_report_is_exactly_json_dumps_with_indent(tmp_path):
    """The JSON reporter encodes findings one by one (memory); the bytes must be what
    json.dumps(indent=2) gives for the same document, with and without findings and errors."""
    import json
    import subprocess
    import sys

    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: c\n      image: nginx\n      securityContext: {privileged: true}\n")
    (tmp_path / "bad.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: [\n")
    (tmp_path / "empty").mkdir()
    for target in ("pod.yaml", "bad.yaml", "empty"):
        out = subprocess.run([sys.executable, "-m", "linter", "scan", "--no-cache", "-f", "json", target],
                             cwd=tmp_path, capture_output=True, text=True).stdout
        assert out == json.dumps(json.loads(out), indent=2, ensure_ascii=False) + "\n", target


def test_reports_written_to_a_file_follow_the_umask(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "Dockerfile").write_text("FROM alpine:3.20\nUSER 1000\n")
    subprocess.run([sys.executable, "-m", "linter", "scan", "--no-cache", "-f", "json:out.json", "Dockerfile"],
                   cwd=tmp_path, capture_output=True)
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "out.json").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.parametrize("item", [
    {"rule_id": "IAC101", "line": 3, "column": 1, "suppressed": False, "resource": None},
    {"message": "quote \" backslash \\ tab \t newline \n bell \x07 é 中 \U0001f600 \u2028", "n": -12, "ok": True},
    {"big": 10**30, "zero": 0},
    {},
    {"suppression": {"kind": "comment", "reason": None}, "line": 1},   # nested: the general encoder
    {"ratio": 0.5},                                                        # float: the general encoder
])
def test_the_json_fast_item_encoder_matches_json_dumps(item):
    from linter.report import json_report

    assert json_report._item(item) == json_report._indent(json_report._dumps(item), "    ")
