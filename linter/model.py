"""The common resource model every parser produces and every check reads.

Types are named for the concept, not for one format: a Kubernetes container, a Compose
service, a Terraform ``docker_container``, an ECS container definition and the final stage of
a Dockerfile are all a :class:`Container`.

Every value a check can read is either known (a plain Python value), absent (``None``), or
:data:`UNKNOWN` (present in the source but not resolvable statically: an unset Compose variable,
a Terraform reference to a data source).  Checks never fire on UNKNOWN (see engine.conditions).

Each resource records where its fields came from in ``locs`` (field name -> Location), so a
finding can point at the offending key rather than at the top of the resource.
"""
from __future__ import annotations

from typing import Any, Iterator


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:  # an unknown value is never "truthy evidence"
        return False

    def __reduce__(self):  # keep the singleton identity across pickling (worker processes)
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


def is_known(value: Any) -> bool:
    return value is not None and value is not UNKNOWN


class Location:
    """A 1-based position in a file; end_column is exclusive (as SARIF wants)."""

    __slots__ = ("path", "line", "column", "end_line", "end_column")

    def __init__(self, path: str, line: int, column: int = 0, end_line: int = 0, end_column: int = 0):
        self.path = path
        self.line = line
        self.column = column
        self.end_line = end_line or line
        self.end_column = end_column

    def __repr__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Location) and self.astuple() == other.astuple()

    def __hash__(self) -> int:
        return hash(self.astuple())

    def astuple(self) -> tuple:
        return (self.path, self.line, self.column, self.end_line, self.end_column)

    def __getstate__(self):
        return self.astuple()

    def __setstate__(self, state):
        self.path, self.line, self.column, self.end_line, self.end_column = state


#: fields every model type has
COMMON_FIELDS = {
    "format": "source format: dockerfile, kubernetes, compose or terraform",
    "ident": "logical identity, e.g. Deployment/shop/api/container/web",
}


class Resource:
    """Base of every model type.

    ``ident`` is the logical identity (``Deployment/prod/api/container/web``), stable across edits
    that move lines; fingerprints and suppressions use it.  ``annotations`` carries the source's
    object-level annotations (Kubernetes) for suppression scopes.
    """

    type_name = "resource"
    #: field name -> one-line documentation; the engine validates check files against it.
    FIELDS: dict[str, str] = {}

    def __init__(self, fmt: str, path: str, ident: str, loc: Location):
        self.format = fmt
        self.path = path
        self.ident = ident
        self.loc = loc
        self.locs: dict[str, Location] = {}
        self.annotations: dict[str, Any] = {}
        #: line span of the whole resource, for "first line of a resource" suppressions
        self.end_line = loc.line

    def at(self, field: str) -> Location:
        return self.locs.get(field) or self.loc

    def set(self, field: str, value: Any, loc: Location | None = None) -> None:
        setattr(self, field, value)
        if loc is not None:
            self.locs[field] = loc

    def __repr__(self) -> str:
        return f"<{self.type_name} {self.ident} @ {self.loc}>"


class Image(Resource):
    """A container image reference: ``registry:5000/team/app:1.2@sha256:...``."""

    type_name = "image"
    FIELDS = {
        "reference": "the image reference as written, after variable substitution",
        "registry": "registry host (with port), or None for Docker Hub",
        "repository": "repository path without registry, tag or digest",
        "tag": "tag, or None when absent",
        "digest": "digest (sha256:...), or None",
        "context": "where the image is used: 'from' (Dockerfile FROM), 'container', 'service'",
        "has_digest": "fact: pinned by digest",
        "mutable_tag": "fact: no tag or the tag 'latest' (and no digest)",
        "effective_registry": "fact: the registry host, 'docker.io' for Docker Hub references",
    }

    def __init__(self, fmt, path, ident, loc, reference: Any, context: str = "container"):
        super().__init__(fmt, path, ident, loc)
        self.reference = reference
        self.context = context
        self.registry = self.repository = self.tag = self.digest = None
        if isinstance(reference, str):
            from .facts.images import parse_image_reference

            self.registry, self.repository, self.tag, self.digest = parse_image_reference(reference)
        elif reference is UNKNOWN:
            self.registry = self.repository = self.tag = self.digest = UNKNOWN

    @property
    def has_digest(self):
        if self.reference is UNKNOWN or self.digest is UNKNOWN:
            return UNKNOWN
        return self.digest is not None

    @property
    def effective_registry(self):
        if self.reference is UNKNOWN:
            return UNKNOWN
        return self.registry or "docker.io"

    @property
    def mutable_tag(self):
        if self.reference is UNKNOWN or self.tag is UNKNOWN:
            return UNKNOWN
        if self.digest:
            return False
        return self.tag is None or self.tag == "latest"


