# The two commands of the README. Both work as root on a fresh Debian 12 machine.
.PHONY: run test lint demo
run:  ## start web + worker + beat on the embedded defaults
	@bash scripts/run.sh
test: ## install what the tests need, run them on PostgreSQL + Redis, then on the embedded path, then ruff + mypy
	@bash scripts/test.sh
demo: ## serve a demo fleet of simulated Harbors and register it in the dashboard `make run` serves
	@scripts/ensure-debs.sh libldap2-dev libsasl2-dev
	@scripts/ensure-venv.sh requirements.txt
	@HARBOROPS_DATA_DIR=$${HARBOROPS_DATA_DIR:-$$PWD/data} .venv/bin/python manage.py migrate --noinput -v0
	@HARBOROPS_DATA_DIR=$${HARBOROPS_DATA_DIR:-$$PWD/data} .venv/bin/python manage.py demo
lint:
	@.venv/bin/ruff check . && .venv/bin/mypy harborops
