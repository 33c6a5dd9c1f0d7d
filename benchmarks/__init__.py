"""Developer benchmarks and the generators of their synthetic extracts (not part of the library)."""
