"""linter.parsers.tf_ecs: container definitions from jsonencode(), heredocs and JSON strings."""
from __future__ import annotations

import textwrap

import pytest

from linter.discover import Candidate
from linter.model import UNKNOWN
from linter.parsers.terraform import parse_module


def run(tmp_path, text: str):
    (tmp_path / "main.tf").write_text(textwrap.dedent(text))
    [pf] = parse_module(str(tmp_path), [Candidate(str(tmp_path / "main.tf"), "terraform", 1)], 10 << 20)
    return pf


def containers(pf):
    return {r.name: r for r in pf.resources if r.type_name == "container"}


def test_jsonencode_keeps_hcl_positions(tmp_path):
    pf = run(tmp_path, """\
        resource "aws_ecs_task_definition" "app" {
          family       = "app"
          network_mode = "host"
          pid_mode     = "host"
          volume {
            name      = "docker"
            host_path = "/var/run/docker.sock"
          }
          container_definitions = jsonencode([
            {
              name       = "web"
              image      = "nginx:${var.tag}"
              user       = "0"
              privileged = true
              linuxParameters = {
                capabilities = { add = ["SYS_ADMIN"], drop = [] }
              }
              dockerSecurityOptions  = ["no-new-privileges", "apparmor:unconfined"]
              readonlyRootFilesystem = true
              portMappings           = [{ containerPort = 80, hostPort = 8080 }]
              mountPoints            = [{ sourceVolume = "docker", containerPath = "/var/run/docker.sock" }]
              memory                 = 512
              environment            = [{ name = "MODE", value = "prod" }, { name = "TOKEN", value = var.tag }]
              secrets                = [{ name = "DB_PASSWORD", valueFrom = "arn:aws:ssm:eu-west-1:1:parameter/db" }]
            },
          ])
        }
        variable "tag" { default = "1.25" }
    """)
    assert pf.diagnostics == []
    [w] = [r for r in pf.resources if r.type_name == "workload"]
    assert (w.kind, w.ident, w.platform, w.host_network, w.host_pid) == (
        "EcsTaskDefinition", "aws_ecs_task_definition.app", "ecs", True, True)
    ct = containers(pf)["web"]
    assert ct.ident == "aws_ecs_task_definition.app/container/web" and ct.role == "task"
    assert (ct.loc.line, ct.loc.column) == (10, 5)
    assert ct.image.reference == "nginx:1.25" and ct.image.loc.line == 12
    assert ct.runs_as_root is True and ct.locs["user"].line == 13
    assert ct.privileged is True and (ct.locs["privileged"].line, ct.locs["privileged"].column) == (14, 7)
    assert ct.capabilities_add == ["SYS_ADMIN"] and ct.locs["capabilities_add"].line == 16
    assert ct.no_new_privileges is True and ct.apparmor_profile == "unconfined"
    assert ct.read_only_root_fs is True and ct.host_ports == [8080] and ct.memory_limit == 512
    [m] = ct.mounts
    assert (m.host_path, m.container_path, m.loc.line) == ("/var/run/docker.sock", "/var/run/docker.sock", 7)
    env = {s.name: s for s in ct.env}
    assert env["MODE"].value == "prod" and env["MODE"].loc.line == 23
    assert env["TOKEN"].from_reference and env["TOKEN"].value is None
    assert env["DB_PASSWORD"].secret_ref and env["DB_PASSWORD"].from_reference


def test_heredoc_json_maps_onto_file_lines(tmp_path):
    pf = run(tmp_path, """\
        resource "aws_ecs_task_definition" "app" {
          family                = "app"
          container_definitions = <<-EOF
            [
              {
                "name": "web",
                "image": "${var.image}",
                "privileged": true,
                "user": "${data.external.u.result.user}",
                "memory": ${var.memory},
                "environment": [{"name": "DB_PASSWORD", "value": "hunter2hunter2"}]
              }
            ]
          EOF
        }
        variable "image" { default = "nginx:latest" }
        variable "memory" {}
    """)
    assert pf.diagnostics == []
    ct = containers(pf)["web"]
    assert ct.image.reference == "nginx:latest" and ct.image.loc.line == 7
    assert (ct.locs["privileged"].line, ct.locs["privileged"].column) == (8, 9)
    assert ct.user is UNKNOWN and ct.runs_as_root is UNKNOWN  # an unresolved interpolation inside a string
    assert ct.memory_limit is UNKNOWN  # ... and one standing for a whole JSON value
    [s] = ct.env
    assert (s.value, s.loc.line, s.plaintext_secret) == ("hunter2hunter2", 11, True)


def test_json_string_points_at_the_attribute(tmp_path):
    pf = run(tmp_path, """\
        resource "aws_ecs_task_definition" "app" {
          family = "app"
          container_definitions = "[{\\"name\\": \\"web\\", \\"image\\": \\"nginx\\", \\"privileged\\": true}]"
        }
    """)
    ct = containers(pf)["web"]
    assert ct.privileged is True and ct.locs["privileged"].line == 3 and ct.image.loc.line == 3


@pytest.mark.parametrize("value", [
    'file("${path.module}/containers.json")',
    'templatefile("containers.json.tpl", { image = var.image })',
    "module.defs.json",
    "jsonencode([for c in var.containers : c])",
    '<<EOF\n%{ for c in var.cs }${c}%{ endfor }\nEOF',
])
def test_unresolvable_definitions_are_unknown_without_error(tmp_path, value):
    pf = run(tmp_path, f'resource "aws_ecs_task_definition" "app" {{\n  family = "app"\n'
                       f'  container_definitions = {value}\n}}\n')
    assert pf.diagnostics == []
    assert containers(pf) == {}
    assert [r.kind for r in pf.resources if r.type_name == "workload"] == ["EcsTaskDefinition"]


def test_invalid_json_is_a_diagnostic_at_its_line(tmp_path):
    pf = run(tmp_path, """\
        resource "aws_ecs_task_definition" "app" {
          family                = "app"
          container_definitions = <<EOF
        [
          {"name": "web",}
        ]
        EOF
        }
    """)
    [d] = pf.diagnostics
    assert d.level == "error" and d.line == 5 and "container_definitions is not valid JSON" in d.message


def test_fargate_cannot_set_no_new_privileges(tmp_path):
    pf = run(tmp_path, """\
        resource "aws_ecs_task_definition" "app" {
          family                   = "app"
          requires_compatibilities = ["FARGATE"]
          container_definitions    = jsonencode([{ name = "web", image = "nginx:1.25" }])
        }
    """)
    ct = containers(pf)["web"]
    assert ct.no_new_privileges is UNKNOWN and ct.privilege_escalation_allowed is UNKNOWN


def test_definitions_from_a_local_jsonencode_point_at_the_attribute(tmp_path):
    pf = run(tmp_path, """\
        locals {
          defs = jsonencode([{ name = "web", image = "nginx:latest", privileged = true }])
        }
        resource "aws_ecs_task_definition" "app" {
          family                = "app"
          container_definitions = local.defs
        }
    """)
    ct = containers(pf)["web"]
    assert ct.privileged is True and ct.locs["privileged"].line == 6 and ct.image.mutable_tag is True
