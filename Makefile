# Every target creates .venv when it is missing, so a fresh clone needs nothing else.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install up serve test lint typecheck bench clean official-sdks dashboard-screenshots

# Progress is printed: a first install takes a minute or two, and a silent one looks stuck.
$(STAMP): pyproject.toml
	@echo "motorpool: preparing $(VENV) (the first time takes a minute or two)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "motorpool: [1/2] updating pip"
	@$(BIN)/python -m pip install -q --upgrade pip
	@echo "motorpool: [2/2] installing motorpool and its dependencies"
	@$(BIN)/python -m pip install -q -e '.[platform,dev]'
	@touch $(STAMP)
	@echo "motorpool: installed"

install: $(STAMP)

up: install
	$(BIN)/motorpool up

serve: install
	$(BIN)/motorpool serve

# Two workers, each with the whole of a test module (its module-scoped servers start once), and
# its own database templates (tests/support/databases.py).
test: install
	@# The official Node SDKs' tests need their packages: installed here whenever npm exists.
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory official-sdks; fi
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

# Smartcar's Node SDKs that tests/official drives, and the packages of the tutorial's Node app
# that tests/tutorial runs (exact versions from the lock files); without them those tests skip
# with their reason.
official-sdks:
	npm ci --prefix tests/official/node --no-audit --no-fund
	npm ci --prefix tests/tutorial/node --no-audit --no-fund

# The README's pictures of the dashboard, taken by its browser test in Debian's Chromium.
dashboard-screenshots: install
	$(BIN)/python -m pytest -q tests/platform/test_dashboard_browser.py
	mkdir -p docs/images
	cp test-artifacts/dashboard/fleet.png test-artifacts/dashboard/vehicle.png test-artifacts/dashboard/requests.png docs/images/

typecheck: install
	$(BIN)/mypy

lint: install
	$(BIN)/ruff check src tests bench

clean:
	rm -rf $(VENV) motorpool.db* demo.db* .motorpool