class Container(Resource):
    """A running container's configuration, whatever declared it."""

    type_name = "container"
    FIELDS = {
        "name": "container name (service name in Compose, stage name in a Dockerfile)",
        "role": "'container', 'init', 'ephemeral', 'service' (Compose/Swarm), 'task' (ECS), 'image' (Dockerfile)",
        "image": "the Image resource, or None (build-only Compose service)",
        "user": "explicit user as written (Dockerfile USER, Compose user, runAsUser), or None",
        "run_as_user": "numeric uid when known",
        "run_as_group": "numeric gid when known",
        "run_as_non_root": "Kubernetes runAsNonRoot (effective, container over pod)",
        "root_by_default": "True when an unset user means root in this format (Dockerfile, Kubernetes)",
        "runs_as_root": "fact: effective user is root (uid 0), or unset where that means root",
        "root_reason": "fact: why runs_as_root holds, in words",
        "privileged": "privileged mode",
        "allow_privilege_escalation": "Kubernetes allowPrivilegeEscalation (None when unset)",
        "no_new_privileges": "Docker no-new-privileges security option",
        "privilege_escalation_allowed": "fact: escalation not prevented (allowPrivilegeEscalation/no-new-privileges)",
        "capabilities_add": "capabilities added (upper-case, no CAP_ prefix)",
        "capabilities_drop": "capabilities dropped",
        "read_only_root_fs": "read-only root filesystem",
        "seccomp_profile": "'RuntimeDefault', 'Localhost', 'Unconfined' or None (effective)",
        "apparmor_profile": "'runtime/default', 'localhost/...', 'unconfined' or None",
        "selinux_type": "SELinux type option, or 'disabled' (Compose label=disable)",
        "proc_mount": "Kubernetes procMount",
        "windows_host_process": "Windows hostProcess",
        "host_ports": "list of host ports bound (hostPort / published ports)",
        "ports_all_interfaces": "published ports bound to every host interface (Compose)",
        "mounts": "list of Mount (host paths and volumes mounted)",
        "env": "list of Setting for environment variables",
        "cpu_limit": "CPU limit", "memory_limit": "memory limit",
        "cpu_request": "CPU request", "memory_request": "memory request",
        "liveness_probe": "has a liveness probe", "readiness_probe": "has a readiness probe",
        "healthcheck": "has a health check (Dockerfile HEALTHCHECK / Compose healthcheck); False when disabled",
        "image_pull_policy": "imagePullPolicy",
        "workload": "the Workload that runs this container, or None",
        "platform": "what runs it: 'kubernetes', 'docker' (Compose, docker_container), 'ecs', 'image' (Dockerfile); "
                    "decides defaults, e.g. Docker applies a seccomp profile when none is set, Kubernetes does not",
        "seccomp_unconfined": "fact: no seccomp filtering (Unconfined, or unset on Kubernetes)",
        "long_running": "fact: the image serves something (EXPOSE, or a server-like CMD/ENTRYPOINT); Dockerfile only",
        "missing_limits": "fact: which limits are missing, in words ('memory', 'CPU', 'memory and CPU')",
        "missing_requests": "fact: which requests are missing, in words",
    }

    def __init__(self, fmt, path, ident, loc, name: Any, role: str = "container"):
        super().__init__(fmt, path, ident, loc)
        self.name = name
        self.role = role
        self.platform = _DEFAULT_PLATFORM.get(fmt, "docker")
        self.image: Image | None = None
        self.user = None
        self.run_as_user = None
        self.run_as_group = None
        self.run_as_non_root = None
        self.root_by_default = False
        self.privileged = None
        self.allow_privilege_escalation = None
        self.no_new_privileges = None
        self.capabilities_add: list = []
        self.capabilities_drop: list = []
        self.read_only_root_fs = None
        self.seccomp_profile = None
        self.apparmor_profile = None
        self.selinux_type = None
        self.proc_mount = None
        self.windows_host_process = None
        self.host_ports: list = []
        self.ports_all_interfaces: list = []
        self.mounts: list[Mount] = []
        self.env: list[Setting] = []
        self.cpu_limit = self.memory_limit = self.cpu_request = self.memory_request = None
        self.liveness_probe = self.readiness_probe = None
        self.healthcheck = None
        self.image_pull_policy = None
        self.workload: Workload | None = None

    @property
    def runs_as_root(self):
        uid = self.run_as_user
        if uid is UNKNOWN or self.user is UNKNOWN:
            return UNKNOWN
        if uid is not None:
            return uid == 0
        if self.user is not None:
            from .facts.users import user_is_root

            return user_is_root(self.user)
        if self.run_as_non_root is True:
            return False
        if self.run_as_non_root is UNKNOWN:
            return UNKNOWN
        return bool(self.root_by_default)

    @property
    def missing_limits(self) -> str:
        return _missing_words(self.memory_limit, self.cpu_limit)

    @property
    def missing_requests(self) -> str:
        return _missing_words(self.memory_request, self.cpu_request)

    @property
    def seccomp_unconfined(self):
        p = self.seccomp_profile
        if p is UNKNOWN:
            return UNKNOWN
        if p is None:
            # Docker and ECS apply the runtime's default profile; Kubernetes runs Unconfined
            # unless the kubelet's SeccompDefault is on, which a manifest cannot know.
            return self.platform == "kubernetes"
        return str(p).lower() == "unconfined"

    @property
    def long_running(self):
        if self.platform != "image":
            return None
        return bool(self.host_ports) or bool(getattr(self, "server_command", False))

    @property
    def root_reason(self) -> str:
        if self.run_as_user == 0:
            return "runAsUser is 0"
        if self.user is not None and self.user is not UNKNOWN:
            return f"user is {self.user}"
        if self.format == "dockerfile":
            return "the final stage sets no USER, so the image runs as root"
        if self.format in ("kubernetes",) or (self.format == "terraform" and self.root_by_default):
            return "runAsUser is unset and runAsNonRoot is not true, so the image's user (often root) is used"
        return "no user is set"

    @property
    def privilege_escalation_allowed(self):
        if self.allow_privilege_escalation is False or self.no_new_privileges is True:
            return False
        if self.allow_privilege_escalation is UNKNOWN or self.no_new_privileges is UNKNOWN:
            return UNKNOWN
        # Kubernetes forces escalation on for privileged containers and CAP_SYS_ADMIN.
        return True


