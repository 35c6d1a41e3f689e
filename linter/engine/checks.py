"""Loading check files (the declarative check *instances*) into compiled :class:`Check` objects.

Built-in checks ship pre-validated (a test validates every one against the JSON Schema), so a
normal run only parses and compiles them: the jsonschema import (~100 ms) is paid only for
user-written checks, ``iaclint check-rules`` and tests.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..model import COMMON_FIELDS, MODEL_TYPES, UNKNOWN
from .conditions import ConditionError, compile_condition, discriminator, referenced_fields

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # info=0 ... critical=4
FORMATS = ("dockerfile", "kubernetes", "compose", "terraform")
#: fields computed across all files of a scan (engine.crossfile); checks reading them run last
CROSS_FILE_FIELDS = {"network_policy_selected", "selects_any_workload", "network_policy_types",
                     "automount_token_effective"}


class CheckError(Exception):
    """A check file that cannot be used: names the file, the line and the problem."""

    def __init__(self, path: str, line: int | None, message: str):
        super().__init__(f"{path}:{line or 1}: {message}")
        self.path = path
        self.line = line
        self.message = message


class Check:
    __slots__ = ("id", "name", "title", "severity", "target", "formats", "enabled", "profile", "tags", "params",
                 "message", "location", "description", "rationale", "remediation", "snippets", "references",
                 "standards", "examples", "source", "builtin", "cross_file", "_cond", "raw", "index", "format_set")

    def __init__(self, raw: dict, source: str, builtin: bool, params: dict | None = None):
        self.raw = raw
        self.id: str = raw["id"]
        self.name: str = raw["name"]
        self.title: str = raw["title"]
        self.severity: str = raw["severity"]
        self.target: str = raw["target"]
        self.formats: list[str] = list(raw.get("formats") or FORMATS)
        #: None when the check covers every format (no per-resource test needed)
        self.format_set = None if set(FORMATS) <= set(self.formats) else frozenset(self.formats)
        self.enabled: bool = raw.get("enabled", True)
        self.profile = raw.get("profile")
        self.tags: list[str] = list(raw.get("tags") or [])
        self.params: dict = dict(raw.get("params") or {})
        if params:
            self.params.update(params)
        self.message: str = raw["message"]
        self.location: list[str] = list(raw.get("location") or [])
        self.description: str = raw.get("description", "")
        self.rationale: str = raw.get("rationale", "")
        self.remediation: str = raw.get("remediation", "")
        self.snippets: list[dict] = list(raw.get("snippets") or [])
        self.references: list[dict] = list(raw.get("references") or [])
        self.standards: dict = dict(raw.get("standards") or {})
        self.examples: dict = dict(raw.get("examples") or {})
        self.source = source
        self.builtin = builtin
        fields = referenced_fields(raw["condition"])
        self.cross_file = any(f.split(".")[0] in CROSS_FILE_FIELDS for f in fields)
        self._cond = None
        #: (field, values): the engine evaluates the check only on resources with field in values
        self.index = discriminator(raw["condition"], self.params)

    def compile(self):
        if self._cond is None:
            cls = MODEL_TYPES[self.target]
            self._cond = compile_condition(self.raw["condition"], lambda d: _field_problem(cls, d), self.params,
                                           ("condition",))
        return self._cond

    def evaluate(self, resource) -> tuple:
        return self.compile()(resource)

    @property
    def help_uri(self) -> str:
        return f"https://iaclint.dev/checks/{self.name}/"


def _field_problem(cls, dotted: tuple) -> str | None:
    """Validate a dotted field path against the model's documented fields."""
    current = cls
    for i, part in enumerate(dotted):
        if current is None:
            return None  # below a plain value (e.g. labels.app): not checkable statically
        fields = getattr(current, "FIELDS", None)
        if fields is None:
            return None
        if part not in fields and part not in COMMON_FIELDS:
            known = ", ".join(sorted(fields))
            return f"unknown field '{'.'.join(dotted[: i + 1])}' for {current.type_name} (known fields: {known})"
        current = _FIELD_TYPES.get((current.type_name, part))
    return None


# Fields that lead to another model type, for dotted paths such as image.tag or workload.host_network.
_FIELD_TYPES = {
    ("container", "image"): MODEL_TYPES["image"],
    ("container", "workload"): MODEL_TYPES["workload"],
    ("mount", "container"): MODEL_TYPES["container"],
    ("mount", "workload"): MODEL_TYPES["workload"],
}


def builtin_checks_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    installed = here / "_builtin_checks"
    if installed.is_dir():
        return installed
    return here.parent / "checks"  # source checkout / editable install


