"""facstat benchmarks: figures for the read path, the ingest path and memory (see README.md)."""
