"""Hexagone: a sovereign collaborative suite, one modular monolith."""

__version__ = "0.1.0"
