# Thin wrapper over CMake: "make demo" runs the demonstration workflow, "make test" every test.
BUILD      ?= build
TEST_BUILD ?= build-asan
CLANG_BUILD ?= build-clang
JOBS       ?= 2

PREFIX     ?= /usr/local

.PHONY: all deps deps-slow build install demo test test-slow test-all test-only clang fuzz bench coverage clean

all: build

deps:
	@bash scripts/install-deps.sh

deps-slow:
	@bash scripts/install-deps.sh --slow

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFMTBANK_SANITIZE=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# fmtbank and fmtbankd in PREFIX/bin, schema/ and reports/ in PREFIX/share/fmtbank, the server
# module in PREFIX/lib/fmtbank, the manual page and the bash completion (README "Installing").
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

demo: build
	@bash scripts/demo.sh $(BUILD)

# Two tiers. "make test", the fast tier: a gcc + AddressSanitizer/UBSan build running the unit
# tests, the SQL regression layer and every integration test not labelled slow. "make test-slow",
# the second tier: the slow integration suites (concurrency, crashes, restarts, bytes) under the
# same sanitizers, a plain build running representative commands under valgrind, and a clang
# build that must compile without a warning and builds the libFuzzer harnesses, each run ~5 s
# over its seed corpus (label fuzz). "make test-all" (what .ci/run runs): both.
test: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFMTBANK_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ctest -j $(JOBS) -LE slow --output-on-failure

test-slow: deps-slow clang
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFMTBANK_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFMTBANK_SANITIZE=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@cd $(TEST_BUILD) && ctest -j $(JOBS) -L slow --output-on-failure --no-tests=error
	@cd $(BUILD) && ctest -L valgrind --output-on-failure --no-tests=error
	@cd $(CLANG_BUILD) && ctest -L fuzz -j $(JOBS) --output-on-failure --no-tests=error

test-all: test test-slow

clang:
	@CC=clang cmake -S . -B $(CLANG_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFMTBANK_FUZZ=ON >/dev/null
	@cmake --build $(CLANG_BUILD) -j $(JOBS) >/dev/null

# libFuzzer harnesses (tests/fuzz, built by "make clang"): FUZZ_SECONDS per harness, all of them or
# those named in FUZZ_ONLY (e.g. FUZZ_ONLY="csv scanline").
FUZZ_SECONDS ?= 300
FUZZ_ONLY ?=
fuzz: deps clang
	@bash scripts/fuzz.sh $(CLANG_BUILD) $(FUZZ_SECONDS) $(FUZZ_ONLY)

# gcov build running the unit, integration and SQL regression tests (not valgrind), then an
# lcov summary of src/ (line and function coverage) and an HTML report in $(COV_BUILD)/html.
COV_BUILD ?= build-cov
coverage:
	@bash scripts/install-deps.sh --coverage
	@cmake -S . -B $(COV_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFMTBANK_COVERAGE=ON >/dev/null
	@cmake --build $(COV_BUILD) -j $(JOBS)
	@lcov -q --zerocounters --directory $(COV_BUILD)
	@cd $(COV_BUILD) && ctest -j $(JOBS) -LE 'valgrind|fuzz' --output-on-failure || echo 'coverage: some tests failed; the figures below are of what ran'
	@lcov -q --capture --directory $(COV_BUILD) --output-file $(COV_BUILD)/all.info
	@lcov -q --extract $(COV_BUILD)/all.info '$(CURDIR)/src/*' --output-file $(COV_BUILD)/src.info
	@genhtml -q $(COV_BUILD)/src.info --output-directory $(COV_BUILD)/html
	@lcov --summary $(COV_BUILD)/src.info

bench: build
	@bash tests/bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(CLANG_BUILD) $(COV_BUILD)
