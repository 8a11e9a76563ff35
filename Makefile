# fibsem-ophyd: the two commands. Each one sets up everything it needs on a fresh
# machine (Python 3.11 and root): .venv, pinned dependencies, the project, and the
# Debian packages the tests need. Re-running is fast when nothing changed.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3.11
# pip's notes about the machine's local index folders are noise here.
QUIET_PIP := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SYSDEPS_STAMP := $(VENV)/.sysdeps-stamp
DEBS := xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-cursor0 \
        libxkbcommon-x11-0 libgl1 libegl1 libfontconfig1 libdbus-1-3 libxcb-shape0 \
        libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xfixes0 \
        redis-server postgresql chromium
DEMO_OUT ?= demo-output

.PHONY: demo test lint install sysdeps bench clean

# The lock is installed by uv (pinned below): the same packages as pip, in about half the
# time, taking wheels from this machine's local wheel folders when it has them (pip finds
# those through its own configuration; uv does not read it).
# Bytecode: this machine sets PYTHONDONTWRITEBYTECODE, so every process (each tiled
# server, each session a test starts) would compile again all it imports. The commands
# here let Python cache bytecode, compiled on first import: only the modules used get
# compiled, where compiling all 25,000 of the lock's files at install costs about a minute.
unexport PYTHONDONTWRITEBYTECODE
UV_VERSION := 0.13.9
LOCAL_WHEELS := $(foreach d,$(wildcard /opt/wheels /opt/pypi-more/files),--find-links $(d))

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) $(QUIET_PIP)
	$(VENV)/bin/uv pip install --quiet --python $(PY) $(LOCAL_WHEELS) -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . $(QUIET_PIP)
	touch $(STAMP)

install: $(STAMP)

# Debian packages for napari under Xvfb (see ../shared/notes/stack.md), and the servers
# the remote-operation tests start: Redis (queueserver), PostgreSQL (tiled), Chromium.
$(SYSDEPS_STAMP): | $(STAMP)
	@if ! command -v Xvfb >/dev/null || ! ldconfig -p | grep -q libxcb-cursor \
		|| ! command -v redis-server >/dev/null || ! command -v chromium >/dev/null \
		|| ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS) >/dev/null; \
	fi
	touch $(SYSDEPS_STAMP)

sysdeps: $(SYSDEPS_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

# The suite in two parts: everything but the timing-sensitive tests in parallel
# (pytest-xdist, one worker per core, at most 4), then those (marked `serial`) alone,
# sharing one PostgreSQL cluster (tests/run_suite.py).
test: $(STAMP) $(SYSDEPS_STAMP) lint
	$(PY) -m tests.run_suite

demo: $(STAMP)
	$(PY) -m profiles.cli demo --out $(DEMO_OUT)

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .ruff_cache
