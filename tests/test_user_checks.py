"""User-written checks: --checks-dir (and the configuration's checks-dir) in every command and
output, `iaclint check-rules` with inline examples, and the error for each kind of bad check file."""
from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

from linter.cli import app

ACME = """\
id: ACME001
name: acme-registry-only
title: Image does not come from registry.acme.io
severity: high
target: image
tags: [supply-chain]
condition:
  not:
    field: registry
    equals: registry.acme.io
message: "image '{reference}' does not come from registry.acme.io"
location: [reference]
description: Flags images pulled from anywhere but registry.acme.io.
rationale: Only images built and scanned by our pipeline are pushed to registry.acme.io.
remediation: Push the image to registry.acme.io and reference it from there.
references:
  - title: ACME container policy
    url: https://wiki.acme.example/containers
examples:
  positive:
    - format: dockerfile
      content: |
        FROM nginx:1.27
    - format: kubernetes
      content: |
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - name: web
              image: docker.io/library/nginx:1.27
    - format: compose
      content: |
        services:
          web:
            image: ghcr.io/acme/web:1.0
    - format: terraform
      content: |
        resource "docker_container" "web" {
          name  = "web"
          image = "nginx:1.27"
        }
  negative:
    - format: dockerfile
      content: |
        FROM registry.acme.io/base/nginx:1.27
    - format: kubernetes
      filename: pod.yml
      content: |
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - name: web
              image: registry.acme.io/web:1.4
"""


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def checks_dir(tmp_path):
    d = tmp_path / "policy"
    d.mkdir()

    def write(files: dict):
        for name, text in files.items():
            (d / name).write_text(textwrap.dedent(text))
        return d

    return write


def test_user_check_in_rules_explain_and_scan_outputs(checks_dir, tmp_path):
    d = checks_dir({"acme.yaml": ACME})
    r = cli("rules", "--checks-dir", d)
    assert r.exit_code == 0 and any(line.startswith("ACME001  acme-registry-only") for line in r.stdout.splitlines())
    assert "ACME001" in [c["id"] for c in json.loads(cli("rules", "--checks-dir", d, "-f", "json").stdout)]
    r = cli("explain", "acme-registry-only", "--checks-dir", d)
    assert r.exit_code == 0 and r.stdout.startswith("ACME001 acme-registry-only: Image does not come from")
    (tmp_path / "Dockerfile").write_text("FROM nginx:1.27\nUSER 1\n")
    r = cli("scan", tmp_path / "Dockerfile", "--checks-dir", d, "--select", "ACME001")
    assert r.exit_code == 1
    assert "Dockerfile:1:6: ACME001 [high] acme-registry-only: image 'nginx:1.27' does not come from" in r.stdout
    doc = json.loads(cli("scan", tmp_path / "Dockerfile", "--checks-dir", d, "--select", "ACME001",
                         "-f", "json").stdout)
    assert [f["rule_id"] for f in doc["findings"]] == ["ACME001"]
    sarif = cli("scan", tmp_path / "Dockerfile", "--checks-dir", d, "--select", "ACME001", "-f", "sarif")
    if sarif.exit_code != 2:   # the SARIF reporter is another module; when present, the rule is described there
        run = json.loads(sarif.stdout)["runs"][0]
        assert "ACME001" in [rule["id"] for rule in run["tool"]["driver"]["rules"]]


def test_user_check_can_be_suppressed_by_name(checks_dir, tmp_path):
    d = checks_dir({"acme.yaml": ACME})
    (tmp_path / "Dockerfile").write_text("# iaclint: ignore[acme-registry-only] -- vendor image\nFROM nginx:1.27\n")
    r = cli("scan", tmp_path / "Dockerfile", "--checks-dir", d, "--select", "ACME001,unused-suppression")
    assert r.exit_code == 0 and "1 suppressed" in r.stdout


def test_check_rules_runs_the_inline_examples(checks_dir):
    d = checks_dir({"acme.yaml": ACME})
    r = cli("check-rules", d)
    assert r.exit_code == 0, r.stdout
    assert r.stdout.splitlines()[1].split() == ["ACME001", "acme-registry-only", "6", "pass"]
    assert r.stdout.splitlines()[-1] == "1 check, 6 examples, 0 failing"