_DEFAULT_PLATFORM = {"kubernetes": "kubernetes", "compose": "docker", "dockerfile": "image"}


def _missing_words(memory, cpu) -> str:
    missing = [w for w, v in (("memory", memory), ("CPU", cpu)) if v is None]
    return " and ".join(missing)


class Mount(Resource):
    """A volume or host path mounted into a container."""

    type_name = "mount"
    FIELDS = {
        "host_path": "host path mounted (bind mount / hostPath), or None",
        "container_path": "path inside the container",
        "read_only": "mounted read-only",
        "container": "the Container it is mounted into (None for a pod volume not mounted)",
        "workload": "the Workload declaring it",
        "platform": "fact: the platform of the workload or container ('kubernetes', 'docker', 'ecs')",
        "writable": "fact: the host path can be written through it: not read-only; for a pod volume, some "
                    "container mounts it without readOnly",
    }

    def __init__(self, fmt, path, ident, loc, host_path=None, container_path=None, read_only=None):
        super().__init__(fmt, path, ident, loc)
        self.host_path = host_path
        self.container_path = container_path
        self.read_only = read_only
        self.container: Container | None = None
        self.workload: Workload | None = None

    @property
    def platform(self):
        owner = self.workload or self.container
        return owner.platform if owner is not None else _DEFAULT_PLATFORM.get(self.format, "docker")

    @property
    def writable(self):
        if self.read_only is UNKNOWN:
            return UNKNOWN
        if self.read_only is True:
            return False
        if self.container is not None or self.workload is None or self.read_only is not None:
            return True
        # A pod volume: readOnly is set per container mount, so it is writable when any container
        # mounts it without readOnly (one mounted by no container cannot be written at all).
        name = getattr(self, "volume_name", None)
        uses = [m for c in self.workload.containers for m in c.mounts
                if getattr(m, "volume", None) is self or (name is not None and m.ident.endswith(f"/mount/{name}"))]
        if any(m.read_only is UNKNOWN for m in uses):
            return UNKNOWN
        return any(m.read_only is not True for m in uses)


