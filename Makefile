# One non-recursive Makefile for the whole tree. Sources are found by wildcard:
# drop a .c file in a directory and it is built.
#
#   common/*.c              -> $(BUILD)/libcommon.a
#   sms-extraction/*.c      -> $(BUILD)/libsmsx.a + $(BUILD)/sms-extraction (main.c)
#   insights-api/*.c        -> $(BUILD)/libinsights.a + $(BUILD)/insights-api (main.c), which
#                              links libcommon but not libsmsx: it calls sms-extraction over HTTP
#   tools/*.c               -> $(BUILD)/tools/<name>
#   tests/unit/*/test_*.c   -> $(BUILD)/tests/<dir>/test_<name> (cmocka)
#   bench/*.c               -> $(BUILD)/bench/<name>
#   tests/fuzz/fuzz_*.c     -> $(BUILD)/fuzz/<name> (clang libFuzzer; `make fuzz`)
#
# SAN=1 builds everything with AddressSanitizer + UBSan into build-asan/.

SAN ?=
ifeq ($(SAN),1)
BUILD ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT ?= -O1 -g
else
BUILD ?= build
SANFLAGS :=
OPT ?= -O2 -g
endif

CC ?= cc
PKGS := libevent libevent_pthreads libpq libpcre2-8 jansson libcurl openssl libmongoc-1.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS := -std=c11 -D_GNU_SOURCE $(OPT) -Wall -Wextra -Werror -I. $(PKG_CFLAGS) $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
# --as-needed after the objects: each binary records only the libraries it calls (Debian's
# gcc drops its default --as-needed under -fsanitize, and sms-extraction would then load
# libmongoc, whose load-time init prints plain text on a stale /dev/shm/mongoc-<pid>).
LDLIBS := -Wl,--as-needed $(PKG_LIBS) -lpthread -lm

COMMON_SRC := $(wildcard common/*.c)
SMSX_SRC := $(filter-out sms-extraction/main.c,$(wildcard sms-extraction/*.c))
INS_SRC := $(filter-out insights-api/main.c,$(wildcard insights-api/*.c))
TOOL_SRC := $(wildcard tools/*.c)
UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
BENCH_SRC := $(wildcard bench/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCOMMON := $(BUILD)/libcommon.a
LIBSMSX := $(BUILD)/libsmsx.a
LIBINS := $(BUILD)/libinsights.a
LIBS_ALL := $(LIBINS) $(LIBSMSX) $(LIBCOMMON)

DAEMONS := $(BUILD)/sms-extraction
ifneq ($(wildcard insights-api/main.c),)
DAEMONS += $(BUILD)/insights-api
endif
TOOLS := $(patsubst tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
BENCHES := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps run test test-unit test-integration test-asan valgrind bench fuzz docs docs-check format format-check clean records-diff \
	overload soak fuzz-long

all: $(DAEMONS) $(TOOLS) $(UNIT_TESTS) $(BENCHES)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIBCOMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBSMSX): $(call obj,$(SMSX_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBINS): $(call obj,$(INS_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/sms-extraction: $(call obj,sms-extraction/main.c) $(LIBSMSX) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/insights-api: $(call obj,insights-api/main.c) $(LIBINS) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tools/%: $(BUILD)/obj/tools/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBS_ALL)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Installs what is missing (apt/npm); a stamp keeps it quick when all is there.
# scripts/make.sh (the README's commands) runs it before make and sets DEPS_CHECKED=1.
deps:
	@[ "$${DEPS_CHECKED:-}" = 1 ] || scripts/deps.sh

# Builds the two daemons (what the demo runs) with one job per CPU even without -j: it is
# the README's first command.
run: deps
	@$(MAKE) --no-print-directory -j$$(nproc) $(DAEMONS)
	@scripts/run-demo.sh $(BUILD) && scripts/run-demo-insights.sh $(BUILD)

# The whole suite: unit tests, integration tests against real servers, the same under
# ASan/UBSan, valgrind on a daemon run, format and docs drift checks.
test: deps
	@scripts/test-all.sh

test-unit: $(UNIT_TESTS)
	@scripts/run-unit.sh $(BUILD)

test-integration: $(DAEMONS) $(TOOLS)
	@scripts/run-integration.sh $(BUILD)

bench: deps
	@scripts/bench.sh

fuzz:
	@scripts/fuzz.sh

# Extraction records of this checkout against BASE's (default main) on the five corpora;
# RECORDS_IDENTICAL=1 makes any difference fail (scripts/records-diff.sh).
BASE ?= main
records-diff:
	@scripts/records-diff.sh $(BASE) $(BUILD)

# Out of CI (issue 11): a daemon at ten times its peak connections for 30 s, and the
# shutdown under that load (~2 min per daemon); 10 minutes of mixed valid and hostile
# traffic on both daemons; 10^7 executions of every fuzz target.
overload: $(DAEMONS) $(TOOLS)
	@bench/long/overload.sh $(BUILD)

soak: $(DAEMONS) $(TOOLS)
	@bench/long/soak.sh $(BUILD)

fuzz-long:
	@FUZZ_RUNS=10000000 scripts/fuzz.sh

docs: $(TOOLS)
	@scripts/gen-docs.sh $(BUILD)

docs-check: $(TOOLS)
	@scripts/gen-docs.sh $(BUILD) --check

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-*

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Keep intermediate objects (pattern-rule chains would delete them otherwise).
.SECONDARY:
