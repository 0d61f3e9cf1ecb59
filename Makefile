# The two commands a new user runs: `make demo` and `make test`. Both build .venv first when it
# is missing or out of date (tools/setup-venv.sh; about two minutes on a fresh machine).
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
DEMO := build/demo

.PHONY: setup demo test clean

setup: $(STAMP)

$(STAMP): requirements.txt setup.py package.xml CMakeLists.txt msg/BodyJoints.msg tools/setup-venv.sh
	bash tools/setup-venv.sh $(VENV)
	touch $@

# For now the main job renders a preview of the synthetic data; the ROS 2 node turns it into the
# live demo later.
demo: setup
	$(BIN)/depth-pose synth --count 4000 --seed 0 --workers 2 --out $(DEMO)/data
	$(BIN)/depth-pose synth-preview $(DEMO)/data --frames 32 --out $(DEMO)/synth-preview.png
	@echo "demo: look at $(DEMO)/synth-preview.png"

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf build .pytest_cache
