"""Repository context for scans of individually named files (the pre-commit case).

A pre-commit hook passes only the staged files, so a Deployment committed today would be
reported as ``missing-network-policy`` when its NetworkPolicy was committed last month in another
file.  When files are named explicitly, the cross-file pass therefore also sees the
NetworkPolicies of the rest of the repository (the git work tree, or the common directory of the
named files outside git).  Those context files are read cheaply -- a file whose raw bytes do not
mention ``NetworkPolicy`` is never parsed -- and contribute only their NetworkPolicy resources
to the cross-file facts: no finding or diagnostic is ever reported for them.  A directory scan
already sees every file and skips all of this.
"""
from __future__ import annotations

import os
import re

MARKER = b"NetworkPolicy"
# What a NetworkPolicy document must contain (YAML or JSON style); CRDs and docs that merely
# mention the word do not, so a 2 MB install.yaml is not parsed for one policy.
_KIND = re.compile(rb"""["']?kind["']?[ \t]*:[ \t]*["']?NetworkPolicy\b""")
_DOCUMENT_START = re.compile(rb"^---", re.MULTILINE)


def wanted(candidates, checks, parsed) -> bool:
    """Worth looking for context: a file was named, a cross-file check runs, and a named file
    holds a workload that NetworkPolicies apply to."""
    if not any(c.explicit for c in candidates) or not any(c.cross_file for c in checks):
        return False
    return any(r.type_name == "workload" and getattr(r, "network_policy_scope", False)
               for pf in parsed for r in pf.resources)


def context_root(paths: list[str]) -> str | None:
    """The git work tree holding the named files, else their common directory; None when that
    would be the filesystem root or the home directory (too much to walk for a guess)."""
    dirs = [os.path.dirname(os.path.abspath(p)) for p in paths]
    try:
        common = os.path.commonpath(dirs)
    except ValueError:
        return None
    d = common
    while True:
        if os.path.exists(os.path.join(d, ".git")):  # a directory, or a file in worktrees/submodules
            return d
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    if common == os.path.dirname(common) or common == os.path.expanduser("~"):
        return None
    return common


def network_policies(candidates, opts) -> list:
    """NetworkPolicy resources of the repository's YAML files other than the named ones."""
    from .discover import discover
    from .scan import parse_bytes

    named = [c.path for c in candidates if c.explicit]
    root = context_root(named)
    if root is None:
        return []
    scanned = set()
    for c in candidates:
        try:
            st = os.stat(c.path)
        except OSError:
            continue
        scanned.add((st.st_dev, st.st_ino))
    policies = []
    for cand in discover([root], opts.exclude, False, opts.is_ignored).files:
        if cand.kind != "yaml" or cand.size > opts.max_file_size:
            continue
        try:
            st = os.stat(cand.path)
            if (st.st_dev, st.st_ino) in scanned:
                continue
            with open(cand.path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if MARKER not in data:
            continue
        selected = policy_documents(data)
        if selected:
            pf = parse_bytes(cand.path, "yaml", selected)
            policies.extend(r for r in pf.resources if r.type_name == "network_policy")
    return policies


def policy_documents(data: bytes) -> bytes:
    """Only the YAML documents of a stream that declare a NetworkPolicy (line numbers are lost,
    which is fine: nothing is reported about context files)."""
    starts = [m.start() for m in _DOCUMENT_START.finditer(data)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    docs = [data[a:b] for a, b in zip(starts, starts[1:] + [len(data)])]
    keep = [d if d.startswith(b"---") else b"---\n" + d for d in docs if _KIND.search(d)]
    return b"\n".join(keep)


def compute(resources: list, context: list) -> None:
    """Cross-file facts over the scanned resources plus context policies.

    The context holds policies but not the repository's workloads, so "this policy selects no
    workload" cannot be judged for a named policy: it becomes unknown (None) instead of false.
    """
    from .engine import crossfile

    crossfile.compute(list(resources) + list(context))
    for r in resources:
        if r.type_name == "network_policy" and r.selects_any_workload is False:
            r.selects_any_workload = None
