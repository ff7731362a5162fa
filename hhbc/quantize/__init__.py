"""Quantization: compile-time int8 arithmetic (fixedpoint.py)."""
