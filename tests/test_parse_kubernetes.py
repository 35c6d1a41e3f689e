"""Kubernetes manifests -> model: exact locations, the pod-spec path of every workload kind,
securityContext merging, Lists, multi-document files, and wrong shapes as diagnostics.

Manifests are tiny strings; line and column numbers in the assertions are counted in them
(1-based; end_column exclusive; columns count Unicode code points)."""
from __future__ import annotations

import json
import textwrap

import pytest

from linter.model import UNKNOWN
from linter.parsers import yamlfile
from linter.scan import parse_bytes

P = "k8s/app.yaml"


def k8s(text: str):
    pf = yamlfile.parse(P, textwrap.dedent(text))
    assert not [d for d in pf.diagnostics if "internal error" in d.message], pf.diagnostics
    return pf


def of(pf, type_name):
    return list(pf.of_type(type_name))


def containers(pf):
    return {c.name: c for c in of(pf, "container")}


def span(loc):
    return (loc.line, loc.column, loc.end_line, loc.end_column)


def findings(pf, registry, check_name):
    from linter.engine.run import run_checks

    return run_checks([registry.get(check_name)], pf.resources)


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: app
      image: nginx:1.27.2
      securityContext:
        privileged: true
"""


# -- exact locations ---------------------------------------------------------------------------

def test_privileged_finding_points_at_the_key_and_spans_its_value(registry):
    pf = k8s(POD)
    (f,) = findings(pf, registry, "privileged-container")
    # `        privileged: true`: the key starts in column 9; "privileged: true" is 16 characters.
    assert (f.path, f.line, f.column, f.end_line, f.end_column) == (P, 11, 9, 11, 25)
    assert f.resource == "Pod/shop/web/container/app"


def test_image_finding_points_at_the_image_key(registry):
    pf = k8s(POD)
    (f,) = findings(pf, registry, "image-without-digest")
    # `      image: nginx:1.27.2`: column 7, "image: nginx:1.27.2" is 19 characters.
    assert (f.line, f.column, f.end_line, f.end_column) == (9, 7, 9, 26)
    assert f.resource == "Pod/shop/web/container/app/image"


def test_quoted_value_span_includes_the_quotes():
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - name: app
              image: "nginx:latest"
        """)
    (img,) = of(pf, "image")
    assert span(img.loc) == (7, 7, 7, 28)
    assert img.reference == "nginx:latest" and img.tag == "latest"


def test_flow_mapping_columns_count_code_points(registry):
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - {name: "é€😀", image: nginx, securityContext: {privileged: true}}
        """)
    ct = containers(pf)["é€😀"]
    # 4 spaces, "- {" then keys; 😀 is one code point (two UTF-16 units, four UTF-8 bytes).
    assert span(ct.locs["name"]) == (6, 8, 6, 19)
    assert span(ct.locs["image"]) == (6, 21, 6, 33)
    assert span(ct.locs["privileged"]) == (6, 53, 6, 69)
    (f,) = findings(pf, registry, "privileged-container")
    assert (f.line, f.column, f.end_column) == (6, 53, 69)


def test_value_on_the_next_line_spans_the_key_only():
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - name: app
              image: nginx:1.27.2
              env:
                - name: TLS_KEY
                  value: |
                    -----BEGIN PRIVATE KEY-----
                    MIIEvQIBADANBgkqhkiG9w0BAQEFAASC
                    -----END PRIVATE KEY-----
        """)
    (s,) = of(pf, "setting")
    assert span(s.loc) == (10, 11, 10, 16)
    assert s.plaintext_secret is True


def test_container_without_security_context_is_located_at_its_first_key(registry):
    pf = k8s(POD.replace("      securityContext:\n        privileged: true\n", ""))
    (f,) = findings(pf, registry, "run-as-root")
    assert (f.line, f.column) == (8, 7)  # `- name: app`: the mapping starts after "- "


