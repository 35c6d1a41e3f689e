"""The suppression pass: inline comments, Kubernetes annotations, configuration and baseline.

Runs after the checks.  Each finding gets ``finding.suppression`` set to the most specific
suppression that covers it (line, then resource, then annotation, then file, then
configuration, then baseline), and stays in the result: reports hide it unless asked to show
it, and the exit code ignores it.

Comment syntax, the same in every format (``#``, ``//`` or ``/* */``)::

    # iaclint: ignore[run-as-root, IAC102] until=2027-03-31 -- reason
    # iaclint: ignore-file[IAC201] -- reason

* On a line of code it covers that line; alone on its line it covers the next line that is not
  itself a comment (comments stack).  When that line is the first line of a resource -- a YAML
  document, a Kubernetes object or container, a Compose service, a Terraform block, a
  Dockerfile stage (its ``FROM``) -- it covers the whole resource: its lines and every resource
  whose identity lies below it (``Deployment/ns/api`` covers ``Deployment/ns/api/container/web``).
  That is how a finding about something *missing* (no USER, no limits), which points at the
  resource's first line, is suppressed.
* ``ignore-file`` anywhere in a file covers the file.
* Brackets are required: a bare ``# iaclint: ignore`` suppresses nothing and is reported by
  ``invalid-suppression`` -- a blanket ignore would also hide every future finding on the line.
* ``until=`` is the last day it applies; after it, it suppresses nothing and
  ``expired-suppression`` says so.
* Only a marker that follows whitespace (or starts the line) and is not inside a quoted string
  counts, so ``echo "# iaclint: ..."`` in a RUN is not a suppression.

The meta checks (target ``suppression``) run here, over the suppressions of this run.  Their
own findings can only be silenced by ``ignore-file``, configuration or the baseline -- never by
a line comment -- so a suppression cannot hide the report about itself.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .model import Location, Suppression

ANNOTATION = "iaclint.io/ignore"
ANNOTATION_REASON = "iaclint.io/ignore-reason"
ANNOTATION_UNTIL = "iaclint.io/ignore-until"

_MARKER = re.compile(r"(?:^|(?<=\s))(#|//|/\*)[ \t]*iaclint:[ \t]*(?P<body>.*)$")
_DIRECTIVE = re.compile(r"(?P<verb>[A-Za-z-]+)(?:\[(?P<ids>[^\]]*)\])?(?P<rest>.*)$")
_ANNOTATION_LINE = re.compile(r"""["']?iaclint\.io/ignore["']?\s*[:=]""")
_YAML_SEPARATOR = re.compile(r"^(?:---|\.\.\.)(?:\s|$)")
_COMMENT_LINE = re.compile(r"^\s*(?:#|//|/\*)")
_YAML_FORMATS = ("kubernetes", "compose")
#: most specific first: the one a finding reports when several cover it
_RANK = {"line": 0, "resource": 1, "annotation": 2, "file": 3}


@dataclass
class PathIgnore:
    """A ``per-path-ignores`` entry of the configuration."""
    pattern: str
    matcher: object          # callable(relative posix path) -> bool
    checks: list             # check ids
    reason: str | None = None
    until: str | None = None
    config_path: str = ""
    line: int | None = None


@dataclass
class SuppressOptions:
    #: every loaded check (resolves names in comments, and tells unknown names apart); None:
    #: only the checks of the run are known, and no name is reported as unknown
    registry: object = None
    path_ignores: list = field(default_factory=list)
    #: directory the per-path-ignores globs are relative to
    root: str = "."
    #: compiled regexes: a finding on a Setting (plaintext-secret, secret-in-env) whose name or value
    #: matches one is suppressed -- facts.secrets has no allow-list hook, so it is applied here
    secret_allow: list = field(default_factory=list)
    secret_allow_source: str = ""
    baseline: object = None          # linter.baseline.Baseline
    today: object = None             # datetime.date; None: the real today


class _Inline:
    """Where an inline suppression applies, kept beside its model object."""
    __slots__ = ("sup", "rank", "lines", "ranges", "idents", "used_ids")

    def __init__(self, sup: Suppression, rank: str):
        self.sup = sup
        self.rank = _RANK[rank]
        self.lines: set = set()
        self.ranges: list = []
        self.idents: list = []
        #: ids of the checks whose findings it covered in this run
        self.used_ids: set = set()

    def covers(self, f) -> bool:
        if self.sup.scope == "file":
            return True
        if f.line in self.lines:
            return True
        for start, end in self.ranges:
            if start <= f.line <= end:
                return True
        res = f.resource or ""
        return any(res == i or res.startswith(i + "/") for i in self.idents)


# -- reading suppressions from a file ---------------------------------------------------------

_OPENERS = " \t:=[{,("


def _in_quotes(prefix: str) -> bool:
    """Does ``prefix`` end inside a quoted string?  A quote opens a string only where a value can
    start (line start, after a space, ``:``, ``=``, a bracket or a comma), so the apostrophe of
    ``it's`` is not one; ``\\"`` does not close a double-quoted string; YAML's ``''`` works out."""
    state = None
    prev = ""
    i = 0
    while i < len(prefix):
        c = prefix[i]
        if state is None:
            if c in "\"'" and (not prev or prev in _OPENERS):
                state = c
        elif state == '"' and c == "\\":
            i += 1
        elif c == state:
            state = None
        prev = c
        i += 1
    return state is not None


def find_comments(lines: list[str]):
    """Yield (line, column, body, trailing) for every ``iaclint:`` comment marker."""
    for i, text in enumerate(lines, 1):
        if "iaclint:" not in text:
            continue
        for m in _MARKER.finditer(text):
            prefix = text[: m.start()]
            if _in_quotes(prefix):
                continue
            body = m.group("body")
            if m.group(1) == "/*":
                body = body.split("*/", 1)[0]
            yield i, m.start() + 1, body.strip(), bool(prefix.strip())
            break


def _parse_date(text: str):
    import datetime

    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


class _Resolver:
    def __init__(self, registry, checks):
        self.registry = registry
        self.by_key = {}
        for c in checks:
            self.by_key[c.id] = c
            self.by_key[c.name] = c

    def lookup(self, token: str):
        if self.registry is not None:
            return self.registry.get(token)
        return self.by_key.get(token) or self.by_key.get(token.upper())


def _set_targets(sup: Suppression, tokens: list[str], resolver: _Resolver, problems: list[str]) -> None:
    for tok in tokens:
        sup.written.append(tok)
        c = resolver.lookup(tok)
        if c is not None:
            if c.id not in sup.checks:
                sup.checks.append(c.id)
        elif resolver.registry is not None:
            problems.append(f"unknown check '{tok}' (see `iaclint rules`)")


def _set_until(sup: Suppression, until: str | None, today, problems: list[str]) -> bool:
    """False when the date is malformed (the suppression then applies to nothing)."""
    if until is None:
        return True
    d = _parse_date(until)
    if d is None:
        problems.append(f"invalid date until={until} (expected YYYY-MM-DD)")
        return False
    sup.until = d.isoformat()
    sup.expired = today > d
    return True


def parse_comment(pf, line: int, column: int, body: str, resolver: _Resolver, today) -> Suppression:
    m = _DIRECTIVE.match(body)
    verb = m.group("verb") if m else ""
    scope = "file" if verb == "ignore-file" else "line"
    sup = Suppression(pf.format, pf.path, f"{pf.path}:{line}", Location(pf.path, line, column), "comment", scope,
                      "inSource")
    problems: list[str] = []
    if verb not in ("ignore", "ignore-file"):
        problems.append(f"unknown directive {body.split()[0] if body else '(empty)'!r}; "
                        "expected ignore[CHECK, ...] or ignore-file[CHECK, ...]")
    elif m.group("ids") is None:
        problems.append(f"`{verb}` needs the checks it ignores in brackets, e.g. {verb}[run-as-root]; "
                        "a blanket ignore is not supported")
    else:
        tokens = [t.strip() for t in m.group("ids").split(",") if t.strip()]
        if not tokens:
            problems.append(f"`{verb}[]` names no check")
        _set_targets(sup, tokens, resolver, problems)
        rest = m.group("rest").strip()
        until = None
        if rest.startswith("until="):
            until, _, rest = rest[len("until="):].partition(" ")
            rest = rest.strip()
        if rest.startswith("--"):
            rest = rest[2:].strip()
        sup.reason = rest or None
        if not _set_until(sup, until, today, problems):
            sup.checks = []
    sup.problem = "; ".join(problems) or None
    return sup


# -- where a suppression applies --------------------------------------------------------------

def _target_line(lines: list[str], line: int, yaml: bool) -> int | None:
    """The line a comment standing alone on ``line`` applies to: the next non-comment line."""
    i = line  # 0-based index of the following line
    while i < len(lines):
        text = lines[i]
        if _COMMENT_LINE.match(text) or (yaml and _YAML_SEPARATOR.match(text)):
            i += 1
            continue
        return i + 1 if text.strip() else None
    return None


def _content_line(lines: list[str], n: int) -> bool:
    t = lines[n - 1].strip() if 0 < n <= len(lines) else ""
    return bool(t) and not t.startswith("#") and not _YAML_SEPARATOR.match(t)


def _effective_end(res, lines: list[str], yaml: bool) -> int:
    """Last line of a resource.  libyaml ends a block mapping where the next token starts: often
    the next list item or the next document's ``---``.  Such a line (not content, or indented
    less than the resource) is outside; so are the blank and comment lines before it."""
    end = min(max(res.end_line, res.loc.line), len(lines))
    if not yaml or end <= res.loc.line:
        return end
    text = lines[end - 1]
    if not _content_line(lines, end) or len(text) - len(text.lstrip()) < res.loc.column - 1:
        end -= 1
    while end > res.loc.line and not _content_line(lines, end):
        end -= 1
    return end


class _Starts:
    """Resources by first line, for one file: line -> [(start, end, ident or None)]."""

    def __init__(self, pf):
        lines = pf.lines or []
        yaml = pf.format in _YAML_FORMATS
        self.by_line: dict[int, list] = {}
        froms = []
        for r in pf.resources:
            self.by_line.setdefault(r.loc.line, []).append((r.loc.line, _effective_end(r, lines, yaml), r.ident))
            if pf.format == "dockerfile" and r.type_name == "instruction" and r.keyword == "FROM":
                froms.append(r)
        # A Dockerfile stage is not a model resource: it runs from its FROM to the next FROM, and
        # everything the parser put under its ident prefix (Dockerfile:stage[1]/build/...) is in it.
        froms.sort(key=lambda r: r.loc.line)
        for k, r in enumerate(froms):
            end = froms[k + 1].loc.line - 1 if k + 1 < len(froms) else len(lines)
            self.by_line.setdefault(r.loc.line, []).append((r.loc.line, end, r.ident.rpartition("/")[0]))
        if yaml:
            for start, end in _yaml_documents(lines):
                self.by_line.setdefault(start, []).append((start, end, None))


def _yaml_documents(lines: list[str]):
    start = last = None
    for i, text in enumerate(lines + ["---"], 1):
        if _YAML_SEPARATOR.match(text):
            if start is not None:
                yield start, last
            start = last = None
        elif _content_line(lines, i) and not text.startswith("%"):
            if start is None:
                start = i
            last = i


def _place(inl: _Inline, pf, starts: _Starts, line: int, trailing: bool) -> None:
    sup = inl.sup
    if sup.scope == "file":
        return
    target = line if trailing else _target_line(pf.lines, line, pf.format in _YAML_FORMATS)
    if target is None:
        return
    inl.lines.add(target)
    spans = starts.by_line.get(target)
    if spans:
        sup.scope = "resource"
        inl.rank = _RANK["resource"]
        for start, end, ident in spans:
            inl.ranges.append((start, end))
            if ident:
                inl.idents.append(ident)


def _annotation_suppressions(pf, starts: _Starts, resolver: _Resolver, today) -> list[_Inline]:
    """One suppression per annotation in the source, covering every resource that carries it."""
    by_line: dict[int, _Inline] = {}
    lines = pf.lines or []
    yaml = pf.format in _YAML_FORMATS
    for r in pf.resources:
        ann = r.annotations
        if not ann or ANNOTATION not in ann:
            continue
        line, col = r.loc.line, r.loc.column
        for n in range(r.loc.line, _effective_end(r, lines, yaml) + 1):
            m = _ANNOTATION_LINE.search(lines[n - 1]) if n <= len(lines) else None
            if m:
                line, col = n, m.start() + 1
                break
        inl = by_line.get(line)
        if inl is None:
            sup = Suppression(pf.format, pf.path, f"{pf.path}:{line}", Location(pf.path, line, col), "annotation",
                              "resource", "inSource")
            problems: list[str] = []
            value = ann.get(ANNOTATION)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"annotation {ANNOTATION} must be a string of check ids or names, "
                                "comma-separated")
            else:
                _set_targets(sup, [t.strip() for t in value.split(",") if t.strip()], resolver, problems)
            reason = ann.get(ANNOTATION_REASON)
            sup.reason = reason.strip() if isinstance(reason, str) and reason.strip() else None
            until = ann.get(ANNOTATION_UNTIL)
            if until is not None and not _set_until(sup, str(until), today, problems):
                sup.checks = []
            sup.problem = "; ".join(problems) or None
            inl = by_line[line] = _Inline(sup, "annotation")
        inl.idents.append(r.ident)
    return list(by_line.values())


