"""A test-only app: a model with an encrypted column, until real features bring theirs."""
