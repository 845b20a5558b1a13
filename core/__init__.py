"""Shared primitives every app may use."""
