"""Inline suppressions in Dockerfiles and Kubernetes manifests, annotations, and the meta checks
(suppression-without-reason, unused-suppression, expired-suppression, invalid-suppression).
Compose and Terraform: test_suppress_compose.py, test_suppress_terraform.py."""
from __future__ import annotations

import datetime
import json
import textwrap

import pytest

TODAY = datetime.date(2026, 6, 1)


@pytest.fixture
def run(tmp_path, registry):
    """run({"Dockerfile": "..."}, select=[...], today=date) -> ScanResult (paths are absolute)."""
    from linter.scan import ScanOptions, scan, select_checks
    from linter.suppress import SuppressOptions

    def go(files: dict, select=None, ignore=None, today=TODAY):
        for name, content in files.items():
            p = tmp_path / name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(content))
        checks = select_checks(registry, select, ignore)
        return scan(ScanOptions(paths=[str(tmp_path)], checks=checks,
                                suppress=SuppressOptions(registry=registry, today=today)))

    return go


def of(result, check: str, suppressed: bool | None = None):
    out = [f for f in result.findings if check in (f.rule_id, f.rule_name)]
    if suppressed is not None:
        out = [f for f in out if (f.suppression is not None) == suppressed]
    return out


def lines_of(findings) -> list[int]:
    return sorted(f.line for f in findings)


META = ["suppression-without-reason", "unused-suppression", "expired-suppression", "invalid-suppression"]


# -- the comment syntax -------------------------------------------------------------------------

def test_comment_markers_in_every_comment_syntax():
    from linter.suppress import find_comments

    lines = [
        "# iaclint: ignore[a] -- x",
        "  privileged: true  # iaclint: ignore[b]",
        "  privileged = true // iaclint: ignore[c]",
        "/* iaclint: ignore-file[d] -- why */",
        'RUN echo "# iaclint: ignore[e]"',          # inside a string: not a comment
        "value: 'a # iaclint: ignore[f]'",            # same, single quotes
        "image: x#iaclint: ignore[g]",                # '#' glued to a value is not a YAML comment
        "description: it's fine  # iaclint: ignore[h]",  # an apostrophe does not open a string
        "x: 'it''s'  # iaclint: ignore[i]",           # YAML's doubled single quote
        "# see the iaclint: docs",                    # the marker must follow the comment start
    ]
    got = [(line, body, trailing) for line, _, body, trailing in find_comments(lines)]
    assert got == [(1, "ignore[a] -- x", False), (2, "ignore[b]", True), (3, "ignore[c]", True),
                   (4, "ignore-file[d] -- why", False), (8, "ignore[h]", True), (9, "ignore[i]", True)]


def test_parse_reason_until_and_names(registry):
    from linter.model import ParsedFile
    from linter.suppress import _Resolver, parse_comment

    pf = ParsedFile("Dockerfile", "dockerfile")
    s = parse_comment(pf, 3, 1, "ignore[run-as-root, IAC102] until=2027-03-31 -- base image drops to uid 101",
                      _Resolver(registry, list(registry)), TODAY)
    assert s.checks == ["IAC101", "IAC102"]
    assert s.written == ["run-as-root", "IAC102"]
    assert s.until == "2027-03-31" and not s.expired
    assert s.reason == "base image drops to uid 101"
    assert s.kind == "inSource" and s.justification == "base image drops to uid 101"
    assert s.as_dict()["justification"] == "base image drops to uid 101"
    assert s.problem is None


# -- Dockerfile -----------------------------------------------------------------------------------

DOCKERFILE = """\
FROM golang:1.22 AS build
ADD ./src /src/
RUN curl -fsSL https://get.example.com | sh

# iaclint: ignore[run-as-root] -- the entrypoint drops to uid 101 (gosu)
FROM debian:12-slim
ADD ./app /app/
RUN curl -fsSL https://get.example.com | sh
"""