def test_inherited_pod_level_value_points_at_the_pod_key(registry):
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          securityContext:
            runAsUser: 0
          containers:
            - name: app
              image: nginx:1.27.2
        """)
    (f,) = findings(pf, registry, "run-as-root")
    assert (f.line, f.column, f.end_column) == (6, 5, 17)
    assert f.message == "app runs as root: runAsUser is 0"


def test_lines_count_from_the_start_of_the_stream_in_multi_document_files():
    pf = k8s("""\
        # leading comment
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        ---
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: second}
        spec:
          containers:
            - name: app
              image: nginx
        """)
    (w,) = of(pf, "workload")
    (img,) = of(pf, "image")
    assert w.loc.line == 8 and w.name == "second"
    assert span(img.loc) == (14, 7, 14, 19)


def test_crlf_line_endings_do_not_shift_lines(registry):
    data = POD.replace("\n", "\r\n").encode()
    pf = parse_bytes(P, "yaml", data)
    (f,) = findings(pf, registry, "privileged-container")
    assert (f.line, f.column, f.end_column) == (11, 9, 25)


def test_duplicate_key_warns_and_the_last_one_wins(registry):
    pf = k8s(POD.replace("privileged: true\n", "privileged: true\n        privileged: false\n"))
    assert containers(pf)["app"].privileged is False
    assert not findings(pf, registry, "privileged-container")
    (d,) = pf.diagnostics
    assert (d.level, d.line, d.column) == ("warning", 12, 9)
    assert "duplicate key 'privileged' (first at line 11)" in d.message


# -- workload kinds and their pod spec paths ----------------------------------------------------

WORKLOADS = {
    "Pod": "spec:\n  {pod}",
    "Deployment": "spec:\n  template:\n    metadata: {{labels: {{app: x}}}}\n    spec:\n      {pod}",
    "StatefulSet": "spec:\n  template:\n    metadata: {{labels: {{app: x}}}}\n    spec:\n      {pod}",
    "DaemonSet": "spec:\n  template:\n    metadata: {{labels: {{app: x}}}}\n    spec:\n      {pod}",
    "ReplicaSet": "spec:\n  template:\n    metadata: {{labels: {{app: x}}}}\n    spec:\n      {pod}",
    "ReplicationController": "spec:\n  template:\n    metadata: {{labels: {{app: x}}}}\n    spec:\n      {pod}",
    "Job": "spec:\n  template:\n    metadata: {{labels: {{app: x}}}}\n    spec:\n      {pod}",
    "CronJob": "spec:\n  jobTemplate:\n    spec:\n      template:\n        metadata: {{labels: {{app: x}}}}\n"
               "        spec:\n          {pod}",
}


@pytest.mark.parametrize("kind", sorted(WORKLOADS))
def test_every_workload_kind_yields_its_containers(kind):
    pod = "{containers: [{name: app, image: 'a:1', securityContext: {privileged: true}}], " \
          "initContainers: [{name: init, image: 'b:1'}], ephemeralContainers: [{name: dbg, image: 'c:1'}], " \
          "hostNetwork: true}"
    labels = "\n  labels: {app: x}" if kind == "Pod" else ""
    text = f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: w\n  namespace: ns{labels}\n" \
           + WORKLOADS[kind].format(pod=pod) + "\n"
    pf = k8s(text)
    (w,) = of(pf, "workload")
    assert (w.kind, w.name, w.namespace, w.ident) == (kind, "w", "ns", f"{kind}/ns/w")
    assert w.labels == {"app": "x"}
    assert w.host_network is True
    assert w.network_policy_scope is True
    cs = containers(pf)
    assert {n: c.role for n, c in cs.items()} == {"app": "container", "init": "init", "dbg": "ephemeral"}
    assert cs["app"].ident == f"{kind}/ns/w/container/app"
    assert cs["init"].ident == f"{kind}/ns/w/initContainer/init"
    assert cs["dbg"].ident == f"{kind}/ns/w/ephemeralContainer/dbg"
    assert cs["app"].privileged is True and cs["init"].privileged is None
    assert all(c.workload is w for c in cs.values())
    assert [c.name for c in w.containers] == ["app", "init", "dbg"]
    assert {i.reference for i in of(pf, "image")} == {"a:1", "b:1", "c:1"}
    assert not pf.diagnostics


def test_objects_that_run_no_pods_are_not_workloads():
    pf = k8s("""\
        apiVersion: v1
        kind: Service
        metadata: {name: s}
        spec: {selector: {app: x}, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        data: {password: not-a-secret-object}
        """)
    assert pf.resources == [] and pf.diagnostics == []


def test_yaml_that_is_not_kubernetes_is_ignored_silently():
    pf = k8s("""\
        name: CI
        on: [push]
        jobs:
          test: {runs-on: ubuntu-latest, steps: [{run: make test}]}
        """)
    assert pf.resources == [] and pf.diagnostics == []


# -- securityContext merging: container over pod, field by field ----------------------------------

def test_security_context_merge_container_wins_field_by_field():
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          securityContext:
            runAsUser: 1000
            runAsGroup: 3000
            runAsNonRoot: true
          containers:
            - name: inherits
              image: a:1
            - name: overrides-user
              image: a:1
              securityContext:
                runAsUser: 0
            - name: overrides-non-root
              image: a:1
              securityContext:
                runAsNonRoot: false
                runAsGroup: 0
        """)
    cs = containers(pf)
    inh, usr, nr = cs["inherits"], cs["overrides-user"], cs["overrides-non-root"]
    assert (inh.run_as_user, inh.run_as_group, inh.run_as_non_root, inh.runs_as_root) == (1000, 3000, True, False)
    assert inh.locs["run_as_user"].line == 6
    assert (usr.run_as_user, usr.run_as_group, usr.run_as_non_root, usr.runs_as_root) == (0, 3000, True, True)
    assert usr.locs["run_as_user"].line == 15 and usr.root_reason == "runAsUser is 0"
    # runAsUser 1000 is inherited, so runAsNonRoot: false does not make it root.
    assert (nr.run_as_user, nr.run_as_group, nr.run_as_non_root, nr.runs_as_root) == (1000, 0, False, False)
    assert nr.locs["run_as_non_root"].line == 19


