"""Operations: health checks, Prometheus metrics, structured logs and the `check` command."""