def test_dockerfile_missing_user_suppressed_on_the_stage(run):
    r = run({"Dockerfile": DOCKERFILE}, select=["run-as-root"] + META)
    [f] = of(r, "run-as-root")
    assert f.line == 6 and f.suppression is not None   # points at the FROM: "no USER" has no line of its own
    assert f.suppression.scope == "resource" and f.suppression.justification.startswith("the entrypoint")
    assert not of(r, "suppression-without-reason") and not of(r, "unused-suppression")


def test_dockerfile_stage_scope_covers_that_stage_only(run):
    text = DOCKERFILE.replace("# iaclint: ignore[run-as-root]", "# iaclint: ignore[add-instead-of-copy]")
    text = "# iaclint: ignore[curl-pipe-shell] -- builder only\n" + text
    r = run({"Dockerfile": text}, select=["add-instead-of-copy", "curl-pipe-shell"] + META)
    assert lines_of(of(r, "curl-pipe-shell", suppressed=True)) == [4]     # stage 0 (its FROM is line 2)
    assert lines_of(of(r, "curl-pipe-shell", suppressed=False)) == [9]    # stage 1
    assert lines_of(of(r, "add-instead-of-copy", suppressed=True)) == [8]
    assert lines_of(of(r, "add-instead-of-copy", suppressed=False)) == [3]


def test_dockerfile_line_scope_and_trailing_shell_comment(run):
    text = """\
    FROM debian:12-slim
    # iaclint: ignore[curl-pipe-shell] -- vendor installer, checksum verified in CI
    RUN curl -fsSL https://a.example.com | sh
    RUN curl -fsSL https://b.example.com | sh  # iaclint: ignore[curl-pipe-shell] -- same vendor
    RUN curl -fsSL https://c.example.com | sh
    RUN echo "# iaclint: ignore[curl-pipe-shell]" && curl -fsSL https://d.example.com | sh
    USER 10001
    """
    r = run({"Dockerfile": text}, select=["curl-pipe-shell"] + META)
    assert lines_of(of(r, "curl-pipe-shell", suppressed=True)) == [3, 4]
    assert lines_of(of(r, "curl-pipe-shell", suppressed=False)) == [5, 6]
    assert not [f for f in r.findings if f.rule_name in META]


def test_stacked_comments_apply_to_the_next_code_line(run):
    text = """\
    # iaclint: ignore[run-as-root] -- the entrypoint drops privileges
    # iaclint: ignore[unpinned-image] -- tracked in ticket OPS-12
    FROM nginx:latest
    """
    r = run({"Dockerfile": text}, select=["run-as-root", "unpinned-image"] + META)
    assert of(r, "run-as-root", suppressed=True) and of(r, "unpinned-image", suppressed=True)
    assert not of(r, "unused-suppression")


def test_ignore_file_anywhere(run):
    text = "FROM nginx:latest\nRUN true\n# iaclint: ignore-file[unpinned-image, run-as-root] -- demo image\n"
    r = run({"Dockerfile": text, "other/Dockerfile": "FROM nginx:latest\n"}, select=["run-as-root", "unpinned-image"])
    assert all(f.suppression is not None for f in r.findings if f.path.endswith("/Dockerfile")
               and "/other/" not in f.path)
    other = [f for f in r.findings if "/other/" in f.path]
    assert len(other) == 2 and all(f.suppression is None for f in other)
    assert of(r, "run-as-root", suppressed=True)[0].suppression.scope == "file"


def test_expiry_with_injected_today(run):
    text = "# iaclint: ignore[unpinned-image] until=2026-03-31 -- until the base image is rebuilt\nFROM nginx:latest\n"
    on_the_day = run({"Dockerfile": text}, select=["unpinned-image"] + META, today=datetime.date(2026, 3, 31))
    assert of(on_the_day, "unpinned-image", suppressed=True)
    assert not of(on_the_day, "expired-suppression")

    after = run({"Dockerfile": text}, select=["unpinned-image"] + META, today=datetime.date(2026, 4, 1))
    assert of(after, "unpinned-image", suppressed=False)
    [e] = of(after, "expired-suppression")
    assert e.line == 1 and "expired on 2026-03-31" in e.message
    assert not of(after, "unused-suppression")  # one report is enough


