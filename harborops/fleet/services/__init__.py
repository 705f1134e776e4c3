"""Fleet services: ``inventory`` (instances, audited) and ``sweep`` (health polling)."""
