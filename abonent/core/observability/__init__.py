"""Operating the product: request ids and JSON logs, Prometheus metrics, health and
readiness, error reporting. Infrastructure only — no business rules live here."""
