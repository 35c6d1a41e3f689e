"""Docker Compose files -> model.

Each service becomes a :class:`Workload` (kind ``ComposeService``, no namespace, outside
NetworkPolicy scope) running one :class:`Container` (role ``service``); its ``image`` an
:class:`Image` (context ``service``), its ``environment`` and ``build.args`` :class:`Setting`\\ s,
its bind mounts :class:`Mount`\\ s.  Idents are ``<file name>/services/<name>`` (+ ``/container``,
``/container/image``, ``/container/env/<NAME>``, ``/container/mount/<target>``).

Decisions (the places where a reader could expect otherwise):

* Variables are interpolated as ``compose_interp`` describes: from the ``.env`` beside the file
  only, never the process environment.  A value with an unresolved part is UNKNOWN (an Image
  with reference UNKNOWN, a Setting with value UNKNOWN).  A setting whose value is only
  expressions (``${DB_PASSWORD}``, ``$A$B``) has from_reference True and value None, as a
  Dockerfile ``ENV X=${Y}``; ``${X:-literal}`` with X unset has the literal as its value (the
  fallback is in the repository).  Syntax errors are reported once, where they are written,
  whichever key holds them, and that value is UNKNOWN.
* YAML 1.1 numbers are read back as written: an unquoted ``- 8080:80`` is a port mapping (not the
  sexagesimal 483680), ``user: 0:0`` is ``0:0``, ``VAR: 0755`` is ``0755``.
* ``extends`` within the file is resolved the way Compose merges: scalars are replaced;
  ``environment``, ``build.args``, ``labels`` and ``sysctls`` merge by name, ``volumes`` by target;
  ``cap_add``, ``security_opt``, ``ports``... are concatenated; ``deploy`` and ``healthcheck``
  merge key by key.  An inherited key keeps the base's location (the line where it is written).
  ``!reset`` drops the value (inherited or not; also one ``environment`` variable),
  ``!override`` replaces instead of merging.
  ``extends: {file: ...}`` is not followed (a notice): the service is checked with its own keys.
* A service with ``build`` has no Image resource: its ``image`` names what the build produces,
  so there is nothing to pin; its Dockerfile is checked as a Dockerfile.
* ``user`` unset means the image's user, which the image's own Dockerfile check judges:
  ``root_by_default`` is False.  ``build.privileged`` is a build setting, not the container's.
* ``healthcheck`` is True when a ``test`` is given, False when ``disable: true`` or
  ``test: ["NONE"]``, and None when it only tunes timings (the image's HEALTHCHECK, if any, runs).
* ``env_file``, ``secrets`` and ``configs`` are recorded by name on the Container (``env_files``,
  ``secrets``, ``configs``); the files are not read.
* Published ports: the host port of ``"8080:80"`` (or long syntax ``published``) goes to
  host_ports, and also to ports_all_interfaces unless an address other than ``0.0.0.0``/``::``
  is given.  A container-only port (``"80"``) gets a random host port: not listed.
* A named volume declared at the top level with ``driver_opts: {o: bind, device: /path}`` is
  a bind mount of ``/path``.
* Compose file format v1 (services at the top level, no ``services:`` key) is read as services,
  with a notice that Compose v2 no longer accepts it.
"""
from __future__ import annotations

import os
import re

from ..model import UNKNOWN, Container, Diagnostic, Image, Location, Mount, ParsedFile, Setting, Workload
from .compose_interp import UNRESOLVED, InterpolationError, interpolate, load_env_file
from .yamlpos import typename as _typename, item_loc, key_loc

FORMAT = "compose"
KIND = "ComposeService"

_TOP_LEVEL = frozenset(("version", "services", "volumes", "networks", "secrets", "configs", "include", "name",
                        "models"))
_TRUE = frozenset(("y", "yes", "true", "on"))
_FALSE = frozenset(("n", "no", "false", "off"))
_ALL_INTERFACES = frozenset(("", "0.0.0.0", "::", "[::]"))
_PORT = re.compile(r"\d+(?:-\d+)?")
_PROPERTIES = re.compile(r"^(?:[&!]\S*\s+)+")
_MISS = object()


def parse_document(pf: ParsedFile, doc, text: str) -> None:
    """Map one Compose document onto ``pf``; wrong shapes become diagnostics."""
    _Mapper(pf, text).map_document(doc)


