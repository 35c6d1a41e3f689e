"""The condition language, compiled once into closures.

A condition is ``{all: [...]}``, ``{any: [...]}``, ``{not: cond}`` or a field predicate
``{field: dotted.name, <operator>: operand}``.  Evaluation is three-valued: a predicate over a
value that is UNKNOWN (unresolved variable, unevaluated expression) yields ``None``, and
``all``/``any``/``not`` propagate ``None`` the Kleene way.  A check fires only on ``True``, so an
unknown value is never a violation -- not even under ``not``.

Each compiled node returns ``(truth, fields)`` where ``fields`` lists the dotted fields whose
predicates made it true, so the engine can point a finding at the offending key.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from ..model import UNKNOWN
from .prefilter import guard

Compiled = Callable[[Any], tuple]

OPERATORS = ("equals", "not_equals", "in", "not_in", "exists", "missing", "matches", "not_matches",
             "gt", "ge", "lt", "le", "contains", "contains_any", "contains_all", "contains_other_than",
             "any_matches", "starts_with_any", "is_empty", "not_empty")


class ConditionError(ValueError):
    """A condition that cannot be compiled; ``path`` is the JSON path inside the check file."""

    def __init__(self, message: str, path: tuple = ()):
        super().__init__(message)
        self.path = path


def resolve_field(obj, dotted: tuple[str, ...]):
    for part in dotted:
        if obj is None or obj is UNKNOWN:
            return obj
        try:
            obj = getattr(obj, part)
        except AttributeError:
            return None
    return obj


def _norm_list(v):
    if v is None:
        return []
    if isinstance(v, (list, tuple, set)):
        return list(v)
    return [v]


def _predicate(op: str, operand, path: tuple) -> Callable[[Any], bool | None]:
    if op == "equals":
        return lambda v: v == operand
    if op == "not_equals":
        return lambda v: v != operand
    if op in ("in", "not_in"):
        if not isinstance(operand, list):
            raise ConditionError(f"'{op}' needs a list", path)
        items = set(operand) if all(isinstance(x, (str, int, float, bool)) for x in operand) else operand
        return (lambda v: _hashable(v) and v in items) if op == "in" else (lambda v: not (_hashable(v) and v in items))
    if op == "exists":
        want = bool(operand)
        return lambda v: (v is not None and v != [] and v != {}) == want
    if op == "missing":
        want = bool(operand)
        return lambda v: (v is None or v == [] or v == {}) == want
    if op in ("is_empty", "not_empty"):
        want = bool(operand) == (op == "is_empty")
        return lambda v: (len(_norm_list(v)) == 0) == want
    if op in ("matches", "not_matches", "any_matches"):
        try:
            rx = re.compile(operand)
        except (re.error, TypeError) as exc:
            raise ConditionError(f"bad regular expression {operand!r}: {exc}", path) from None
        may_match = guard(operand)
        if may_match is None:
            def found(v) -> bool:
                return isinstance(v, str) and rx.search(v) is not None
        else:
            def found(v) -> bool:
                return isinstance(v, str) and may_match(v) and rx.search(v) is not None
        if op == "matches":
            return found
        if op == "not_matches":
            return lambda v: not found(v)
        return lambda v: any(found(x) for x in _norm_list(v))
    if op in ("gt", "ge", "lt", "le"):
        if not isinstance(operand, (int, float)) or isinstance(operand, bool):
            raise ConditionError(f"'{op}' needs a number", path)
        cmp = {"gt": lambda a: a > operand, "ge": lambda a: a >= operand,
               "lt": lambda a: a < operand, "le": lambda a: a <= operand}[op]
        return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and cmp(v)
    if op == "contains":
        return lambda v: operand in _norm_list(v)
    if op in ("contains_any", "contains_all", "contains_other_than", "starts_with_any"):
        if not isinstance(operand, list):
            raise ConditionError(f"'{op}' needs a list", path)
        s = set(operand)
        if op == "contains_any":
            return lambda v: any(_hashable(x) and x in s for x in _norm_list(v))
        if op == "contains_all":
            return lambda v: s.issubset(x for x in _norm_list(v) if _hashable(x))
        if op == "starts_with_any":
            prefixes = tuple(str(p) for p in operand)
            return lambda v: isinstance(v, str) and v.startswith(prefixes)
        return lambda v: any(not (_hashable(x) and x in s) for x in _norm_list(v))
    raise ConditionError(f"unknown operator '{op}'", path)


def _hashable(v) -> bool:
    try:
        hash(v)
        return True
    except TypeError:
        return False


def compile_condition(cond, field_ok: Callable[[tuple], str | None], params: dict, path: tuple = ()) -> Compiled:
    """``field_ok(dotted)`` returns an error message for an unknown field, or None."""
    if not isinstance(cond, dict) or not cond:
        raise ConditionError("a condition must be a non-empty mapping", path)
    if "all" in cond or "any" in cond:
        key = "all" if "all" in cond else "any"
        if len(cond) != 1:
            raise ConditionError(f"'{key}' must stand alone in its mapping", path)
        subs = cond[key]
        if not isinstance(subs, list) or not subs:
            raise ConditionError(f"'{key}' needs a non-empty list of conditions", path + (key,))
        compiled = [compile_condition(s, field_ok, params, path + (key, i)) for i, s in enumerate(subs)]
        return _all(compiled) if key == "all" else _any(compiled)
    if "not" in cond:
        if len(cond) != 1:
            raise ConditionError("'not' must stand alone in its mapping", path)
        inner = compile_condition(cond["not"], field_ok, params, path + ("not",))

        def _not(obj):
            t, _ = inner(obj)
            return (None if t is None else not t), ()

        return _not
    if "field" not in cond:
        raise ConditionError("expected 'all', 'any', 'not' or 'field'", path)
    field = cond["field"]
    if not isinstance(field, str) or not field:
        raise ConditionError("'field' must be a dotted field name", path + ("field",))
    dotted = tuple(field.split("."))
    problem = field_ok(dotted)
    if problem:
        raise ConditionError(problem, path + ("field",))
    ops = [k for k in cond if k != "field"]
    if len(ops) != 1:
        raise ConditionError(f"a predicate needs exactly one operator besides 'field' (one of: {', '.join(OPERATORS)})",
                             path)
    op = ops[0]
    if op not in OPERATORS:
        raise ConditionError(f"unknown operator '{op}' (expected one of: {', '.join(OPERATORS)})", path + (op,))
    operand = cond[op]
    if isinstance(operand, dict) and set(operand) == {"param"}:
        pname = operand["param"]
        if pname not in params:
            raise ConditionError(f"operand refers to parameter '{pname}', which the check does not declare",
                                 path + (op,))
        operand = params[pname]
    test = _predicate(op, operand, path + (op,))
    fields = (field,)

    if len(dotted) == 1:
        name = dotted[0]

        def read(obj):
            return getattr(obj, name, None)
    else:
        def read(obj):
            return resolve_field(obj, dotted)

    def _pred(obj):
        v = read(obj)
        if v is UNKNOWN:
            return None, ()
        if isinstance(v, list) and UNKNOWN in v and op not in ("exists", "missing"):
            # A list with an unresolved member: true only if the known members already decide it.
            known = [x for x in v if x is not UNKNOWN]
            if test(known):
                return True, fields
            return None, ()
        return (True, fields) if test(v) else (False, ())

    return _pred


def _all(compiled: list[Compiled]) -> Compiled:
    def run(obj):
        unknown = False
        hit: tuple = ()
        for c in compiled:
            t, f = c(obj)
            if t is False:
                return False, ()
            if t is None:
                unknown = True
            else:
                hit += f
        return (None, ()) if unknown else (True, hit)

    return run


def _any(compiled: list[Compiled]) -> Compiled:
    def run(obj):
        unknown = False
        for c in compiled:
            t, f = c(obj)
            if t:
                return True, f
            if t is None:
                unknown = True
        return (None if unknown else False), ()

    return run


def discriminator(cond, params: dict) -> tuple[str, frozenset] | None:
    """``(field, values)`` when the condition can only be true for a resource whose top-level
    ``field`` equals one of ``values`` (``keyword: RUN`` for a RUN-line check), else None.

    The engine uses it as an index: a Dockerfile's RUN checks are not evaluated on its COPY and
    ENV lines.  Exact under the three-valued logic: a resource whose field is another value (or
    UNKNOWN, or unhashable) makes that predicate false or unknown, so an ``all`` holding it, or
    an ``any`` whose every branch holds one on the same field, can never be true."""
    if not isinstance(cond, dict):
        return None
    if "all" in cond and isinstance(cond["all"], list):
        for sub in cond["all"]:
            found = discriminator(sub, params)
            if found is not None:
                return found
        return None
    if "any" in cond and isinstance(cond["any"], list) and cond["any"]:
        found = [discriminator(sub, params) for sub in cond["any"]]
        if any(f is None for f in found) or len({f[0] for f in found}) != 1:
            return None
        return found[0][0], frozenset().union(*(f[1] for f in found))
    field = cond.get("field")
    if not isinstance(field, str) or "." in field or len(cond) != 2:
        return None
    for op in ("equals", "in"):
        if op in cond:
            operand = cond[op]
            if isinstance(operand, dict) and set(operand) == {"param"}:
                operand = params.get(operand["param"])
            values = [operand] if op == "equals" else operand
            if not isinstance(values, list) or not all(isinstance(v, (str, int, float, bool)) for v in values):
                return None
            return field, frozenset(values)
    return None


def referenced_fields(cond) -> list[str]:
    """Every field a condition reads (for cross-file detection and documentation)."""
    out: list[str] = []
    if isinstance(cond, dict):
        if "field" in cond and isinstance(cond["field"], str):
            out.append(cond["field"])
        for key in ("all", "any"):
            for sub in cond.get(key) or []:
                out.extend(referenced_fields(sub))
        if "not" in cond:
            out.extend(referenced_fields(cond["not"]))
    return out