def test_reason_is_optional_but_reported(run):
    text = "# iaclint: ignore[unpinned-image]\nFROM nginx:latest\nUSER 10001\n"
    r = run({"Dockerfile": text}, select=["unpinned-image"] + META)
    assert of(r, "unpinned-image", suppressed=True)[0].suppression.justification is None
    [m] = of(r, "suppression-without-reason")
    assert (m.line, m.column, m.severity) == (1, 1, "info")
    assert "unpinned-image" in m.message


def test_unused_only_counts_checks_that_ran(run):
    text = """\
    FROM debian:12-slim
    # iaclint: ignore[curl-pipe-shell, sudo-in-dockerfile] -- vendor installer
    RUN curl -fsSL https://a.example.com | sh
    USER 10001
    """
    r = run({"Dockerfile": text}, select=["curl-pipe-shell", "sudo-in-dockerfile"] + META)
    [u] = of(r, "unused-suppression")
    assert u.line == 2 and "sudo-in-dockerfile" in u.message and "curl-pipe-shell" not in u.message
    # sudo-in-dockerfile did not run: nothing to say about it
    r = run({"Dockerfile": text}, select=["curl-pipe-shell"] + META)
    assert not of(r, "unused-suppression")


@pytest.mark.parametrize("comment,problem", [
    ("# iaclint: ignore", "needs the checks it ignores in brackets"),
    ("# iaclint: ignore-file", "needs the checks it ignores in brackets"),
    ("# iaclint: ignore[]", "names no check"),
    ("# iaclint: ignore[no-such-check] -- typo", "unknown check 'no-such-check'"),
    ("# iaclint: ignore[unpinned-image] until=31.03.2027 -- x", "invalid date until=31.03.2027"),
    ("# iaclint: disable[unpinned-image]", "unknown directive"),
])
def test_invalid_suppressions_are_reported_and_suppress_nothing(run, comment, problem):
    r = run({"Dockerfile": f"{comment}\nFROM nginx:latest\nUSER 10001\n"}, select=["unpinned-image"] + META)
    [m] = of(r, "invalid-suppression")
    assert m.line == 1 and problem in m.message
    assert of(r, "unpinned-image", suppressed=False)
    assert not of(r, "suppression-without-reason")


def test_valid_names_of_a_partly_invalid_comment_still_apply(run):
    r = run({"Dockerfile": "# iaclint: ignore[unpinned-image, unpined-image] -- x\nFROM nginx:latest\nUSER 1\n"},
            select=["unpinned-image"] + META)
    assert of(r, "unpinned-image", suppressed=True)
    assert "unknown check 'unpined-image'" in of(r, "invalid-suppression")[0].message


def test_meta_findings_only_yield_to_ignore_file(run):
    text = "# iaclint: ignore[suppression-without-reason, unpinned-image]\nFROM nginx:latest\nUSER 1\n"
    r = run({"Dockerfile": text}, select=["unpinned-image"] + META)
    assert of(r, "suppression-without-reason", suppressed=False)  # a comment cannot silence the report on itself
    text2 = text + "# iaclint: ignore-file[suppression-without-reason] -- reasons live in the ADR\n"
    r = run({"Dockerfile": text2}, select=["unpinned-image"] + META)
    assert of(r, "suppression-without-reason", suppressed=True)
    assert not of(r, "suppression-without-reason", suppressed=False)


# -- Kubernetes -----------------------------------------------------------------------------------

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
# iaclint: ignore[missing-network-policy, run-as-root] -- legacy batch job, isolated by the node pool
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0
        - name: side
          image: registry.example.com/side:1.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: worker}
    spec:
      containers:
        - name: w
          image: registry.example.com/worker:1.0
