"""Check documentation: docs/checks.md stays generated from the check files, every check carries
its documentation sections, standards references are well-formed, and the Pod Security Standards
profiles select the right checks."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "checks.md"
REGENERATE = "iaclint rules --format markdown > docs/checks.md"

#: Pod Security Standards controls (kubernetes.io/docs/concepts/security/pod-security-standards)
#: that a profile must cover, with the check that implements each.
PSS_CONTROLS = {
    "baseline": {
        "Host Namespaces": "host-namespaces",
        "Privileged Containers": "privileged-container",
        "Capabilities": "added-capabilities",
        "HostPath Volumes": "host-path-volume",
        "Host Ports": "host-port",
        "AppArmor": "apparmor-unconfined",
        "SELinux": "selinux-custom-options",
        "/proc Mount Type": "unmasked-proc-mount",
        "Seccomp": "seccomp-unconfined",
        "Sysctls": "unsafe-sysctls",
        "HostProcess": "windows-host-process",
    },
    "restricted": {
        "Running as Non-root": "run-as-root",
        "Privilege Escalation": "privilege-escalation",
        "Seccomp": "missing-seccomp-profile",
        "Capabilities": "capabilities-not-dropped",
    },
}
#: every control name the standard defines, for validating `standards.pss`
PSS_NAMES = {
    "baseline": set(PSS_CONTROLS["baseline"]),
    "restricted": set(PSS_CONTROLS["restricted"]) | {"Volume Types", "Running as Non-root user"},
}
#: checks whose snippets do not yet show every format they cover (shrink this, never grow it)
SNIPPET_GAPS = {
    "run-as-root": {"compose"}, "added-capabilities": {"compose"}, "plaintext-secret": {"compose"},
    "unpinned-image": {"compose"}, "image-without-digest": {"kubernetes", "compose"},
    "suppression-without-reason": {"kubernetes", "compose"}, "unused-suppression": {"dockerfile", "compose"},
    "expired-suppression": {"dockerfile", "kubernetes", "compose"},
    "invalid-suppression": {"kubernetes", "compose"},
}


def _run_cli(args, cwd, monkeypatch):
    from typer.testing import CliRunner

    from linter.cli import app

    # outside the repository, so no project configuration adds checks
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(app, args)


def test_checks_md_is_generated_output(tmp_path, monkeypatch):
    result = _run_cli(["rules", "--format", "markdown"], tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output
    committed = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert committed == result.stdout, f"docs/checks.md is out of date; regenerate it with `{REGENERATE}`"


def test_checks_md_documents_every_check(registry):
    text = DOCS.read_text(encoding="utf-8")
    for c in registry:
        assert f"## {c.id} {c.name}\n" in text, f"{c.name} has no section in docs/checks.md"


@pytest.mark.parametrize("section", ["description", "rationale", "remediation"])
def test_every_check_has_prose(registry, section):
    missing = [c.name for c in registry if not getattr(c, section).strip()]
    assert not missing, f"checks without a {section}: {missing}"


def test_every_check_has_metadata_snippets_and_references(registry):
    from linter.engine.checks import SEVERITIES

    problems = []
    for c in registry:
        if c.severity not in SEVERITIES:
            problems.append(f"{c.name}: severity {c.severity!r}")
        if not c.tags:
            problems.append(f"{c.name}: no tags")
        if not c.snippets:
            problems.append(f"{c.name}: no snippet")
        for s in c.snippets:
            if not s["insecure"].strip() or not s["fixed"].strip() or s["insecure"] == s["fixed"]:
                problems.append(f"{c.name}: {s['format']} snippet needs a distinct insecure and fixed example")
            if s["format"] not in c.formats:
                problems.append(f"{c.name}: snippet for {s['format']}, which the check does not cover")
        if not c.references:
            problems.append(f"{c.name}: no reference")
        for r in c.references:
            if not r.get("title", "").strip():
                problems.append(f"{c.name}: a reference without a title")
            if r.get("url") and not r["url"].startswith("https://"):
                problems.append(f"{c.name}: reference URL {r['url']!r} is not https")
    assert not problems, "\n".join(problems)


def test_snippets_show_each_format_a_reader_writes(registry):
    """Kubernetes, Compose and Dockerfile (where a check covers them) each get an example."""
    problems = []
    for c in registry:
        shown = {s["format"] for s in c.snippets}
        wanted = {f for f in c.formats if f in ("kubernetes", "compose", "dockerfile")}
        missing = wanted - shown - SNIPPET_GAPS.get(c.name, set())
        if missing:
            problems.append(f"{c.name}: no snippet for {sorted(missing)}")
        stale = SNIPPET_GAPS.get(c.name, set()) & shown
        if stale:
            problems.append(f"{c.name}: has a snippet for {sorted(stale)} now; drop it from SNIPPET_GAPS")
    assert not problems, "\n".join(problems)


def test_standards_are_well_formed(registry):
    section = re.compile(r"^\d+(\.\d+)+$")
    problems = []
    for c in registry:
        std = c.standards
        for key in ("cis_docker", "cis_kubernetes"):
            for item in std.get(key, []):
                if not section.match(item):
                    problems.append(f"{c.name}: {key} item {item!r}")
        for cwe in std.get("cwe", []):
            if not re.match(r"^CWE-\d+$", cwe):
                problems.append(f"{c.name}: CWE {cwe!r}")
        pss = std.get("pss")
        if pss is not None:
            level, _, control = pss.partition(": ")
            control = re.sub(r"\s*\(.*\)$", "", control)
            if level not in PSS_NAMES or control not in PSS_NAMES[level]:
                problems.append(f"{c.name}: pss {pss!r} is not '<baseline|restricted>: <control name>'")
        if c.profile is not None and not (pss or "").startswith(c.profile + ":"):
            problems.append(f"{c.name}: profile {c.profile} but pss {pss!r}")
        if std.get("cis_docker") and not {"compose", "dockerfile", "terraform"} & set(c.formats):
            problems.append(f"{c.name}: cites CIS Docker but covers no Docker format")
    assert not problems, "\n".join(problems)


# CIS Kubernetes Benchmark v1.7+ numbering of section 5.2 (5.2.1 is the policy-mechanism item), and
# CIS Docker Benchmark v1.2-v1.5 numbering of section 5: spot checks that once were wrong.
@pytest.mark.parametrize("name,key,item", [
    ("host-namespaces", "cis_kubernetes", "5.2.5"),
    ("capabilities-not-dropped", "cis_kubernetes", "5.2.10"),
    ("net-raw-capability", "cis_kubernetes", "5.2.8"),
    ("windows-host-process", "cis_kubernetes", "5.2.11"),
    ("host-path-volume", "cis_kubernetes", "5.2.12"),
    ("host-port", "cis_kubernetes", "5.2.13"),
    ("port-all-interfaces", "cis_docker", "5.13"),
    ("missing-healthcheck", "cis_docker", "5.26"),
    ("container-runtime-socket", "cis_docker", "5.31"),
])
def test_cis_items(registry, name, key, item):
    assert item in registry.get(name).standards.get(key, [])


# -- profiles ---------------------------------------------------------------------------------

def test_profile_checks_implement_the_named_pss_controls(registry):
    for level, controls in PSS_CONTROLS.items():
        for control, name in controls.items():
            c = registry.get(name)
            assert c is not None, f"{level} control {control!r}: no check {name!r}"
            assert c.profile == level, f"{name} implements {level} {control!r} but has profile {c.profile}"
            assert c.enabled, f"{name} must run by default to be part of a profile"
            assert c.standards.get("pss", "").startswith(f"{level}: {control}"), (name, c.standards.get("pss"))
    declared = {c.name for c in registry if c.profile}
    listed = {n for controls in PSS_CONTROLS.values() for n in controls.values()}
    assert declared == listed, f"checks with a profile but no control here, or the reverse: {declared ^ listed}"


# One pod breaking every baseline and restricted control, plus a clean one.
PSS_PODS = """\
apiVersion: v1
kind: Pod
metadata:
  name: everything-wrong
  namespace: shop
