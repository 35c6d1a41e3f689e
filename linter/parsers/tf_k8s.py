"""Terraform kubernetes provider resources -> the Kubernetes object mapper.

A ``kubernetes_deployment`` block tree is rewritten into the object ``kubectl`` would send
(snake_case blocks -> camelCase keys, repeated blocks -> lists: ``container`` -> ``containers``,
``security_context { run_as_user }`` -> ``securityContext.runAsUser``) with positions on every
mapping, and handed to :class:`linter.parsers.kubernetes.ObjectMapper`, so Terraform and YAML
give identical resources and findings.

What the YAML path never sees, and this module handles before or after mapping:

* unknown values (unresolved variables, data sources, ``dynamic`` blocks).  Booleans and
  numbers stay UNKNOWN (the mapper passes them through); strings the mapper would stringify
  (names, namespaces, label values, env values, Secret data) become a placeholder showing the
  expression, which is turned back into UNKNOWN / a reference after mapping; lists and maps
  that are unknown as a whole are left out and recorded, and the fields they would have set
  are made UNKNOWN afterwards (a ``dynamic "security_context"`` makes the container's user and
  privileges unknown rather than "unset").
* references: an env value or Secret datum written as ``var.x`` is a reference, not a
  plaintext secret here (the literal, if any, is reported where it is written).
* the provider's Secret ``data`` is plain text (the provider base64-encodes it), i.e. the
  API's ``stringData``; ``binary_data`` is the API's ``data``.
* a workload whose namespace or pod labels are unknown is not judged for network policies,
  nor is any workload of a module holding a NetworkPolicy whose namespace or selector is
  unknown (it might select them).

The provider's defaults match the API server's for the fields we read
(``automount_service_account_token`` defaults to true on pods and service accounts, as in
Kubernetes), so an unset argument stays unset, exactly as in YAML.
"""
from __future__ import annotations

import re

from ..model import UNKNOWN, ParsedFile
from .jsonpos import PosDict, PosList
from .tf_ast import Block, Body, Obj, Tup, has_ref, obj_to_body, render
from .tf_expr import ModuleScope

_WORKLOADS = {
    "pod": ("v1", "Pod"), "deployment": ("apps/v1", "Deployment"), "stateful_set": ("apps/v1", "StatefulSet"),
    "daemonset": ("apps/v1", "DaemonSet"), "daemon_set": ("apps/v1", "DaemonSet"),
    "replication_controller": ("v1", "ReplicationController"), "job": ("batch/v1", "Job"),
    "cron_job": ("batch/v1", "CronJob"), "network_policy": ("networking.k8s.io/v1", "NetworkPolicy"),
    "secret": ("v1", "Secret"), "namespace": ("v1", "Namespace"), "service_account": ("v1", "ServiceAccount"),
    "role": ("rbac.authorization.k8s.io/v1", "Role"), "cluster_role": ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    "role_binding": ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    "cluster_role_binding": ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
}
#: resource type -> (apiVersion, kind)
KINDS = {}
for _short, _kind in _WORKLOADS.items():
    KINDS[f"kubernetes_{_short}"] = _kind
    KINDS[f"kubernetes_{_short}_v1"] = _kind
KINDS["kubernetes_cron_job_v1"] = ("batch/v1", "CronJob")

#: repeated blocks -> the API's list field
LIST_BLOCKS = {
    "container": "containers", "init_container": "initContainers", "ephemeral_container": "ephemeralContainers",
    "port": "ports", "env": "env", "env_from": "envFrom", "volume": "volumes", "volume_mount": "volumeMounts",
    "volume_device": "volumeDevices", "rule": "rules", "subject": "subjects", "match_expressions": "matchExpressions",
    "ingress": "ingress", "egress": "egress", "from": "from", "to": "to", "ports": "ports", "toleration": "tolerations",
    "sysctl": "sysctls", "image_pull_secrets": "imagePullSecrets", "host_aliases": "hostAliases", "items": "items",
    "topology_spread_constraint": "topologySpreadConstraints", "readiness_gate": "readinessGates",
    "option": "options", "http_header": "httpHeaders", "resource_claims": "resourceClaims",
    "aggregation_rule": "aggregationRule", "secret": "secrets",
}
_RENAMES = {"host_pid": "hostPID", "host_ipc": "hostIPC"}
#: attributes whose value is a map of strings (keys are data, not field names)
MAP_ATTRS = {"labels", "annotations", "match_labels", "data", "binary_data", "string_data", "limits", "requests",
             "node_selector"}
#: attributes the mapper reads as lists
LIST_ATTRS = {"add", "drop", "policy_types", "api_groups", "resources", "verbs", "resource_names", "values",
              "non_resource_urls", "command", "args"}
