"""``aws_ecs_task_definition`` -> Workload (kind EcsTaskDefinition) + one Container per
container definition (role ``task``).

``container_definitions`` is JSON text.  It is read from
* ``jsonencode(<expression>)``: the argument is evaluated as data, so every key keeps the line
  and column where it is written in the .tf file;
* a heredoc or a quoted string of JSON: parsed with positions (linter.parsers.jsonpos) and mapped
  back onto the file's lines; interpolations that cannot be resolved make only the JSON values
  that contain them unknown;
* anything else (``file(...)``, ``templatefile(...)``, a module output): unknown -- no
  container is reported, and that is not an error.

Task-level ``network_mode``/``pid_mode``/``ipc_mode = "host"`` and ``volume { host_path }`` map
to the Workload.  As for Docker, an unset user means "the image's user" (not judged here).
"""
from __future__ import annotations

from ..model import UNKNOWN, Container, Image, Location, Mount, ParsedFile, Workload
from .jsonpos import JsonError, loads
from .tf_ast import Block, Call, Lit, Template
from .tf_docker import apply_security_opts, caps, to_bool, to_str
from .tf_expr import ModuleScope, Reader
from .tf_settings import add_setting
from .yamlpos import key_loc

FMT = "terraform"
_SENTINEL = "@@iaclint:unknown@@"  # printable: JSON strings refuse control characters


def map_task_definition(pf: ParsedFile, scope: ModuleScope, block: Block) -> None:
    r = Reader(scope, block.body, pf.path, block.line)
    ident = f"{block.labels[0]}.{block.labels[1]}"
    family = r.get("family")
    w = Workload(FMT, pf.path, ident, Location(pf.path, block.line, block.col), "EcsTaskDefinition",
                 family if isinstance(family, str) else block.labels[1])
    w.platform = "ecs"
    w.end_line = block.end_line
    for field, attr in (("host_network", "network_mode"), ("host_pid", "pid_mode"), ("host_ipc", "ipc_mode")):
        v = r.get(attr)
        w.set(field, UNKNOWN if v is UNKNOWN else (v == "host" if isinstance(v, str) else None), r.loc(attr))
    volumes = {}
    for vb in r.blocks("volume"):
        name, host_path = vb.get("name"), vb.get("host_path")
        if isinstance(name, str):
            volumes[name] = (to_str(host_path), vb.loc("host_path") or vb.here())
    compat = r.get("requires_compatibilities")
    # Fargate rejects dockerSecurityOptions: no-new-privileges cannot be asked for there
    fargate = compat is UNKNOWN or (isinstance(compat, list) and any(
        c is UNKNOWN or (isinstance(c, str) and c.upper() == "FARGATE") for c in compat))
    defs = _container_definitions(pf, scope, r)
    # Task-level cpu/memory are hard limits on the whole task: they bound every container in it.
    task_limits = (("memory_limit", r.get("memory"), r.loc("memory")), ("cpu_limit", r.get("cpu"), r.loc("cpu")))
    if isinstance(defs, list):
        for i, d in enumerate(defs):
            if isinstance(d, dict):
                ct = _container(pf, w, d, ident, volumes, defs, i)
                if fargate and ct.no_new_privileges is None:
                    ct.no_new_privileges = UNKNOWN
                for field, value, loc in task_limits:
                    if getattr(ct, field) is None and value is not None:
                        ct.set(field, value, loc)
    pf.add(w)


def _container_definitions(pf: ParsedFile, scope: ModuleScope, r: Reader):
    a = r.body.attrs.get("container_definitions")
    if a is None:
        return None
    expr = a.expr
    if isinstance(expr, Call) and expr.name == "jsonencode" and len(expr.args) == 1:
        return scope.eval(expr.args[0])
    if isinstance(expr, (Lit, Template)):
        text = _json_text(scope, expr)
        heredoc = expr.origin is not None and expr.origin[0] > expr.line
    else:
        # e.g. a local holding jsonencode(...): only its text is known here, not its lines
        text = scope.eval(expr)
        heredoc = False
    if not isinstance(text, str):
        return UNKNOWN
    try:
        if heredoc:
            data = loads(text, expr.origin[0] - 1, expr.origin[1] - 1)
        else:
            data = loads(text, a.line - 1)
    except JsonError as exc:
        pf.error(exc.line if heredoc else a.line, f"container_definitions is not valid JSON: {exc.message}",
                 exc.column if heredoc else None)
        return UNKNOWN
    except RecursionError:
        return UNKNOWN
    if not heredoc:
        # JSON in a quoted string: escapes shift every column, so point at the attribute
        _flatten_positions(data, a)
    return _unknown_sentinels(data)


def _json_text(scope: ModuleScope, expr) -> str | None:
    """The JSON source, with every interpolation we cannot resolve replaced by a sentinel
    (quoted when it stands outside a JSON string, so the document still parses)."""
    if isinstance(expr, Lit):
        return expr.value if isinstance(expr.value, str) else None
    if expr.directive:
        return None
    out: list[str] = []
    in_string = False
    for p in expr.parts:
        if isinstance(p, str):
            out.append(p)
            in_string = _ends_in_string(p, in_string)
            continue
        v = scope.eval(p)
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, (int, float)):
            v = str(v)
        if isinstance(v, str) and (in_string or v.strip()):
            out.append(v)
            in_string = _ends_in_string(v, in_string)
        else:
            out.append(_SENTINEL if in_string else f'"{_SENTINEL}"')
    return "".join(out)


def _ends_in_string(text: str, in_string: bool) -> bool:
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if in_string and c == "\\":
            i += 2
            continue
        if c == '"':
            in_string = not in_string
        i += 1
    return in_string


