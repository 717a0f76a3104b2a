"""The benchmark scripts: what docs/performance.md reports, each figure with the script that measures it
(``python tests/benchmarks/bench_check.py`` holds every target in CI)."""
