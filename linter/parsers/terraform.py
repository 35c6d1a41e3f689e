"""Terraform module directories -> model.

Terraform reads every ``.tf``/``.tf.json`` file of a directory as one module, so we do too:
:func:`parse_module` gets the files of one directory that the scan selected (all of them when a
directory was walked; one or a few when files were named, as in a pre-commit run) and returns
one ParsedFile per selected file.  Variables, locals and kubernetes resources are read from
*every* sibling file, and variable values from ``terraform.tfvars``, ``*.auto.tfvars`` and their
``.json`` forms, so that naming ``main.tf`` alone resolves ``var.image`` declared in
``variables.tf``.  Sibling files are read, never reported on.

Where each thing goes (see the helper modules for details):

* ``kubernetes_*`` workloads, NetworkPolicies, Secrets, RBAC, namespaces, service accounts ->
  linter.parsers.kubernetes's ObjectMapper, via tf_k8s (identical resources to YAML);
* ``docker_container`` / ``docker_service`` / ``docker_image`` / ``docker_secret`` -> tf_docker;
* ``aws_ecs_task_definition`` -> tf_ecs;
* every other argument of resources, data sources, module calls and locals, provider
  configuration, variable defaults and tfvars values -> Settings (tf_settings), for the
  plaintext-secret check.

Module calls are not followed (their ``source`` may be remote); their arguments are still read.
Native HCL goes through linter.parsers.hcl (python-hcl2, imported only when a .tf file is
scanned), ``.tf.json`` through linter.parsers.jsonpos.  A file that cannot be read or parsed gets
an error diagnostic with the parser's line; the module's other files are still checked.
"""
from __future__ import annotations

import os

from ..model import ParsedFile, internal_error

FMT = "terraform"
TFVARS = ("terraform.tfvars", "terraform.tfvars.json")


def parse_module(directory: str, candidates: list, max_size: int) -> list[ParsedFile]:
    """Never raises: every failure becomes a diagnostic on the ParsedFile concerned."""
    try:
        return _Module(directory, candidates, max_size).run()
    except RecursionError:
        return _all_failed(candidates, "input nested too deeply to check")
    except Exception as exc:  # noqa: BLE001 - a parser bug must not end the run
        return _all_failed(candidates, internal_error(exc))


def _all_failed(candidates, message: str) -> list[ParsedFile]:
    out = []
    for c in candidates:
        pf = ParsedFile(c.path, FMT)
        pf.error(None, message)
        out.append(pf)
    return out


class _Module:
    def __init__(self, directory: str, candidates: list, max_size: int):
        from .tf_expr import ModuleScope

        self.directory = directory
        self.candidates = candidates
        self.max_size = max_size
        self.scope = ModuleScope()
        #: path -> (ParsedFile or None for a sibling, Body or None, text or None)
        self.files: dict[str, tuple] = {}
        self.extra: list[ParsedFile] = []

    def run(self) -> list[ParsedFile]:
        out = []
        seen = set()
        for c in self.candidates:
            pf = ParsedFile(c.path, FMT)
            out.append(pf)
            seen.add(_key(c.path))
            body, text = self._load(pf, c.path, c.kind == "terraform-json", c.size)
            self.files[c.path] = (pf, body, text)
        for name in self._listdir():
            path = name if not self.directory else os.path.join(self.directory, name)
            low = name.lower()
            if _key(path) in seen or not low.endswith((".tf", ".tf.json")) or not os.path.isfile(path):
                continue
            scratch = ParsedFile(path, FMT)  # a sibling's problems are reported when it is scanned itself
            body, _ = self._load(scratch, path, low.endswith(".tf.json"), None)
            if body is not None:
                self.files[path] = (None, body, None)
        for path, (pf, body, _) in self.files.items():
            if body is not None:
                for line, message in self.scope.declare(body, path):
                    if pf is not None:
                        pf.error(line, message, level="warning")
        self._read_tfvars(report=not all(getattr(c, "explicit", False) for c in self.candidates))
        for cycle in self.scope.find_cycles():
            # reported once, on the first member written in a file we report on
            for name in cycle:
                attr, path = self.scope.locals[name]
                pf = self.files.get(path, (None,))[0]
                if pf is not None:
                    pf.error(attr.line, f"locals form a cycle ({' -> '.join(cycle)}); their values are unknown",
                             attr.col)
                    break
        from .tf_k8s import K8sModule

        k8s = K8sModule(self.scope)
        for path, (pf, body, text) in self.files.items():
            if pf is None or body is None:
                continue
            self.scope.path = path
            try:
                _map_file(pf, body, self.scope, k8s)
            except RecursionError:
                pf.error(None, "input nested too deeply to check")
            except Exception as exc:  # noqa: BLE001 - one file's mapping bug must not lose the module
                pf.error(None, internal_error(exc))
            if text is not None and "iaclint" in text:
                pf.lines = text.split("\n")
        k8s.finish()
        return out + self.extra

    def _listdir(self) -> list[str]:
        try:
            return sorted(os.listdir(self.directory or "."))
        except OSError:
            return []

    def _load(self, pf: ParsedFile, path: str, is_json: bool, size: int | None, tfvars: bool = False):
        """(Body, text) of a file, or (None, None) with a diagnostic on ``pf``."""
        from ..source import DecodeError, decode

        try:
            if size is None:
                size = os.path.getsize(path)
            if size > self.max_size:
                pf.error(None, f"file is {size / 1048576:.1f} MB, over the {self.max_size / 1048576:.1f} MB limit "
                               "(--max-file-size); skipped", level="notice")
                return None, None
            with open(path, "rb") as fh:
                data = fh.read(self.max_size + 1)
        except PermissionError:
            pf.error(None, "cannot read file: permission denied")
            return None, None
        except IsADirectoryError:
            pf.error(None, "is a directory, not a file")
            return None, None
        except OSError as exc:
            pf.error(None, f"cannot read file: {exc.strerror or exc}")
            return None, None
        try:
            text = decode(data)
        except DecodeError as exc:
            pf.error(exc.line, f"cannot decode file: {exc.message}")
            return None, None
        body = parse_text(pf, text, is_json, tfvars)
        return body, text

    def _read_tfvars(self, report: bool) -> None:
        names = self._listdir()
        auto = sorted(n for n in names if n.endswith((".auto.tfvars", ".auto.tfvars.json")))
        # Terraform's order: terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars* by name
        for name in [n for n in TFVARS if n in names] + auto:
            path = name if not self.directory else os.path.join(self.directory, name)
            if not os.path.isfile(path):
                continue
            pf = ParsedFile(path, FMT)
            body, text = self._load(pf, path, name.endswith(".json"), None, tfvars=True)
            if body is not None:
                self.scope.set_tfvars(body, path)
                if report:
                    from .tf_expr import attr_loc
                    from .tf_settings import expr_settings

                    self.scope.path = path
                    for a in body.attrs.values():
                        expr_settings(pf, self.scope, a.expr, a.name, f"tfvars.{a.name}", attr_loc(path, a),
                                       "tfvars", 0)
                    if text is not None and "iaclint" in text:
                        pf.lines = text.split("\n")
            if report and (pf.resources or pf.diagnostics):
                self.extra.append(pf)