def test_run_as_root_facts_without_any_user_setting():
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - {name: unset, image: a:1}
            - {name: non-root, image: a:1, securityContext: {runAsNonRoot: true}}
            - {name: uid, image: a:1, securityContext: {runAsUser: 10001}}
            - {name: quoted-zero, image: a:1, securityContext: {runAsUser: "0"}}
        """)
    cs = containers(pf)
    assert cs["unset"].runs_as_root is True
    assert "runAsNonRoot is not true" in cs["unset"].root_reason
    assert cs["non-root"].runs_as_root is False
    assert cs["uid"].runs_as_root is False and cs["uid"].user == 10001
    assert cs["quoted-zero"].run_as_user == 0 and cs["quoted-zero"].runs_as_root is True


def test_capabilities_are_normalized():
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - name: app
              image: a:1
              securityContext:
                capabilities:
                  add: [cap_sys_admin, " NET_RAW ", 7]
                  drop: [all]
        """)
    ct = containers(pf)["app"]
    assert ct.capabilities_add == ["SYS_ADMIN", "NET_RAW"]
    assert ct.capabilities_drop == ["ALL"]
    assert span(ct.locs["capabilities_add"]) == (10, 11, 10, 47)


# -- Lists ---------------------------------------------------------------------------------------

def test_list_items_are_objects_with_their_own_locations():
    pf = k8s("""\
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: Pod
            metadata: {name: a}
            spec: {containers: [{name: app, image: "a:1"}]}
          - 42
          - apiVersion: apps/v1
            kind: Deployment
            metadata: {name: b, namespace: prod}
            spec:
              template:
                spec:
                  containers:
                    - name: app
                      image: b:1
        """)
    ws = {w.name: w for w in of(pf, "workload")}
    assert set(ws) == {"a", "b"}
    assert ws["a"].loc.line == 4 and ws["a"].loc.column == 5
    assert ws["b"].loc.line == 9 and ws["b"].ident == "Deployment/prod/b"
    (d,) = pf.diagnostics
    assert d.line == 8 and "List item 1 is the number 42" in d.message


