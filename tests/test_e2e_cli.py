"""End to end: the installed CLI run as a subprocess, the way users and CI run it.

Both entry points are exercised: ``python -m linter`` and the ``iaclint`` console script installed
next to this interpreter.  Each subprocess costs ~0.1-0.2 s, so runs whose output several tests
read are made once per module (the ``insecure_*`` fixtures)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MODULE = [sys.executable, "-m", "linter"]
SCRIPT = shutil.which("iaclint", path=os.path.dirname(sys.executable))
CORE_CHECKS = {"IAC101": "run-as-root", "IAC102": "privileged-container", "IAC103": "privilege-escalation",
               "IAC104": "added-capabilities", "IAC201": "missing-network-policy", "IAC301": "plaintext-secret",
               "IAC401": "unpinned-image", "IAC402": "image-without-digest"}
SEVERITIES = ("critical", "high", "medium", "low", "info")
TEXT_LINE = re.compile(r"^(?P<path>\S+):(?P<line>\d+):(?P<col>\d+): (?P<id>[A-Z]+\d{3}) "
                       r"\[(?P<sev>critical|high|medium|low|info)\] (?P<name>[a-z0-9-]+): (?P<msg>.+)$")
SUMMARY_LINE = re.compile(r"^(?P<n>\d+) findings?( \((?P<sevs>[^)]*)\))?(, \d+ suppressed)?; "
                          r"(?P<files>\d+) files? scanned, (?P<errs>\d+) with parse errors(; .*)?$")

needs_script = pytest.mark.skipif(SCRIPT is None, reason="iaclint console script not installed next to python")


def _env(**overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(overrides)
    return env


def run(*args, cwd=None, env=None, script=False) -> subprocess.CompletedProcess:
    cmd = ([SCRIPT] if script else MODULE) + [str(a) for a in args]
    return subprocess.run(cmd, cwd=cwd or ROOT, env=env or _env(), capture_output=True, text=True, timeout=60)


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  securityContext:
    runAsNonRoot: true
  containers:
    - name: app
      image: registry.example.com/shop/web:2.1.0@sha256:{digest}
      securityContext:
        allowPrivilegeEscalation: false
        privileged: true
""".replace("{digest}", "ab" * 32)

SECRETS = {
    "k8s/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData:\n"
                       "  password: Qz7pLw3nRt9xVb2k\n",
    "k8s/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                    "    - name: c\n      image: a:1\n      env:\n        - name: GITHUB_TOKEN\n"
                    "          value: ghp_0123456789abcdefghijklmnopqrstuvwxyz\n",
    "Dockerfile": "FROM alpine:3.20\nENV DB_PASSWORD=Hx8sMw2qPz5vLk7n\nARG AWS_KEY=AKIAIOSFODNN7EXAMPLE\nUSER 1000\n",
}
SECRET_VALUES = ["Qz7pLw3nRt9xVb2k", "ghp_0123456789abcdefghijklmnopqrstuvwxyz", "Hx8sMw2qPz5vLk7n",
                 "AKIAIOSFODNN7EXAMPLE"]


def write(tmp_path: Path, files: dict) -> Path:
    for name, content in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
    return tmp_path


@pytest.fixture(scope="module")
def insecure_json():
    proc = run("scan", "insecure", "--format", "json", cwd=EXAMPLES)
    return proc, json.loads(proc.stdout)


@pytest.fixture(scope="module")
def insecure_text():
    return run("scan", "insecure", cwd=EXAMPLES)


# -- version, rules, explain -------------------------------------------------------------------

@pytest.mark.parametrize("script", [False, pytest.param(True, marks=needs_script)], ids=["module", "script"])
def test_version(script):
    from linter import __version__

    proc = run("--version", script=script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"iaclint {__version__}"


def test_rules_lists_every_check(registry):
    proc = run("rules")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "SEVERITY", "FORMATS"]
    listed = {line.split()[0]: line.split()[1:3] for line in lines[1:]}
    assert listed == {c.id: [c.name, c.severity] for c in registry}
    assert CORE_CHECKS.items() <= {k: v[0] for k, v in listed.items()}.items()