def _key(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def parse_text(pf: ParsedFile, text: str, is_json: bool, tfvars: bool = False):
    """A file's Body, or None with an error diagnostic (the parser's line) on ``pf``."""
    if is_json:
        from .jsonpos import JsonError, loads
        from .tf_ast import attrs_from_json, from_json

        try:
            doc = loads(text)
        except JsonError as exc:
            pf.error(exc.line, f"JSON syntax error: {exc.message}", exc.column)
            return None
        if not isinstance(doc, dict):
            pf.error(1, f"a {'.tfvars.json' if tfvars else '.tf.json'} file must hold a JSON object at the top level")
            return None
        if tfvars:
            return attrs_from_json(doc, _lazy_parse_expression)
        body, problems = from_json(doc, _lazy_parse_expression)
        for line, message in problems:
            pf.error(line, message, level="warning")
        return body
    from .hcl import HclError, parse

    try:
        return parse(text)
    except HclError as exc:
        pf.error(exc.line, exc.message, exc.column)
    except RecursionError:
        pf.error(None, "input nested too deeply to check")
    return None


def _lazy_parse_expression(text: str):
    from .hcl import parse_expression

    return parse_expression(text)


def _map_file(pf: ParsedFile, body, scope, k8s) -> None:
    from .tf_docker import HANDLERS as DOCKER
    from .tf_ecs import HANDLERS as ECS
    from .tf_k8s import KINDS
    from .tf_settings import body_settings, variable_settings

    for a, prev in body.duplicates:
        pf.error(a.line, f"attribute '{a.name}' is set twice (first at line {prev.line}); the last one wins",
                 a.col, level="warning")
    for b in body.blocks:
        _report_duplicates(pf, b.body)
        if b.type == "resource" and len(b.labels) == 2:
            rtype, rname = b.labels
            ident = f"{rtype}.{rname}"
            if _never_created(scope, b.body):
                # `count = 0` / `for_each = {}`: no workload exists, but a literal secret is still
                # committed in the file
                body_settings(pf, scope, b.body, ident, "attribute")
                continue
            if rtype in KINDS:
                k8s.map_resource(pf, b)
                continue
            if rtype == "kubernetes_manifest":
                k8s.map_manifest(pf, b)
                body_settings(pf, scope, b.body, ident, "attribute", frozenset({"manifest"}))
                continue
            handler = DOCKER.get(rtype) or ECS.get(rtype)
            skip = frozenset()
            if handler is not None:
                fn, skip = handler
                fn(pf, scope, b)
            body_settings(pf, scope, b.body, ident, "attribute", skip)
        elif b.type in ("data", "module", "output") and b.labels:
            body_settings(pf, scope, b.body, ".".join([b.type] + b.labels), "attribute")
        elif b.type == "terraform":
            # backend "s3" { access_key = ... }, cloud { token = ... }
            body_settings(pf, scope, b.body, "terraform", "attribute", frozenset({"required_providers"}))
        elif b.type == "locals":
            body_settings(pf, scope, b.body, "local", "attribute")
        elif b.type == "provider" and b.labels:
            body_settings(pf, scope, b.body, f"provider.{b.labels[0]}", "provider")
        elif b.type == "variable" and b.labels:
            variable_settings(pf, scope, b)


def _never_created(scope, body) -> bool:
    for meta in ("count", "for_each"):
        a = body.attrs.get(meta)
        if a is not None:
            v = scope.eval(a.expr)
            if v == 0 and not isinstance(v, bool) or (isinstance(v, (dict, list)) and not v):
                return True
    return False


def _report_duplicates(pf: ParsedFile, body, depth: int = 0) -> None:
    if depth > 16:
        return
    for a, prev in body.duplicates:
        pf.error(a.line, f"attribute '{a.name}' is set twice (first at line {prev.line}); the last one wins",
                 a.col, level="warning")
    for b in body.blocks:
        _report_duplicates(pf, b.body, depth + 1)
