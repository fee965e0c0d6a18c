"""Measurements of training and rendering, shared by the benchmark scripts."""
