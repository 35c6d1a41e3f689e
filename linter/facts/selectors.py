"""Kubernetes label selectors (matchLabels and matchExpressions)."""
from __future__ import annotations


def selector_matches(selector, labels: dict) -> bool | None:
    """True/False, or None for a selector we cannot read (then it is assumed not to match).

    An empty selector (``{}``) selects every pod; a null podSelector in a NetworkPolicy is
    normalized to ``{}`` by the parser, as the API server does.
    """
    if selector is None or not isinstance(selector, dict):
        return None
    ml = selector.get("matchLabels") or {}
    if not isinstance(ml, dict):
        return None
    for k, v in ml.items():
        if labels.get(str(k)) != str(v):
            return False
    exprs = selector.get("matchExpressions") or []
    if not isinstance(exprs, list):
        return None
    for e in exprs:
        if not isinstance(e, dict):
            return None
        key, op = str(e.get("key")), e.get("operator")
        values = [str(x) for x in (e.get("values") or [])]
        if op == "In":
            if labels.get(key) not in values:
                return False
        elif op == "NotIn":
            if key in labels and labels[key] in values:
                return False
        elif op == "Exists":
            if key not in labels:
                return False
        elif op == "DoesNotExist":
            if key in labels:
                return False
        else:
            return None
    return True
