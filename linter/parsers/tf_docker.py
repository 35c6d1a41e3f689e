"""Terraform docker provider (kreuzwerker/docker) -> Workload/Container/Image/Mount/Setting.

``docker_container`` is a Workload (kind DockerContainer) running one Container (role
``container``); ``docker_service`` a Swarm service (kind DockerService, role ``service``);
``docker_image`` an Image (unless it is built locally: its ``name`` is then the tag being
produced, not something pulled).  An unset ``user`` means "whatever the image says" here
(``root_by_default`` is False): the image's own Dockerfile check judges that.

A container's ``image`` written as a resource reference (``docker_image.nginx.image_id``) is
unknown: the ``docker_image`` resource it points at is judged itself, once.
"""
from __future__ import annotations

from ..model import UNKNOWN, Container, Image, Location, Mount, ParsedFile, Workload
from .tf_ast import Block, Tup, has_ref
from .tf_expr import ModuleScope, Reader
from .tf_settings import add_setting, secret_value

FMT = "terraform"


def to_bool(v):
    """Terraform converts "true"/"false" strings for boolean arguments."""
    if isinstance(v, bool) or v is UNKNOWN:
        return v
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return v.strip().lower() == "true"
    return None


def to_str(v):
    if v is None or v is UNKNOWN or isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return UNKNOWN if isinstance(v, (dict, list)) else None


def cap(x: str) -> str:
    x = x.strip().upper()
    return x[4:] if x.startswith("CAP_") else x


def caps(v):
    """A capability list; UNKNOWN when the list (or any member) cannot be known."""
    if v is None:
        return []
    if not isinstance(v, list):
        return UNKNOWN
    out = []
    for x in v:
        if x is UNKNOWN:
            out.append(UNKNOWN)
        elif isinstance(x, str):
            out.append(cap(x))
    return out


def apply_security_opts(ct: Container, opts, loc: Location | None) -> None:
    """Docker ``--security-opt`` values (also ECS ``dockerSecurityOptions``): ``no-new-privileges``,
    ``apparmor=unconfined`` / ``apparmor:PROFILE``, ``seccomp=unconfined``, ``label=disable``."""
    if opts is UNKNOWN or (isinstance(opts, list) and UNKNOWN in opts):
        if ct.no_new_privileges is None:
            ct.no_new_privileges = UNKNOWN
        return
    if not isinstance(opts, list):
        return
    for o in opts:
        if not isinstance(o, str):
            continue
        key, _, val = o.strip().replace("=", ":", 1).partition(":")
        key, val = key.strip().lower(), val.strip()
        if key == "no-new-privileges":
            ct.set("no_new_privileges", val.lower() in ("", "true", "1"), loc)
        elif key == "apparmor":
            ct.set("apparmor_profile", "unconfined" if val.lower() == "unconfined" else val, loc)
        elif key == "seccomp":
            ct.set("seccomp_profile", "Unconfined" if val.lower() == "unconfined" else
                   ("RuntimeDefault" if val in ("", "default", "builtin") else "Localhost"), loc)
        elif key == "label" and val.lower() in ("disable", "disable:true"):
            ct.set("selinux_type", "disabled", loc)


def _host(v):
    if v is UNKNOWN:
        return UNKNOWN
    return v == "host" if isinstance(v, str) else None


def _image(pf: ParsedFile, ct: Container, r: Reader, name: str, ident: str, context: str) -> None:
    if not r.has(name):
        return
    # a reference to a docker_image resource evaluates to UNKNOWN: that resource is judged itself
    ref = to_str(r.get(name))
    img = Image(FMT, pf.path, ident + "/image", r.loc(name), ref if ref is not None else UNKNOWN, context)
    img.container = ct
    ct.image = img
    ct.locs["image"] = img.loc
    pf.add(img)


def _new(pf: ParsedFile, block: Block, kind: str, role: str, name):
    ident = f"{block.labels[0]}.{block.labels[1]}"
    loc = Location(pf.path, block.line, block.col)
    name = name if isinstance(name, str) else block.labels[1]
    w = Workload(FMT, pf.path, ident, loc, kind, name)
    w.platform = "docker"
    w.end_line = block.end_line
    ct = Container(FMT, pf.path, ident, loc, name, role)
    ct.platform = "docker"
    ct.end_line = block.end_line
    ct.root_by_default = False
    ct.workload = w
    w.containers.append(ct)
    return w, ct


