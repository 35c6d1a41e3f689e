"""Facts that need every file of a scan at once (computed after parsing, before cross-file checks).

Service accounts: a pod spec that leaves ``automountServiceAccountToken`` unset inherits its
ServiceAccount's setting, when that ServiceAccount is in the scan.

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
    accounts = {(r.namespace, r.name): r for r in resources if r.type_name == "service_account"}
    for w in workloads:
        own = w.automount_token
        if own is not None:
            w.automount_token_effective = own
            continue
        sa = accounts.get((w.namespace, w.service_account or "default"))
        w.automount_token_effective = sa.automount_token if sa is not None else None