def collect_inline(pf, resolver: _Resolver, today) -> list[_Inline]:
    if pf.lines is None:
        return []
    out: list[_Inline] = []
    starts = None
    for line, col, body, trailing in find_comments(pf.lines):
        if starts is None:
            starts = _Starts(pf)
        sup = parse_comment(pf, line, col, body, resolver, today)
        inl = _Inline(sup, sup.scope)
        _place(inl, pf, starts, line, trailing)
        out.append(inl)
    if any(r.annotations and ANNOTATION in r.annotations for r in pf.resources):
        out.extend(_annotation_suppressions(pf, starts or _Starts(pf), resolver, today))
    return out


# -- the pass ---------------------------------------------------------------------------------

def apply_suppressions(parsed, findings, checks, opts: SuppressOptions | None = None):
    """Mark findings suppressed; return (findings + meta findings, extra diagnostics)."""
    opts = opts or SuppressOptions()
    today = opts.today
    resolver = _Resolver(opts.registry, checks)
    inline_by_path: dict[str, list[_Inline]] = {}
    for pf in parsed:
        if pf.lines is not None:
            if today is None:
                import datetime

                today = datetime.date.today()
            sups = collect_inline(pf, resolver, today)
            if sups:
                inline_by_path[pf.path] = sups

    for f in findings:
        _match_inline(f, inline_by_path.get(f.path), file_only=False)

    meta = [c for c in checks if c.target == "suppression"]
    meta_findings = []
    if meta and inline_by_path:
        from .engine.run import run_checks

        selected = {c.id for c in checks} - {c.id for c in meta}
        models = []
        for sups in inline_by_path.values():
            for inl in sups:
                s = inl.sup
                if not s.expired:
                    s.unused_checks = _unused(s, inl.used_ids, selected, resolver)
                models.append(s)
        meta_findings = run_checks(meta, models)
        for f in meta_findings:
            _match_inline(f, inline_by_path.get(f.path), file_only=True)
        findings = findings + meta_findings

    if meta_findings:
        from .engine.run import Finding

        findings.sort(key=Finding.sort_key)
    diagnostics = []
    if opts.path_ignores or opts.secret_allow:
        diagnostics.extend(_apply_config(findings, parsed, checks, opts, today))
    if opts.baseline is not None:
        opts.baseline.apply(findings)  # last, in report order: twins are numbered in that order
    return findings, diagnostics