def _host_mount(pf, w, ct, ident: str, loc, source, target, read_only) -> None:
    m = Mount(FMT, pf.path, f"{ident}/mount/{target if isinstance(target, str) else source}", loc,
              host_path=source, container_path=target, read_only=read_only)
    m.locs["host_path"] = loc
    m.container, m.workload = ct, w
    ct.mounts.append(m)
    w.volumes.append(m)
    pf.add(m)


def map_container(pf: ParsedFile, scope: ModuleScope, block: Block) -> None:
    r = Reader(scope, block.body, pf.path, block.line)
    w, ct = _new(pf, block, "DockerContainer", "container", r.get("name"))
    ident = w.ident
    _image(pf, ct, r, "image", ident, "container")
    ct.set("user", to_str(r.get("user")), r.loc("user"))
    ct.set("privileged", to_bool(r.get("privileged")), r.loc("privileged"))
    ct.set("read_only_root_fs", to_bool(r.get("read_only")), r.loc("read_only"))
    if r.dynamic("capabilities"):
        ct.capabilities_add = ct.capabilities_drop = UNKNOWN
    for cb in r.blocks("capabilities"):
        ct.set("capabilities_add", caps(cb.get("add")), cb.loc("add"))
        ct.set("capabilities_drop", caps(cb.get("drop")), cb.loc("drop"))
    for field, attr in (("host_network", "network_mode"), ("host_pid", "pid_mode"), ("host_ipc", "ipc_mode"),
                        ("host_users", "userns_mode")):
        w.set(field, _host(r.get(attr)), r.loc(attr))
    apply_security_opts(ct, r.get("security_opts"), r.loc("security_opts"))

    for mb in r.blocks("mounts"):
        if mb.get("type") == "bind" and mb.get("source") is not None:
            _host_mount(pf, w, ct, ident, mb.here(), to_str(mb.get("source")), to_str(mb.get("target")),
                        to_bool(mb.get("read_only")))
    for vb in r.blocks("volumes"):
        if vb.get("host_path") is not None:
            _host_mount(pf, w, ct, ident, vb.here(), to_str(vb.get("host_path")), to_str(vb.get("container_path")),
                        to_bool(vb.get("read_only")))
    for pb in r.blocks("ports"):
        external, ip = pb.get("external"), pb.get("ip")
        published = external if external is not None else pb.get("internal")
        if external is not None:
            ct.host_ports.append(external)
            ct.locs.setdefault("host_ports", pb.here())
        if ip in (None, "0.0.0.0", "::", "") and published is not None:
            ct.ports_all_interfaces.append(published)
            ct.locs.setdefault("ports_all_interfaces", pb.here())
    _healthcheck(ct, r.block("healthcheck"))
    ct.set("memory_limit", r.get("memory"), r.loc("memory"))
    if r.has("cpus"):
        ct.set("cpu_limit", r.get("cpus"), r.loc("cpus"))
    _env_list(pf, scope, ct, r, ident)
    pf.add(w)
    pf.add(ct)


def _env_list(pf: ParsedFile, scope: ModuleScope, ct: Container, r: Reader, ident: str) -> None:
    """``env = ["KEY=value", ...]``: one Setting per entry; an entry written through a reference
    is a reference."""
    a = r.body.attrs.get("env")
    if a is None:
        return
    items = a.expr.items if isinstance(a.expr, Tup) else None
    if items is None:
        value = scope.eval(a.expr)
        if not isinstance(value, list):
            return
        entries = [(v, True, r.loc("env")) for v in value]
    else:
        entries = [(scope.eval(i) if not has_ref(i) else _name_part(i, scope), has_ref(i),
                    Location(pf.path, i.line, i.col, i.end_line, i.end_col)) for i in items]
    for value, is_ref, loc in entries:
        if not isinstance(value, str) or "=" not in value:
            continue
        name, _, val = value.partition("=")
        s = add_setting(pf, f"{ident}/env/{name}", loc, name, None if is_ref else val, "env", is_ref)
        if s is not None:
            s.container = ct
            ct.env.append(s)


def _name_part(node, scope):
    """The ``NAME=`` prefix of a template like ``"NAME=${var.x}"``."""
    from .tf_ast import Template

    if isinstance(node, Template) and node.parts and isinstance(node.parts[0], str) and "=" in node.parts[0]:
        return node.parts[0]
    return None


def _healthcheck(ct, hc) -> None:
    if hc is not None:
        test = hc.get("test")
        ct.set("healthcheck", not (isinstance(test, list) and test[:1] == ["NONE"]), hc.here())


