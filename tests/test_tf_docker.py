"""linter.parsers.tf_docker: docker_container / docker_service / docker_image / docker_secret."""
from __future__ import annotations

import textwrap

from linter.discover import Candidate
from linter.model import UNKNOWN
from linter.parsers.terraform import parse_module


def run(tmp_path, text: str):
    (tmp_path / "main.tf").write_text(textwrap.dedent(text))
    [pf] = parse_module(str(tmp_path), [Candidate(str(tmp_path / "main.tf"), "terraform", 1)], 10 << 20)
    assert [d for d in pf.diagnostics if d.level == "error"] == []
    return pf


def of(pf, t):
    return [r for r in pf.resources if r.type_name == t]


def test_docker_container(tmp_path):
    pf = run(tmp_path, """\
        resource "docker_container" "db" {
          name         = "db"
          image        = docker_image.pg.image_id
          user         = "0:0"
          privileged   = "true"
          read_only    = true
          network_mode = "host"
          pid_mode     = "host"
          ipc_mode     = "private"
          userns_mode  = "host"
          memory       = 512
          security_opts = ["no-new-privileges=true", "seccomp=unconfined", "label=disable"]
          capabilities {
            add  = ["CAP_SYS_ADMIN"]
            drop = ["ALL"]
          }
          mounts {
            type   = "bind"
            source = "/var/run/docker.sock"
            target = "/var/run/docker.sock"
          }
          mounts {
            type   = "volume"
            source = "data"
            target = "/data"
          }
          volumes {
            host_path      = "/etc"
            container_path = "/host/etc"
            read_only      = true
          }
          ports {
            internal = 5432
            external = 5432
          }
          ports {
            internal = 9187
            external = 9187
            ip       = "127.0.0.1"
          }
          healthcheck {
            test = ["NONE"]
          }
          env = ["PGDATA=/data", "POSTGRES_PASSWORD=${var.pw}", "EMPTY"]
        }
        resource "docker_image" "pg" {
          name = "postgres:16.2"
        }
    """)
    [w] = of(pf, "workload")
    assert (w.kind, w.ident, w.platform) == ("DockerContainer", "docker_container.db", "docker")
    assert (w.host_network, w.host_pid, w.host_ipc, w.host_users) == (True, True, False, True)
    [ct] = of(pf, "container")
    assert ct.ident == "docker_container.db" and ct.workload is w and not ct.root_by_default
    assert ct.image.reference is UNKNOWN  # the docker_image resource is judged itself
    assert ct.runs_as_root is True and ct.locs["user"].line == 4
    assert ct.privileged is True  # Terraform converts "true" for a bool argument
    assert ct.capabilities_add == ["SYS_ADMIN"] and ct.capabilities_drop == ["ALL"]
    assert ct.no_new_privileges is True and ct.seccomp_profile == "Unconfined" and ct.selinux_type == "disabled"
    assert ct.read_only_root_fs is True and ct.memory_limit == 512 and ct.healthcheck is False
    assert [(m.host_path, m.container_path, m.read_only) for m in ct.mounts] == [
        ("/var/run/docker.sock", "/var/run/docker.sock", None), ("/etc", "/host/etc", True)]
    assert ct.host_ports == [5432, 9187] and ct.ports_all_interfaces == [5432]
    env = {s.name: s for s in ct.env}
    assert env["PGDATA"].value == "/data" and env["PGDATA"].loc.line == 44
    assert env["POSTGRES_PASSWORD"].from_reference and env["POSTGRES_PASSWORD"].value is None
    assert "EMPTY" not in env
    assert [i.reference for i in of(pf, "image")] == [UNKNOWN, "postgres:16.2"]


def test_docker_container_unknowns(tmp_path):
    pf = run(tmp_path, """\
        resource "docker_container" "c" {
          image         = var.image
          privileged    = var.privileged
          security_opts = var.opts
          dynamic "capabilities" {
            for_each = var.caps
            content { add = capabilities.value }
          }
        }
    """)
    [ct] = of(pf, "container")
    assert ct.image.reference is UNKNOWN and ct.privileged is UNKNOWN
    assert ct.capabilities_add is UNKNOWN and ct.no_new_privileges is UNKNOWN
    assert ct.privilege_escalation_allowed is UNKNOWN and ct.name == "c"


def test_docker_service(tmp_path):
    pf = run(tmp_path, """\
        resource "docker_service" "api" {
          name = "api"
          task_spec {
            container_spec {
              image = "registry.example.com/api:2.4.1"
              user  = "root"
              env = {
                MODE      = "prod"
                API_TOKEN = var.token
              }
              privileges {
                se_linux_context { disable = true }
              }
              mounts {
                type   = "bind"
                source = "/srv"
                target = "/srv"
              }
            }
          }
          endpoint_spec {
            ports {
              target_port    = 8080
              published_port = 80
            }
          }
        }
    """)
    [w] = of(pf, "workload")
    [ct] = of(pf, "container")
    assert (w.kind, ct.role, ct.user, ct.runs_as_root) == ("DockerService", "service", "root", True)
    assert ct.selinux_type == "disabled" and ct.host_ports == [80]
    assert ct.no_new_privileges is UNKNOWN  # a Swarm service cannot ask for it
    assert [m.host_path for m in ct.mounts] == ["/srv"]
    env = {s.name: s for s in ct.env}
    assert env["MODE"].value == "prod" and env["MODE"].loc.line == 8
    assert env["API_TOKEN"].from_reference


def test_docker_image_built_locally_is_not_pulled(tmp_path):
    pf = run(tmp_path, """\
        resource "docker_image" "app" {
          name = "app:latest"
          build { context = "." }
        }
        resource "docker_image" "nginx" {
          name = "nginx"
        }
    """)
    assert [(i.ident, i.reference, i.loc.line) for i in of(pf, "image")] == [("docker_image.nginx", "nginx", 6)]


def test_docker_secret_data(tmp_path):
    pf = run(tmp_path, """\
        resource "docker_secret" "s" {
          name = "api-key"
          data = "c3VwZXItc2VjcmV0LWtleS0xMjM="
        }
        resource "docker_secret" "r" {
          name = "ref"
          data = base64encode(var.key)
        }
    """)
    s = {x.ident: x for x in of(pf, "setting")}
    assert s["docker_secret.s/data"].context == "secret-data"
    assert s["docker_secret.s/data"].plaintext_secret is True
    assert s["docker_secret.r/data"].from_reference
