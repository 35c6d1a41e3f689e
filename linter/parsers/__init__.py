"""One module per input format; each exposes ``parse(path, text) -> ParsedFile``."""
