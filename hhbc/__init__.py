"""hhbc: a neural-network compiler for small RISC-V cores."""

__version__ = "0.1.0"
