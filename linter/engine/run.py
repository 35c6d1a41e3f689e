"""Running compiled checks over the model: per file, then across files."""
from __future__ import annotations

from typing import Iterable

from ..model import UNKNOWN, Location, Resource, Setting
from .checks import Check, format_value


class Finding:
    __slots__ = ("rule_id", "rule_name", "severity", "path", "line", "column", "end_line", "end_column",
                 "message", "resource", "field", "format", "suppression")

    def __init__(self, check: Check, res: Resource, loc: Location, message: str, field: str | None):
        self.rule_id = check.id
        self.rule_name = check.name
        self.severity = check.severity
        self.path = loc.path
        self.line = loc.line
        self.column = loc.column or 1
        self.end_line = loc.end_line or loc.line
        self.end_column = loc.end_column or 0
        self.message = message
        self.resource = res.ident
        self.field = field
        self.format = res.format
        #: set by the suppression pass: a Suppression (or None)
        self.suppression = None

    def sort_key(self):
        return (self.path, self.line, self.column, self.rule_id, self.resource, self.message)

    def __getstate__(self):
        return tuple(getattr(self, s) for s in self.__slots__)

    def __setstate__(self, state):
        for s, v in zip(self.__slots__, state):
            setattr(self, s, v)

    def __repr__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.rule_id} {self.rule_name}: {self.message}"


class _Fields(dict):
    """Message template namespace: resolves ``{field}`` and ``{dotted.field}`` on the resource.
    A setting's value is always masked, so no template can print a secret."""

    def __init__(self, res: Resource):
        super().__init__()
        self.res = res

    def __missing__(self, key):
        return _Attr(self.res, key)


class _Attr:
    __slots__ = ("obj", "name")

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def value(self):
        if isinstance(self.obj, Setting) and self.name == "value":
            return self.obj.masked_value
        return getattr(self.obj, self.name, None)

    def __getattr__(self, name):
        return _Attr(self.value(), name)

    def __format__(self, spec):
        return format(format_value(self.value()), spec)


def render_message(template: str, res: Resource) -> str:
    if "{" not in template:
        return template
    try:
        return template.format_map(_Fields(res))
    except (ValueError, IndexError, KeyError, AttributeError):
        return template


def _location(check: Check, res: Resource, fields: tuple) -> tuple[Location, str | None]:
    # A check that names its location fields means exactly those (then the resource itself);
    # otherwise the fields whose predicates held.
    for field in check.location or fields:
        obj, name = res, field
        if "." in field:
            head, _, name = field.rpartition(".")
            for part in head.split("."):
                obj = getattr(obj, part, None)
                if obj is None or obj is UNKNOWN or not isinstance(obj, Resource):
                    break
            if not isinstance(obj, Resource):
                continue
            if name not in obj.locs:
                return obj.loc, field  # a sub-resource (image) is its own best location
        loc = obj.locs.get(name)
        if loc is not None:
            return loc, field
    return res.loc, None


def _bucket(targets: list[Resource], field: str) -> dict:
    """Resources by the value of one field, each bucket in resource order (unhashable values:
    no bucket, as no equality index can select them)."""
    buckets: dict = {}
    for r in targets:
        v = getattr(r, field, None)
        try:
            buckets.setdefault(v, []).append(r)
        except TypeError:
            pass
    return buckets


#: below this many resources of a type, evaluating a check on each beats building an index
_INDEX_MIN = 4


def run_checks(checks: Iterable[Check], resources: list[Resource]) -> list[Finding]:
    by_type: dict[str, list[Resource]] = {}
    for r in resources:
        by_type.setdefault(r.type_name, []).append(r)
    indexed: dict[tuple, dict] = {}
    findings: list[Finding] = []
    for check in checks:
        targets = by_type.get(check.target)
        if not targets:
            continue
        if check.index is not None and len(targets) >= _INDEX_MIN:
            field, values = check.index
            key = (check.target, field)
            buckets = indexed.get(key)
            if buckets is None:
                buckets = indexed[key] = _bucket(targets, field)
            chosen = [b for v in values if (b := buckets.get(v))]
            if not chosen:
                continue
            if len(chosen) == 1:
                targets = chosen[0]
            else:
                wanted = {id(r) for b in chosen for r in b}
                targets = [r for r in targets if id(r) in wanted]
        evaluate = check.compile()
        formats = check.format_set
        for res in targets:
            if formats is not None and res.format not in formats:
                continue
            truth, fields = evaluate(res)
            if truth:
                loc, field = _location(check, res, fields)
                findings.append(Finding(check, res, loc, render_message(check.message, res), field))
    return findings
