"""Image reference parsing, following the distribution reference grammar.

``registry:5000/app`` has a port, not a tag: the first path component is a registry only when
it contains a '.' or ':' or is 'localhost', and a tag is the part after the last ':' of the
last path component.
"""
from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def parse_image_reference(ref: str) -> tuple[str | None, str, str | None, str | None]:
    """Return (registry, repository, tag, digest)."""
    ref = ref.strip()
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    registry = None
    first, sep, rest = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, ref = first, rest
    tag = None
    last_slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > last_slash:
        ref, tag = ref[:colon], ref[colon + 1:]
    return registry, ref, tag or None, digest or None
