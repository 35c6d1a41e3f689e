"""linter.parsers.tf_k8s: kubernetes provider resources give the same model as the YAML they
stand for, with Terraform's unknowns and references handled."""
from __future__ import annotations

import os
import textwrap

from linter.discover import Candidate
from linter.model import UNKNOWN
from linter.parsers import yamlfile
from linter.parsers.terraform import parse_module

YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  annotations: {team: core}
spec:
  template:
    metadata:
      labels: {app: api, tier: backend}
    spec:
      hostNetwork: true
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 1000
        seccompProfile: {type: RuntimeDefault}
      volumes:
        - name: docker
          hostPath: {path: /var/run/docker.sock}
      initContainers:
        - name: init
          image: busybox:1.36
          securityContext: {runAsUser: 0}
      containers:
        - name: web
          image: nginx:1.25
          imagePullPolicy: Always
          securityContext:
            privileged: true
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {add: [SYS_ADMIN, CAP_NET_RAW], drop: [ALL]}
          ports:
            - containerPort: 80
              hostPort: 8080
          env:
            - name: MODE
              value: prod
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {name: db, key: password}
          envFrom:
            - secretRef: {name: api-env}
          resources:
            limits: {cpu: 500m, memory: 256Mi}
            requests: {cpu: 100m}
          livenessProbe:
            httpGet: {path: /, port: 80}
          volumeMounts:
            - name: docker
              mountPath: /var/run/docker.sock
              readOnly: true
