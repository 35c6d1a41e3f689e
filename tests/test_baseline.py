"""Baselines: --write-baseline, --baseline / the `baseline` key, matching that survives shifted
lines, stale entries, and what the file may hold."""
from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from linter.cli import app

SECRET = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
DOCKERFILE = f"""\
FROM nginx:latest
ENV GITHUB_TOKEN={SECRET}
RUN curl -fsSL https://get.example.com | sh
"""
POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
    - name: app
      image: nginx:latest
      securityContext: {privileged: true}
"""
SELECT = "plaintext-secret,unpinned-image,curl-pipe-shell,privileged-container,run-as-root"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "pod.yaml").write_text(POD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def scan_json(*args):
    r = cli("scan", "--select", SELECT, "-f", "json", *args)
    assert r.exit_code in (0, 1), r.stderr
    return r.exit_code, json.loads(r.stdout)


def test_write_then_only_new_findings(repo):
    r = cli("scan", "--select", SELECT, "--write-baseline", ".iaclint-baseline.json")
    assert r.exit_code == 0 and r.stdout == ""
    assert "wrote 7 findings to .iaclint-baseline.json" in r.stderr
    code, doc = scan_json("--baseline", ".iaclint-baseline.json")
    assert code == 0
    assert doc["summary"]["findings"] == 0 and doc["summary"]["suppressed"] == 7
    assert doc["baseline"] == {"path": ".iaclint-baseline.json", "baselined": 7, "stale_count": 0, "stale": []}
    sup = doc["findings"][0]["suppression"]
    assert sup["kind"] == "external" and sup["source"] == "baseline"
    text = cli("scan", "--select", SELECT, "--baseline", ".iaclint-baseline.json").stdout
    assert text.strip().endswith("7 baselined findings not shown (.iaclint-baseline.json)")


def test_lines_added_above_keep_findings_baselined_but_an_edited_line_is_new(repo):
    cli("scan", "--select", SELECT, "--write-baseline", "base.json")
    (repo / "Dockerfile").write_text("# syntax=docker/dockerfile:1\n\n# build the proxy\n" + DOCKERFILE
                                     + "RUN wget -qO- https://other.example.com | bash\n")
    (repo / "k8s" / "pod.yaml").write_text("# shop frontend\n---\n" + POD.replace("  containers:\n", "  hostname: x\n"
                                                                                    "  containers:\n"))
    code, doc = scan_json("--baseline", "base.json")
    new = [(f["rule_name"], f["path"], f["line"]) for f in doc["findings"] if not f["suppressed"]]
    assert new == [("curl-pipe-shell", "Dockerfile", 7)]
    assert doc["baseline"]["baselined"] == 7 and code == 1
    # editing the offending line is a new finding (the old entry goes stale)
    (repo / "Dockerfile").write_text(DOCKERFILE.replace("get.example.com", "get.example.org"))
    code, doc = scan_json("--baseline", "base.json")
    assert [(f["rule_name"], f["line"]) for f in doc["findings"] if not f["suppressed"]] == [("curl-pipe-shell", 3)]
    assert [e["rule_name"] for e in doc["baseline"]["stale"]] == ["curl-pipe-shell"]


def test_fixed_findings_are_stale_and_listed(repo):
    cli("scan", "--select", SELECT, "--write-baseline", "base.json")
    (repo / "k8s" / "pod.yaml").write_text(POD.replace("{privileged: true}", "{privileged: false}"))
    code, doc = scan_json("--baseline", "base.json")
    assert code == 0
    [stale] = doc["baseline"]["stale"]
    assert stale["rule_id"] == "IAC102" and stale["path"] == "k8s/pod.yaml" and stale["line"] == 8
    assert stale["resource"] == "Pod/shop/web/container/app"
    text = cli("scan", "--select", SELECT, "--baseline", "base.json").stdout
    assert "1 baseline entry no longer found (fixed? rewrite it with --write-baseline to shrink it)" in text
    # rewriting shrinks it
    cli("scan", "--select", SELECT, "--baseline", "base.json", "--write-baseline", "base.json")
    assert len(json.loads((repo / "base.json").read_text())["findings"]) == 6


def test_no_secret_and_no_line_text_in_the_file(repo):
    cli("scan", "--select", SELECT, "--write-baseline", "base.json")
    raw = (repo / "base.json").read_text()
    assert SECRET not in raw and SECRET[4:20] not in raw
    assert "curl -fsSL" not in raw                     # line text is only hashed
    doc = json.loads(raw)
    assert doc["iaclint_baseline"] == 1
    assert set(doc["findings"][0]) == {"fingerprint", "rule_id", "rule_name", "path", "resource", "line", "message"}


def test_paths_are_relative_to_the_baseline_so_any_cwd_works(repo, monkeypatch):
    (repo / "ci").mkdir()
    cli("scan", "--select", SELECT, "--write-baseline", "ci/base.json")
    doc = json.loads((repo / "ci" / "base.json").read_text())
    assert {e["path"] for e in doc["findings"]} == {"../Dockerfile", "../k8s/pod.yaml"}
    monkeypatch.chdir(repo / "k8s")
    code, doc = scan_json(str(repo), "--baseline", str(repo / "ci" / "base.json"))
    assert code == 0 and doc["summary"]["suppressed"] == 7


def test_inline_suppressed_findings_are_not_recorded(repo):
    (repo / "Dockerfile").write_text("# iaclint: ignore[unpinned-image] -- upstream tag\n" + DOCKERFILE)
    cli("scan", "--select", SELECT, "--write-baseline", "base.json")
    rules = [e["rule_name"] for e in json.loads((repo / "base.json").read_text())["findings"]]
    assert "unpinned-image" in rules and rules.count("unpinned-image") == 1   # only the pod's


def test_baseline_from_the_configuration(repo):
    (repo / "ci").mkdir()
    cli("scan", "--select", SELECT, "--write-baseline", "ci/base.json")
    (repo / ".iaclint.yaml").write_text(f"select: [{SELECT}]\nbaseline: ci/base.json\n")
    r = cli("scan", "k8s")   # started elsewhere than the config's directory: still relative to the file
    assert r.exit_code == 0, r.stdout
    assert "baselined findings not shown" in r.stdout


@pytest.mark.parametrize("content,message", [
    (None, "baseline file does not exist (create it with --write-baseline)"),
    ("{not json", "not a baseline file (invalid JSON"),
    ('{"findings": []}', "not an iaclint baseline"),
    ('{"iaclint_baseline": 1, "findings": [{"rule_id": "IAC101"}]}', "findings[0] has no fingerprint"),
])
def test_bad_baseline_file(repo, content, message):
    if content is not None:
        (repo / "base.json").write_text(content)
    r = cli("scan", "--baseline", "base.json")
    assert r.exit_code == 2
    assert r.stderr.startswith(f"iaclint: error: base.json: {message}"), r.stderr


def test_write_baseline_to_an_unwritable_place(repo):
    r = cli("scan", "--write-baseline", os.path.join("no", "such", "dir", "b.json"))
    assert r.exit_code == 2 and "cannot write" in r.stderr


FOUR_FORMATS = {
    "Dockerfile": ("#", "FROM nginx:latest\nUSER 10001\n"),
    "compose.yaml": ("#", "services:\n  web:\n    image: nginx:latest\n    privileged: true\n"),
    "k8s/pod.yaml": ("#", POD),
    "main.tf": ("//", 'resource "docker_container" "web" {\n  name       = "web"\n  image      = "nginx:latest"\n'
                      '  privileged = true\n}\n'),
}


def test_shifted_lines_in_every_format(repo):
    for name, (_, text) in FOUR_FORMATS.items():
        (repo / name).write_text(text)
    select = "unpinned-image,privileged-container"
    cli("scan", "--select", select, "--write-baseline", "base.json")
    recorded = json.loads((repo / "base.json").read_text())["findings"]
    assert {e["path"] for e in recorded} == set(FOUR_FORMATS)
    for name, (comment, text) in FOUR_FORMATS.items():
        (repo / name).write_text(f"{comment} moved down by a header\n{comment} and another line\n\n" + text)
    r = cli("scan", "--select", select, "--baseline", "base.json", "-f", "json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 0 and doc["summary"]["findings"] == 0
    assert doc["baseline"]["baselined"] == len(recorded) and doc["baseline"]["stale"] == []
