# The two commands of the README. Both work as root on a fresh Debian 12 machine.
.PHONY: run test lint demo
run:  ## start web + worker + beat on the embedded defaults
	@bash scripts/run.sh
test: ## install what the tests need, run them on PostgreSQL + Redis, then on the embedded path, then ruff + mypy
	@bash scripts/test.sh
lint:
	@.venv/bin/ruff check . && .venv/bin/mypy harborops