"""


def test_kubernetes_document_scope_covers_missing_things_and_children(run):
    r = run({"k8s/app.yaml": MANIFEST}, select=["missing-network-policy", "run-as-root"] + META)
    sup = {f.resource for f in r.findings if f.suppression is not None}
    assert sup == {"Deployment/shop/api", "Deployment/shop/api/container/web", "Deployment/shop/api/container/side"}
    assert {f.resource for f in r.findings if f.suppression is None and f.rule_name not in META} == {
        "Deployment/shop/worker", "Deployment/shop/worker/container/w"}
    [npol] = of(r, "missing-network-policy", suppressed=True)
    assert npol.line == 7                         # the document's first line: nothing "missing" has its own
    assert not [f for f in r.findings if f.rule_name in META]


def test_kubernetes_container_scope_stops_at_the_next_container(run):
    text = MANIFEST.replace("# iaclint: ignore[missing-network-policy, run-as-root] -- legacy batch job, isolated "
                            "by the node pool\n", "")
    text = text.replace("        - name: web\n",
                        "        # iaclint: ignore[run-as-root] -- nginx master process\n        - name: web\n")
    r = run({"k8s/app.yaml": text}, select=["run-as-root"] + META)
    assert {f.resource for f in of(r, "run-as-root", suppressed=True)} == {"Deployment/shop/api/container/web"}
    assert "Deployment/shop/api/container/side" in {f.resource for f in of(r, "run-as-root", suppressed=False)}


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
      image: registry.example.com/web:1.0
      securityContext:
        privileged: true   # iaclint: ignore[privileged-container] -- CNI plugin needs it
        allowPrivilegeEscalation: true
      env:
        - name: API_TOKEN
          value: "ghp_abcdefghijklmnopqrstuvwxyz0123456789 # iaclint: ignore[plaintext-secret]"
"""


def test_kubernetes_trailing_comment_and_quoted_marker(run):
    r = run({"pod.yaml": POD}, select=["privileged-container", "privilege-escalation", "plaintext-secret"] + META)
    [p] = of(r, "privileged-container")
    assert p.suppression is not None and p.suppression.scope == "line"
    assert of(r, "privilege-escalation", suppressed=False)   # the next line is not covered
    assert of(r, "plaintext-secret", suppressed=False)       # a marker inside a string is not a comment
    assert not [f for f in r.findings if f.rule_name in META]


ANNOTATED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  annotations:
    iaclint.io/ignore: "missing-network-policy, IAC101"
    iaclint.io/ignore-reason: "isolated by the node pool; image runs as nobody"
spec:
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: other
  namespace: shop
spec:
  template:
    metadata:
      labels: {app: other}
      annotations:
        iaclint.io/ignore: run-as-root
    spec:
      containers:
        - name: c
          image: registry.example.com/other:1.0
