"""YAML files: decide whether a file is Kubernetes, Compose or neither, and dispatch.

YAML that is neither (CI configs, Helm values) is left alone silently -- including its syntax
errors, unless the text itself says it meant to be a manifest or a Compose file.
"""
from __future__ import annotations

import os
import re

from ..gcpause import collector_paused
from ..model import ParsedFile
from ..yamlload import YamlError, load_documents

_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-][^/]*)?\.ya?ml$", re.IGNORECASE)
_LOOKS_K8S = re.compile(r"^(apiVersion|kind):", re.MULTILINE)
_LOOKS_COMPOSE = re.compile(r"^services:", re.MULTILINE)
_TEMPLATE = re.compile(r"\{\{-?\s*[.\w$\"(/]|\{%-?\s")
# Helm/Go-template control and Helm's objects, Jinja statements: a template to render first.
# Placeholders inside plain YAML strings (Prometheus `{{ $labels.pod }}`, Swarm
# `{{.Node.Hostname}}`, Argo `{{.app.metadata.name}}`) are data, and the file is linted.
# The bounded repeat keeps the search linear on a line of ten million `{`.
_TEMPLATE_CONTROL = re.compile(
    r"\{\{-|-\}\}|\{%|\{\{[^}\n]{0,200}?\.(?:Values|Release|Chart|Capabilities|Files)\b"
    r"|\{\{\s*(?:if|else|end|range|with|define|include|template|toYaml|tpl)\b")


def is_compose_name(path: str) -> bool:
    return bool(_COMPOSE_NAME.match(os.path.basename(path)))


def parse(path: str, text: str) -> ParsedFile:
    # The documents are built, mapped and mostly freed again before this returns, holding no
    # reference cycles (a recursive alias is the exception, collected later): see linter.gcpause.
    with collector_paused():
        return _parse(path, text)


def _parse(path: str, text: str) -> ParsedFile:
    compose_by_name = is_compose_name(path)
    pf = ParsedFile(path, "compose" if compose_by_name else "kubernetes")
    # `{{`/`{%` start every match: a plain find rules most files out at memory speed
    placeholder = _TEMPLATE.search(text) if "{{" in text or "{%" in text else None
    if placeholder and _TEMPLATE_CONTROL.search(text):
        line = text.count("\n", 0, placeholder.start()) + 1
        pf.error(line, "template syntax ({{ ... }}); not plain YAML, so not linted -- render it first "
                       "(e.g. `helm template`) and scan the output", level="notice")
        return pf
    docs = []
    loader = None
    try:
        for doc, loader in load_documents(text):
            docs.append(doc)
    except YamlError as exc:
        meant = compose_by_name or _LOOKS_K8S.search(text) or _LOOKS_COMPOSE.search(text)
        if exc.kind == "limit":
            pf.error(exc.line, exc.message, exc.column, level="error" if meant else "notice")
        elif placeholder is not None and _placeholder_near(text, exc.line):
            pf.error(exc.line, f"not plain YAML here ({exc.message}), probably because of template placeholders "
                               "({{ ... }}); the rest of the file is not checked -- render it first and scan the "
                               "output", exc.column, level="notice")
        elif meant:
            hint = ""
            if exc.line and exc.column and _line_text(text, exc.line)[exc.column - 1:exc.column] == "\t":
                hint = " (a tab: YAML indentation must be spaces)"
            pf.error(exc.line, f"YAML syntax error: {exc.message}{hint}", exc.column)
        # documents before the error are still checked
    if loader is not None:
        for key, line, col, first in loader.duplicates:
            pf.error(line, f"duplicate key '{key}' (first at line {first}); the last one wins and hides the first",
                     col, level="warning")

    if os.path.basename(path).lower() in ("kustomization.yaml", "kustomization.yml"):
        pf.error(1, "kustomization: the files it lists are scanned as they are; its transformations (images, "
                    "patches, namespace) are not applied -- scan `kustomize build` output for the rendered result",
                 level="notice")
        return pf

    from . import kubernetes

    # A Compose-named file that holds only Kubernetes manifests (kompose output) is Kubernetes.
    k8s_in_compose_name = compose_by_name and bool(docs) and all(kubernetes_like(d) for d in docs)
    if k8s_in_compose_name:
        pf.format = "kubernetes"
    elif compose_by_name or (len(docs) == 1 and _looks_like_compose(docs[0])):
        from . import compose

        pf.format = "compose"
        if docs:
            compose.parse_document(pf, docs[0], text)
        return pf
    if any(kubernetes.is_kubernetes_document(d) for d in docs):
        kubernetes.parse_documents(pf, docs)
    return pf


def _line_offsets(text: str, first: int, count: int) -> tuple[int, int]:
    """Start and end offsets of ``count`` lines from 1-based line ``first`` (clipped to the text)."""
    start = 0
    for _ in range(max(first - 1, 0)):
        nxt = text.find("\n", start)
        if nxt < 0:
            return len(text), len(text)
        start = nxt + 1
    end = start
    for _ in range(count):
        nxt = text.find("\n", end)
        end = len(text) if nxt < 0 else nxt + 1
    return start, end


def _line_text(text: str, line: int) -> str:
    start, end = _line_offsets(text, line, 1)
    return text[start:end]


def _placeholder_near(text: str, line: int | None) -> bool:
    """A template placeholder on the error's line or the one before (libyaml often notices the
    damage a line late)."""
    if line is None:
        return True
    start, end = _line_offsets(text, line - 1 if line > 1 else 1, 2)
    return _TEMPLATE.search(text, start, end) is not None


def _looks_like_compose(doc) -> bool:
    if not isinstance(doc, dict) or kubernetes_like(doc):
        return False
    services = doc.get("services")
    # A service may take its image from another one through `extends`, but one must have its own.
    return isinstance(services, dict) and bool(services) and all(
        isinstance(s, dict) and ("image" in s or "build" in s or "extends" in s) for s in services.values()) and any(
        "image" in s or "build" in s for s in services.values())


def kubernetes_like(doc) -> bool:
    return isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc
