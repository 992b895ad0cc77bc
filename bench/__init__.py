"""Benchmarks: `make bench-search` runs `bench.search`, which writes `docs/benchmarks.md`."""