#: fields the mapper reads as booleans/integers: UNKNOWN passes through it unharmed
_TYPED = {"hostNetwork", "hostPID", "hostIPC", "hostUsers", "automountServiceAccountToken", "runAsUser",
          "runAsGroup", "runAsNonRoot", "privileged", "allowPrivilegeEscalation", "readOnlyRootFilesystem",
          "hostProcess", "readOnly", "hostPort", "image"}
#: API fields holding maps or lists (left out when unknown as a whole)
_CAMEL_COLLECTIONS = {"labels", "annotations", "matchLabels", "matchExpressions", "data", "stringData", "binaryData",
                      "limits", "requests", "containers", "initContainers", "ephemeralContainers", "env", "envFrom",
                      "volumes", "volumeMounts", "ports", "add", "drop", "policyTypes", "rules", "subjects",
                      "apiGroups", "resources", "verbs", "resourceNames", "securityContext", "capabilities",
                      "metadata", "spec", "template", "jobTemplate", "podSelector", "sysctls", "items"}
#: string values that may hold secrets: a reference is never a literal here
_SECRETISH_MAPS = {"data", "binary_data", "string_data"}

_CONTAINER_SECURITY_FIELDS = ("run_as_user", "run_as_group", "run_as_non_root", "user", "privileged",
                              "allow_privilege_escalation", "read_only_root_fs", "capabilities_add",
                              "capabilities_drop", "seccomp_profile", "apparmor_profile", "selinux_type", "proc_mount")
_POD_INHERITED = (("run_as_user", "runAsUser"), ("run_as_group", "runAsGroup"), ("run_as_non_root", "runAsNonRoot"),
                  ("seccomp_profile", "seccompProfile"))

_SNAKE = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    return _RENAMES.get(name) or _SNAKE.sub(lambda m: m.group(1).upper(), name)


class K8sModule:
    """Per module directory: maps resources, remembers what must be judged module-wide."""

    def __init__(self, scope: ModuleScope):
        self.scope = scope
        self.workloads: list = []
        self.unresolved_policy = False

    def map_resource(self, pf: ParsedFile, block: Block) -> None:
        api_version, kind = KINDS[block.labels[0]]
        if not block.body.blocks_of("metadata") and "metadata" not in block.body.dynamic_names():
            return  # the provider requires metadata: this is a documentation snippet, not a resource
        conv = _Converter(self.scope)
        doc = conv.convert(block.body, block, "")
        if kind == "Secret":
            # the provider's `data` is plain text (the API's stringData); `binary_data` is base64
            _rename(doc, "data", "stringData")
            _rename(doc, "binaryData", "data")
        doc["apiVersion"], doc["kind"] = api_version, kind
        self._map(pf, doc, conv)

    def map_manifest(self, pf: ParsedFile, block: Block) -> None:
        """``kubernetes_manifest``: ``manifest`` is the API object itself, as an HCL object."""
        a = block.body.attrs.get("manifest")
        value = self.scope.eval(a.expr) if a is not None else None
        if not isinstance(value, dict) or not isinstance(value.get("kind"), str):
            return
        conv = _Converter(self.scope)
        doc = conv.convert_data(value, "", f"kubernetes_manifest.{block.labels[1]}.manifest")
        doc.line, doc.col, doc.end_line = block.line, block.col, block.end_line
        self._map(pf, doc, conv)

    def _map(self, pf: ParsedFile, doc: PosDict, conv: "_Converter") -> None:
        from .kubernetes import POD_SPEC_PATHS, ObjectMapper

        kind = doc.get("kind")
        before = len(pf.resources)
        ObjectMapper(pf, "terraform").map_object(doc)
        new = pf.resources[before:]

        spec = doc
        for step in POD_SPEC_PATHS.get(kind, ()):
            spec = spec.get(step) if isinstance(spec, dict) else None
        containers = {}
        if isinstance(spec, dict):
            for key in ("containers", "initContainers", "ephemeralContainers"):
                for c in spec.get(key) or ():
                    if isinstance(c, dict):
                        containers[(c.line, c.col)] = c
        for r in new:
            t = r.type_name
            if t == "setting" and r.value in conv.placeholders:
                if conv.placeholders[r.value]:
                    r.value, r.from_reference = None, True
                else:
                    r.value = UNKNOWN
            elif t == "container":
                r.platform = "kubernetes"
                c = containers.get((r.loc.line, r.loc.column))
                if c is not None:
                    conv.fix_container(r, c, spec)
            elif t == "workload":
                r.platform = "kubernetes"
                meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
                tmeta = meta if kind == "Pod" else _template_meta(doc, kind)
                if (r.namespace in conv.placeholders or conv.is_unknown(tmeta, "labels")
                        or any(v in conv.placeholders for v in r.labels.values())):
                    r.network_policy_scope = False
                if r.namespace in conv.placeholders:
                    r.namespace = UNKNOWN
                self.workloads.append(r)
            elif t == "network_policy":
                pspec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
                sel = pspec.get("podSelector")
                if (r.namespace in conv.placeholders or conv.is_unknown(pspec, "podSelector")
                        or conv.selector_unknown(sel)):
                    self.unresolved_policy = True
                    if r.namespace in conv.placeholders:
                        r.namespace = UNKNOWN

    def finish(self) -> None:
        """A policy we cannot read might select any workload of the module: judge none."""
        if self.unresolved_policy:
            for w in self.workloads:
                w.network_policy_scope = False


