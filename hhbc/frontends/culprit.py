"""Words for what went wrong in a model file, as one line (shared by the TF and Caffe frontends).

A converter's unexpected exception (numpy, TVM's shape checks) becomes the node's error with
`cause_in_words`; every message that carries names from the file goes through `one_line`.
"""

from __future__ import annotations

import re


def one_line(text: str) -> str:
    """A message as one printable line: names and strings from a model file may hold newlines
    and control characters."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cause_in_words(err: BaseException) -> str:
    """An exception from numpy, TVM or a converter as one line of words: TVM's checks wrap their
    sentence in the op's repr (`In ir.Op(...), ...`) and print Relax expressions over lines."""
    if isinstance(err, ZeroDivisionError):
        return "a size or stride of 0 divides"
    if isinstance(err, MemoryError):
        return "its values do not fit in memory"
    text = " ".join(line.strip() for line in str(err).splitlines()
                    if line.strip() and not line.strip().startswith(("# Metadata", "Traceback", "File ")))
    text = re.sub(r"In ir\.Op\(.*?name=\"([\w.]+)\".*?support_level=\d+\),? ", r"\1: ", text)
    text = re.sub(r"^Check failed: .*? : ", "", text)
    text = re.sub(r"\s+", " ", text).strip()
    return (text[:240] + " ...") if len(text) > 240 else text or type(err).__name__