def test_check_rules_reports_failing_examples(checks_dir):
    broken = ACME.replace("FROM registry.acme.io/base/nginx:1.27", "FROM nginx:1.27")   # negative that fires
    broken = broken.replace("id: ACME001\nname: acme-registry-only", "id: ACME002\nname: acme-registry-b")
    no_examples = ACME.split("examples:")[0].replace("id: ACME001\nname: acme-registry-only",
                                                     "id: ACME003\nname: acme-registry-c")
    unparsable = ACME.replace("id: ACME001\nname: acme-registry-only", "id: ACME004\nname: acme-registry-d")
    unparsable = unparsable.replace("        FROM registry.acme.io/base/nginx:1.27\n",
                                    "        FROM registry.acme.io/base/nginx:1.27\n        RUN <<EOF\n")
    d = checks_dir({"b.yaml": broken, "c.yaml": no_examples, "d.yaml": unparsable})
    r = cli("check-rules", d)
    assert r.exit_code == 1
    rows = r.stdout.splitlines()
    assert rows[1].split()[:4] == ["ACME002", "acme-registry-b", "6", "FAIL"]
    assert "negative[0] (dockerfile): expected no finding, got line 1: image 'nginx:1.27'" in rows[2]
    assert rows[3].split() == ["ACME003", "acme-registry-c", "0", "no", "examples"]
    assert rows[4].split()[-1] == "FAIL" and "negative[0] (dockerfile): Dockerfile does not parse: line 2:" in rows[5]
    assert rows[-1] == "3 checks, 12 examples, 2 failing"


BASE = """\
id: ACME010
name: acme-bad
title: A bad check
severity: high
target: image
message: "bad"
description: d
rationale: r
remediation: x
references: [{title: t}]
"""


@pytest.mark.parametrize("text,line,message", [
    (BASE + "condition:\n  field: registry\n  equals: [unclosed\n", 14, "YAML error: while parsing a flow sequence"),
    (BASE + "condition:\n  field: registry\n  resembles: x\n", 13, "unknown operator 'resembles'"),
    (BASE.replace("title: A bad check\n", "") + "condition:\n  field: registry\n  equals: x\n", 1,
     "'title' is a required property"),
    (BASE + "condition:\n  field: registry\n  matches: '(unclosed'\n", 13, "bad regular expression '(unclosed'"),
    (BASE + "condition:\n  field: registri\n  equals: x\n", 12, "unknown field 'registri' for image (known fields:"),
    (BASE.replace("target: image", "target: imag") + "condition:\n  field: registry\n  equals: x\n", 5,
     "target: 'imag' is not one of"),
    (BASE.replace("severity: high", "severity: urgent") + "condition:\n  field: registry\n  equals: x\n", 4,
     "severity: 'urgent' is not one of"),
    (BASE.replace("id: ACME010", "id: IAC101") + "condition:\n  field: registry\n  equals: x\n", 1,
     "'IAC101' is already defined by"),
], ids=["yaml-error", "unknown-operator", "missing-key", "bad-regex", "unknown-model-field", "unknown-target",
        "bad-severity", "id-collision"])
def test_bad_check_files_name_file_line_and_problem(checks_dir, tmp_path, text, line, message):
    d = checks_dir({"bad.yaml": text})
    for args in (["check-rules", d], ["scan", tmp_path, "--checks-dir", d], ["rules", "--checks-dir", d]):
        r = cli(*args)
        assert r.exit_code == 2, r.stdout
        prefix = f"iaclint: error: invalid check file {d / 'bad.yaml'}:{line}: "
        assert r.stderr.startswith(prefix), r.stderr
        assert message in r.stderr
        assert "Traceback" not in r.stderr


def test_missing_checks_dir(tmp_path):
    r = cli("check-rules", tmp_path / "nope")
    assert r.exit_code == 2 and "checks directory does not exist" in r.stderr


def test_the_readme_example_passes_check_rules(tmp_path):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    m = re.search(r"Save as `policy/checks/acme-registry.yaml`:\n\n```yaml\n(.*?)```", readme, re.S)
    assert m, "README lost its 'Writing your own check' example"
    (tmp_path / "acme-registry.yaml").write_text(m.group(1))
    r = cli("check-rules", tmp_path)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[1].split() == ["ACME001", "acme-registry-only", "4", "pass"]
