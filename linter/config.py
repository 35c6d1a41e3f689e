"""Configuration: ``.iaclint.yaml``, ``.iaclint.toml`` or ``[tool.iaclint]`` in ``pyproject.toml``.

Found by walking up from the first scanned path to the repository root (a directory holding
``.git``) or the filesystem root; the first directory with a configuration wins, and in it
``.iaclint.yaml`` / ``.iaclint.yml`` before ``.iaclint.toml`` before ``pyproject.toml`` (a
pyproject without ``[tool.iaclint]`` does not count).  ``--config FILE`` replaces the search.

The file is validated against ``linter/schemas/config.schema.json`` (see linter.schemalite),
then check ids and names are resolved against the loaded checks; every problem is a
:class:`ConfigError` naming the file, the line (YAML exactly, TOML by searching the text for the
key) and the key.  Command-line flags override the file, except ``checks-dir``, which adds to it
(dropping the file's checks would break its own ``severity`` or ``per-path-ignores`` entries).
Relative paths and globs in the file are relative to the file's directory.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_NAMES = (".iaclint.yaml", ".iaclint.yml", ".iaclint.toml", "pyproject.toml")
DEFAULTS: dict = {
    "select": None,
    "ignore": [],
    "per-path-ignores": {},
    "exclude": [],
    "gitignore": True,
    "severity": {},
    "fail-on": "low",
    "format": ["text"],
    "checks-dir": [],
    "params": {},
    "secrets": {"allow": []},
    "baseline": None,
    "max-file-size": 10,
}
CLI = "command line"
DEFAULT = "default"


class ConfigError(Exception):
    def __init__(self, path: str, line: int | None, key: str | None, message: str):
        self.path, self.line, self.key, self.message = path, line, key, message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


def key_text(keypath: tuple) -> str:
    out = ""
    for part in keypath:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            out += ("." if out else "") + part
        else:
            out += ("." if out else "") + json.dumps(part)
    return out


# -- finding and reading the file -------------------------------------------------------------

def _has_tool_table(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return False
    return re.search(r"^\s*\[\s*tool\s*\.\s*iaclint\s*[\].]", text, re.MULTILINE) is not None


def find_config(start: str) -> str | None:
    d = os.path.abspath(start)
    if not os.path.isdir(d):
        d = os.path.dirname(d)
    while True:
        for name in CONFIG_NAMES:
            p = os.path.join(d, name)
            if os.path.isfile(p) and (name != "pyproject.toml" or _has_tool_table(p)):
                return p
        if os.path.exists(os.path.join(d, ".git")):
            return None
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


@dataclass
class RawConfig:
    path: str
    data: dict
    text: str
    kind: str  # "yaml" | "toml" | "pyproject"

    def line_of(self, keypath: tuple) -> int | None:
        if self.kind == "yaml":
            return _yaml_line(self.data, keypath)
        return _toml_line(self.text, self.kind == "pyproject", keypath)


def _yaml_line(node, keypath: tuple) -> int | None:
    line = getattr(node, "line", None)
    for part in keypath:
        pos = getattr(node, "pos", None)
        if isinstance(node, dict) and pos and part in pos:
            line, node = pos[part][0], node[part]
        elif isinstance(node, list) and pos and isinstance(part, int) and part < len(pos):
            line, node = pos[part][0], node[part]
        else:
            break
    return line


def _toml_line(text: str, pyproject: bool, keypath: tuple) -> int | None:
    """Best effort: tomllib keeps no positions, so look for each key of the path in turn."""
    lines = text.split("\n")
    i = 0
    if pyproject:
        head = re.compile(r"^\s*\[\s*tool\s*\.\s*iaclint\s*[\].]")
        i = next((n for n, t in enumerate(lines) if head.match(t)), 0)
    found = i + 1 if pyproject else None
    for part in keypath:
        if isinstance(part, int):
            continue
        rx = re.compile(r'(?:^|[\s{,.\[])(?:"' + re.escape(part) + r'"|\'' + re.escape(part) + r'\'|'
                        + re.escape(part) + r')\s*(?:=|\])')
        for n in range(i, len(lines)):
            if rx.search(lines[n]):
                i, found = n, n + 1
                break
        else:
            break
    return found


def _plain_dates(node):
    """TOML and YAML both turn 2027-03-31 into a date; the schema and the code want the string."""
    import datetime

    if isinstance(node, dict):
        for k, v in list(node.items()):
            if isinstance(v, (datetime.date, datetime.datetime)):
                dict.__setitem__(node, k, v.isoformat()[:10])
            else:
                _plain_dates(v)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, (datetime.date, datetime.datetime)):
                list.__setitem__(node, i, v.isoformat()[:10])
            else:
                _plain_dates(v)
    return node


def _load_toml(text: str):
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads(text), tomllib.TOMLDecodeError


def read_config(path: str) -> RawConfig:
    from .source import DecodeError, decode

    try:
        text = decode(Path(path).read_bytes())
    except FileNotFoundError:
        raise ConfigError(path, None, None, "configuration file does not exist") from None
    except (OSError, DecodeError) as exc:
        raise ConfigError(path, getattr(exc, "line", None), None, f"cannot read configuration: {exc}") from None
    name = os.path.basename(path)
    if name.endswith((".yaml", ".yml")):
        from .yamlload import YamlError, load_documents

        try:
            docs = [d for d, _ in load_documents(text)]
        except YamlError as exc:
            raise ConfigError(path, exc.line, None, f"YAML error: {exc.message}") from None
        if len(docs) > 1:
            raise ConfigError(path, None, None, "a configuration file must hold one YAML document")
        data = docs[0] if docs and docs[0] is not None else {}
        if not isinstance(data, dict):
            raise ConfigError(path, getattr(data, "line", 1), None, "the configuration must be a mapping of keys")
        return RawConfig(path, _plain_dates(data), text, "yaml")
    try:
        data, _ = _load_toml(text)
    except Exception as exc:  # noqa: BLE001 - tomllib.TOMLDecodeError (or tomli's): one message either way
        m = re.search(r"line (\d+)", str(exc))
        line = int(m.group(1)) if m else text.count("\n") + 1 if "end of document" in str(exc) else None
        raise ConfigError(path, line, None, f"TOML error: {exc}") from None
    if name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict) or "iaclint" not in tool:
            raise ConfigError(path, None, None, "no [tool.iaclint] table")
        section = tool["iaclint"]
        if not isinstance(section, dict):
            raise ConfigError(path, _toml_line(text, True, ()), "tool.iaclint", "must be a table")
        return RawConfig(path, _plain_dates(section), text, "pyproject")
    return RawConfig(path, _plain_dates(data), text, "toml")


_VALIDATOR = None


def validate(raw: RawConfig) -> None:
    global _VALIDATOR
    if _VALIDATOR is None:
        from .schemalite import Validator

        schema = json.loads((Path(__file__).resolve().parent / "schemas" / "config.schema.json").read_text())
        _VALIDATOR = Validator(schema)
    for keypath, message in _VALIDATOR.errors(raw.data):
        raise ConfigError(raw.path, raw.line_of(keypath), key_text(keypath) or None, message)


# -- the effective configuration --------------------------------------------------------------

@dataclass
class Config:
    values: dict
    origins: dict
    raw: RawConfig | None = None

    @property
    def file(self) -> str | None:
        return self.raw.path if self.raw else None

    @property
    def base(self) -> str:
        return os.path.dirname(os.path.abspath(self.raw.path)) if self.raw else os.getcwd()

    def __getitem__(self, key):
        return self.values[key]

    def fail(self, keypath: tuple, message: str):
        if self.origins.get(keypath[0]) == CLI or self.raw is None:
            raise ConfigError("command line", None, "--" + keypath[0], message)
        raise ConfigError(self.raw.path, self.raw.line_of(keypath), key_text(keypath), message)


def load(paths: list[str], config_path: str | None = None, overrides: dict | None = None) -> Config:
    """Defaults, then the file, then ``overrides`` (command line: key -> value, None = not given)."""
    path = config_path or find_config(paths[0] if paths else ".")
    raw = None
    if path:
        raw = read_config(path)
        validate(raw)
    values = {k: (json.loads(json.dumps(v)) if isinstance(v, (dict, list)) else v) for k, v in DEFAULTS.items()}
    origins = {k: DEFAULT for k in DEFAULTS}
    if raw is not None:
        for k, v in raw.data.items():
            if k == "format" and isinstance(v, str):
                v = [v]
            if k == "checks-dir":
                v = [v] if isinstance(v, str) else list(v)
                v = [os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(raw.path)), d)) for d in v]
            if k == "secrets":
                v = {"allow": list(v.get("allow", []))}
            values[k] = v
            origins[k] = raw.path
    for k, v in (overrides or {}).items():
        if v is None:
            continue
        if k == "checks-dir":
            if not v:
                continue
            values[k] = list(values[k]) + list(v)
            origins[k] = CLI if origins[k] == DEFAULT else f"{origins[k]} + {CLI}"
            continue
        values[k] = v
        origins[k] = CLI
    return Config(values, origins, raw)


@dataclass
class Settings:
    """What a run needs, resolved against the loaded checks."""
    registry: object
    checks: list
    fail_on: str
    formats: list
    max_file_size: int
    is_ignored: object
    suppress: object                 # linter.suppress.SuppressOptions
    baseline: str | None
    warnings: list = field(default_factory=list)


def _resolve_ids(cfg: Config, registry, key: str, items, keypath: tuple) -> list[str]:
    out = []
    for i, tok in enumerate(items):
        c = registry.get(tok)
        if c is None:
            cfg.fail(keypath + (i,), f"unknown check '{tok}' (see `iaclint rules`)")
        out.append(c.id)
    return out


def resolve(cfg: Config, registry) -> Settings:
    from .engine.checks import Check, Registry
    from .suppress import PathIgnore, SuppressOptions

    v = cfg.values
    select = _resolve_ids(cfg, registry, "select", v["select"], ("select",)) if v["select"] else None
    ignore = _resolve_ids(cfg, registry, "ignore", v["ignore"], ("ignore",))

    # Severity and parameter overrides make new Check objects: the registry may be shared.
    sev: dict[str, str] = {}
    for name, level in v["severity"].items():
        c = registry.get(name)
        if c is None:
            cfg.fail(("severity", name), f"unknown check '{name}' (see `iaclint rules`)")
        sev[c.id] = level
    params: dict[str, dict] = {}
    for name, values in v["params"].items():
        c = registry.get(name)
        if c is None:
            cfg.fail(("params", name), f"unknown check '{name}' (see `iaclint rules`)")
        for pname, pval in values.items():
            if pname not in c.params:
                known = ", ".join(sorted(c.params)) or "none"
                cfg.fail(("params", name, pname), f"check {c.name} has no parameter '{pname}' (parameters: {known})")
            default = c.params[pname]
            if isinstance(default, list) and not isinstance(pval, list):
                cfg.fail(("params", name, pname), f"expected a list, like the default {json.dumps(default)}")
        params[c.id] = dict(values)
    if sev or params:
        replaced = []
        for c in registry:
            if c.id in sev or c.id in params:
                raw = dict(c.raw)
                if c.id in sev:
                    raw["severity"] = sev[c.id]
                c = Check(raw, c.source, c.builtin, params=params.get(c.id))
            replaced.append(c)
        registry = Registry(replaced)

    from .scan import select_checks

    checks = select_checks(registry, select, ignore)

    from .gitignore import Pattern, PatternSet

    path_ignores = []
    for pattern, entry in v["per-path-ignores"].items():
        keypath = ("per-path-ignores", pattern)
        if isinstance(entry, list):
            ids, reason, until = _resolve_ids(cfg, registry, "per-path-ignores", entry, keypath), None, None
        else:
            ids = _resolve_ids(cfg, registry, "per-path-ignores", entry["checks"], keypath + ("checks",))
            reason, until = entry.get("reason"), entry.get("until")
        ps = PatternSet(cfg.base, [Pattern(pattern)])
        path_ignores.append(PathIgnore(pattern, ps.matches_path, ids, reason, until, cfg.file or "",
                                       cfg.raw.line_of(keypath) if cfg.raw else None))

    allow = [re.compile(rx) for rx in v["secrets"]["allow"]]
    suppress = SuppressOptions(registry=registry, path_ignores=path_ignores, root=cfg.base, secret_allow=allow,
                               secret_allow_source=cfg.file or "")

    is_ignored = None
    filters = []
    if v["exclude"]:
        excl = PatternSet(cfg.base, [Pattern(p) for p in v["exclude"]])
        base = cfg.base

        def excluded(path, is_dir, excl=excl, base=base):
            rel = os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")
            return not rel.startswith("../") and excl.matches(rel, is_dir)

        filters.append(excluded)
    if v["gitignore"]:
        from .gitignore import GitIgnore, find_repo_root

        root = find_repo_root(cfg.base if cfg.raw else os.getcwd())
        if root is not None:
            filters.append(GitIgnore(root))
    if filters:
        def is_ignored(path, is_dir, filters=tuple(filters)):
            return any(f(path, is_dir) for f in filters)

    baseline = v["baseline"]
    if baseline and cfg.origins["baseline"] != CLI and cfg.raw is not None:
        baseline = os.path.join(cfg.base, baseline)
    return Settings(registry, checks, v["fail-on"], list(v["format"]), v["max-file-size"], is_ignored, suppress,
                    baseline)


def render(cfg: Config, fmt: str = "text") -> str:
    """``iaclint config``: every key, its effective value and where it came from."""
    if fmt == "json":
        return json.dumps({"file": cfg.file, "values": {k: {"value": cfg.values[k], "origin": cfg.origins[k]}
                                                        for k in DEFAULTS}}, indent=2) + "\n"
    out = [f"# configuration file: {cfg.file or '(none found; defaults)'}"]
    width = max(len(k) for k in DEFAULTS)
    rows = []
    for k in DEFAULTS:
        val = cfg.values[k]
        text = "(every check enabled by default)" if val is None and k == "select" else \
            "(none)" if val is None else val if isinstance(val, str) else json.dumps(val, ensure_ascii=False)
        rows.append((k, text, cfg.origins[k]))
    vwidth = min(max(len(t) for _, t, _ in rows), 48)
    for k, text, origin in rows:
        out.append(f"{k:<{width}}  {text:<{vwidth}}  # {origin}")
    return "\n".join(out) + "\n"