def _unknown_sentinels(v):
    if isinstance(v, str):
        return UNKNOWN if _SENTINEL in v else v
    if isinstance(v, dict):
        for k in list(v):
            v[k] = _unknown_sentinels(v[k])
    elif isinstance(v, list):
        for i, x in enumerate(v):
            v[i] = _unknown_sentinels(x)
    return v


def _flatten_positions(v, a) -> None:
    here = (a.line, a.col, a.key_end_col, a.line, a.col, a.line, a.key_end_col)
    if isinstance(v, dict):
        v.line, v.col = a.line, a.col
        for k in v:
            v.pos[k] = here
            _flatten_positions(v[k], a)
    elif isinstance(v, list):
        v.line, v.col = a.line, a.col
        v.pos = [(a.line, a.col, a.line, a.key_end_col)] * len(v)
        for x in v:
            _flatten_positions(x, a)


def _loc(pf, d, key):
    return key_loc(pf.path, d, key)


def _container(pf: ParsedFile, w: Workload, d: dict, task_ident: str, volumes: dict, defs, i: int) -> None:
    path = pf.path
    name = d.get("name")
    cname = name if isinstance(name, str) else f"[{i}]"
    ident = f"{task_ident}/container/{cname}"
    pos = getattr(defs, "pos", [])
    line, col = (pos[i][0], pos[i][1]) if i < len(pos) else (getattr(d, "line", w.loc.line), 1)
    ct = Container(FMT, path, ident, Location(path, line, col), cname, "task")
    ct.platform = "ecs"
    ct.root_by_default = False
    ct.workload = w
    ct.end_line = getattr(d, "end_line", line)
    if "image" in d:
        ref = to_str(d.get("image"))
        img = Image(FMT, path, ident + "/image", _loc(pf, d, "image"), ref if ref is not None else UNKNOWN,
                    "container")
        img.container = ct
        ct.image = img
        ct.locs["image"] = img.loc
        pf.add(img)
    ct.set("user", to_str(d.get("user")), _loc(pf, d, "user"))
    ct.set("privileged", to_bool(d.get("privileged")), _loc(pf, d, "privileged"))
    ct.set("read_only_root_fs", to_bool(d.get("readonlyRootFilesystem")), _loc(pf, d, "readonlyRootFilesystem"))
    lp = d.get("linuxParameters")
    if lp is UNKNOWN:
        ct.capabilities_add = ct.capabilities_drop = UNKNOWN
    elif isinstance(lp, dict):
        cp = lp.get("capabilities")
        if cp is UNKNOWN:
            ct.capabilities_add = ct.capabilities_drop = UNKNOWN
        elif isinstance(cp, dict):
            ct.set("capabilities_add", caps(cp.get("add")), _loc(pf, cp, "add"))
            ct.set("capabilities_drop", caps(cp.get("drop")), _loc(pf, cp, "drop"))
    apply_security_opts(ct, d.get("dockerSecurityOptions"), _loc(pf, d, "dockerSecurityOptions"))
    for pm in _items(d.get("portMappings")):
        hp = pm.get("hostPort")
        if hp not in (None, 0):
            ct.host_ports.append(hp)
            ct.locs.setdefault("host_ports", _loc(pf, pm, "hostPort"))
    ct.set("memory_limit", d.get("memory"), _loc(pf, d, "memory"))
    ct.set("memory_request", d.get("memoryReservation"), _loc(pf, d, "memoryReservation"))
    ct.set("cpu_request", d.get("cpu"), _loc(pf, d, "cpu"))
    if "healthCheck" in d:
        ct.set("healthcheck", d.get("healthCheck") is not None, _loc(pf, d, "healthCheck"))
    for mp in _items(d.get("mountPoints")):
        src = mp.get("sourceVolume")
        host_path, vloc = volumes.get(src, (None, None)) if isinstance(src, str) else (None, None)
        if host_path is None:
            continue
        m = Mount(FMT, path, f"{ident}/mount/{src}", vloc, host_path=host_path,
                  container_path=to_str(mp.get("containerPath")), read_only=to_bool(mp.get("readOnly")))
        m.locs["host_path"] = vloc
        m.container, m.workload = ct, w
        ct.mounts.append(m)
        pf.add(m)
    env = d.get("environment")
    refs = getattr(env, "refs", set())
    for j, e in enumerate(_items(env)):
        ename = e.get("name")
        if not isinstance(ename, str):
            continue
        is_ref = j in refs or "value" in getattr(e, "refs", ())
        v = e.get("value")
        value = None if is_ref else (v if isinstance(v, str) else (UNKNOWN if v is UNKNOWN or isinstance(
            v, (dict, list)) else (None if v is None else str(v).lower() if isinstance(v, bool) else str(v))))
        s = add_setting(pf, f"{ident}/env/{ename}", _loc(pf, e, "value") or _loc(pf, e, "name") or ct.loc,
                        ename, value, "env", is_ref)
        if s is not None:
            s.container = ct
            ct.env.append(s)
    for e in _items(d.get("secrets")):
        ename = e.get("name")
        if isinstance(ename, str):
            s = add_setting(pf, f"{ident}/secrets/{ename}", _loc(pf, e, "valueFrom") or ct.loc, ename, None, "env",
                            True)
            s.secret_ref = True
            s.container = ct
            ct.env.append(s)
    w.containers.append(ct)
    pf.add(ct)
    return ct


def _items(v) -> list:
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


HANDLERS = {"aws_ecs_task_definition": (map_task_definition, frozenset({"container_definitions"}))}