class Workload(Resource):
    """Something that schedules containers: a pod (or pod template), a Compose service, an ECS task."""

    type_name = "workload"
    FIELDS = {
        "kind": "Pod, Deployment, ..., ComposeService, EcsTaskDefinition, DockerContainer",
        "name": "object name", "namespace": "namespace (Kubernetes; 'default' when unset)",
        "labels": "pod labels (the pod template's)",
        "host_network": "shares the host network namespace",
        "host_pid": "shares the host PID namespace",
        "host_ipc": "shares the host IPC namespace",
        "host_users": "shares the host user namespace (Compose userns_mode: host / hostUsers: true)",
        "service_account": "service account name (None when unset)",
        "automount_token": "automountServiceAccountToken",
        "containers": "list of Container",
        "volumes": "list of Mount declared by the pod (hostPath volumes)",
        "sysctls": "list of sysctl names set",
        "annotations": "object and pod-template annotations",
        "network_policy_scope": "True when NetworkPolicies apply (Kubernetes objects)",
        "network_policy_selected": "fact (cross-file): some NetworkPolicy in its namespace selects its pods",
        "network_policy_types": "fact (cross-file): union of policyTypes of the policies selecting its pods",
        "automount_token_effective": "fact (cross-file): automountServiceAccountToken of the pod spec, else of its "
                                     "ServiceAccount when that is in the scan, else None (Kubernetes mounts it)",
        "host_namespaces": "fact: host namespaces shared, e.g. ['network', 'pid']",
        "platform": "'kubernetes', 'docker' or 'ecs'",
    }

    def __init__(self, fmt, path, ident, loc, kind: str, name: Any, namespace: Any = None):
        super().__init__(fmt, path, ident, loc)
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.platform = _DEFAULT_PLATFORM.get(fmt, "docker")
        self.labels: dict = {}
        self.host_network = self.host_pid = self.host_ipc = self.host_users = None
        self.service_account = None
        self.automount_token = None
        self.containers: list[Container] = []
        self.volumes: list[Mount] = []
        self.sysctls: list = []
        self.network_policy_scope = False
        #: filled by the cross-file pass (engine.crossfile); None until then
        self.network_policy_selected = None
        self.network_policy_types = None
        self.automount_token_effective = None

    @property
    def host_namespaces(self) -> list:
        out = []
        for field, label in (("host_network", "network"), ("host_pid", "pid"), ("host_ipc", "ipc"),
                             ("host_users", "user")):
            if getattr(self, field) is True:
                out.append(label)
        return out


class NetworkPolicy(Resource):
    type_name = "network_policy"
    FIELDS = {
        "name": "policy name", "namespace": "namespace ('default' when unset)",
        "pod_selector": "podSelector as {'matchLabels': {...}, 'matchExpressions': [...]}",
        "policy_types": "policyTypes (Ingress/Egress), defaulted as Kubernetes does",
        "selects_any_workload": "fact (cross-file): selects at least one workload in the scan",
    }

    def __init__(self, fmt, path, ident, loc, name, namespace, pod_selector, policy_types):
        super().__init__(fmt, path, ident, loc)
        self.name = name
        self.namespace = namespace
        self.pod_selector = pod_selector
        self.policy_types = policy_types
        self.selects_any_workload = None


class Setting(Resource):
    """A name/value pair that may hold a secret: env vars, build args, Secret data, attributes."""

    type_name = "setting"
    FIELDS = {
        "name": "variable / key / attribute name",
        "value": "literal value as a string, None when it is a reference, UNKNOWN when unresolved",
        "context": "env, build-arg, secret-data, secret-string-data, attribute, variable-default, provider, tfvars",
        "from_reference": "the value comes from a reference (valueFrom, ${VAR}, var.x, secretKeyRef)",
        "secret_name": "fact: the name looks like it holds a secret",
        "plaintext_secret": "fact: a literal secret value (name and value evidence combined)",
        "masked_value": "fact: the value with its middle masked (safe to print)",
        "secret_ref": "the value is a reference to a Secret (secretKeyRef / envFrom.secretRef)",
    }

    def __init__(self, fmt, path, ident, loc, name, value, context, from_reference=False):
        super().__init__(fmt, path, ident, loc)
        self.name = name
        self.value = value
        self.context = context
        self.from_reference = from_reference
        self.secret_ref = False

    @property
    def secret_name(self):
        from .facts.secrets import name_is_secret_like

        return isinstance(self.name, str) and name_is_secret_like(self.name)

    @property
    def plaintext_secret(self):
        if self.value is UNKNOWN:
            return UNKNOWN
        if self.from_reference or not isinstance(self.value, str):
            return False
        from .facts.secrets import is_plaintext_secret

        return is_plaintext_secret(self.name, self.value, self.context)

    @property
    def masked_value(self):
        from .facts.secrets import mask

        return mask(self.value) if isinstance(self.value, str) else ""


