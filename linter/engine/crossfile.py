"""Facts that need every file of a scan at once (computed after parsing, before cross-file checks).

Network policies follow kube-score's semantics: a workload is covered when a NetworkPolicy in its
namespace selects its pod labels.  A policy without a namespace lives in ``default`` (as
``kubectl apply`` would put it), never in every namespace.
"""
from __future__ import annotations

from ..facts.selectors import selector_matches


def compute(resources) -> None:
    workloads = [r for r in resources if r.type_name == "workload" and r.network_policy_scope]
    policies = [r for r in resources if r.type_name == "network_policy"]
    by_ns: dict = {}
    for p in policies:
        by_ns.setdefault(p.namespace, []).append(p)
        # With no workload in the scan at all (a policies-only repo or commit) we cannot judge.
        p.selects_any_workload = False if workloads else None
    for w in workloads:
        covered = False
        types: set = set()
        for p in by_ns.get(w.namespace, ()):
            if selector_matches(p.pod_selector, w.labels):
                covered = True
                types.update(p.policy_types)
                p.selects_any_workload = True
        w.network_policy_selected = covered
        w.network_policy_types = sorted(types)