"""


def test_annotation_covers_object_and_pod_template_containers(run):
    r = run({"app.yaml": ANNOTATED}, select=["missing-network-policy", "run-as-root"] + META)
    sup = {(f.rule_name, f.resource) for f in r.findings if f.suppression is not None}
    assert sup == {("missing-network-policy", "Deployment/shop/api"),
                   ("run-as-root", "Deployment/shop/api/container/web"),
                   ("run-as-root", "Deployment/shop/other/container/c")}
    f = next(f for f in r.findings if f.resource == "Deployment/shop/api/container/web")
    assert f.suppression.source == "annotation" and f.suppression.kind == "inSource"
    assert f.suppression.loc.line == 7
    assert f.suppression.justification == "isolated by the node pool; image runs as nobody"
    # the pod-template annotation has no reason: reported where it is written
    [m] = of(r, "suppression-without-reason")
    assert m.line == 28


def test_annotation_unused_unknown_and_expired(run):
    text = """\
    apiVersion: v1
    kind: ServiceAccount
    metadata:
      name: builder
      namespace: ci
      annotations:
        iaclint.io/ignore: "run-as-root,nope"
        iaclint.io/ignore-reason: "kept from the old chart"
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: p
      namespace: ci
      annotations:
        iaclint.io/ignore: run-as-root
        iaclint.io/ignore-reason: "temporary"
        iaclint.io/ignore-until: "2026-01-31"
    spec:
      containers:
        - name: c
          image: registry.example.com/c:1.0
    """
    r = run({"a.yaml": text}, select=["run-as-root"] + META)
    [u] = of(r, "unused-suppression")
    assert u.line == 7 and "run-as-root" in u.message
    [i] = of(r, "invalid-suppression")
    assert i.line == 7 and "unknown check 'nope'" in i.message
    [e] = of(r, "expired-suppression")
    assert e.line == 16 and "2026-01-31" in e.message
    assert of(r, "run-as-root", suppressed=False)


def test_annotation_on_a_secret_covers_its_data(run):
    text = """\
    apiVersion: v1
    kind: Secret
    metadata:
      name: demo
      annotations:
        iaclint.io/ignore: plaintext-secret
        iaclint.io/ignore-reason: documentation example, not a real key
    stringData:
      password: "correct-horse-battery-staple-42"
      api_key: "sk_live_abcdefghijklmnopqrstuvwx"
    """
    r = run({"secret.yaml": text}, select=["plaintext-secret"] + META)
    assert len(of(r, "plaintext-secret")) == 2
    assert all(f.suppression is not None for f in of(r, "plaintext-secret"))


def test_document_comment_covers_role_rules(run):
    text = """\
    # iaclint: ignore[rbac-wildcard, rbac-secrets-access] -- the operator manages every resource
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata:
      name: operator
    rules:
      - apiGroups: ["*"]
        resources: ["*"]
        verbs: ["*"]
    """
    r = run({"role.yaml": text}, select=["rbac-wildcard", "rbac-secrets-access"] + META)
    assert r.findings and all(f.suppression is not None for f in r.findings if f.rule_name not in META)
    assert not [f for f in r.findings if f.rule_name in META]


# -- the command line: exit code, --show-suppressed, JSON -----------------------------------------

def test_cli_exit_code_text_and_json(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from linter.cli import app

    (tmp_path / ".git").mkdir()
    (tmp_path / "Dockerfile").write_text("# iaclint: ignore[unpinned-image, run-as-root] -- demo image\n"
                                         "FROM nginx:latest\n")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    r = runner.invoke(app, ["scan", ".", "--select", "unpinned-image,run-as-root"])
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "0 findings, 2 suppressed" in r.stdout and "IAC401" not in r.stdout
    r = runner.invoke(app, ["scan", ".", "--select", "unpinned-image,run-as-root", "--show-suppressed"])
    assert "IAC401 [medium] unpinned-image" in r.stdout
    assert "(suppressed: comment at line 1: demo image)" in r.stdout
    r = runner.invoke(app, ["scan", ".", "--select", "unpinned-image", "-f", "json"])
    doc = json.loads(r.stdout)
    [f] = doc["findings"]
    assert f["suppressed"] is True
    assert f["suppression"] == {"kind": "inSource", "source": "comment", "scope": "resource", "path": "Dockerfile",
                                "line": 1, "justification": "demo image"}
    assert doc["summary"]["suppressed"] == 1 and doc["summary"]["findings"] == 0


def test_no_suppression_work_without_the_marker(tmp_path):
    from linter.scan import parse_bytes

    pf = parse_bytes(str(tmp_path / "Dockerfile"), "dockerfile", b"FROM nginx:latest\n# a comment\n")
    assert pf.lines is None   # the pass skips files whose text never says "iaclint"


def test_meta_checks_are_ordinary_checks():
    from typer.testing import CliRunner

    from linter.cli import app

    rules = CliRunner().invoke(app, ["rules"]).stdout
    for cid, name in (("IAC901", "suppression-without-reason"), ("IAC902", "unused-suppression"),
                      ("IAC903", "expired-suppression"), ("IAC904", "invalid-suppression")):
        assert any(line.split()[:2] == [cid, name] for line in rules.splitlines()), name
    page = CliRunner().invoke(app, ["explain", "unused-suppression"]).stdout
    assert page.startswith("IAC902 unused-suppression: Suppression silenced nothing")
    assert "Model type: suppression" in page


def test_meta_checks_can_be_ignored(run):
    text = "# iaclint: ignore[unpinned-image]\nFROM nginx:latest\nUSER 1\n"
    r = run({"Dockerfile": text}, ignore=["suppression-without-reason"])
    assert of(r, "unpinned-image", suppressed=True) and not of(r, "suppression-without-reason")
