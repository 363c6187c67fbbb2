# Thin wrapper over CMake: "make demo" runs the demonstration workflow, "make test" every test.
BUILD      ?= build
TEST_BUILD ?= build-asan
CLANG_BUILD ?= build-clang
JOBS       ?= 2

.PHONY: all deps build demo test test-only clang bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFMTBANK_SANITIZE=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

# gcc + AddressSanitizer/UBSan build running all unit and integration tests, a plain build
# running representative commands under valgrind, and a clang build that must compile without a
# warning.
test: deps clang
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFMTBANK_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFMTBANK_SANITIZE=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(BUILD) && ctest -L valgrind --output-on-failure --no-tests=error
	@cd $(TEST_BUILD) && ctest -j $(JOBS) --output-on-failure

clang:
	@CC=clang cmake -S . -B $(CLANG_BUILD) -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(CLANG_BUILD) -j $(JOBS) >/dev/null

bench: build
	@bash tests/bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(CLANG_BUILD)