spec:
  hostNetwork: true
  hostPID: true
  securityContext:
    sysctls:
      - {name: kernel.msgmax, value: "65536"}
    windowsOptions:
      hostProcess: true
  containers:
    - name: app
      image: registry.example.com/shop/app:3.1.0
      ports:
        - {containerPort: 8080, hostPort: 8080}
      securityContext:
        privileged: true
        runAsUser: 0
        allowPrivilegeEscalation: true
        procMount: Unmasked
        capabilities: {add: [SYS_ADMIN]}
        seccompProfile: {type: Unconfined}
        appArmorProfile: {type: Unconfined}
        seLinuxOptions: {type: spc_t}
      volumeMounts:
        - {name: host, mountPath: /host}
    - name: sidecar
      image: registry.example.com/shop/sidecar:1.0.0
  volumes:
    - name: host
      hostPath: {path: /srv/data}
---
apiVersion: v1
kind: Pod
metadata:
  name: restricted-ok
  namespace: shop
spec:
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile: {type: RuntimeDefault}
  containers:
    - name: app
      image: registry.example.com/shop/app:3.1.0
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}
"""


@pytest.fixture(scope="module")
def pss_findings(tmp_path_factory):
    from typer.testing import CliRunner

    from linter.cli import app

    d = tmp_path_factory.mktemp("pss")
    (d / "pods.yaml").write_text(PSS_PODS)
    out = {}
    for profile in (None, "baseline", "restricted"):
        args = ["scan", str(d), "-f", "json", "--no-color"] + (["--profile", profile] if profile else [])
        result = CliRunner().invoke(app, args)
        assert result.exit_code in (0, 1), result.output
        findings = json.loads(result.stdout)["findings"]
        out[profile] = {(f["rule_name"], f["line"]) for f in findings}
    return out


def test_baseline_profile_reports_exactly_the_baseline_controls(pss_findings, registry):
    names = {n for n, _ in pss_findings["baseline"]}
    assert names == set(PSS_CONTROLS["baseline"].values())
    assert all(registry.get(n).profile == "baseline" for n in names)


def test_restricted_profile_adds_the_restricted_controls(pss_findings):
    baseline, restricted = pss_findings["baseline"], pss_findings["restricted"]
    assert baseline <= restricted
    names = {n for n, _ in restricted}
    assert names == set(PSS_CONTROLS["baseline"].values()) | set(PSS_CONTROLS["restricted"].values())
    # the compliant pod (from line 36 on) breaks no control of either profile
    start = PSS_PODS.split("\n").index("---") + 2
    assert not [f for f in restricted if f[1] >= start], sorted(restricted)


def test_profiles_are_a_subset_of_the_default_run(pss_findings):
    assert pss_findings["restricted"] <= pss_findings[None]


def test_restricted_checks_include_baseline_checks(registry):
    from linter.scan import select_checks

    levels = {"baseline": {"baseline"}, "restricted": {"baseline", "restricted"}}
    chosen = {p: {c.name for c in select_checks(registry, None, None) if c.profile in lv}
              for p, lv in levels.items()}
    assert chosen["baseline"] < chosen["restricted"]


def test_unknown_profile_is_a_usage_error(tmp_path, monkeypatch):
    result = _run_cli(["scan", str(tmp_path), "--profile", "strict"], tmp_path, monkeypatch)
    assert result.exit_code == 2
    assert "baseline or restricted" in result.output
