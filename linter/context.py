"""Repository context for scans of individually named files (the pre-commit case).

A pre-commit hook passes only the staged files, so a Deployment committed today would be
reported as ``missing-network-policy`` when its NetworkPolicy was committed last month in another
file; likewise a Pod that inherits ``automountServiceAccountToken: false`` from a
ServiceAccount declared elsewhere.  When files are named explicitly, the cross-file pass
therefore also sees the NetworkPolicies and ServiceAccounts of the rest of the repository (the
git work tree, or the common directory of the named files outside git).  Those context files
are read cheaply -- a file whose raw bytes mention neither kind is never parsed, and of the
others only the documents that do -- and contribute only those resources to the cross-file
facts: no finding or diagnostic is ever reported for them.  A directory scan already sees every
file and skips all of this.
"""
from __future__ import annotations

import os
import re

MARKERS = (b"NetworkPolicy", b"ServiceAccount")
#: the model types context files contribute
CONTEXT_TYPES = frozenset({"network_policy", "service_account"})
# What such a document must contain (YAML or JSON style); CRDs and docs that merely mention the
# word do not, so a 2 MB install.yaml is not parsed for one policy.
_KIND = re.compile(rb"""["']?kind["']?[ \t]*:[ \t]*["']?(?:NetworkPolicy|ServiceAccount)\b""")
_DOCUMENT_START = re.compile(rb"^---", re.MULTILINE)


def wanted(candidates, checks, parsed) -> bool:
    """Worth looking for context: a file was named, a cross-file check runs, and a named file
    holds a workload (NetworkPolicies select it, a ServiceAccount may set its token mounting)."""
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


def network_policies(candidates, opts, cache=None) -> list:
    """NetworkPolicy and ServiceAccount resources of the repository's YAML files other than the
    named ones.
    ``cache``: the run's ResultCache, which keeps each context file's policies by its content."""
    return Lookup(candidates).policies(candidates, opts, cache)


class Lookup:
    """One scan's context search.  Created before the named files are parsed, it starts
    ``git grep`` at once (see _git_marked_files), so git searches the work tree on another core
    while the named files are checked; ``cancel()`` when the context turns out not to be needed."""

    def __init__(self, candidates):
        self.root = context_root([c.path for c in candidates if c.explicit])
        self.proc = _start_git_grep(self.root) if self.root is not None else None

    def cancel(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.communicate()
            self.proc = None

    def policies(self, candidates, opts, cache=None) -> list:
        from .discover import discover

        if self.root is None:
            return []
        scanned = set()
        for c in candidates:
            try:
                st = os.stat(c.path)
            except OSError:
                continue
            scanned.add((st.st_dev, st.st_ino))
        paths = _git_marked_files(self.proc, self.root, opts)
        self.proc = None
        if paths is None:
            paths = [c.path for c in discover([self.root], opts.exclude, False, opts.is_ignored).files
                     if c.kind == "yaml"]
        index = _Index(cache)
        found = []
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in scanned or st.st_size > opts.max_file_size:
                continue
            found.extend(index.resources(path, st))
        index.save()
        return found


class _Index:
    """What each context file contributed, by path, kept in the result cache as one entry and
    trusted while the file's size, mtime and inode are unchanged: one read for the whole
    repository instead of reading and hashing every marked file on every commit.  As git does
    for its index, an entry is not trusted when the file's mtime is within two seconds of when
    it was read (a later edit in the same timestamp tick would go unseen)."""

    NAME = "context-index/v1"
    RACY_NS = 2_000_000_000

    def __init__(self, cache):
        import time

        self.cache = cache
        old = cache.load(self.NAME) if cache is not None else None
        self.old = old if isinstance(old, dict) else {}
        self.new: dict = {}
        self.now = time.time_ns()

    def resources(self, path: str, st) -> list:
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        entry = self.old.get(path)
        if entry is not None and entry[0] == stamp and st.st_mtime_ns < entry[1] - self.RACY_NS:
            self.new[path] = entry
            return entry[2]
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            return []
        found = _file_resources(path, data) if any(m in data for m in MARKERS) else []
        self.new[path] = (stamp, self.now, found)
        return found

    def save(self) -> None:
        if self.cache is not None and (self.new.keys() != self.old.keys()
                                       or any(self.new[p] is not self.old[p] for p in self.new)):
            self.cache.store(self.NAME, self.new)


def _file_resources(path: str, data: bytes) -> list:
    from .scan import parse_bytes

    selected = policy_documents(data)
    if not selected:
        return []
    return [r for r in parse_bytes(path, "yaml", selected).resources if r.type_name in CONTEXT_TYPES]


def _start_git_grep(root: str):
    """``git grep`` for the YAML files of the work tree that mention either kind -- tracked and
    untracked files, minus what git ignores: the files a walk would read.  In a repository of a
    few thousand IaC files it takes ~0.05 s, against ~0.15 s for walking and reading every YAML
    file in Python, which a pre-commit run would pay on every commit.  None when git is missing."""
    import subprocess

    # a hook inherits `git commit`'s GIT_DIR / GIT_INDEX_FILE...; -C root must find the repository itself
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        patterns = [arg for m in MARKERS for arg in ("-e", m.decode())]
        return subprocess.Popen(["git", "-C", root, "grep", "-l", "-z", "-I", "-F", "--untracked", *patterns,
                                 "--", "*.yaml", "*.yml", "*.YAML", "*.YML"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env=env)
    except OSError:
        return None


def _git_marked_files(proc, root: str, opts) -> list[str] | None:
    """The paths ``proc`` (see _start_git_grep) found, filtered by the walk's own rules
    (dot-directories, vendor directories, excluded or ignored directories and files); None
    (walk instead) when git failed: not a work tree, git too old..."""
    import subprocess

    from .discover import SKIP_DIRS, classify

    if proc is None:
        return None
    try:
        stdout, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None
    if proc.returncode not in (0, 1):  # 1: no match
        return None
    verdicts: dict = {}  # files share their directories: judge each directory once

    def _dir_left_out(d: str) -> bool:
        if d not in verdicts:
            verdicts[d] = _left_out(d, True, root, opts)
        return verdicts[d]

    out = []
    for rel in stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not rel:
            continue
        parts = rel.split("/")
        if any(p.startswith(".") or p in SKIP_DIRS for p in parts[:-1]) or classify(parts[-1]) != "yaml":
            continue
        path = os.path.join(root, *parts)
        # the walk prunes an excluded or ignored directory: its files (even tracked ones) are out
        dirs = [os.path.join(root, *parts[:i]) for i in range(1, len(parts))]
        if any(_dir_left_out(d) for d in dirs) or _left_out(path, False, root, opts):
            continue
        out.append(path)
    return out


def _left_out(path: str, is_dir: bool, root: str, opts) -> bool:
    from .discover import excluded

    return bool((opts.exclude and excluded(os.path.relpath(path, root), opts.exclude))
                or (opts.is_ignored and opts.is_ignored(path, is_dir)))


def policy_documents(data: bytes) -> bytes:
    """Only the YAML documents of a stream that declare a NetworkPolicy or mention the
    ServiceAccount kind (line numbers are lost, which is fine: nothing is reported about context
    files)."""
    starts = [m.start() for m in _DOCUMENT_START.finditer(data)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    docs = [data[a:b] for a, b in zip(starts, starts[1:] + [len(data)])]
    keep = [d if d.startswith(b"---") else b"---\n" + d for d in docs if _KIND.search(d)]
    return b"\n".join(keep)


def compute(resources: list, context: list) -> None:
    """Cross-file facts over the scanned resources plus the context's policies and accounts
    (context first: a ServiceAccount in a named file wins over a namesake elsewhere).

    The context holds policies but not the repository's workloads, so "this policy selects no
    workload" cannot be judged for a named policy: it becomes unknown (None) instead of false.
    """
    from .engine import crossfile

    crossfile.compute(list(context) + list(resources))
    for r in resources:
        if r.type_name == "network_policy" and r.selects_any_workload is False:
            r.selects_any_workload = None