"""

TF = """\
resource "kubernetes_deployment_v1" "api" {
  metadata {
    name        = "api"
    namespace   = "shop"
    annotations = { team = "core" }
  }
  spec {
    template {
      metadata {
        labels = { app = "api", tier = "backend" }
      }
      spec {
        host_network                    = true
        service_account_name            = "api"
        automount_service_account_token = false
        security_context {
          run_as_non_root = true
          run_as_user     = "1000"
          seccomp_profile { type = "RuntimeDefault" }
        }
        volume {
          name = "docker"
          host_path { path = "/var/run/docker.sock" }
        }
        init_container {
          name  = "init"
          image = "busybox:1.36"
          security_context { run_as_user = 0 }
        }
        container {
          name              = "web"
          image             = "nginx:1.25"
          image_pull_policy = "Always"
          security_context {
            privileged                 = true
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              add  = ["SYS_ADMIN", "CAP_NET_RAW"]
              drop = ["ALL"]
            }
          }
          port {
            container_port = 80
            host_port      = 8080
          }
          env {
            name  = "MODE"
            value = "prod"
          }
          env {
            name = "DB_PASSWORD"
            value_from {
              secret_key_ref {
                name = "db"
                key  = "password"
              }
            }
          }
          env_from {
            secret_ref { name = "api-env" }
          }
          resources {
            limits   = { cpu = "500m", memory = "256Mi" }
            requests = { cpu = "100m" }
          }
          liveness_probe {
            http_get {
              path = "/"
              port = 80
            }
          }
          volume_mount {
            name       = "docker"
            mount_path = "/var/run/docker.sock"
            read_only  = true
          }
        }
      }
    }
  }
}
"""

CONTAINER_FIELDS = ("name", "role", "user", "run_as_user", "run_as_non_root", "runs_as_root", "privileged",
                    "allow_privilege_escalation", "privilege_escalation_allowed", "capabilities_add",
                    "capabilities_drop", "read_only_root_fs", "seccomp_profile", "host_ports", "cpu_limit",
                    "memory_limit", "cpu_request", "memory_request", "liveness_probe", "readiness_probe",
                    "image_pull_policy", "platform")
WORKLOAD_FIELDS = ("kind", "name", "namespace", "labels", "host_network", "host_pid", "service_account",
                   "automount_token", "network_policy_scope", "platform", "annotations")


def tf_module(tmp_path, files: dict):
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    cands = [Candidate(str(tmp_path / n), "terraform", os.path.getsize(tmp_path / n)) for n in sorted(files)]
    out = parse_module(str(tmp_path), cands, 10 << 20)
    return [r for pf in out for r in pf.resources], [d for pf in out for d in pf.diagnostics]


def project(resources, type_name, fields):
    out = {}
    for r in resources:
        if r.type_name == type_name:
            out[r.ident] = {f: getattr(r, f) for f in fields}
    return out


def test_deployment_maps_exactly_like_yaml(tmp_path):
    yaml_res = yamlfile.parse("deploy.yaml", YAML).resources
    tf_res, diags = tf_module(tmp_path, {"main.tf": TF})
    assert diags == []
    assert project(tf_res, "container", CONTAINER_FIELDS) == project(yaml_res, "container", CONTAINER_FIELDS)
    assert project(tf_res, "workload", WORKLOAD_FIELDS) == project(yaml_res, "workload", WORKLOAD_FIELDS)
    for t in ("image", "mount", "setting"):
        assert sorted(r.ident for r in tf_res if r.type_name == t) == \
            sorted(r.ident for r in yaml_res if r.type_name == t), t
    mounts = [m for r in tf_res if r.type_name == "container" for m in r.mounts]
    assert [(m.host_path, m.container_path, m.read_only) for m in mounts] == [
        ("/var/run/docker.sock", "/var/run/docker.sock", True)]
    secret_env = [r for r in tf_res if r.type_name == "setting" and r.name == "DB_PASSWORD"][0]
    assert secret_env.from_reference and secret_env.secret_ref


def test_locations_point_at_the_terraform_source(tmp_path):
    res, _ = tf_module(tmp_path, {"main.tf": TF})
    web = [r for r in res if r.type_name == "container" and r.name == "web"][0]
    assert (web.loc.line, web.loc.column) == (30, 9)  # the container block
    assert (web.locs["privileged"].line, web.locs["privileged"].column) == (35, 13)
    assert web.locs["privileged"].end_column == 46  # the key through the end of its value
    assert web.locs["capabilities_add"].line == 39
    assert web.image.loc.line == 32
    w = [r for r in res if r.type_name == "workload"][0]
    assert (w.loc.line, w.end_line) == (1, 82)


def test_network_policy_and_rbac(tmp_path):
    res, diags = tf_module(tmp_path, {"main.tf": """\
        resource "kubernetes_network_policy" "deny" {
          metadata {
            name      = "deny"
            namespace = "shop"
          }
          spec {
            pod_selector {
              match_labels = { app = "api" }
              match_expressions {
                key      = "tier"
                operator = "In"
                values   = ["backend"]
              }
            }
            egress {}
            policy_types = ["Ingress", "Egress"]
          }
        }
        resource "kubernetes_cluster_role_v1" "reader" {
          metadata { name = "reader" }
          rule {
            api_groups = [""]
            resources  = ["secrets"]
            verbs      = ["get", "list"]
          }
        }
        resource "kubernetes_role_binding" "rb" {
          metadata {
            name      = "rb"
            namespace = "shop"
          }
          role_ref {
            api_group = "rbac.authorization.k8s.io"
            kind      = "ClusterRole"
            name      = "reader"
          }
          subject {
            kind      = "ServiceAccount"
            name      = "api"
          }
        }
    """})
    assert diags == []
    [np] = [r for r in res if r.type_name == "network_policy"]
    assert np.pod_selector == {"matchLabels": {"app": "api"},
                               "matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]}
    assert (np.namespace, np.policy_types) == ("shop", ["Ingress", "Egress"])
    [rule] = [r for r in res if r.type_name == "rbac_rule"]
    assert (rule.role_kind, rule.resources, rule.verbs, rule.loc.line) == ("ClusterRole", ["secrets"],
                                                                           ["get", "list"], 21)
    [rb] = [r for r in res if r.type_name == "role_binding"]
    assert rb.subjects == ["ServiceAccount:shop/api"] and rb.role_name == "reader"


def test_secret_data_is_plain_text_and_references_are_not_literals(tmp_path):
    res, _ = tf_module(tmp_path, {"main.tf": """\
        resource "kubernetes_secret" "db" {
          metadata { name = "db" }
          data = {
            password = "hunter2hunter2"
            token    = var.token
            other    = file("secret.txt")
          }
          binary_data = { cert = "aHVudGVyMg==" }
        }
        variable "token" { default = "tok-from-default-1" }
    """})
    s = {r.name: r for r in res if r.type_name == "setting" and r.context.startswith("secret")}
    assert (s["password"].context, s["password"].value, s["password"].plaintext_secret) == (
        "secret-string-data", "hunter2hunter2", True)
    assert s["token"].from_reference and s["token"].value is None and s["token"].plaintext_secret is False
    assert s["other"].value is UNKNOWN and s["other"].plaintext_secret is UNKNOWN
    assert s["cert"].context == "secret-data"  # binary_data is base64, like the API's data
    # the variable default is reported where it is written, once
    [d] = [r for r in res if r.type_name == "setting" and r.context == "variable-default"]
    assert d.name == "token" and d.loc.line == 10


def test_unknown_values_are_unknown_not_unset(tmp_path):
    res, diags = tf_module(tmp_path, {"main.tf": """\
        resource "kubernetes_pod" "p" {
          metadata {
            name      = var.name
            namespace = var.namespace
          }
          spec {
            dynamic "security_context" {
              for_each = [1]
              content { run_as_user = 0 }
            }
            container {
              name  = "a"
              image = data.x.image
              security_context {
                privileged = var.privileged
                capabilities { add = var.caps }
              }
              env {
                name  = "TOKEN"
                value = data.vault.token
              }
            }
            container {
              name  = "b"
              image = "busybox:1.36"
              dynamic "security_context" {
                for_each = [1]
                content { privileged = true }
              }
            }
          }
        }
        variable "name" {}
        variable "namespace" {}
        variable "privileged" {}
        variable "caps" {}
    """})
    assert diags == []  # unknown lists/maps are not "wrong types"
    [w] = [r for r in res if r.type_name == "workload"]
    assert w.namespace is UNKNOWN and w.network_policy_scope is False
    assert w.ident == "Pod/${var.namespace}/${var.name}"
    a, b = [r for r in res if r.type_name == "container"]
    assert a.image.reference is UNKNOWN and a.privileged is UNKNOWN and a.capabilities_add is UNKNOWN
    assert a.run_as_user is UNKNOWN and a.runs_as_root is UNKNOWN  # pod security context is dynamic
    assert b.privileged is UNKNOWN and b.runs_as_root is UNKNOWN
    [env] = [r for r in res if r.type_name == "setting"]
    assert env.from_reference and env.value is None


def test_module_with_unreadable_policy_judges_no_workload(tmp_path):
    res, _ = tf_module(tmp_path, {"main.tf": """\
        resource "kubernetes_pod" "p" {
          metadata { name = "p" }
          spec {
            container {
              name  = "a"
              image = "busybox:1.36"
            }
          }
        }
        resource "kubernetes_network_policy" "np" {
          metadata { name = "np" }
          spec {
            pod_selector {
              match_expressions {
                key      = "app"
                operator = "In"
                values   = var.apps
              }
            }
            policy_types = ["Ingress"]
          }
        }
    """})
    [w] = [r for r in res if r.type_name == "workload"]
    assert w.network_policy_scope is False


def test_snippet_without_metadata_is_not_a_resource(tmp_path):
    res, diags = tf_module(tmp_path, {"main.tf": """\
        resource "kubernetes_deployment_v1" "this" {
          lifecycle { ignore_changes = [spec] }
        }
    """})
    assert [r for r in res if r.type_name != "setting"] == [] and diags == []


def test_kubernetes_manifest(tmp_path):
    res, diags = tf_module(tmp_path, {"main.tf": """\
        resource "kubernetes_manifest" "pod" {
          manifest = {
            apiVersion = "v1"
            kind       = "Pod"
            metadata = {
              name      = "web"
              namespace = var.namespace
            }
            spec = {
              containers = [{
                name  = "web"
                image = "nginx:latest"
                securityContext = { privileged = true }
                env = [{ name = "API_KEY", value = var.key }]
              }]
            }
          }
        }
        variable "namespace" { default = "shop" }
        variable "key" {}
    """})
    assert diags == []
    [ct] = [r for r in res if r.type_name == "container"]
    assert ct.ident == "Pod/shop/web/container/web"
    assert ct.privileged is True and ct.locs["privileged"].line == 13
    assert ct.image.mutable_tag is True
    [env] = [r for r in res if r.type_name == "setting" and r.context == "env"]
    assert env.name == "API_KEY" and env.from_reference
    [w] = [r for r in res if r.type_name == "workload"]
    assert (w.loc.line, w.end_line) == (1, 18)  # the resource block, for suppression comments


def test_network_policies_cover_across_terraform_and_yaml(scan_files):
    deployment = """\
        resource "kubernetes_deployment" "api" {
          metadata {
            name      = "api"
            namespace = "shop"
          }
          spec {
            template {
              metadata { labels = { app = "api" } }
              spec {
                container {
                  name  = "api"
                  image = "registry.example.com/api:2.4.1"
                }
              }
            }
          }
        }
    """
    policy = ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\n"
              "spec: {podSelector: {matchLabels: {app: api}}}\n")
    lone = scan_files({"tf/main.tf": textwrap.dedent(deployment)}, select=["missing-network-policy"])
    assert [(f.path, f.line) for f in lone.findings] == [("tf/main.tf", 1)]
    covered = scan_files({"tf/main.tf": textwrap.dedent(deployment), "k8s/policy.yaml": policy},
                         select=["missing-network-policy"])
    assert covered.findings == []
