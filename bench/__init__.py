"""Benchmarks: each module measures a figure against a baseline taken in the same run."""