def test_explain_by_name_and_by_id_print_the_same_page():
    by_name, by_id = run("explain", "privileged-container"), run("explain", "IAC102")
    assert by_name.returncode == by_id.returncode == 0, by_name.stderr + by_id.stderr
    assert by_name.stdout == by_id.stdout
    page = by_name.stdout
    assert page.startswith("IAC102 privileged-container: Container runs in privileged mode\n")
    for section in ("Severity: critical", "## What it does", "## Why it matters", "## Examples", "## How to fix",
                    "## References", "CIS Kubernetes Benchmark: 5.2.2"):
        assert section in page


def test_explain_unknown_check_is_a_usage_error():
    proc = run("explain", "no-such-check")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "unknown check 'no-such-check'" in proc.stderr and "iaclint rules" in proc.stderr


# -- exit codes ----------------------------------------------------------------------------------

def test_exit_1_on_findings_and_text_report_format(insecure_text):
    proc = insecure_text
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    *lines, summary = proc.stdout.rstrip("\n").split("\n")
    parsed = [TEXT_LINE.match(line) for line in lines]
    assert all(parsed), [line for line, m in zip(lines, parsed) if not m]
    keys = [(m["path"], int(m["line"]), int(m["col"])) for m in parsed]
    assert keys == sorted(keys), "text output is sorted by path, line and column"
    assert all(m["path"].startswith("insecure/") for m in parsed)
    s = SUMMARY_LINE.match(summary)
    assert s, summary
    assert int(s["n"]) == len(lines) and int(s["errs"]) == 0
    counts = {sev: sum(1 for m in parsed if m["sev"] == sev) for sev in SEVERITIES}
    assert s["sevs"] == ", ".join(f"{n} {sev}" for sev, n in counts.items() if n)