def _check_files(directory: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for n in names:
            if n.endswith((".yaml", ".yml")) and not n.startswith("."):
                files.append(Path(root) / n)
    return sorted(files)


def load_check_file(path: Path, builtin: bool, validate: bool) -> Check:
    from ..source import DecodeError, decode
    from ..yamlload import YamlError, load_documents

    spath = str(path)
    try:
        text = decode(path.read_bytes())
    except (OSError, DecodeError) as exc:
        raise CheckError(spath, getattr(exc, "line", None), f"cannot read check file: {exc}") from None
    try:
        docs = [d for d, _ in load_documents(text)]
    except YamlError as exc:
        raise CheckError(spath, exc.line, f"YAML error: {exc.message}") from None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise CheckError(spath, 1, "a check file must hold exactly one mapping")
    raw = docs[0]
    if validate:
        validate_against_schema(raw, spath)
    else:
        for key in ("id", "name", "title", "severity", "target", "condition", "message"):
            if key not in raw:
                raise CheckError(spath, 1, f"missing required key '{key}'")
        if raw["target"] not in MODEL_TYPES:
            raise CheckError(spath, _line_of(raw, ("target",)), f"unknown target '{raw['target']}'")
    check = Check(raw, spath, builtin)
    try:
        check.compile()
    except ConditionError as exc:
        raise CheckError(spath, _line_of(raw, exc.path), exc.args[0]) from None
    return check


_VALIDATOR = None


def validate_against_schema(raw: dict, spath: str) -> None:
    global _VALIDATOR
    if _VALIDATOR is None:
        import json

        import jsonschema

        schema = json.loads((Path(__file__).resolve().parent.parent / "schemas" / "check.schema.json").read_text())
        _VALIDATOR = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(_VALIDATOR.iter_errors(raw), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        import jsonschema

        if any(e.absolute_path and e.absolute_path[0] == "condition" for e in errors) \
                and raw.get("target") in MODEL_TYPES:
            # oneOf over condition shapes explains an unknown operator badly ("'all' is a required
            # property"); the condition compiler names the operator and the line.
            try:
                compile_condition(raw["condition"], lambda d: _field_problem(MODEL_TYPES[raw["target"]], d),
                                  dict(raw.get("params") or {}), ("condition",))
            except ConditionError as exc:
                raise CheckError(spath, _line_of(raw, exc.path), exc.args[0]) from None
        err = jsonschema.exceptions.best_match(errors)
        # oneOf failures say little; the deepest context error says what is wrong.
        while err.context:
            err = jsonschema.exceptions.best_match(err.context)
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise CheckError(spath, _line_of(raw, tuple(err.absolute_path)), f"{where}: {err.message}")


def _line_of(raw, path: tuple) -> int | None:
    """Walk a JSON path through PosDict/PosList positions to the deepest known line."""
    node, line = raw, getattr(raw, "line", 1)
    for part in path:
        pos = getattr(node, "pos", None)
        if isinstance(node, dict) and pos and part in pos:
            line = pos[part][0]
            node = node[part]
        elif isinstance(node, list) and pos and isinstance(part, int) and part < len(pos):
            line = pos[part][0]
            node = node[part]
        else:
            break
    return line


class Registry:
    """All loaded checks, by id and by name."""

    def __init__(self, checks: list[Check]):
        self.checks = sorted(checks, key=lambda c: c.id)
        self.by_key: dict[str, Check] = {}
        for c in self.checks:
            self.by_key[c.id] = c
            self.by_key[c.name] = c

    def get(self, key: str) -> Check | None:
        return self.by_key.get(key) or self.by_key.get(key.upper())

    def __iter__(self):
        return iter(self.checks)

    def __len__(self):
        return len(self.checks)


def load_registry(extra_dirs: list[str] | tuple = (), validate_builtin: bool = False) -> Registry:
    checks: list[Check] = []
    seen: dict[str, str] = {}
    sources = [(builtin_checks_dir(), True)] + [(Path(d), False) for d in extra_dirs]
    for directory, builtin in sources:
        if not directory.is_dir():
            raise CheckError(str(directory), None, "checks directory does not exist")
        for f in _check_files(directory):
            check = load_check_file(f, builtin, validate=validate_builtin or not builtin)
            for key in (check.id, check.name):
                if key in seen:
                    raise CheckError(check.source, _line_of(check.raw, ("id" if key == check.id else "name",)),
                                     f"'{key}' is already defined by {seen[key]}")
                seen[key] = check.source
            checks.append(check)
    return Registry(checks)


def format_value(v: Any) -> str:
    if v is None or v is UNKNOWN:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (list, tuple, set)):
        return ", ".join(format_value(x) for x in v)
    if isinstance(v, dict):
        return ",".join(f"{k}={format_value(x)}" for k, x in sorted(v.items(), key=lambda kv: str(kv[0])))
    if hasattr(v, "ident"):
        return getattr(v, "reference", None) or getattr(v, "name", None) or v.ident
    return str(v)
