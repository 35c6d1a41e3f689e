"""Finding the files to scan and deciding their format by name.

Directories are walked without following symlinks out of the scanned tree; dot-directories and
dependency/vendor directories are skipped; FIFOs, sockets and devices are never opened.  Files
named explicitly on the command line are always scanned.
"""
from __future__ import annotations

import fnmatch
import os
import stat
from dataclasses import dataclass, field

SKIP_DIRS = {"node_modules", "vendor", "__pycache__", "site-packages", "venv"}


@dataclass
class Candidate:
    path: str            # as the user would write it (relative paths stay relative)
    kind: str            # "dockerfile" | "yaml" | "terraform" | "terraform-json" | "terraform-vars"
    size: int
    explicit: bool = False


@dataclass
class Discovery:
    files: list[Candidate] = field(default_factory=list)
    #: (path, message) for paths that could not be used, e.g. a missing path (usage error)
    missing: list[str] = field(default_factory=list)
    #: (path, line, message, level) notices about skipped things
    notices: list[tuple] = field(default_factory=list)
    #: directories holding Terraform files, for tfvars lookup
    helm_charts: list[str] = field(default_factory=list)


def classify(name: str) -> str | None:
    lower = name.lower()
    if lower in ("dockerfile", "containerfile") or lower.startswith(("dockerfile.", "dockerfile-", "dockerfile_",
                                                                        "containerfile.")) \
            or lower.endswith(".dockerfile"):
        if lower.endswith((".yaml", ".yml", ".md", ".txt", ".json", ".sh", ".template", ".tmpl", ".j2", ".orig",
                           ".dockerignore", ".bak")):
            return None
        return "dockerfile"
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith(".tf"):
        return "terraform"
    if lower.endswith(".tf.json"):
        return "terraform-json"
    if lower.endswith((".tfvars", ".tfvars.json")):
        return "terraform-vars"  # read by its module's parse; named alone, it stands for its module
    return None


def discover(paths: list[str], exclude: list[str] | None = None, follow_links: bool = False,
             is_ignored=None) -> Discovery:
    out = Discovery()
    seen: set = set()
    exclude = exclude or []
    for p in paths:
        try:
            st = os.stat(p)
        except FileNotFoundError:
            out.missing.append(p)
            continue
        except OSError as exc:
            out.missing.append(f"{p} ({exc.strerror})")
            continue
        if stat.S_ISDIR(st.st_mode):
            _walk(p, out, seen, exclude, follow_links, is_ignored)
        elif stat.S_ISREG(st.st_mode):
            kind = classify(os.path.basename(p)) or _sniff_kind(p)
            key = _key(p, st)
            if key not in seen:
                seen.add(key)
                out.files.append(Candidate(p, kind, st.st_size, explicit=True))
        else:
            out.notices.append((p, None, "not a regular file (FIFO, socket or device); skipped", "notice"))
    return out


def _key(path: str, st) -> tuple:
    return (st.st_dev, st.st_ino)


def _sniff_kind(path: str) -> str:
    """An explicitly named file with an unusual name: YAML unless it reads like a Dockerfile."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return "yaml"
    for line in head.decode("utf-8", "replace").splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        return "dockerfile" if s.split(None, 1)[0].upper() in ("FROM", "ARG") else "yaml"
    return "yaml"


def excluded(rel: str, exclude: list[str]) -> bool:
    return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(os.path.basename(rel), pat) for pat in exclude)


def _walk(top: str, out: Discovery, seen: set, exclude, follow_links: bool, is_ignored) -> None:
    real_top = os.path.realpath(top)
    stack = [top]
    visited_dirs: set = set()
    while stack:
        d = stack.pop()
        try:
            st = os.stat(d)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in visited_dirs:
            continue  # symlink loop
        visited_dirs.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except PermissionError:
            out.notices.append((d, None, "directory not readable (permission denied); skipped", "error"))
            continue
        except OSError as exc:
            out.notices.append((d, None, f"directory not readable ({exc.strerror}); skipped", "error"))
            continue
        names = {e.name for e in entries}
        if "Chart.yaml" in names and "templates" in names:
            out.notices.append((_join(d, "templates"), None,
                                "Helm chart templates are not rendered; run `helm template` and scan its output",
                                "notice"))
            out.helm_charts.append(d)
        subdirs = []
        for e in entries:
            name = e.name
            path = _join(d, name)
            st = None
            try:
                if e.is_symlink():
                    target = os.path.realpath(path)
                    if not follow_links and not (target == real_top or target.startswith(real_top + os.sep)):
                        out.notices.append((path, None, "symlink points outside the scanned tree; not followed",
                                            "notice"))
                        continue
                    st = e.stat(follow_symlinks=True)
                    is_dir = stat.S_ISDIR(st.st_mode)
                else:
                    is_dir = e.is_dir(follow_symlinks=False)  # the directory entry's type: no system call
            except OSError:
                if e.is_symlink():
                    out.notices.append((path, None, "broken or looping symlink; skipped", "notice"))
                continue
            if is_dir:
                if name.startswith(".") or name in SKIP_DIRS:
                    continue
                if d in out.helm_charts and name == "templates":
                    continue
                if (exclude and excluded(os.path.relpath(path, top), exclude)) or (is_ignored and
                                                                                    is_ignored(path, True)):
                    continue
                subdirs.append(path)
                continue
            # most files of a repository are not ours: classify by name before any stat
            kind = classify(name)
            if kind is None:
                continue
            if st is None:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
            if not stat.S_ISREG(st.st_mode):
                out.notices.append((path, None, "not a regular file (FIFO, socket or device); skipped", "notice"))
                continue
            if (exclude and excluded(os.path.relpath(path, top), exclude)) or (is_ignored and
                                                                                is_ignored(path, False)):
                continue
            key = _key(path, st)
            if key in seen:
                continue
            seen.add(key)
            out.files.append(Candidate(path, kind, st.st_size))
        stack.extend(reversed(subdirs))


def _join(d: str, name: str) -> str:
    return name if d == "." else os.path.join(d, name)
