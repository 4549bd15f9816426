#!/usr/bin/env bash
# CI for the Python binding, on a fresh clone with only the machine's Python 3.11 + pip and
# Rust: a venv in the clone, the README's install command (pip builds the wheel with maturin,
# release mode), then ruff, mypy, stubtest against the compiled module, and the pytest suite
# (every conformance vector through every input form).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== python: tools"
.venv/bin/pip install -q -r bindings-python/requirements-dev.txt

echo "== python: pip install ./bindings-python (README)"
.venv/bin/pip install -q --force-reinstall --no-deps ./bindings-python

cd bindings-python
echo "== python: ruff"
../.venv/bin/ruff check .
../.venv/bin/ruff format --check .
# The simulator's example and the benchmark scripts at the repository root, under the
# binding's settings.
../.venv/bin/ruff check --config pyproject.toml ../docs/examples ../bench
../.venv/bin/ruff format --config pyproject.toml --check ../docs/examples ../bench

echo "== python: mypy (strict) and stubtest"
../.venv/bin/python -m mypy python/partnerkit
# From a directory without the sources, so the installed wheel is what gets checked.
(cd tests && ../../.venv/bin/python -m mypy.stubtest partnerkit \
  --mypy-config-file ../pyproject.toml --allowlist ../stubtest-allowlist.txt)

echo "== python: pytest"
../.venv/bin/python -m pytest -q -p no:cacheprovider

echo "== python: the simulator against plain numpy/pandas (small sizes; prints figures)"
(cd ../bench && ../.venv/bin/python simulate_compare.py --runs 20 --partners 500)
echo "== python: bench/compare.py smoke test (the four implementations agree; times not checked)"
../.venv/bin/python ../bench/compare.py --events 20000
echo "== python: bench/fx_payments.py smoke test (payments in EUR: the fast path's ledger is the canonical one)"
../.venv/bin/python ../bench/fx_payments.py --events 20000 --repeat 1
echo "== python: bench/conditions.py smoke test (rules on products and campaigns: the fast path's ledger is the canonical one)"
../.venv/bin/python ../bench/conditions.py --events 20000 --repeat 1