def test_typed_lists_such_as_deployment_list_are_lists_too():
    pf = k8s("""\
        apiVersion: apps/v1
        kind: DeploymentList
        items:
          - {apiVersion: apps/v1, kind: Deployment, metadata: {name: d},
             spec: {template: {spec: {containers: [{name: c, image: "x:1"}]}}}}
        """)
    assert [w.ident for w in of(pf, "workload")] == ["Deployment/default/d"]


# -- settings, secrets, network policies -------------------------------------------------------

def test_env_settings_and_references():
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - name: app
              image: a:1
              env:
                - {name: LITERAL, value: abc}
                - {name: NUMBER, value: 12}
                - {name: FLAG, value: true}
                - {name: EXPANDED, value: "$(OTHER)"}
                - {name: FROM_SECRET, valueFrom: {secretKeyRef: {name: s, key: k}}}
                - {name: FROM_FIELD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
              envFrom:
                - secretRef: {name: app-env}
        """)
    s = {x.name: x for x in of(pf, "setting")}
    assert (s["LITERAL"].value, s["LITERAL"].from_reference, s["LITERAL"].context) == ("abc", False, "env")
    assert s["NUMBER"].value == "12" and s["FLAG"].value == "true"
    assert s["EXPANDED"].from_reference is True
    assert s["FROM_SECRET"].value is None and s["FROM_SECRET"].secret_ref is True
    assert s["FROM_FIELD"].from_reference is True and s["FROM_FIELD"].secret_ref is False
    assert s["envFrom:app-env"].secret_ref is True
    assert span(s["LITERAL"].loc) == (9, 27, 9, 37)
    assert [e.name for e in containers(pf)["app"].env] == list(s)


def test_secret_data_and_string_data_become_settings():
    pf = k8s("""\
        apiVersion: v1
        kind: Secret
        metadata: {name: db, namespace: shop}
        type: Opaque
        data:
          password: aHVudGVyMg==
        stringData:
          port: 5432
          empty:
        """)
    (sec,) = of(pf, "secret")
    assert (sec.ident, sec.secret_type, sec.keys) == ("Secret/shop/db", "Opaque", ["password", "port", "empty"])
    s = {x.name: x for x in of(pf, "setting")}
    assert set(s) == {"password", "port"}  # a null value holds nothing
    assert (s["password"].context, s["password"].loc.line, s["password"].loc.column) == ("secret-data", 6, 3)
    assert (s["port"].context, s["port"].value) == ("secret-string-data", "5432")


def test_network_policy_defaults():
    pf = k8s("""\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: a}
        spec:
          podSelector:
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: b, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: api}}
          egress: [{}]
        """)
    a, b = of(pf, "network_policy")
    assert (a.namespace, a.pod_selector, a.policy_types) == ("default", {}, ["Ingress"])
    assert a.ident == "NetworkPolicy/default/a"
    assert a.locs["pod_selector"].line == 5
    assert (b.namespace, b.pod_selector, b.policy_types) == ("shop", {"matchLabels": {"app": "api"}},
                                                            ["Ingress", "Egress"])


# -- wrong shapes: diagnostics with a line, never exceptions -------------------------------------

@pytest.mark.parametrize("spec,line,needle", [
    ("  containers: nginx\n", 6, "containers should be a list, found the string 'nginx'"),
    ("  containers: [nginx]\n", 6, "containers[0] should be a mapping, found the string 'nginx'"),
    ("  containers:\n    - name: a\n      securityContext: [privileged]\n", 8,
     "securityContext should be a mapping, found a list"),
    ("  containers:\n    - name: a\n      securityContext: {privileged: maybe}\n", 8,
     "privileged should be a boolean, found the string 'maybe'"),
    ("  containers:\n    - name: a\n      securityContext: {runAsUser: root}\n", 8,
     "runAsUser should be an integer, found the string 'root'"),
])
def test_wrong_shapes_are_diagnostics_with_a_line(spec, line, needle):
    pf = k8s("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n" + spec)
    errors = [d for d in pf.diagnostics if d.level == "error"]
    assert len(errors) == 1, pf.diagnostics
    assert errors[0].line == line and needle in errors[0].message


def test_yaml_syntax_error_in_a_manifest_keeps_the_documents_before_it():
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: ok}
        spec: {containers: [{name: a, image: "a:1"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: broken
        """)
    assert [w.name for w in of(pf, "workload")] == ["ok"]
    (d,) = pf.diagnostics
    assert d.level == "error" and d.line is not None and d.line >= 8 and "YAML syntax error" in d.message