def _unused(sup: Suppression, used: set, selected: set, resolver: _Resolver) -> list[str]:
    """The names, as written, of checks that ran but had nothing here to silence."""
    out = []
    for tok in sup.written:
        c = resolver.lookup(tok)
        if c is not None and c.id in selected and c.id not in used and tok not in out:
            out.append(tok)
    return out


def _match_inline(f, sups, file_only: bool) -> None:
    if not sups:
        return
    best = None
    for inl in sups:
        s = inl.sup
        if s.expired or f.rule_id not in s.checks:
            continue
        if file_only and s.scope != "file":
            continue
        if inl.covers(f):
            s.used = True
            inl.used_ids.add(f.rule_id)
            if best is None or inl.rank < best.rank:
                best = inl
    if best is not None:
        f.suppression = best.sup


def _apply_config(findings, parsed, checks, opts: SuppressOptions, today) -> list:
    from .model import Diagnostic

    diagnostics = []
    if today is None:
        import datetime

        today = datetime.date.today()
    live = []
    for pi in opts.path_ignores:
        sup = Suppression("config", pi.config_path, f'per-path-ignores["{pi.pattern}"]',
                          Location(pi.config_path, pi.line or 1), "config", "path", "external")
        sup.checks = list(pi.checks)
        sup.reason = pi.reason
        if pi.until:
            d = _parse_date(pi.until)
            sup.until = pi.until
            if d is not None and today > d:
                diagnostics.append(Diagnostic(pi.config_path, pi.line, f"per-path-ignores '{pi.pattern}' expired on "
                                              f"{pi.until}; it no longer suppresses anything", level="warning"))
                continue
        live.append((pi, sup))
    root = os.path.abspath(opts.root)
    rel_cache: dict[str, str] = {}
    setting_targets = {c.id for c in checks if c.target == "setting"}
    settings = None
    allow_sup = None
    if opts.secret_allow:
        allow_sup = Suppression("config", opts.secret_allow_source, "secrets.allow",
                                Location(opts.secret_allow_source, 1), "config", "secrets", "external")
    for f in findings:
        if f.suppression is not None:
            continue
        if live:
            rel = rel_cache.get(f.path)
            if rel is None:
                rel = rel_cache[f.path] = os.path.relpath(os.path.abspath(f.path), root).replace(os.sep, "/")
            for pi, sup in live:
                if f.rule_id in pi.checks and pi.matcher(rel):
                    sup.used = True
                    f.suppression = sup
                    break
        if f.suppression is None and allow_sup is not None and f.rule_id in setting_targets:
            if settings is None:
                settings = {(r.path, r.ident): r for pf in parsed for r in pf.resources if r.type_name == "setting"}
            s = settings.get((f.path, f.resource))
            if s is not None and _allowed(s, opts.secret_allow):
                f.suppression = allow_sup
    return diagnostics


def _allowed(setting, patterns) -> bool:
    for rx in patterns:
        for v in (setting.name, setting.value):
            if isinstance(v, str) and rx.search(v):
                return True
    return False