class Instruction(Resource):
    """One Dockerfile instruction (heredoc bodies joined into their RUN/COPY)."""

    type_name = "instruction"
    FIELDS = {
        "keyword": "instruction keyword, upper-case (RUN, ADD, ...)",
        "value": "arguments as written (continuations joined)",
        "stage": "name or index of the stage it belongs to",
        "final_stage": "the instruction is in the final stage",
    }

    def __init__(self, fmt, path, ident, loc, keyword, value, stage, final_stage):
        super().__init__(fmt, path, ident, loc)
        self.keyword = keyword
        self.value = value
        self.stage = stage
        self.final_stage = final_stage


class RbacRule(Resource):
    """One rule of a Role/ClusterRole."""

    type_name = "rbac_rule"
    FIELDS = {
        "role_kind": "Role or ClusterRole", "role_name": "role name", "namespace": "namespace",
        "api_groups": "apiGroups", "resources": "resources", "verbs": "verbs",
        "resource_names": "resourceNames",
    }

    def __init__(self, fmt, path, ident, loc, role_kind, role_name, namespace, api_groups, resources, verbs,
                 resource_names=()):
        super().__init__(fmt, path, ident, loc)
        self.role_kind = role_kind
        self.role_name = role_name
        self.namespace = namespace
        self.api_groups = list(api_groups)
        self.resources = list(resources)
        self.verbs = list(verbs)
        self.resource_names = list(resource_names)


class RoleBinding(Resource):
    type_name = "role_binding"
    FIELDS = {
        "binding_kind": "RoleBinding or ClusterRoleBinding", "name": "binding name", "namespace": "namespace",
        "role_kind": "roleRef.kind", "role_name": "roleRef.name",
        "subjects": "list of 'Kind:namespace/name' strings (namespace empty when not namespaced)",
        "subject_names": "subject names", "subject_kinds": "subject kinds",
    }

    def __init__(self, fmt, path, ident, loc, binding_kind, name, namespace, role_kind, role_name, subjects):
        super().__init__(fmt, path, ident, loc)
        self.binding_kind = binding_kind
        self.name = name
        self.namespace = namespace
        self.role_kind = role_kind
        self.role_name = role_name
        #: list of (kind, namespace, name)
        self.subject_tuples = list(subjects)
        self.subjects = [f"{k}:{ns or ''}/{n}" for k, ns, n in self.subject_tuples]
        self.subject_names = [n for _, _, n in self.subject_tuples]
        self.subject_kinds = [k for k, _, _ in self.subject_tuples]


class ServiceAccount(Resource):
    type_name = "service_account"
    FIELDS = {"name": "name", "namespace": "namespace", "automount_token": "automountServiceAccountToken"}

    def __init__(self, fmt, path, ident, loc, name, namespace):
        super().__init__(fmt, path, ident, loc)
        self.name = name
        self.namespace = namespace
        self.automount_token = None


class Namespace(Resource):
    type_name = "namespace"
    FIELDS = {"name": "name", "labels": "labels (pod-security.kubernetes.io/... among them)"}

    def __init__(self, fmt, path, ident, loc, name):
        super().__init__(fmt, path, ident, loc)
        self.name = name
        self.labels: dict = {}


class Secret(Resource):
    type_name = "secret"
    FIELDS = {"name": "name", "namespace": "namespace", "secret_type": "type",
              "keys": "keys of data and stringData"}

    def __init__(self, fmt, path, ident, loc, name, namespace, secret_type):
        super().__init__(fmt, path, ident, loc)
        self.name = name
        self.namespace = namespace
        self.secret_type = secret_type
        self.keys: list = []