def test_helm_template_is_a_notice_not_an_error():
    pf = k8s("""\
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{ .Values.name }}
        """)
    (d,) = pf.diagnostics
    assert (d.level, d.line) == ("notice", 4) and "helm template" in d.message
    assert pf.resources == []


# -- image references written as templates ----------------------------------------------------------

@pytest.mark.parametrize("ref,registry,tag,mutable", [
    # the placeholder is (or touches) the last component: tag and digest unknown, never a finding
    ("$IMAGE_URL", UNKNOWN, UNKNOWN, UNKNOWN),
    ("${IMAGE_URI}", UNKNOWN, UNKNOWN, UNKNOWN),
    ("<your-image>", UNKNOWN, UNKNOWN, UNKNOWN),
    ("CONTAINER_IMAGE", UNKNOWN, UNKNOWN, UNKNOWN),  # upper case is no valid repository: a sed marker
    ("", UNKNOWN, UNKNOWN, UNKNOWN),
    ("registry.example.com/shop/api:${TAG}", "registry.example.com", UNKNOWN, UNKNOWN),
    ("${IMAGE:-registry.example.com/shop/api:main}", UNKNOWN, UNKNOWN, UNKNOWN),
    # a placeholder elsewhere leaves the tag readable
    ("us-central1-docker.pkg.dev/$PROJECT_ID/repo/app:latest", "us-central1-docker.pkg.dev", "latest", True),
    ("$REGION-docker.pkg.dev/project/repo/app", UNKNOWN, None, True),
    ("<registry>/shop/api:1.4.2", UNKNOWN, "1.4.2", False),
    ("REGION-docker.pkg.dev/PROJECT_ID/REPO/app:v1", "REGION-docker.pkg.dev", "v1", False),
    # plain references are unaffected
    ("registry.internal:5000/app", "registry.internal:5000", None, True),
    ("nginx:1.27.2", None, "1.27.2", False),
])
def test_templated_image_references_are_unknown_where_the_placeholder_is(ref, registry, tag, mutable):
    pf = k8s(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n"
             f"    - name: c\n      image: {json.dumps(ref)}\n")
    (img,) = of(pf, "image")
    assert (img.registry, img.tag, img.mutable_tag) == (registry, tag, mutable)
    assert img.reference == ref


def test_templated_tag_with_a_literal_digest_is_still_pinned():
    ref = "registry.example.com/shop/api:${TAG}@sha256:" + "ab" * 32
    pf = k8s(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n"
             f"    - name: c\n      image: {json.dumps(ref)}\n")
    (img,) = of(pf, "image")
    assert img.has_digest is True and img.mutable_tag is UNKNOWN