def test_exit_1_on_parse_errors_even_without_findings(tmp_path):
    write(tmp_path, {"broken.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n",
                     "k8s/bad.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: nginx\n"})
    proc = run("scan", "broken.yaml", "k8s", "--format", "json", "--select", "IAC102", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["findings"] == []
    syntax, shape = doc["errors"]
    assert (syntax["path"], syntax["level"]) == ("broken.yaml", "error") and isinstance(syntax["line"], int)
    assert "YAML syntax error" in syntax["message"]
    assert (shape["path"], shape["line"], shape["level"]) == ("k8s/bad.yaml", 5, "error")
    assert "containers should be a list" in shape["message"]
    assert doc["summary"]["files_with_errors"] == 2 and doc["summary"]["errors"] == 2


@pytest.mark.parametrize("args,needle", [
    (["scan", "does/not/exist"], "path does not exist: does/not/exist"),
    (["scan", ".", "--fail-on", "severe"], "--fail-on must be one of: critical, high, medium, low, info"),
    (["scan", ".", "--select", "IAC999"], "unknown check 'IAC999'"),
    (["scan", ".", "--checks-dir", "no-such-dir"], "checks directory does not exist"),
])
def test_usage_errors_exit_2_with_a_message(tmp_path, args, needle):
    write(tmp_path, {"pod.yaml": POD})
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_check_file_exits_2_naming_file_and_line(tmp_path):
    write(tmp_path, {"checks/acme.yaml": "id: ACME001\nname: acme-check\ntitle: t\nseverity: high\n"
                                         "target: container\ncondition: {field: privilegd, equals: true}\n"
                                         "message: m\ndescription: d\nrationale: r\nremediation: x\nreferences: []\n",
                     "pod.yaml": POD})
    proc = run("scan", "pod.yaml", "--checks-dir", "checks", cwd=tmp_path)
    assert proc.returncode == 2
    assert "invalid check file checks/acme.yaml:6: unknown field 'privilegd' for container" in proc.stderr


# -- --fail-on, --select, --ignore -----------------------------------------------------------------

def test_fail_on_threshold(tmp_path):
    write(tmp_path, {"pod.yaml": POD.replace("privileged: true", "privileged: false")
                     .replace("web:2.1.0@sha256:" + "ab" * 32, "web:latest")})
    medium_only = ["scan", "pod.yaml", "--select", "unpinned-image,privileged-container", "--format", "json"]
    proc = run(*medium_only, "--fail-on", "critical", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    assert [f["severity"] for f in doc["findings"]] == ["medium"]
    assert proc.returncode == 0
    assert run(*medium_only, "--fail-on", "MEDIUM", cwd=tmp_path).returncode == 1


@pytest.mark.parametrize("args,expected", [
    (["--select", "IAC102,run-as-root", "--select", "IAC201"], {"IAC101", "IAC102", "IAC201"}),
    (["--select", "IAC102,IAC201", "--ignore", "missing-network-policy"], {"IAC102"}),
    (["--ignore", "IAC102,missing-network-policy"], None),
])
def test_select_and_ignore_by_id_and_name(tmp_path, args, expected):
    write(tmp_path, {"pod.yaml": POD.replace("    runAsNonRoot: true\n", "    runAsNonRoot: false\n")})
    proc = run("scan", "pod.yaml", "--format", "json", *args, cwd=tmp_path)
    ids = {f["rule_id"] for f in json.loads(proc.stdout)["findings"]}
    if expected is None:  # default set minus the ignored ones
        assert ids and not ids & {"IAC102", "IAC201"} and "IAC101" in ids
    else:
        assert ids == expected
    assert proc.returncode == 1


# -- JSON ----------------------------------------------------------------------------------------

FINDING_FIELDS = {"rule_id": str, "rule_name": str, "severity": str, "path": str, "line": int, "column": int,
                  "end_line": int, "end_column": int, "message": str, "resource": str}


def test_json_report_has_every_documented_field(insecure_json):
    from linter import __version__

    proc, doc = insecure_json
    assert proc.returncode == 1
    assert doc["version"] == __version__ and isinstance(doc["schema_version"], int)
    assert doc["findings"] and doc["errors"] == []
    for f in doc["findings"]:
        for key, typ in FINDING_FIELDS.items():
            assert isinstance(f[key], typ), (key, f)
        assert f["severity"] in SEVERITIES
        assert f["line"] >= 1 and f["column"] >= 1 and f["end_line"] >= f["line"]
        assert f["end_column"] == 0 or f["end_line"] > f["line"] or f["end_column"] > f["column"]
        assert f["suppressed"] is False
    s = doc["summary"]
    assert s["findings"] == len(doc["findings"])
    assert s["by_severity"] == {sev: sum(1 for f in doc["findings"] if f["severity"] == sev) for sev in SEVERITIES}
    assert (s["suppressed"], s["files_with_errors"], s["errors"]) == (0, 0, 0)
    assert s["files_scanned"] >= 5


def test_json_and_text_report_the_same_findings(insecure_json, insecure_text):
    _, doc = insecure_json
    text = [TEXT_LINE.match(line) for line in insecure_text.stdout.splitlines()[:-1]]
    assert sorted((m["path"], int(m["line"]), int(m["col"]), m["id"], m["msg"]) for m in text) == \
        sorted((f["path"], f["line"], f["column"], f["rule_id"], f["message"]) for f in doc["findings"])


# -- paths as given --------------------------------------------------------------------------------

def test_paths_are_reported_as_given(tmp_path):
    write(tmp_path, {"deploy/k8s/pod.yaml": POD})
    rel = json.loads(run("scan", "./deploy", "-f", "json", "--select", "IAC102", cwd=tmp_path).stdout)
    assert [f["path"] for f in rel["findings"]] == ["./deploy/k8s/pod.yaml"]
    absolute = str(tmp_path / "deploy")
    text = run("scan", absolute, "--select", "IAC102", cwd=ROOT).stdout
    assert text.startswith(f"{absolute}/k8s/pod.yaml:14:9: IAC102 [critical] privileged-container: ")


# -- every core check fires on the insecure example, none on the secure one ---------------------

def test_insecure_example_triggers_every_core_check(insecure_json, registry):
    _, doc = insecure_json
    fired = {f["rule_id"] for f in doc["findings"]}
    missing = {i: n for i, n in CORE_CHECKS.items() if i not in fired}
    assert not missing, f"examples/insecure no longer triggers {missing}"
    assert all(registry.get(f["rule_id"]).name == f["rule_name"] for f in doc["findings"])
    assert {f["path"].split("/", 1)[0] for f in doc["findings"]} == {"insecure"}


def test_secure_example_is_clean_with_every_default_check():
    # Text output: any finding or diagnostic would be a line of its own before the summary.
    proc = run("scan", "secure", "--fail-on", "info", cwd=EXAMPLES)
    assert re.fullmatch(r"0 findings; \d+ files scanned, 0 with parse errors\n", proc.stdout), proc.stdout
    assert proc.returncode == 0


# -- secrets are never printed -------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secret_values_never_appear_in_output(tmp_path, fmt):
    write(tmp_path, SECRETS)
    proc = run("scan", ".", "--format", fmt, "--select", "plaintext-secret", cwd=tmp_path)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert out.count("IAC301") == 4
    for secret in SECRET_VALUES:
        assert secret not in out
        assert secret[4:-4] not in out  # not even most of it


# -- color ---------------------------------------------------------------------------------------

def _run_in_pty(args, cwd, env) -> tuple[int, str]:
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(MODULE + args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=slave,
                                stderr=subprocess.PIPE)
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.stderr.close()
    return proc.wait(timeout=60), b"".join(chunks).decode()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_color_only_on_a_terminal_and_never_with_no_color(tmp_path, insecure_text):
    write(tmp_path, {"pod.yaml": POD})
    assert "\x1b[" not in insecure_text.stdout  # a pipe is not a terminal
    rc, out = _run_in_pty(["scan", "pod.yaml"], tmp_path, _env())
    assert rc == 1
    assert re.search(r"\x1b\[[0-9;]*m\[critical\]\x1b\[0m", out), out
    rc, out = _run_in_pty(["scan", "pod.yaml"], tmp_path, _env(NO_COLOR="1"))
    assert rc == 1 and "\x1b[" not in out and "[critical]" in out
    rc, out = _run_in_pty(["scan", "pod.yaml", "--no-color"], tmp_path, _env())
    assert rc == 1 and "\x1b[" not in out


# -- --output, --quiet, both entry points --------------------------------------------------------

def test_output_file_gets_the_report_and_stdout_stays_empty(tmp_path, insecure_json):
    out = tmp_path / "report.json"
    proc = run("scan", "insecure", "-f", "json", "--output", out, cwd=EXAMPLES)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert json.loads(out.read_text()) == insecure_json[1]


def test_quiet_prints_nothing_when_clean_but_still_reports_findings(tmp_path):
    write(tmp_path, {"clean/Dockerfile": "FROM alpine:3.20@sha256:" + "cd" * 32 + "\nUSER 1000\n"
                                         "HEALTHCHECK CMD wget -q --spider http://127.0.0.1:8080/ || exit 1\n",
                     "dirty/pod.yaml": POD})
    quiet_clean = run("scan", "clean", "--quiet", cwd=tmp_path)
    assert (quiet_clean.returncode, quiet_clean.stdout, quiet_clean.stderr) == (0, "", "")
    quiet_dirty = run("scan", "dirty", "-q", "--select", "IAC102", cwd=tmp_path)
    assert quiet_dirty.returncode == 1
    assert quiet_dirty.stdout.startswith("dirty/pod.yaml:14:9: IAC102 [critical] privileged-container:")


@needs_script
def test_console_script_and_python_m_behave_the_same(insecure_text):
    proc = run("scan", "insecure", cwd=EXAMPLES, script=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (insecure_text.returncode, insecure_text.stdout,
                                                           insecure_text.stderr)
    unknown = run("explain", "nope", script=True)
    assert unknown.returncode == 2 and "unknown check 'nope'" in unknown.stderr