class Suppression(Resource):
    """A suppression: an inline comment, a Kubernetes annotation or a configuration entry.

    Built by :mod:`linter.suppress` after the checks ran, so the meta checks (unused, expired,
    without a reason, invalid) read what the suppression pass found.  It is also what a suppressed
    Finding carries in ``finding.suppression``; reporters use ``kind`` (SARIF: ``inSource`` or
    ``external``), ``justification``, ``describe()`` and ``as_dict()``.
    """

    type_name = "suppression"
    FIELDS = {
        "source": "'comment', 'annotation', 'config' or 'baseline'",
        "scope": "'line', 'resource', 'file' (ignore-file), 'path' (per-path-ignores), 'secrets' (secrets.allow) "
                 "or 'baseline'",
        "checks": "ids of the checks it names (unknown names left out)",
        "written": "the check ids and names as written",
        "reason": "the reason given after '--' (or iaclint.io/ignore-reason), or None",
        "has_reason": "a non-empty reason was given",
        "until": "expiry date (YYYY-MM-DD) or None",
        "expired": "the expiry date has passed: it no longer suppresses anything",
        "used": "it silenced at least one finding in this run",
        "unused_checks": "the names (as written) of checks that ran in this run but had nothing here to silence",
        "problem": "why it is malformed (bare ignore, unknown check, bad date), or None",
    }

    def __init__(self, fmt, path, ident, loc, source: str, scope: str, kind: str):
        super().__init__(fmt, path, ident, loc)
        self.source = source
        self.scope = scope
        #: SARIF suppression kind: "inSource" (comment, annotation) or "external" (config, baseline)
        self.kind = kind
        self.checks: list[str] = []
        self.written: list[str] = []
        self.reason = None
        self.until = None
        self.expired = False
        self.used = False
        self.unused_checks: list[str] = []
        self.problem = None

    @property
    def has_reason(self) -> bool:
        return bool(self.reason and self.reason.strip())

    @property
    def justification(self):
        return self.reason if self.has_reason else None

    def describe(self) -> str:
        where = {"comment": f"comment at line {self.loc.line}", "annotation": f"annotation at line {self.loc.line}",
                 "config": f"{self.ident} in {self.path}", "baseline": f"baseline {self.path}"}
        text = where.get(self.source, self.source)
        return f"{text}: {self.reason}" if self.has_reason else text

    def as_dict(self) -> dict:
        d = {"kind": self.kind, "source": self.source, "scope": self.scope, "path": self.path, "line": self.loc.line,
             "justification": self.justification}
        if self.until:
            d["until"] = self.until
        return d


MODEL_TYPES: dict[str, type[Resource]] = {
    cls.type_name: cls
    for cls in (Image, Container, Mount, Workload, NetworkPolicy, Setting, Instruction, RbacRule, RoleBinding,
                ServiceAccount, Namespace, Secret, Suppression)
}


class Diagnostic:
    """A problem with the input itself (parse error, skipped file), not a policy finding."""

    __slots__ = ("path", "line", "column", "message", "level")

    def __init__(self, path: str, line: int | None, message: str, column: int | None = None, level: str = "error"):
        self.path = path
        self.line = line
        self.column = column
        self.message = message
        #: "error" (the file could not be checked fully; counts for the exit code) or "notice"
        self.level = level

    def __repr__(self) -> str:
        return f"{self.path}:{self.line}: {self.level}: {self.message}"

    def __getstate__(self):
        return (self.path, self.line, self.column, self.message, self.level)

    def __setstate__(self, s):
        self.path, self.line, self.column, self.message, self.level = s

    def sort_key(self):
        return (self.path, self.line or 0, self.column or 0, self.message)


def internal_error(exc: BaseException, doing: str = "parsing") -> str:
    """Diagnostic text for a bug in iaclint while handling a file.  The exception's own text may
    quote the input (a secret, say), so it is shown only with IACLINT_DEBUG set."""
    import os

    detail = f": {exc}" if os.environ.get("IACLINT_DEBUG") else ""
    return (f"internal error while {doing} ({type(exc).__name__}{detail}); please report this file "
            "(IACLINT_DEBUG=1 shows details)")


class ParsedFile:
    """What a parser returns for one file."""

    __slots__ = ("path", "format", "resources", "diagnostics", "lines")

    def __init__(self, path: str, fmt: str):
        self.path = path
        self.format = fmt
        self.resources: list[Resource] = []
        self.diagnostics: list[Diagnostic] = []
        #: source lines, kept only when the file contains suppression comments (see suppress.py)
        self.lines: list[str] | None = None

    def add(self, res: Resource) -> Resource:
        self.resources.append(res)
        return res

    def error(self, line: int | None, message: str, column: int | None = None, level: str = "error") -> None:
        self.diagnostics.append(Diagnostic(self.path, line, message, column, level))

    def of_type(self, type_name: str) -> Iterator[Resource]:
        return (r for r in self.resources if r.type_name == type_name)
