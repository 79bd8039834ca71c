# collectd-tcpstates: a plain Makefile. User CFLAGS/LDFLAGS are respected;
# the flags the build needs are appended. V=1 shows the commands.

PREFIX ?= /usr
LIBDIR ?= $(PREFIX)/lib
PLUGINDIR ?= $(LIBDIR)/collectd
SYSCONFDIR ?= /etc
CONFDIR ?= $(SYSCONFDIR)/collectd/collectd.conf.d
MANDIR ?= $(PREFIX)/share/man
# The Grafana dashboards, the Prometheus alert rules and the Ansible role
# (packaging/ansible) go to $(DATADIR)/grafana, /prometheus and /ansible.
DATADIR ?= $(PREFIX)/share/collectd-tcpstates
COLLECTD_INCLUDE ?= /usr/include/collectd
PKG_CONFIG ?= pkg-config
CLANG_FORMAT ?= clang-format
INSTALL ?= install

CFLAGS ?= -O2 -g
BUILD ?= build
# WERROR=1 turns warnings into errors (CI does this).
WERROR ?= 0

WARNINGS := -Wall -Wextra -Wshadow -Wvla -Wformat=2 -Wstrict-prototypes
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

MNL_CFLAGS = $(shell $(PKG_CONFIG) --cflags libmnl)
MNL_LIBS = $(shell $(PKG_CONFIG) --libs libmnl)
# json-c: the container runtimes' state files (plugin/containers.c).
JSON_CFLAGS = $(shell $(PKG_CONFIG) --cflags json-c)
JSON_LIBS = $(shell $(PKG_CONFIG) --libs json-c)
# What everything linked with the core needs.
CORE_LIBS = $(MNL_LIBS) $(JSON_LIBS)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check)

REQUIRED_CFLAGS := -std=gnu11 -fPIC -fvisibility=hidden -Iinclude \
	$(WARNINGS) -MMD -MP
ALL_CFLAGS = $(REQUIRED_CFLAGS) $(MNL_CFLAGS) $(JSON_CFLAGS) $(CPPFLAGS) \
	$(CFLAGS)
GLUE_CFLAGS = -DHAVE_CONFIG_H -I$(COLLECTD_INCLUDE)

ifeq ($(V),1)
Q :=
else
Q := @
endif