def looks_like_v1(doc) -> bool:
    """Services at the top level: every entry (but ``x-`` extensions) a service-like mapping."""
    entries = [v for k, v in doc.items() if not str(k).startswith("x-")]
    return bool(entries) and not _TOP_LEVEL.intersection(doc) and all(
        isinstance(v, dict) and ("image" in v or "build" in v) for v in entries)


class _Mapper:
    def __init__(self, pf: ParsedFile, text: str):
        self.pf = pf
        self.path = pf.path
        self.text = text
        self.ident_base = os.path.basename(pf.path) or pf.path
        self.env: dict = {}
        self._lines: list[str] | None = None
        self._resets = "!reset" in text
        self._tagged = self._resets or "!override" in text
        self._expanded: dict = {}
        self._resolved: dict = {}
        self.top_volumes: dict = {}

    # -- diagnostics and source text ---------------------------------------------------------
    def warn(self, loc: Location | None, message: str, level: str = "error") -> None:
        self.pf.error(loc.line if loc else None, message, loc.column if loc else None, level)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.split("\n")
        return self._lines

    def _span_text(self, line: int, col: int, end_line: int, end_col: int) -> str | None:
        if line != end_line or not 0 < line <= len(self.lines):
            return None
        # A node's span starts at its anchor or tag (`&uid 0`, `!!int 0`), if any.
        return _PROPERTIES.sub("", self.lines[line - 1][col - 1:end_col - 1]) or None

    def raw_value(self, d, key):
        """The text of a non-string scalar as written (YAML 1.1 reads `8080:80` as a number)."""
        v = d[key]
        if v is None or isinstance(v, (str, dict, list)):
            return v
        pos = getattr(d, "pos", None)
        text = self._span_text(*pos[key][3:]) if pos and key in pos else None
        return text if text is not None else _scalar_str(v)

    def raw_item(self, lst, i):
        v = lst[i]
        if v is None or isinstance(v, (str, dict, list)):
            return v
        pos = getattr(lst, "pos", None)
        text = self._span_text(*pos[i]) if pos and i < len(pos) else None
        return text if text is not None else _scalar_str(v)

    def _key_text(self, d, key) -> str:
        if isinstance(key, str):
            return key
        pos = getattr(d, "pos", None)
        if pos and key in pos:
            kl, kc, kec = pos[key][:3]
            text = self._span_text(kl, kc, kl, kec)
            if text:
                return text
        return _scalar_str(key)

    def _tag(self, d, key) -> str | None:
        """``!reset`` / ``!override`` on a value (the loader keeps tags only on mappings)."""
        v = d[key]
        if isinstance(v, dict) and getattr(v, "tag", None):
            return v.tag
        pos = getattr(d, "pos", None)
        if not pos or key not in pos:
            return None
        vl, vc = pos[key][3:5]
        if 0 < vl <= len(self.lines):
            head = self.lines[vl - 1][vc - 1:vc + 9]
            for tag in ("!reset", "!override"):
                if head.startswith(tag):
                    return tag
        return None

    def _block_end(self, line: int, col: int) -> int:
        """Last line of the block whose key is at (line, col): the following lines indented
        deeper, without trailing blank and comment lines (the YAML end mark points past them)."""
        lines = self.lines
        end = line
        for i in range(line, len(lines)):
            s = lines[i]
            body = s.lstrip(" ")
            if not body or body.startswith("#"):
                continue
            if len(s) - len(body) < col:
                break
            end = i + 1
        return end

    # -- interpolation -----------------------------------------------------------------------
    def expansion(self, s: str):
        """The cached Expansion of ``s``, or None when its syntax is invalid."""
        hit = self._expanded.get(s, _MISS)
        if hit is _MISS:
            try:
                hit = interpolate(s, self.env)
            except InterpolationError:
                hit = None
            self._expanded[s] = hit
        return hit

    def val(self, v):
        """A scalar after interpolation: unchanged, the expanded string, or UNKNOWN."""
        if isinstance(v, str) and "$" in v:
            e = self.expansion(v)
            return e.text if e is not None and e.known else UNKNOWN
        return v

    def _marked(self, v: str) -> str | None:
        """The expanded text with UNRESOLVED marking unknown parts (None on a syntax error)."""
        if "$" not in v:
            return v
        e = self.expansion(v)
        return None if e is None else e.text

    def _load_env(self) -> None:
        self.env, env_path, problems = load_env_file(self.path)
        for line, message in problems:
            self.pf.diagnostics.append(Diagnostic(env_path, line, message, level="warning"))

    def _check_interpolation(self, doc) -> None:
        """Report every malformed expression once, where it is written (Compose refuses the file)."""
        seen = set()
        stack = [(doc, "")]
        while stack:
            node, where = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            pos = getattr(node, "pos", None)
            # The dotted path of a value is built only for a collection to descend into or a
            # value to report: most scalars need neither.
            if isinstance(node, dict):
                for k, v in node.items():
                    if isinstance(v, (dict, list)):
                        stack.append((v, f"{where}.{k}" if where else str(k)))
                    elif isinstance(v, str) and "$" in v and self.expansion(v) is None:
                        self._interpolation_error(v, f"{where}.{k}" if where else str(k),
                                                  pos[k][3:5] if pos and k in pos else None)
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    if isinstance(v, (dict, list)):
                        stack.append((v, f"{where}[{i}]"))
                    elif isinstance(v, str) and "$" in v and self.expansion(v) is None:
                        self._interpolation_error(v, f"{where}[{i}]", pos[i][:2] if pos and i < len(pos) else None)

    def _interpolation_error(self, v: str, where: str, at) -> None:
        try:
            interpolate(v, self.env)
        except InterpolationError as exc:
            self.pf.error(at[0] if at else None, f"invalid interpolation in {where}: {exc}; "
                          "write '$$' for a literal '$'", at[1] if at else None)

    # -- the document ------------------------------------------------------------------------
    def map_document(self, doc) -> None:
        if not isinstance(doc, dict):
            self.pf.error(getattr(doc, "line", None) or 1,
                          f"a Compose file must be a mapping with a 'services' key, found {_typename(doc)}")
            return
        holder = doc
        if "services" in doc:
            services = doc["services"]
            if services is None:
                return
            if not isinstance(services, dict):
                self.warn(key_loc(self.path, doc, "services"),
                          f"services should be a mapping of service names to services, found {_typename(services)}; "
                          "no service checked")
                return
            holder = services
        elif looks_like_v1(doc):
            self.pf.error(getattr(doc, "line", None) or 1, "Compose file format v1 (services at the top level, no "
                          "'services:' key): Docker Compose v2 no longer reads it; checked as services", level="notice")
        else:
            return  # an override or resources-only file (volumes, networks, include)
        if "$" in self.text:
            self._load_env()
            self._check_interpolation(doc)
        vols = doc.get("volumes") if holder is not doc else None
        self.top_volumes = vols if isinstance(vols, dict) else {}
        for name, svc in holder.items():
            if holder is doc and str(name).startswith("x-"):
                continue
            loc = key_loc(self.path, holder, name) or Location(self.path, 1, 1)
            if svc is None:
                self.warn(loc, f"service '{name}' is empty; nothing to check", level="warning")
                continue
            if not isinstance(svc, dict):
                self.warn(loc, f"service '{name}' should be a mapping, found {_typename(svc)}; ignored")
                continue
            self._service(str(name), svc, self._layers(holder, name), loc)

    def _layers(self, services, name) -> dict:
        """Service keys after ``extends``: key -> [mapping that writes it, ...], base first.
        Iterative, so that a long ``extends`` chain cannot exhaust the stack."""
        hit = self._resolved.get(name)
        if hit is not None:
            return hit
        if "extends" not in services[name]:
            hit = self._resolved[name] = self._overlay(services[name], {})
            return hit
        chain = [name]  # the service, its base, the base's base, ...
        while chain[-1] not in self._resolved and "extends" in services[chain[-1]]:
            base = self._extends_target(services, chain[-1], chain)
            if base is None:
                break
            chain.append(base)
        layers: dict = {}
        for cur in reversed(chain):
            hit = self._resolved.get(cur)
            if hit is None:
                hit = self._resolved[cur] = self._overlay(services[cur], layers)
            layers = hit
        return layers

    def _overlay(self, svc, base: dict) -> dict:
        if not base and not self._tagged:
            return {key: [svc] for key in svc if key != "extends"}
        layers = {k: list(v) for k, v in base.items()}
        tagged = self._tagged
        for key in svc:
            if key == "extends":
                continue
            tag = self._tag(svc, key) if tagged else None
            if tag == "!reset":
                layers.pop(key, None)
            elif tag == "!override":
                layers[key] = [svc]
            else:
                layers.setdefault(key, []).append(svc)
        return layers

    def _extends_target(self, services, name, chain: list):
        svc = services[name]
        ext = svc["extends"]
        loc = key_loc(self.path, svc, "extends")
        if isinstance(ext, dict):
            if ext.get("file") is not None:
                self.warn(loc, f"service '{name}' extends a service in {ext.get('file')!r}, which is not followed; "
                          "checked with its own keys only", level="notice")
                return None
            base = self.val(ext.get("service"))
        else:
            base = self.val(ext)
        if base is UNKNOWN:
            return None
        if not isinstance(base, str) or not base:
            self.warn(loc, f"extends should name a service, found {_typename(ext)}; ignored")
            return None
        if base not in services:
            self.warn(loc, f"service '{name}' extends '{base}', which is not defined in this file; "
                      "checked with its own keys only")
            return None
        if base in chain:
            cycle = " -> ".join(str(s) for s in chain[chain.index(base):] + [base])
            self.warn(loc, f"extends cycle ({cycle}); '{name}' checked with its own keys only")
            return None
        if not isinstance(services[base], dict):
            return None
        return base

    # -- one service -------------------------------------------------------------------------
    def _service(self, name: str, svc, layers: dict, loc: Location) -> None:
        path = self.path
        ident = f"{self.ident_base}/services/{name}"
        end = self._block_end(loc.line, loc.column)
        w = Workload(FORMAT, path, ident, loc, KIND, name, None)
        w.end_line = end
        ct = Container(FORMAT, path, ident + "/container", loc, name, "service")
        ct.end_line = end
        ct.locs["name"] = loc
        ct.root_by_default = False
        ct.workload = w
        w.containers.append(ct)
        self.pf.add(w)
        self.pf.add(ct)

        # Each step below runs only when the service (after extends) writes one of its keys: an
        # absent key would only set what the model's defaults already say.
        self._image(ct, layers)
        if "user" in layers:
            user, uloc = self.scalar(layers, "user")
            if isinstance(user, (dict, list)):
                self.warn(uloc, f"user should be a string, found {_typename(user)}; ignored")
                user = None
            elif user is not None and user is not UNKNOWN:
                user = str(user).strip() or None
            ct.set("user", user, uloc)
        for field, key in (("privileged", "privileged"), ("read_only_root_fs", "read_only")):
            if key in layers:
                value, vloc = self.scalar(layers, key)
                ct.set(field, self._bool(value, vloc, key), vloc)
        for field, key in (("capabilities_add", "cap_add"), ("capabilities_drop", "cap_drop")):
            if key in layers:
                caps, cloc = self._strings(layers, key)
                ct.set(field, _unique([_cap(c) for c in caps]), cloc)
        if "security_opt" in layers:
            self._security_opts(ct, layers)
        self._namespaces(w, layers)
        if "ports" in layers:
            self._ports(ct, layers)
        if "volumes" in layers:
            self._volumes(ct, w, layers)
        if "environment" in layers or "build" in layers:
            self._environment(ct, layers)
        self._resources(ct, layers)
        if "healthcheck" in layers:
            self._healthcheck(ct, layers)
        if "sysctls" in layers:
            sysctls, sloc = self._named_pairs(layers, "sysctls")
            w.set("sysctls", [n for n, _, _ in sysctls], sloc)
        if "labels" in layers:
            labels, _ = self._named_pairs(layers, "labels")
            w.labels = {n: ("" if v is None else str(v)) for n, v, _ in labels}
        ct.env_files = [f for f in self._file_names(layers, "env_file") if f is not None] \
            if "env_file" in layers else []
        ct.secrets = self._file_names(layers, "secrets", "source") if "secrets" in layers else []
        ct.configs = self._file_names(layers, "configs", "source") if "configs" in layers else []

    def scalar(self, layers: dict, key: str):
        """(interpolated value, location) of the last layer writing ``key``, or (None, None)."""
        srcs = layers.get(key)
        if not srcs:
            return None, None
        src = srcs[-1]
        return self.val(self.raw_value(src, key)), key_loc(self.path, src, key)

    def deep(self, layers: dict, *path: str):
        """(value, location) of a nested key (``deploy.resources.limits.memory``): Compose merges
        these mappings key by key, so the last layer that has the whole path wins."""
        for src in reversed(layers.get(path[0], ())):
            node, key = src, path[0]
            for step in path[1:]:
                node = node.get(key)
                if not isinstance(node, dict):
                    break
                key = step
            else:
                if key in node:
                    return self.val(self.raw_value(node, key)), key_loc(self.path, node, key)
        return None, None

    def _bool(self, v, loc, key):
        if v is None or v is UNKNOWN or isinstance(v, bool):
            return v
        if isinstance(v, str):
            low = v.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        self.warn(loc, f"{key} should be a boolean, found {_typename(v)}; ignored")
        return None

    def _items(self, layers: dict, key: str):
        """Yield (list, index, mapping that writes it) over every layer's list for ``key``."""
        for src in layers.get(key, ()):
            lst = src[key]
            if lst is None:
                continue
            if not isinstance(lst, list):
                self.warn(key_loc(self.path, src, key), f"{key} should be a list, found {_typename(lst)}; ignored")
                continue
            for i in range(len(lst)):
                yield lst, i, src

    def _strings(self, layers: dict, key: str):
        out = []
        for lst, i, src in self._items(layers, key):
            v = self.raw_item(lst, i)
            if isinstance(v, str):
                out.append(self.val(v))
            elif v is not None:
                self.warn(item_loc(self.path, lst, i),
                          f"{key} entries should be strings, found {_typename(v)}; ignored")
        srcs = layers.get(key)
        return out, key_loc(self.path, srcs[-1], key) if srcs else None

    # -- image -------------------------------------------------------------------------------
    def _image(self, ct: Container, layers: dict) -> None:
        ref, loc = self.scalar(layers, "image")
        if ref is None:
            return
        if "build" in layers:
            ct.build_image_name = ref
            return
        if ref is not UNKNOWN:
            if not isinstance(ref, str):
                self.warn(loc, f"image should be a string, found {_typename(ref)}; ignored")
                return
            ref = ref.strip()
            if not ref:
                self.warn(loc, "image is empty", level="warning")
                return
        img = Image(FORMAT, self.path, ct.ident + "/image", loc, ref, "service")
        img.container = ct
        ct.set("image", img, loc)
        self.pf.add(img)

    # -- security options and namespaces ------------------------------------------------------
    def _security_opts(self, ct: Container, layers: dict) -> None:
        for lst, i, src in self._items(layers, "security_opt"):
            opt = self.val(lst[i])
            loc = item_loc(self.path, lst, i) or key_loc(self.path, src, "security_opt")
            if opt is UNKNOWN:
                # Could be any option: no-new-privileges is then not known to be absent.
                if ct.no_new_privileges is None:
                    ct.set("no_new_privileges", UNKNOWN, loc)
                continue
            if not isinstance(opt, str):
                continue
            name, value = _split_opt(opt)
            if name == "no-new-privileges":
                flag = True if value is None else self._bool(value, loc, "no-new-privileges")
                if flag is not None:
                    ct.set("no_new_privileges", flag, loc)
            elif name == "apparmor" and value:
                ct.set("apparmor_profile", "unconfined" if value == "unconfined" else "localhost/" + value, loc)
            elif name == "seccomp" and value:
                ct.set("seccomp_profile", "Unconfined" if value == "unconfined" else "Localhost", loc)
            elif name == "label" and value:
                if value == "disable":
                    ct.set("selinux_type", "disabled", loc)
                elif value.startswith("type:"):
                    ct.set("selinux_type", value[5:], loc)

    def _namespaces(self, w: Workload, layers: dict) -> None:
        mode_key = "network_mode" if "network_mode" in layers else "net"  # `net` is the v1/v2 spelling
        for field, key in (("host_network", mode_key), ("host_pid", "pid"), ("host_ipc", "ipc"),
                           ("host_users", "userns_mode")):
            if key not in layers:
                continue  # unset: the model's None
            value, loc = self.scalar(layers, key)
            if value is None or value is UNKNOWN:
                w.set(field, value, loc)
            else:
                w.set(field, str(value).strip() == "host", loc)

    # -- ports -------------------------------------------------------------------------------
    def _ports(self, ct: Container, layers: dict) -> None:
        seen = set()
        for lst, i, _ in self._items(layers, "ports"):
            item = self.raw_item(lst, i)
            loc = item_loc(self.path, lst, i)
            if isinstance(item, dict):
                ip, published = self._long_port(item)
                loc = key_loc(self.path, item, "published") or loc
            elif isinstance(item, str):
                parsed = self._short_port(item, loc)
                if parsed is None:
                    continue
                ip, published = parsed
            else:
                continue
            key = (repr(ip), repr(published))  # either may be a wrong-typed list or mapping
            if published is None or key in seen:
                continue  # a random host port, or listed twice
            seen.add(key)
            ct.host_ports.append(published)
            ct.locs.setdefault("host_ports", loc)
            if ip is not None and ip is not UNKNOWN and not isinstance(ip, str):
                self.pf.error(loc.line if loc else None, f"host_ip should be a string, found {_typename(ip)}; "
                              "its binding is unknown", level="warning")
                ip = UNKNOWN
            everywhere = UNKNOWN if ip is UNKNOWN else ip in _ALL_INTERFACES
            if everywhere is not False:
                ct.ports_all_interfaces.append(published if everywhere else UNKNOWN)
                ct.locs.setdefault("ports_all_interfaces", loc)

    def _short_port(self, spec: str, loc):
        """``[[ip:]published:]target[/proto]`` -> (ip, published) with UNKNOWN parts, or None."""
        text = self._marked(spec)
        if text is None:
            return UNKNOWN, UNKNOWN
        text = text.strip().rsplit("/", 1)[0]
        ip = ""
        if text.startswith("["):
            close = text.find("]")
            ip, text = text[:close + 1], text[close + 2:]
        parts = text.rsplit(":", 2)
        if len(parts) == 1:
            # A container port only, unless a variable supplies the "host:" part.
            return (UNKNOWN, UNKNOWN) if UNRESOLVED in text else None
        if len(parts) == 3:
            ip = parts[0]
        published = parts[-2]
        if UNRESOLVED in ip:
            ip = UNKNOWN
        if published == "":
            return None
        if UNRESOLVED in published:
            return ip, UNKNOWN
        if not _PORT.fullmatch(published):
            self.warn(loc, f"port mapping {spec!r} has no valid host port ({published!r})", level="warning")
            return None
        return ip, int(published) if published.isdigit() else published

    def _long_port(self, item):
        published = self.val(self.raw_value(item, "published")) if "published" in item else None
        ip = self.val(item.get("host_ip")) if item.get("host_ip") is not None else ""
        if published is None or published is UNKNOWN:
            return ip, published
        published = str(published).strip()
        if not published:
            return ip, None
        return ip, int(published) if published.isdigit() else published

    # -- volumes -----------------------------------------------------------------------------
    def _volumes(self, ct: Container, w: Workload, layers: dict) -> None:
        by_target: dict = {}
        for lst, i, _ in self._items(layers, "volumes"):
            item = lst[i]
            loc = item_loc(self.path, lst, i) or ct.loc
            if isinstance(item, str):
                parsed = self._short_volume(item, loc)
            elif isinstance(item, dict):
                parsed = self._long_volume(item, loc)
            else:
                self.warn(loc, f"volumes entries should be strings or mappings, found {_typename(item)}; ignored")
                continue
            if parsed is None:
                continue
            target = parsed[1]
            by_target[target if isinstance(target, str) else ("#", len(by_target))] = parsed
        for n, (host_path, target, read_only, loc, ro_loc) in enumerate(by_target.values()):
            label = target if isinstance(target, str) else f"[{n}]"
            m = Mount(FORMAT, self.path, f"{ct.ident}/mount/{label}", loc, host_path=host_path,
                      container_path=target, read_only=read_only)
            m.locs["host_path"] = loc
            m.locs["read_only"] = ro_loc or loc
            m.container, m.workload = ct, w
            ct.mounts.append(m)
            if host_path is not None:
                w.volumes.append(m)
                self.pf.add(m)
        if ct.mounts:
            ct.locs["mounts"] = ct.mounts[0].loc

    def _short_volume(self, spec: str, loc):
        """``[source:]target[:mode]`` as compose-go splits it (a Windows drive's ':' is no separator)."""
        text = self._marked(spec)
        if text is None:
            return UNKNOWN, UNKNOWN, None, loc, None
        pieces = text.split(":")
        parts, buf = [], pieces[0]
        for piece in pieces[1:]:
            if len(buf) == 1 and buf.isalpha():
                buf += ":" + piece  # `C:\\data`: a drive letter's colon
            else:
                parts.append(buf)
                buf = piece
        parts.append(buf)
        if len(text) <= 2 or len(parts) == 1:
            return None, _known(text), False, loc, None  # anonymous volume
        if len(parts) > 3 or "" in parts:
            self.warn(loc, f"volume {spec!r} is not [source:]target[:mode]", level="warning")
            return None
        source, target = parts[0], parts[1]
        options = parts[2].split(",") if len(parts) == 3 else []
        read_only = UNKNOWN if any(UNRESOLVED in o for o in options) else "ro" in options
        return self._host_path(source), _known(target), read_only, loc, None

    def _long_volume(self, item, loc):
        vtype = self.val(item.get("type"))
        source = self.val(self.raw_value(item, "source")) if "source" in item else None
        target = self.val(self.raw_value(item, "target")) if "target" in item else None
        ro_loc = key_loc(self.path, item, "read_only")
        read_only = self._bool(self.val(self.raw_value(item, "read_only")) if "read_only" in item else None,
                               ro_loc, "read_only")
        if read_only is None:
            read_only = False
        if vtype in ("bind", "npipe"):
            host = source
        elif vtype == "volume" and isinstance(source, str):
            host = self._named_bind(source)
        elif vtype is UNKNOWN:
            host = UNKNOWN
        else:
            host = None
        if host is not None:
            loc = key_loc(self.path, item, "source") or loc
        return host, target, read_only, loc, ro_loc

    def _host_path(self, source: str):
        if source.startswith(UNRESOLVED):
            return UNKNOWN  # bind or named volume: cannot tell
        if source[:1] in "./~\\" or (len(source) > 1 and source[1] == ":" and source[0].isalpha()):
            return _known(source)
        return self._named_bind(source) if UNRESOLVED not in source else None

    def _named_bind(self, name: str):
        """The host path a named volume binds (``driver_opts: {o: bind, device: /path}``), else None."""
        vol = self.top_volumes.get(name)
        opts = vol.get("driver_opts") if isinstance(vol, dict) else None
        if not isinstance(opts, dict):
            return None
        o = self.val(opts.get("o"))
        device = self.val(opts.get("device"))
        if isinstance(o, str) and "bind" in o.split(",") and device is not None:
            return device
        return None

    # -- environment and build args ----------------------------------------------------------
    def _environment(self, ct: Container, layers: dict) -> None:
        self._settings(ct, [(src, "environment") for src in layers.get("environment", ())], "env", "env")
        args = []
        for src in layers.get("build", ()):
            b = src["build"]
            if isinstance(b, dict) and "args" in b:
                args.append((b, "args"))
        self._settings(ct, args, "build-arg", "build-arg")

    def _named_pairs(self, layers: dict, key: str, pairs=None):
        """Merge a mapping-or-``NAME=value``-list key across layers -> ([(name, raw value, loc)], key loc).
        A list entry without '=' has value None."""
        merged: dict = {}
        srcs = pairs if pairs is not None else [(src, key) for src in layers.get(key, ())]
        for src, k in srcs:
            value = src[k]
            if isinstance(value, dict):
                for name, v in value.items():
                    if self._resets and self._tag(value, name) == "!reset":
                        merged.pop(self._key_text(value, name), None)
                        continue
                    if isinstance(v, (dict, list)):
                        self.warn(key_loc(self.path, value, name),
                                  f"{k} value for {name} should be a string, found {_typename(v)}; ignored")
                        continue
                    merged[self._key_text(value, name)] = (self.raw_value(value, name), key_loc(self.path, value, name))
            elif isinstance(value, list):
                for i in range(len(value)):
                    item = self.raw_item(value, i)
                    loc = item_loc(self.path, value, i)
                    if not isinstance(item, str):
                        if item is not None:
                            self.warn(loc, f"{k} entries should be NAME=value strings, found {_typename(item)}; "
                                      "ignored")
                        continue
                    name, sep, v = item.partition("=")
                    if not name.strip():
                        self.warn(loc, f"{k} entry {item!r} has no name; ignored", level="warning")
                        continue
                    merged[name.strip()] = (v if sep else None, loc)
            elif value is not None:
                self.warn(key_loc(self.path, src, k),
                          f"{k} should be a mapping or a list of NAME=value, found {_typename(value)}; ignored")
        last = srcs[-1] if srcs else None
        return [(n, v, loc) for n, (v, loc) in merged.items()], (key_loc(self.path, *last) if last else None)

    def _settings(self, ct: Container, pairs: list, context: str, segment: str) -> None:
        if not pairs:
            return
        entries, _ = self._named_pairs({}, pairs[0][1], pairs)
        for raw_name, raw_value, loc in entries:
            name = self.val(raw_name)
            if not isinstance(name, str) or not name:
                name = raw_name
            if raw_value is None:  # passed through from the environment Compose runs in
                value, from_ref = None, True
            else:
                e = self.expansion(raw_value) if "$" in raw_value else None
                if "$" not in raw_value:
                    value, from_ref = raw_value, False
                elif e is None:
                    value, from_ref = UNKNOWN, False
                elif e.reference:
                    value, from_ref = None, True
                else:
                    value, from_ref = (e.text if e.known else UNKNOWN), False
            s = Setting(FORMAT, self.path, f"{ct.ident}/{segment}/{name}", loc or ct.loc, name, value, context,
                        from_reference=from_ref)
            s.container = ct
            if context == "env":
                ct.env.append(s)
            self.pf.add(s)

    # -- resources and health ----------------------------------------------------------------
    def _resources(self, ct: Container, layers: dict) -> None:
        deploy = "deploy" in layers
        if not deploy and "cpus" not in layers and "mem_limit" not in layers and "mem_reservation" not in layers:
            return  # all four unset: the model's None
        for field, path, legacy in (("cpu_limit", ("limits", "cpus"), "cpus"),
                                    ("memory_limit", ("limits", "memory"), "mem_limit"),
                                    ("cpu_request", ("reservations", "cpus"), None),
                                    ("memory_request", ("reservations", "memory"), "mem_reservation")):
            value, loc = self.deep(layers, "deploy", "resources", *path) if deploy else (None, None)
            if value is None and legacy:
                value, loc = self.scalar(layers, legacy)
            ct.set(field, value, loc)

    def _healthcheck(self, ct: Container, layers: dict) -> None:
        srcs = [src for src in layers.get("healthcheck", ()) if src["healthcheck"] is not None]
        if not srcs:
            return
        loc = key_loc(self.path, srcs[-1], "healthcheck")
        if not isinstance(srcs[-1]["healthcheck"], dict):
            self.warn(loc, f"healthcheck should be a mapping, found {_typename(srcs[-1]['healthcheck'])}; ignored")
            return
        disabled, dloc = self.deep(layers, "healthcheck", "disable")
        test, tloc = self.deep(layers, "healthcheck", "test")
        if self._bool(disabled, dloc, "healthcheck.disable") is True:
            ct.set("healthcheck", False, dloc)
        elif isinstance(test, list) and test and self.val(test[0]) == "NONE":
            ct.set("healthcheck", False, tloc)
        elif test is not None:
            ct.set("healthcheck", True, loc)
        # else only timings (interval, retries...): they tune the image's own HEALTHCHECK, if any

    def _file_names(self, layers: dict, key: str, field: str = "path") -> list:
        """Names from a string, a list of strings or a list of mappings (``env_file``, ``secrets``)."""
        out = []
        for src in layers.get(key, ()):
            v = src[key]
            for item in ([v] if isinstance(v, str) else v if isinstance(v, list) else []):
                if isinstance(item, dict):
                    item = item.get(field)
                if isinstance(item, str):
                    out.append(self.val(item))
        return out


def _split_opt(opt: str) -> tuple[str, str | None]:
    """``name=value`` or the older ``name:value`` -> (name, value or None)."""
    opt = opt.strip()
    cut = min((i for i in (opt.find("="), opt.find(":")) if i >= 0), default=-1)
    if cut < 0:
        return opt.lower(), None
    return opt[:cut].strip().lower(), opt[cut + 1:].strip()


def _known(text: str):
    return UNKNOWN if UNRESOLVED in text else text


def _cap(c):
    if not isinstance(c, str):
        return c
    c = c.strip().upper()
    return c[4:] if c.startswith("CAP_") else c


def _unique(items: list) -> list:
    out = []
    for x in items:
        if x is UNKNOWN or x not in out:
            out.append(x)
    return out


def _scalar_str(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


