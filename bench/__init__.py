"""Benchmarks (not timed tests): results and how to rerun them in docs/benchmarks.md."""
