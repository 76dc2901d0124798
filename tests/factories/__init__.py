"""Independent builders of checkpoint header replicas for tests and benchmarks (no estimator imports)."""
