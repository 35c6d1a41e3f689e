"""Validate a configuration against linter/schemas/config.schema.json without importing jsonschema.

jsonschema costs ~40 ms to import and build a validator on this machine (python -X importtime,
after typer and the scan modules are loaded) -- a quarter of a small run -- and the
configuration is validated on every run.  The schema stays the single source of truth (IDEs use
it too); this module interprets the subset of draft 2020-12 it uses, listed in KEYWORDS, and
words its errors for people ("unknown key 'selct'").  tests/test_config_schema.py checks that the
schema uses nothing else and that jsonschema agrees on valid and invalid configurations.
"""
from __future__ import annotations

import re

#: keywords this validator enforces; annotation-only keywords are skipped
KEYWORDS = {"type", "properties", "additionalProperties", "required", "items", "minItems", "minLength",
            "minimum", "enum", "pattern", "format", "oneOf", "$ref"}
ANNOTATIONS = {"$schema", "$id", "title", "description", "default", "$defs"}

_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}


def describe(value) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"[:70]
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return type(value).__name__


def _is_type(value, t: str) -> bool:
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    return False


class Validator:
    def __init__(self, schema: dict):
        self.root = schema

    def _resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            ref = schema["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"unsupported $ref {ref}")
            node = self.root
            for part in ref[2:].split("/"):
                node = node[part]
            schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def errors(self, value, schema: dict | None = None, path: tuple = ()):
        """Yield (path, message) for each problem, outermost first."""
        schema = self._resolve(self.root if schema is None else schema)
        t = schema.get("type")
        if t is not None:
            types = t if isinstance(t, list) else [t]
            if not any(_is_type(value, x) for x in types):
                yield path, f"expected {' or '.join(_TYPE_NAMES[x] for x in types)}, found {describe(value)}"
                return
        if "enum" in schema and value not in schema["enum"]:
            yield path, f"must be one of {', '.join(map(str, schema['enum']))}; found {describe(value)}"
            return
        if "oneOf" in schema:
            yield from self._one_of(value, schema["oneOf"], path)
        if isinstance(value, dict):
            yield from self._object(value, schema, path)
        elif isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                yield path, f"needs at least {schema['minItems']} item(s)"
            if "items" in schema:
                for i, item in enumerate(value):
                    yield from self.errors(item, schema["items"], path + (i,))
        elif isinstance(value, str):
            yield from self._string(value, schema, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                yield path, f"must be at least {schema['minimum']}; found {value}"

    def _object(self, value: dict, schema: dict, path: tuple):
        for key in schema.get("required", ()):
            if key not in value:
                yield path, f"missing required key '{key}'"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                yield from self.errors(item, props[key], path + (key,))
            elif extra is False:
                known = ", ".join(sorted(props))
                yield path + (key,), f"unknown key '{key}' (known keys: {known})"
            elif isinstance(extra, dict):
                yield from self.errors(item, extra, path + (key,))

    def _string(self, value: str, schema: dict, path: tuple):
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield path, "must not be empty"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            hint = schema.get("description")
            yield path, f"invalid value {value!r}" + (f" (expected {hint})" if hint else "")
        fmt = schema.get("format")
        if fmt == "date":
            import datetime

            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                yield path, f"{value!r} is not a date (expected YYYY-MM-DD)"
        elif fmt == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                yield path, f"bad regular expression {value!r}: {exc}"

    def _one_of(self, value, branches: list, path: tuple):
        results = []
        for b in branches:
            errs = list(self.errors(value, b, path))
            if not errs:
                return
            results.append((self._resolve(b), errs))
        # Report the branch whose type fits the value: its own error says what is wrong.
        for b, errs in results:
            t = b.get("type")
            if t is not None and _is_type(value, t):
                yield from errs[:1]
                return
        wanted = []
        for b, _ in results:
            name = _TYPE_NAMES.get(b.get("type"), "another form")
            if name not in wanted:
                wanted.append(name)
        yield path, f"expected {' or '.join(wanted)}, found {describe(value)}"


def schema_keywords(schema, out: set | None = None) -> set:
    """Every keyword the schema uses (for the test that this validator covers them all)."""
    out = set() if out is None else out
    if isinstance(schema, dict):
        for k, v in schema.items():
            out.add(k)
            if k in ("properties", "$defs"):
                for sub in v.values():
                    schema_keywords(sub, out)
            elif k in ("items", "additionalProperties") and isinstance(v, dict):
                schema_keywords(v, out)
            elif k == "oneOf":
                for sub in v:
                    schema_keywords(sub, out)
    return out
