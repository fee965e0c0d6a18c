"""Radiance fields of the project."""