def map_service(pf: ParsedFile, scope: ModuleScope, block: Block) -> None:
    r = Reader(scope, block.body, pf.path, block.line)
    ts = r.block("task_spec")
    cs = ts.block("container_spec") if ts is not None else None
    if cs is None:
        return
    w, ct = _new(pf, block, "DockerService", "service", r.get("name"))
    # a Swarm service spec has no security options: no-new-privileges cannot be asked for here
    ct.no_new_privileges = UNKNOWN
    ident = w.ident
    _image(pf, ct, cs, "image", ident, "service")
    ct.set("user", to_str(cs.get("user")), cs.loc("user"))
    ct.set("read_only_root_fs", to_bool(cs.get("read_only")), cs.loc("read_only"))
    for add_attr, drop_attr in (("capability_add", "capability_drop"), ("cap_add", "cap_drop")):
        if cs.has(add_attr):
            ct.set("capabilities_add", caps(cs.get(add_attr)), cs.loc(add_attr))
        if cs.has(drop_attr):
            ct.set("capabilities_drop", caps(cs.get(drop_attr)), cs.loc(drop_attr))
    priv = cs.block("privileges")
    se = priv.block("se_linux_context") if priv is not None else None
    if se is not None and to_bool(se.get("disable")) is True:
        ct.set("selinux_type", "disabled", se.loc("disable"))
    for mb in cs.blocks("mounts"):
        if mb.get("type") == "bind" and mb.get("source") is not None:
            _host_mount(pf, w, ct, ident, mb.here(), to_str(mb.get("source")), to_str(mb.get("target")),
                        to_bool(mb.get("read_only")))
    ep = r.block("endpoint_spec")
    for pb in ep.blocks("ports") if ep is not None else ():
        published = pb.get("published_port")
        if published is not None:
            ct.host_ports.append(published)
            ct.ports_all_interfaces.append(published)
            ct.locs.setdefault("host_ports", pb.here())
    _healthcheck(ct, cs.block("healthcheck"))
    res = ts.block("resources")
    for sub, mem_field, cpu_field in (("limits", "memory_limit", "cpu_limit"),
                                      ("reservation", "memory_request", "cpu_request")):
        rb = res.block(sub) if res is not None else None
        if rb is not None:
            if rb.has("memory_bytes"):
                ct.set(mem_field, rb.get("memory_bytes"), rb.loc("memory_bytes"))
            if rb.has("nano_cpus"):
                ct.set(cpu_field, rb.get("nano_cpus"), rb.loc("nano_cpus"))
    env = cs.body.attrs.get("env")
    if env is not None:
        value = scope.eval(env.expr)
        if isinstance(value, dict):
            refs = getattr(value, "refs", set())
            pos = getattr(value, "pos", {})
            for k, v in value.items():
                p = pos.get(k)
                loc = Location(pf.path, p[0], p[1], p[0], p[6] if p[5] == p[0] else p[2]) if p else cs.loc("env")
                is_ref = k in refs
                val = None if is_ref else (v if isinstance(v, str) else (UNKNOWN if v is UNKNOWN else str(v)))
                s = add_setting(pf, f"{ident}/env/{k}", loc, k, val, "env", is_ref)
                if s is not None:
                    s.container = ct
                    ct.env.append(s)
    pf.add(w)
    pf.add(ct)


def map_image(pf: ParsedFile, scope: ModuleScope, block: Block) -> None:
    r = Reader(scope, block.body, pf.path, block.line)
    if not r.has("name") or r.block("build") is not None or r.dynamic("build"):
        return
    ref = to_str(r.get("name"))
    pf.add(Image(FMT, pf.path, f"{block.labels[0]}.{block.labels[1]}", r.loc("name"),
                 ref if ref is not None else UNKNOWN, "container"))


def map_secret(pf: ParsedFile, scope: ModuleScope, block: Block) -> None:
    """``docker_secret``/``docker_config`` ``data`` is the (base64) secret itself."""
    a = block.body.attrs.get("data")
    if a is None or block.labels[0] != "docker_secret":
        return
    r = Reader(scope, block.body, pf.path, block.line)
    name = r.get("name")
    value, is_ref = secret_value(scope, a.expr)
    add_setting(pf, f"docker_secret.{block.labels[1]}/data", r.loc("data"),
                name if isinstance(name, str) else block.labels[1], value, "secret-data", is_ref)


HANDLERS = {
    "docker_container": (map_container, frozenset({"env", "image"})),
    "docker_service": (map_service, frozenset({"task_spec"})),
    "docker_image": (map_image, frozenset({"name"})),
    "docker_secret": (map_secret, frozenset({"data"})),
}
