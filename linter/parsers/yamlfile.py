"""YAML files: decide whether a file is Kubernetes, Compose or neither, and dispatch.

YAML that is neither (CI configs, Helm values) is left alone silently -- including its syntax
errors, unless the text itself says it meant to be a manifest or a Compose file.
"""
from __future__ import annotations

import os
import re

from ..model import ParsedFile
from ..yamlload import YamlError, load_documents

_COMPOSE_NAME = re.compile(r"^(docker-)?compose([.-][^/]*)?\.ya?ml$", re.IGNORECASE)
_LOOKS_K8S = re.compile(r"^(apiVersion|kind):", re.MULTILINE)
_LOOKS_COMPOSE = re.compile(r"^services:", re.MULTILINE)
_TEMPLATE = re.compile(r"\{\{-?\s*[.\w$\"(/]|\{%-?\s")


def is_compose_name(path: str) -> bool:
    return bool(_COMPOSE_NAME.match(os.path.basename(path)))


def parse(path: str, text: str) -> ParsedFile:
    compose_by_name = is_compose_name(path)
    pf = ParsedFile(path, "compose" if compose_by_name else "kubernetes")
    if _TEMPLATE.search(text):
        m = _TEMPLATE.search(text)
        line = text.count("\n", 0, m.start()) + 1
        pf.error(line, "template syntax ({{ ... }}); not plain YAML, so not linted -- render it first "
                       "(e.g. `helm template`) and scan the output", level="notice")
        return pf
    docs = []
    loader = None
    try:
        for doc, loader in load_documents(text):
            docs.append(doc)
    except YamlError as exc:
        if compose_by_name or _LOOKS_K8S.search(text) or _LOOKS_COMPOSE.search(text):
            pf.error(exc.line, f"YAML syntax error: {exc.message}", exc.column)
        # documents before the error are still checked
    if loader is not None:
        for key, line, col, first in loader.duplicates:
            pf.error(line, f"duplicate key '{key}' (first at line {first}); the last one wins and hides the first",
                     col, level="warning")

    from . import kubernetes

    if compose_by_name or (len(docs) == 1 and _looks_like_compose(docs[0])):
        from . import compose

        pf.format = "compose"
        if docs:
            compose.parse_document(pf, docs[0], text)
        return pf
    if any(kubernetes.is_kubernetes_document(d) for d in docs):
        kubernetes.parse_documents(pf, docs)
    return pf


def _looks_like_compose(doc) -> bool:
    if not isinstance(doc, dict) or kubernetes_like(doc):
        return False
    services = doc.get("services")
    return isinstance(services, dict) and bool(services) and all(
        isinstance(s, dict) and ("image" in s or "build" in s) for s in services.values())


def kubernetes_like(doc) -> bool:
    return isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc
