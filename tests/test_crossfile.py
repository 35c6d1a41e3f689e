"""Cross-file facts: a NetworkPolicy in one file covers workloads in other files of the same scan
(engine/crossfile.py), judged by label selectors (facts/selectors.py)."""
from __future__ import annotations

import pytest

from linter.facts.selectors import selector_matches

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector: {{matchLabels: {{app: api}}}}
  template:
    metadata:
      labels: {labels}
    spec:
      containers:
        - name: api
          image: registry.example.com/shop/api:4.2.0
"""

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {name}
  namespace: {namespace}
spec:
  podSelector: {selector}
  policyTypes: [Ingress]
"""


def deployment(labels="{app: api, tier: backend}"):
    return DEPLOYMENT.format(labels=labels)


def policy(name="api", namespace="shop", selector="{matchLabels: {app: api}}"):
    return POLICY.format(name=name, namespace=namespace, selector=selector)


def netpol_findings(result):
    return [f for f in result.findings if f.rule_name == "missing-network-policy"]


def test_policy_in_another_file_of_the_same_scan_covers_the_workload(scan_files):
    result = scan_files({"k8s/deployment.yaml": deployment(), "k8s/policies/api.yaml": policy()},
                        select=["missing-network-policy"])
    assert result.files_scanned == 2
    assert netpol_findings(result) == []


def test_policy_file_named_separately_on_the_command_line_still_counts(scan_files):
    result = scan_files({"app/deployment.yaml": deployment(), "net/api.yaml": policy()},
                        select=["missing-network-policy"], paths=["app/deployment.yaml", "net/api.yaml"])
    assert netpol_findings(result) == []


def test_without_the_policy_file_in_the_scan_the_workload_fires_at_its_own_location(scan_files):
    # A directory scan sees only its own files (named files get repository context: linter/context.py).
    result = scan_files({"k8s/deployment.yaml": deployment(), "elsewhere/api.yaml": policy()},
                        select=["missing-network-policy"], paths=["k8s"])
    (f,) = netpol_findings(result)
    assert (f.path, f.line, f.column, f.rule_id) == ("k8s/deployment.yaml", 1, 1, "IAC201")
    assert f.resource == "Deployment/shop/api"
    assert f.message == ("Deployment api in namespace 'shop' (pod labels: app=api,tier=backend) is not selected "
                         "by any NetworkPolicy")


def test_policy_in_another_file_but_another_namespace_does_not_count(scan_files):
    result = scan_files({"deployment.yaml": deployment(), "policy.yaml": policy(namespace="payments")},
                        select=["missing-network-policy"])
    (f,) = netpol_findings(result)
    assert f.path == "deployment.yaml"


def test_policy_in_another_file_that_selects_other_pods_does_not_count(scan_files):
    result = scan_files({"deployment.yaml": deployment(), "policy.yaml": policy(selector="{matchLabels: {app: web}}")},
                        select=["missing-network-policy"])
    assert len(netpol_findings(result)) == 1


def test_default_deny_in_one_file_covers_every_workload_of_its_namespace_in_others(scan_files):
    other = deployment().replace("name: api", "name: worker").replace("{app: api, tier: backend}", "{app: worker}")
    result = scan_files({"a/api.yaml": deployment(), "b/worker.yaml": other,
                         "c/deny.yaml": policy(name="default-deny", selector="{}"),
                         "d/other-ns.yaml": deployment().replace("namespace: shop", "namespace: ops")},
                        select=["missing-network-policy"])
    (f,) = netpol_findings(result)
    assert (f.path, f.resource) == ("d/other-ns.yaml", "Deployment/ops/api")


def test_namespace_less_policy_covers_namespace_less_workloads_only(scan_files):
    default_policy = policy(selector="{}").replace("  namespace: shop\n", "")
    default_app = deployment().replace("  namespace: shop\n", "")
    result = scan_files({"policy.yaml": default_policy, "default-app.yaml": default_app,
                         "shop-app.yaml": deployment()}, select=["missing-network-policy"])
    (f,) = netpol_findings(result)
    assert f.path == "shop-app.yaml"


def test_selects_any_workload_is_computed_across_files(scan_files):
    result = scan_files({"deployment.yaml": deployment(), "used.yaml": policy(name="used"),
                         "unused.yaml": policy(name="unused", selector="{matchLabels: {app: nothing}}")},
                        select=["missing-network-policy"])
    pols = {r.name: r for pf in result.parsed for r in pf.resources if r.type_name == "network_policy"}
    assert pols["used"].selects_any_workload is True
    assert pols["unused"].selects_any_workload is False
    (w,) = [r for pf in result.parsed for r in pf.resources if r.type_name == "workload"]
    assert w.network_policy_selected is True


def test_policies_only_scan_cannot_judge_whether_they_select_anything(scan_files):
    result = scan_files({"policy.yaml": policy()}, select=["missing-network-policy"])
    (pol,) = [r for pf in result.parsed for r in pf.resources]
    assert pol.selects_any_workload is None
    assert result.findings == []


def test_per_file_checks_are_unaffected_by_other_files(scan_files):
    # The same Deployment twice: each file gets its own findings for per-file checks.
    result = scan_files({"a.yaml": deployment(), "b.yaml": deployment(), "policy.yaml": policy()},
                        select=["missing-network-policy", "image-without-digest"])
    assert sorted((f.path, f.rule_name) for f in result.findings) == [
        ("a.yaml", "image-without-digest"), ("b.yaml", "image-without-digest")]


# -- label selectors -----------------------------------------------------------------------------

LABELS = {"app": "api", "tier": "backend"}


@pytest.mark.parametrize("selector,expected", [
    ({}, True),
    ({"matchLabels": {"app": "api"}}, True),
    ({"matchLabels": {"app": "api", "tier": "backend"}}, True),
    ({"matchLabels": {"app": "web"}}, False),
    ({"matchLabels": {"env": "prod"}}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend", "backend"]}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]}, False),
    ({"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}, False),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]}, True),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["backend"]}]}, False),
    ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
    ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, False),
    ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, True),
    ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
    # matchLabels and matchExpressions are ANDed
    ({"matchLabels": {"app": "api"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["x"]}]}, False),
    # numbers and booleans in YAML are compared as the strings the API server stores
    ({"matchLabels": {"version": 2}}, False),
    # unreadable selectors: None, and the workload is treated as not selected
    ({"matchExpressions": [{"key": "app", "operator": "Matches", "values": ["a.*"]}]}, None),
    ({"matchLabels": ["app=api"]}, None),
    (None, None),
])
def test_selector_matches(selector, expected):
    assert selector_matches(selector, LABELS) is expected


def test_selector_compares_label_values_as_strings():
    assert selector_matches({"matchLabels": {"version": 2}}, {"version": "2"}) is True