def _template_meta(doc, kind):
    node = doc
    path = ("spec", "jobTemplate", "spec", "template") if kind == "CronJob" else ("spec", "template")
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    meta = node.get("metadata") if isinstance(node, dict) else None
    return meta if isinstance(meta, dict) else {}


def _rename(d: PosDict, old: str, new: str) -> None:
    if old in d:
        d[new] = d.pop(old)
        if old in d.pos:
            d.pos[new] = d.pos.pop(old)


class _Converter:
    def __init__(self, scope: ModuleScope):
        self.scope = scope
        #: placeholder text -> True when it stands for a reference, False for an unknown value
        self.placeholders: dict[str, bool] = {}
        #: id(PosDict) -> keys that were written but are unknown (dynamic blocks, unknown maps/lists)
        self.unknown: dict[int, set] = {}
        self._keep: list = []  # keeps converted dicts alive so their ids stay unique

    def is_unknown(self, d, key: str) -> bool:
        return isinstance(d, dict) and key in self.unknown.get(id(d), ())

    def _mark(self, d: PosDict, key: str) -> None:
        self.unknown.setdefault(id(d), set()).add(key)

    def _placeholder(self, text: str, is_ref: bool) -> str:
        """A string standing for an unknown value, showing where it comes from (it ends up in
        idents and messages: ``Deployment/${var.namespace}/api``)."""
        p = text if text.startswith("${") or "${" in text else "${" + text + "}"
        self.placeholders[p] = is_ref
        return p

    def convert(self, body: Body, block: Block | None, block_type: str) -> PosDict:
        line = block.line if block else body.line
        col = block.col if block else body.col
        d = PosDict(line=line, col=col, end_line=block.end_line if block else body.end_line)
        self._keep.append(d)
        attrs = body.attrs
        nested: list[Block] = list(body.blocks)
        for name, a in attrs.items():
            expr = a.expr
            if body.from_json and name not in MAP_ATTRS and _json_block_like(expr):
                nested.extend(_json_blocks(name, a))
                continue
            key = camel(name)
            pos = (a.line, a.col, a.key_end_col, expr.line, expr.col, expr.end_line, expr.end_col)
            value = self.scope.eval(expr)
            if name in MAP_ATTRS:
                if not isinstance(value, dict):
                    self._mark(d, key)
                    continue
                value = self._map_values(value, expr, secretish=name in _SECRETISH_MAPS)
            elif name in LIST_ATTRS:
                if not isinstance(value, list):
                    self._mark(d, key)
                    continue
            elif value is UNKNOWN:
                if key not in _TYPED:
                    value = self._placeholder(render(expr), has_ref(expr))
            elif block_type == "env" and name == "value" and has_ref(expr):
                value = self._placeholder(render(expr), True)
            d[key] = value
            d.pos[key] = pos
        for b in nested:
            if b.type == "dynamic":
                if b.labels:
                    self._mark(d, LIST_BLOCKS.get(b.labels[0]) or camel(b.labels[0]))
                continue
            child = self.convert(b.body, b, b.type)
            pos = (b.line, b.col, b.type_end_col, b.line, b.col, b.end_line, 0)
            list_key = LIST_BLOCKS.get(b.type)
            if list_key is not None:
                lst = d.get(list_key)
                if not isinstance(lst, PosList):
                    lst = PosList(line=b.line, col=b.col)
                    d[list_key] = lst
                    d.pos[list_key] = pos
                lst.append(child)
                lst.pos.append((b.line, b.col, b.line, b.type_end_col))
            else:
                key = camel(b.type)
                if key not in d:
                    d[key] = child
                    d.pos[key] = pos
        return d

    def convert_data(self, value, key: str, where: str):
        """An evaluated API object (``kubernetes_manifest``): the same unknown/reference handling
        as :meth:`convert`, keyed on the camelCase field names."""
        if isinstance(value, dict):
            d = PosDict(line=getattr(value, "line", 1), col=getattr(value, "col", 1),
                        end_line=getattr(value, "end_line", 0))
            self._keep.append(d)
            pos, refs = getattr(value, "pos", {}), getattr(value, "refs", set())
            secretish = key in ("data", "stringData")
            for k, v in value.items():
                here = f"{where}.{k}"
                if v is UNKNOWN:
                    if k in _TYPED:
                        d[k] = v
                    elif k in _CAMEL_COLLECTIONS:
                        self._mark(d, k)
                        continue
                    else:
                        d[k] = self._placeholder(here, k in refs)
                elif isinstance(v, (dict, list)):
                    d[k] = self.convert_data(v, k, here)
                elif k in refs and (secretish or (key == "env" or k == "value")):
                    d[k] = self._placeholder(here, True)
                else:
                    d[k] = v
                if k in pos:
                    d.pos[k] = pos[k]
            return d
        if isinstance(value, list):
            lst = PosList(line=getattr(value, "line", 1), col=getattr(value, "col", 1))
            lst.pos = list(getattr(value, "pos", []))
            for i, v in enumerate(value):
                lst.append(self.convert_data(v, key, f"{where}[{i}]"))
            return lst
        return value

    def _map_values(self, value: dict, expr, secretish: bool) -> dict:
        out = PosDict(line=getattr(value, "line", expr.line), col=getattr(value, "col", expr.col))
        pos = getattr(value, "pos", {})
        refs = getattr(value, "refs", set())
        whole = render(expr)
        items = {it.key: it.value for it in expr.items if isinstance(it.key, str)} if isinstance(expr, Obj) else {}
        for k, v in value.items():
            src = render(items[k]) if k in items else f"{whole}[\"{k}\"]"
            if v is UNKNOWN or isinstance(v, (dict, list)):
                v = self._placeholder(src, k in refs)
            elif secretish and k in refs:
                v = self._placeholder(src, True)
            out[k] = v
            if k in pos:
                out.pos[k] = pos[k]
        return out

    def selector_unknown(self, sel) -> bool:
        if not isinstance(sel, dict):
            return sel is not None
        if self.is_unknown(sel, "matchLabels") or self.is_unknown(sel, "matchExpressions"):
            return True
        labels = sel.get("matchLabels")
        if isinstance(labels, dict) and any(v in self.placeholders for v in labels.values()):
            return True
        for e in sel.get("matchExpressions") or ():
            if not isinstance(e, dict) or self.is_unknown(e, "values") or any(
                    isinstance(e.get(k), str) and e.get(k) in self.placeholders for k in ("key", "operator")):
                return True
            for v in e.get("values") or ():
                if v is UNKNOWN or (isinstance(v, str) and v in self.placeholders):
                    return True
        return False

    def fix_container(self, ct, c: PosDict, spec) -> None:
        """Fields a dynamic block or an unknown list would have set are unknown, not unset."""
        sc = c.get("securityContext") if isinstance(c.get("securityContext"), dict) else {}
        if self.is_unknown(c, "securityContext"):
            for field in _CONTAINER_SECURITY_FIELDS:
                setattr(ct, field, UNKNOWN)
            return
        caps = sc.get("capabilities") if isinstance(sc.get("capabilities"), dict) else {}
        if self.is_unknown(sc, "capabilities") or self.is_unknown(caps, "add"):
            ct.capabilities_add = UNKNOWN
        if self.is_unknown(sc, "capabilities") or self.is_unknown(caps, "drop"):
            ct.capabilities_drop = UNKNOWN
        if isinstance(spec, dict) and self.is_unknown(spec, "securityContext"):
            for field, key in _POD_INHERITED:
                if key not in sc:
                    setattr(ct, field, UNKNOWN)
            if "runAsUser" not in sc:
                ct.user = UNKNOWN


def _json_block_like(expr) -> bool:
    return isinstance(expr, Obj) or (isinstance(expr, Tup) and bool(expr.items)
                                     and all(isinstance(i, Obj) for i in expr.items))


def _json_blocks(name: str, a) -> list[Block]:
    items = [a.expr] if isinstance(a.expr, Obj) else a.expr.items
    if name == "dynamic":
        # {"dynamic": {"container": {...}}}: one dynamic block per key
        out = []
        for o in items:
            for it in o.items:
                out.append(Block("dynamic", [it.key] if isinstance(it.key, str) else [], Body(), it.line, it.col,
                                 it.value.end_line))
        return out
    return [Block(name, [], obj_to_body(o), o.line, o.col, o.end_line, a.key_end_col) for o in items]
