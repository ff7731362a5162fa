"""Making arbitrary model-file names safe in C identifiers, comments and strings."""

from __future__ import annotations

import re

_C_KEYWORDS = frozenset("""auto break case char const continue default do double else enum extern
float for goto if inline int long register restrict return short signed sizeof static struct
switch typedef union unsigned void volatile while _Bool _Complex _Imaginary""".split())


def c_ident(name: str, max_len: int = 32) -> str:
    """A valid, readable identifier fragment: [A-Za-z0-9_], never a keyword."""
    ident = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")[:max_len].strip("_") or "t"
    if ident[0].isdigit():
        ident = "n" + ident
    if ident in _C_KEYWORDS:
        ident += "_"
    return ident


class NameTable:
    """Hands out unique identifiers derived from (possibly colliding) names."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, prefix: str, name: str) -> str:
        base = f"{prefix}{c_ident(name)}"
        ident, k = base, 1
        while ident in self.used:
            k += 1
            ident = f"{base}_{k}"
        self.used.add(ident)
        return ident


def c_comment(text: str, max_len: int = 160) -> str:
    """Text safe inside /* ... */: printable ASCII, no comment delimiters or trigraphs."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0x20 <= code < 0x7F:
            out.append(ch)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    safe = "".join(out)
    safe = safe.replace("*/", "* /").replace("/*", "/ *").replace("??", "?\\?")
    if len(safe) > max_len:
        safe = safe[: max_len - 3] + "..."
    return safe


def c_string(text: str) -> str:
    """A C string literal body with only printable ASCII."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "?":
            out.append("\\?")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        else:
            out.extend(f"\\x{b:02x}\"\"" for b in ch.encode("utf-8"))
    return "".join(out)