GLUE_SRCS := plugin/collectd_glue.c
CORE_SRCS := $(filter-out $(GLUE_SRCS),$(sort $(wildcard plugin/*.c)))
UNIT_SRCS := $(wildcard tests/unit/*.c)
GLUE_TEST_SRCS := $(wildcard tests/glue/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)
# Fuzz sources that see collectd's headers, as the glue does.
FUZZ_GLUE_SRCS := tests/fuzz/fuzz_config.c tests/fuzz/fuzz_glue.c
TOOL_SRCS := tests/tools/tcps-count.c tests/tools/sockmaker.c \
	tests/tools/hostile-name.c tests/tools/handoff.c tests/tools/sockets.c \
	tests/tools/tcps-discover.c
C_SOURCES := $(CORE_SRCS) $(GLUE_SRCS) $(UNIT_SRCS) $(TOOL_SRCS) \
	$(wildcard tests/tools/*.h) $(GLUE_TEST_SRCS) $(wildcard tests/glue/*.h) \
	$(FUZZ_SRCS) $(wildcard tests/fuzz/*.h) \
	$(wildcard include/tcpstates/*.h) $(wildcard tests/bench/*.c)

CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
GLUE_OBJS := $(GLUE_SRCS:%.c=$(BUILD)/%.o)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)
GLUE_TEST_OBJS := $(GLUE_TEST_SRCS:%.c=$(BUILD)/%.o)

PLUGIN := $(BUILD)/tcpstates.so
CORE_LIB := $(BUILD)/libtcpstates-core.a
UNIT_TESTS := $(BUILD)/unit-tests
# The glue under a stubbed daemon (tests/glue), its contexts on a
# scripted socket: tcps_ctx_new is wrapped at link time, tcps_grow so
# that the glue's queue of values can run out of memory, and the switch
# into and out of a namespace (no CAP_SYS_ADMIN needed).
GLUE_TESTS := $(BUILD)/glue-tests
# handoff: CLOSE_WAIT sockets moving between processes (test-handoff.sh).
# tcps-discover: the host's namespaces and their names
# (test-discover-podman.sh).
TOOLS := $(BUILD)/tcps-count $(BUILD)/sockmaker $(BUILD)/handoff \
	$(BUILD)/tcps-discover

.PHONY: all check unit run asan format format-check install uninstall \
	clean deps-build deps-check deps-run tools

all: $(PLUGIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) \
		$(if $(filter $(GLUE_SRCS) $(FUZZ_GLUE_SRCS) tests/glue/%,$<),$(GLUE_CFLAGS)) \
		$(if $(filter tests/unit/% tests/glue/%,$<),$(CHECK_CFLAGS)) \
		-c -o $@ $<

$(PLUGIN): $(CORE_OBJS) $(GLUE_OBJS) plugin/tcpstates.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,--version-script=plugin/tcpstates.map \
		$(CFLAGS) $(LDFLAGS) -o $@ $(CORE_OBJS) $(GLUE_OBJS) $(CORE_LIBS)

$(CORE_LIB): $(CORE_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(UNIT_TESTS): $(UNIT_OBJS) $(CORE_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(CORE_LIB) \
		$(CHECK_LIBS) $(CORE_LIBS)

$(GLUE_TESTS): $(GLUE_TEST_OBJS) $(GLUE_OBJS) $(CORE_LIB) \
		$(BUILD)/tests/unit/fake_socket.o $(BUILD)/tests/unit/nlbuild.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--wrap=tcps_ctx_new \
		-Wl,--wrap=tcps_grow -Wl,--wrap=tcps_netns_enter \
		-Wl,--wrap=tcps_netns_leave -Wl,--wrap=pthread_create -o $@ \
		$(GLUE_TEST_OBJS) $(GLUE_OBJS) $(BUILD)/tests/unit/fake_socket.o \
		$(BUILD)/tests/unit/nlbuild.o $(CORE_LIB) $(CHECK_LIBS) \
		$(CORE_LIBS)

$(BUILD)/tcps-count: $(BUILD)/tests/tools/tcps-count.o $(CORE_LIB)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

$(BUILD)/tcps-discover: $(BUILD)/tests/tools/tcps-discover.o $(CORE_LIB)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

# sockets.o: socket building shared with tests/bench/populate.c.
$(BUILD)/sockmaker: $(BUILD)/tests/tools/sockmaker.o \
		$(BUILD)/tests/tools/sockets.o
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/handoff: $(BUILD)/tests/tools/handoff.o $(BUILD)/tests/tools/sockets.o
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

tools: $(TOOLS)

# Dependencies: installed with apt-get when missing (needs root).
deps-build:
	$(Q)tests/tools/deps.sh build
deps-check:
	$(Q)tests/tools/deps.sh check
deps-run:
	$(Q)tests/tools/deps.sh run

unit: $(UNIT_TESTS) $(GLUE_TESTS)
	$(Q)CK_FORK=yes $(UNIT_TESTS)
	$(Q)CK_FORK=yes $(GLUE_TESTS)

# Every test: unit, configuration, namespace integration, real collectd.
check: deps-check
	$(Q)$(MAKE) --no-print-directory all tools $(UNIT_TESTS) $(GLUE_TESTS)
	$(Q)BUILD=$(BUILD) tests/run-all.sh

# The plugin in a real collectd, one screen of this host's values per
# interval (read back through unixsock) until Ctrl-C.
run: deps-run
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) tests/tools/run-collectd.sh

# A clean clone built and unit-tested inside a minimal Debian 12 root
# (debootstrap minbase, as a debian:12 image), then `make run` briefly:
# catches a package missing from tests/tools/deps.sh. Root; CI runs it.
.PHONY: check-minimal
check-minimal:
	$(Q)tests/tools/minimal-root.sh

# The same tests with AddressSanitizer and UBSan in a separate build tree.
# float-cast-overflow: GCC leaves it out of "undefined" (clang has it).
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fsanitize=float-cast-overflow -fno-sanitize-recover=all
asan: deps-check
	$(Q)$(MAKE) --no-print-directory BUILD=build-asan \
		CFLAGS="$(SAN_FLAGS)" LDFLAGS="$(SAN_FLAGS)" \
		all tools build-asan/unit-tests build-asan/glue-tests
	$(Q)BUILD=build-asan TCPS_SANITIZE=1 tests/run-all.sh

# The benchmark (root): 10k, 100k and 1M sockets against the kernel floor,
# collectd's tcpconns and ss; a report in build/bench/report.md. Nothing
# asserts a timing. BENCH_SIZES, BENCH_RUNS: see tests/bench/bench.sh.
.PHONY: bench
bench: deps-check
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)BUILD=$(BUILD) tests/bench/bench.sh

# Hash tables (no root, a few minutes): the core's open addressing
# against uthash on the destination table and the owner search's inode
# index, the real ephemeral observer included; a report in
# $(BUILD)/bench/hash-report.md, the decision in tests/bench/README.md.
# Nothing asserts a timing. bench-hash-ab times the observer at two
# revisions (HASHBENCH_REVS) with the same driver.
HASHBENCH := $(BUILD)/hashbench
HASHBENCH_RUNS ?= 5
HASHBENCH_INTERVALS ?= 4
HASHBENCH_SIZES ?= 10000 100000 1000000
HASHBENCH_REVS ?= 3876ad9^ 3876ad9
.PHONY: bench-hash bench-hash-ab deps-bench-hash
deps-bench-hash:
	$(Q)tests/tools/deps.sh bench-hash

$(HASHBENCH): $(BUILD)/tests/bench/hashbench.o $(CORE_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(CORE_LIBS)

-include $(BUILD)/tests/bench/hashbench.d

bench-hash: deps-bench-hash
	$(Q)$(MAKE) --no-print-directory $(HASHBENCH)
	$(Q)mkdir -p $(BUILD)/bench
	$(Q)$(HASHBENCH) -r $(HASHBENCH_RUNS) -i $(HASHBENCH_INTERVALS) \
		-n "$(HASHBENCH_SIZES)" \
		-l "$$(git describe --always --dirty 2>/dev/null || echo unknown)" \
		>$(BUILD)/bench/hash-report.md.tmp
	$(Q)mv $(BUILD)/bench/hash-report.md.tmp $(BUILD)/bench/hash-report.md
	$(Q)cat $(BUILD)/bench/hash-report.md

bench-hash-ab: deps-bench-hash
	$(Q)BUILD=$(BUILD) HASHBENCH_RUNS=$(HASHBENCH_RUNS) \
		HASHBENCH_INTERVALS=$(HASHBENCH_INTERVALS) \
		HASHBENCH_SIZES="$(HASHBENCH_SIZES)" \
		tests/bench/hashbench-ab.sh $(HASHBENCH_REVS)

# The soak (root): a real collectd under valgrind memcheck reads at
# Interval 0.1 while sockets, a leaking process and a watched namespace
# churn; no error, nothing lost, memory and fds flat after warm-up. Then
# the bad-config corpus, and sockets handed between processes
# (test-handoff.sh), under valgrind. SOAK_READS (1000): see
# tests/soak.sh; CI runs a shorter one.
.PHONY: soak
soak:
	$(Q)tests/tools/deps.sh soak
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)BUILD=$(BUILD) tests/soak.sh
	$(Q)BUILD=$(BUILD) TCPS_VALGRIND=1 tests/test-config.sh
	$(Q)BUILD=$(BUILD) TCPS_VALGRIND=1 tests/test-handoff.sh

# The README's pictures, each from a real collectd with the stock rrdtool
# plugin (root, 30-40 s each): packaging/doc/SCENE-graph.png, drawn by
# tests/tools/graphs.sh SCENE. make graphs draws all three.
GRAPH_DIR ?= packaging/doc
GRAPH_SCENES := leak ports queue
.PHONY: graphs $(GRAPH_SCENES:%=%-graph)
graphs: $(GRAPH_SCENES:%=%-graph)
$(GRAPH_SCENES:%=%-graph): %-graph:
	$(Q)tests/tools/deps.sh graph
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)BUILD=$(BUILD) tests/tools/graphs.sh $* $(GRAPH_DIR)/$*-graph.png

# libFuzzer targets (clang) in their own build tree, each run for
# FUZZ_SECONDS; fails on any crash, leak or timeout. Crashing inputs are
# kept in build-fuzz/crashes/TARGET/. See tests/fuzz/run.sh.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
FUZZ_TARGETS := diag config proc leaks ephemeral listeners glue containers \
	namespaces
FUZZ_FLAGS := -O1 -g -fno-omit-frame-pointer \
	-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	-fsanitize-coverage-ignorelist=tests/fuzz/coverage-ignore.txt
FUZZ_LINK := -fsanitize=fuzzer,address,undefined
.PHONY: fuzz fuzz-short fuzz-build fuzz-targets deps-fuzz
deps-fuzz:
	$(Q)tests/tools/deps.sh fuzz

fuzz-build: deps-fuzz
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=$(FUZZ_CC) \
		CFLAGS="$(FUZZ_FLAGS)" LDFLAGS="$(FUZZ_LINK)" fuzz-targets

fuzz-targets: $(FUZZ_TARGETS:%=$(BUILD)/fuzz-%)
.SECONDARY: $(FUZZ_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/fuzz-%: $(BUILD)/tests/fuzz/fuzz_%.o $(CORE_LIB)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(FUZZ_WRAP) -o $@ $(filter %.o,$^) \
		$(CORE_LIB) $(CORE_LIBS)

$(BUILD)/fuzz-config: $(BUILD)/tests/glue/collectd_stub.o $(GLUE_OBJS)
# fuzz-leaks scripts many reads in a changing fake /proc; its scan budget
# runs on a clock of its own (the owner search's clock_gettime, wrapped).
# Its oracle only checks: no coverage feedback from it (tracing its
# compares made the target ~15% slower; see coverage-ignore.txt),
# sanitizers still on.
$(BUILD)/fuzz-leaks: $(BUILD)/tests/fuzz/leaks_world.o \
	$(BUILD)/tests/fuzz/leaks_oracle.o
$(BUILD)/fuzz-leaks: FUZZ_WRAP := -Wl,--wrap=clock_gettime
# The glue over scripted sockets and namespaces (see fuzz_glue.c).
$(BUILD)/fuzz-glue: $(BUILD)/tests/glue/collectd_stub.o $(GLUE_OBJS) \
	$(BUILD)/tests/unit/nlbuild.o
$(BUILD)/fuzz-glue: FUZZ_WRAP := -Wl,--wrap=tcps_ctx_new \
	-Wl,--wrap=tcps_netns_enter -Wl,--wrap=tcps_netns_leave \
	-Wl,--wrap=tcps_sysctls_read -Wl,--wrap=tcps_sysctls_read_at

# The discovered namespaces in a scripted world (see fuzz_namespaces.c):
# paths resolve there, entering and leaving a namespace is a variable,
# and a farewell's values are told from a read's.
$(BUILD)/fuzz-namespaces: FUZZ_WRAP := -Wl,--wrap=tcps_netns_refresh \
	-Wl,--wrap=tcps_netns_enter -Wl,--wrap=tcps_netns_leave \
	-Wl,--wrap=tcps_netns_release -Wl,--wrap=tcps_ctx_farewell

# Container names in a fake host's runtime state (tests/unit/fakehost.c).
$(BUILD)/fuzz-containers: $(BUILD)/tests/unit/fakehost.o

fuzz: fuzz-build
	$(Q)BUILD=build-fuzz tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The short pass CI runs: a minute a target.
fuzz-short:
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60

format:
	$(Q)$(CLANG_FORMAT) -i $(C_SOURCES)

format-check: deps-check
	$(Q)$(CLANG_FORMAT) --dry-run --Werror $(C_SOURCES)

# The plugin, its conf.d snippet, collectd-tcpstates(5), the Grafana
# dashboards, the Prometheus alert rules and the Ansible role; the
# packages install through this target too, so each file is installed in
# one place.
DASHBOARDS := $(wildcard packaging/grafana/tcpstates-*.json)
ALERT_RULES := packaging/prometheus/tcpstates.rules.yml
ANSIBLE_FILES := $(shell cd packaging && find ansible -type f | LC_ALL=C sort)
install: $(PLUGIN)
	$(INSTALL) -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(CONFDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DATADIR)/grafana \
		$(DESTDIR)$(DATADIR)/prometheus
	$(INSTALL) -m 0644 $(PLUGIN) $(DESTDIR)$(PLUGINDIR)/tcpstates.so
	$(INSTALL) -m 0644 conf/tcpstates.conf $(DESTDIR)$(CONFDIR)/tcpstates.conf
	$(INSTALL) -m 0644 packaging/collectd-tcpstates.5 \
		$(DESTDIR)$(MANDIR)/man5/collectd-tcpstates.5
	$(INSTALL) -m 0644 $(DASHBOARDS) $(DESTDIR)$(DATADIR)/grafana
	$(INSTALL) -m 0644 $(ALERT_RULES) $(DESTDIR)$(DATADIR)/prometheus
	for f in $(ANSIBLE_FILES); do \
		mode=0644; [ -x packaging/$$f ] && mode=0755; \
		$(INSTALL) -D -m $$mode packaging/$$f $(DESTDIR)$(DATADIR)/$$f \
			|| exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(PLUGINDIR)/tcpstates.so
	rm -f $(DESTDIR)$(CONFDIR)/tcpstates.conf
	rm -f $(DESTDIR)$(MANDIR)/man5/collectd-tcpstates.5
	rm -f $(addprefix $(DESTDIR)$(DATADIR)/grafana/,$(notdir $(DASHBOARDS)))
	rm -f $(DESTDIR)$(DATADIR)/prometheus/$(notdir $(ALERT_RULES))
	rm -rf $(DESTDIR)$(DATADIR)/ansible
	rmdir $(DESTDIR)$(DATADIR)/grafana $(DESTDIR)$(DATADIR)/prometheus \
		$(DESTDIR)$(DATADIR) 2>/dev/null || true

clean:
	rm -rf build build-asan build-fuzz

-include $(patsubst %.o,%.d,$(CORE_OBJS) $(GLUE_OBJS) $(UNIT_OBJS) \
	$(GLUE_TEST_OBJS) $(FUZZ_SRCS:%.c=$(BUILD)/%.o) \
	$(BUILD)/tests/tools/tcps-count.o $(BUILD)/tests/tools/sockmaker.o \
	$(BUILD)/tests/tools/handoff.o $(BUILD)/tests/tools/sockets.o \
	$(BUILD)/tests/tools/tcps-discover.o)

# Debian and RPM packages: make deb, make rpm, make packages-check.
include packaging/packaging.mk
