"""Benchmarks: each prints its measurements beside a baseline measured in the same run."""
