"""Turning a file's bytes into text we can parse, or a clear reason why not."""
from __future__ import annotations

import codecs


class DecodeError(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def decode(data: bytes) -> str:
    """Decode UTF-8 (with or without BOM) and UTF-16/32 with a BOM; refuse binary data and
    other encodings with a message naming the line of the first bad byte.

    CRLF and lone CR line endings are normalized to LF, so that every parser (and the suppression
    scanner) counts lines the same way as an editor does.
    """
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    elif data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return _normalize(_decode_bom(data, "utf-32"))
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _normalize(_decode_bom(data, "utf-16"))
    if b"\x00" in data[:8192]:
        head = data[:512]
        odd, even = head[1::2], head[0::2]
        if len(head) >= 4 and ((odd.count(0) == len(odd) and even.count(0) < len(even))
                               or (even.count(0) == len(even) and odd.count(0) < len(odd))):
            raise DecodeError("looks like UTF-16 without a byte-order mark; save the file as UTF-8")
        raise DecodeError("binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise DecodeError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                          "save the file as UTF-8", line, column) from None
    return _normalize(text)


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset; everything before it decoded.
    A lone CR ends a line too, as _normalize will make it."""
    start = max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset)) + 1
    head = data[:start]
    line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
    return line, len(data[start:offset].decode("utf-8", "replace")) + 1


def _decode_bom(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"invalid {codec.upper()} text at offset {exc.start}") from None


def _normalize(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
