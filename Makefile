# The two commands a new user runs: `make demo` and `make test`. Both build .venv first when it
# is missing or out of date (tools/setup-venv.sh; about two minutes on a fresh machine).
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.setup-done
DEMO := build/demo

.PHONY: setup demo test clean

setup: $(STAMP)

$(STAMP): requirements.txt setup.py package.xml CMakeLists.txt $(wildcard msg/*.msg) \
		tools/setup-venv.sh $(wildcard tools/*_msgs/msg/*.msg)
	bash tools/setup-venv.sh $(VENV)
	touch $@

# The main job: pose_node live on a synthetic 640 x 480 depth camera over ROS 2 (loopback) with two
# people walking and crossing, about a minute (most of it rendering); prints joints, rate,
# latency, error and the IDs seen, writes build/demo/overlay.png and summary.json.
demo: setup
	$(BIN)/depth-pose demo --out $(DEMO) --duration 10 --people 2
	@echo "demo: look at $(DEMO)/overlay.png"

test: setup
	$(BIN)/python -m pytest -q

clean:
	rm -rf build .pytest_cache
