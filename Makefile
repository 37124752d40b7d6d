# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# sluice: one non-recursive Makefile (libbpf-bootstrap style).
#   bpf/*.bpf.c -> build/bpf/*.bpf.o -> build/*.skel.h -> binaries
# Everything generated goes to build/.

BUILD		?= build
CC		?= gcc
CLANG		?= clang
BPFTOOL		?= bpftool
PREFIX		?= /usr/local
DESTDIR		?=
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/sluice
# The unit belongs to the package, not to the admin's /etc/systemd/system.
# Debian bookworm's debhelper wants /lib/systemd/system: debian/rules says so.
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions
SYSCONFDIR	?= /etc
# From git tags (scripts/version.sh); debian/rules passes the package's.
VERSION		?= $(shell scripts/version.sh)

ARCH		:= $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

# Probes of installed tools and libraries run when a recipe first needs
# them, never while make parses this file: on a new machine `make demo`
# and `make test` install the packages first (scripts/install-deps.sh).
# `X = $(eval X := ...)$(X)` expands once, then keeps the result.
MULTIARCH	= $(eval MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null))$(MULTIARCH)

# clang -target bpf loses the multiarch include dir (asm/types.h).
BPF_CFLAGS	= -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		   -Iinclude -Ibpf -I/usr/include/$(MULTIARCH) $(BPF_EXTRA)
# v3: 32-bit jumps and ALU32 (kernel >= 5.1), fewer instructions per packet.
BPF_CFLAGS	+= -mcpu=v3 -Wextra

PKGS		:= libbpf libxdp libfyaml json-c libmicrohttpd libmnl libcurl
PKG_CFLAGS	= $(eval PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS	= $(eval PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null))$(PKG_LIBS)

CFLAGS		?= -O2 -g
CFLAGS		+= -std=gnu11 -Wall -Wextra -Werror -MMD -MP \
		   -Iinclude -Iuser/lib -I$(BUILD) $(PKG_CFLAGS)
LDLIBS		+= $(PKG_LIBS) -lelf -lz -lpthread
# sd_notify: readiness, reload, stop and watchdog for Type=notify.
SYSTEMD_CFLAGS	:= $(shell pkg-config --cflags libsystemd 2>/dev/null)
SYSTEMD_LIBS	:= $(shell pkg-config --libs libsystemd 2>/dev/null || echo -lsystemd)
CFLAGS		+= $(SYSTEMD_CFLAGS)

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all test test-run test-unit test-bpf test-integration bench bench-run \
	demo demo-run install uninstall format format-check clean deps deps-build \
	deps-test deps-bench check-build-deps bpffs man units test-package \
	test-units root-test root-demo root-bench root-fuzz root-test-integration \
	root-test-bpf FORCE

BPF_PROGS	:= sluice decap drain_walk bench_floor bench_drop bench_reflect
BPF_OBJS	:= $(patsubst %,$(BUILD)/bpf/%.bpf.o,$(BPF_PROGS))
SKELS		:= $(patsubst %,$(BUILD)/%.skel.h,$(BPF_PROGS))

LIB_SRCS	:= $(wildcard user/lib/*.c)
LIB_OBJS	:= $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
LIB		:= $(BUILD)/libsluice.a

BINS		:= $(BUILD)/sluiced $(BUILD)/sluicectl $(BUILD)/sluice-decap
SLUICED_OBJS	:= $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard user/sluiced/*.c))
SLUICECTL_OBJS	:= $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard user/sluicectl/*.c))
# sluicectl's own code but its main, for the unit tests of the CLI.
CLI_LIB		:= $(BUILD)/libsluicectl.a
UNIT_TESTS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(wildcard tests/unit/test_*.c))
BPF_TESTS	:= $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(wildcard tests/bpf/test_*.c))
TESTLIB_SRCS	:= $(wildcard tests/lib/*.c)
TESTLIB_OBJS	:= $(patsubst %.c,$(BUILD)/obj/%.o,$(TESTLIB_SRCS))

VERSION_H	:= $(BUILD)/sluice_version.h

all: $(BPF_OBJS) $(SKELS) $(BINS)

# Rewritten only when the version changes, so a rebuild stays incremental.
$(VERSION_H): FORCE
	@mkdir -p $(@D)
	@echo '#define SL_VERSION "$(VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

# --- BPF -----------------------------------------------------------------
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c | $(BUILD)/bpf check-build-deps
	$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# --- userspace -----------------------------------------------------------
# Skeletons and the version header are generated before any object
# compiles (order-only: a newer skeleton alone does not rebuild
# everything); from then on each object's -MMD file names what it includes.
$(BUILD)/obj/%.o: %.c | $(SKELS) $(VERSION_H) check-build-deps
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	$(AR) rcs $@ $^

$(CLI_LIB): $(filter-out %/main.o,$(SLUICECTL_OBJS))
	$(AR) rcs $@ $^

$(BUILD)/sluiced: $(SLUICED_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) $(SYSTEMD_LIBS) -o $@

$(BUILD)/sluicectl: $(SLUICECTL_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

DECAP_OBJS	:= $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard user/decap/*.c))

$(BUILD)/sluice-decap: $(DECAP_OBJS) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# --- tests ---------------------------------------------------------------
# The CLI's tests include its headers; the library never does.
$(BUILD)/obj/tests/unit/%.o: CFLAGS += -Iuser/sluicectl

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(TESTLIB_OBJS) $(CLI_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -lcmocka -o $@

$(BUILD)/tests/bpf/%: $(BUILD)/obj/tests/bpf/%.o $(TESTLIB_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -lcmocka -o $@

# test, demo and bench install what is missing, mount bpffs, then build
# and run in a second make: its probes then see the installed packages,
# and no compile can start before the install is over, even with -j.
test: root-test deps-test bpffs
	@$(MAKE) --no-print-directory test-run

# bench_fill also serves the lab tests: a drain test with a big flow table.
test-run: all units man $(UNIT_TESTS) $(BPF_TESTS) $(BUILD)/bench/bench_fill
	@tests/run.sh $(BUILD)

test-unit: bpffs $(UNIT_TESTS)
	@tests/run.sh $(BUILD) unit

test-bpf: root-test-bpf all $(BPF_TESTS)
	@tests/run.sh $(BUILD) bpf

# The lab tests (root, namespaces): tests/integration/run.sh, one lab each.
test-integration: root-test-integration deps-test bpffs
	@$(MAKE) --no-print-directory all $(BUILD)/bench/bench_fill
	@tests/run.sh $(BUILD) integration

demo: root-demo deps-test bpffs
	@$(MAKE) --no-print-directory demo-run

demo-run: all
	@scripts/demo.sh

# Install missing packages of one set (no-op when all are present):
# build (make), test (make test, make demo), bench (make bench), all.
deps:
	@scripts/install-deps.sh --if-missing all

# What loads BPF programs or creates namespaces says so at once when not
# run as root, before it installs or builds anything (listed first in
# each target's prerequisites).
root-test root-demo root-bench root-fuzz root-test-integration root-test-bpf: root-%:
	@scripts/need-root.sh $*

deps-build deps-test deps-bench deps-package: deps-%:
	@scripts/install-deps.sh --if-missing $*

# A plain `make` installs nothing: it stops at once, naming what is
# missing and the command that installs it.
check-build-deps:
	@scripts/install-deps.sh --check build

bpffs:
	@scripts/mount-bpffs.sh

$(BUILD)/bpf:
	@mkdir -p $@

# .clang-format is the kernel's style. Both act on the C lines changed
# since FORMAT_BASE (default: the merge base with main), never the whole
# tree: format-check reports (exit 1), format rewrites them in place.
FORMAT_BASE	?=
format-check:
	@scripts/check-format.sh $(FORMAT_BASE)

format:
	git diff -U0 --no-color $(or $(FORMAT_BASE),$$(git merge-base HEAD main)) \
		-- '*.c' '*.h' | clang-format-diff-14 -p1 -i

# --- install (begin) ------------------------------------------------------
# Units are generated so ExecStart names the sbin directory really used.
UNITS		:= $(BUILD)/systemd/sluiced.service $(BUILD)/systemd/sluice-decap@.service \
		   $(BUILD)/systemd/sluice-agent.service
MAN_SRCS	:= $(wildcard docs/man/*.scd)
MANS		:= $(patsubst docs/man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))

# Regenerate the units when the install paths change.
UNIT_PATHS	:= $(BUILD)/systemd/paths
$(UNIT_PATHS): FORCE
	@mkdir -p $(@D)
	@echo '$(SBINDIR) $(DOCDIR) $(SYSCONFDIR)' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(BUILD)/systemd/%: scripts/systemd/%.in $(UNIT_PATHS)
	@mkdir -p $(@D)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	    -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' $< > $@

# docs/man/sluiced.8.scd -> build/man/sluiced.8 (scdoc: one plain source format).
$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(@D)
	scdoc < $< > $@

units: $(UNITS)
man: $(MANS)

# Binaries, units, man pages, completion, docs, and the example config as
# /etc/sluice/sluiced.yaml (never overwritten: it is the admin's).
install: all units man
	install -D -m 0755 $(BUILD)/sluiced $(DESTDIR)$(SBINDIR)/sluiced
	install -D -m 0755 $(BUILD)/sluicectl $(DESTDIR)$(SBINDIR)/sluicectl
	install -D -m 0755 $(BUILD)/sluice-decap $(DESTDIR)$(SBINDIR)/sluice-decap
	install -D -m 0644 -t $(DESTDIR)$(SYSTEMDUNITDIR) $(UNITS)
	for m in $(MANS); do \
		s=$${m##*.}; install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	done
	install -D -m 0644 scripts/completion/sluicectl.bash \
		$(DESTDIR)$(BASHCOMPDIR)/sluicectl
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -D -m 0644 scripts/sluiced.example.yaml $(DESTDIR)$(DOCDIR)/sluiced.example.yaml
	test -e $(DESTDIR)$(SYSCONFDIR)/sluice/sluiced.yaml || \
		install -D -m 0644 scripts/sluiced.example.yaml \
		$(DESTDIR)$(SYSCONFDIR)/sluice/sluiced.yaml

# Removes what install put there, except the admin's config and the state.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/sluiced $(DESTDIR)$(SBINDIR)/sluicectl \
	      $(DESTDIR)$(SBINDIR)/sluice-decap \
	      $(patsubst $(BUILD)/systemd/%,$(DESTDIR)$(SYSTEMDUNITDIR)/%,$(UNITS)) \
	      $(DESTDIR)$(BASHCOMPDIR)/sluicectl \
	      $(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/sluiced.example.yaml
	for m in $(MANS); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; done
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# The Debian packages built and installed on a brand-new machine (slow:
# minutes; not part of `make test`).
test-package: deps-package
	@tests/package/test_package.sh

# The units: systemd-analyze verify and security (quick; in `make test`).
test-units: all units man
	@tests/run.sh $(BUILD) units
# --- install (end) --------------------------------------------------------

clean:
	rm -rf $(BUILD)

# --- make bench (begin) ---------------------------------------------------
# Benchmark drivers (tests/bench/*.c -> build/bench/*), linked like the BPF
# tests: they reuse the test-run fixtures in tests/lib. scripts/bench.sh runs
# them with the lab; figures only, never a pass/fail. Not part of `make test`.
BENCH_BINS	:= $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(TESTLIB_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -lcmocka -o $@

bench: root-bench deps-bench bpffs
	@$(MAKE) --no-print-directory bench-run

bench-run: all $(BENCH_BINS)
	@scripts/bench.sh $(BUILD)
# --- make bench (end) -----------------------------------------------------

# --- robustness: sanitizers and fuzzing (begin) ---------------------------
# `make test` also builds the userspace with ASan+UBSan into $(BUILD)/asan
# (suite asan: unit tests and end-to-end tests under the sanitizers) and
# the libFuzzer targets tests/fuzz/*.c into $(BUILD)/fuzz (suite fuzz: a
# short, fixed-seed run over the seed corpus). `make fuzz` fuzzes at length.
# Both use clang: libFuzzer is clang's, and clang's single sanitizer runtime
# writes UBSan reports to log_path like ASan's (gcc's libubsan prints them
# to stderr only, which the lab deletes with sluiced's log).
SAN_CC		:= clang
SAN_CFLAGS	:= -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
		   -fno-sanitize-recover=all
ASAN_BUILD	:= $(BUILD)/asan
FUZZ_BUILD	:= $(BUILD)/fuzz
FUZZ_CFLAGS	= $(SAN_CFLAGS) -fsanitize=fuzzer-no-link -std=gnu11 -Wall \
		   -Wextra -Werror -MMD -MP -Iinclude -Iuser/lib -Iuser/sluiced \
		   -I$(BUILD) $(PKG_CFLAGS)
FUZZ_LIB_OBJS	:= $(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRCS))
FUZZ_TARGETS	:= $(FUZZ_BUILD)/fuzz_config $(FUZZ_BUILD)/fuzz_ctl

.PHONY: asan-build fuzz-build fuzz fuzz-run

# The same rules into a second tree. CFLAGS goes through the environment:
# on the command line it would override this Makefile's `CFLAGS +=`.
asan-build:
	CFLAGS="$(SAN_CFLAGS)" $(MAKE) BUILD=$(ASAN_BUILD) CC=$(SAN_CC) all \
		$(patsubst $(BUILD)/%,$(ASAN_BUILD)/%,$(UNIT_TESTS))

$(FUZZ_BUILD)/obj/%.o: %.c | $(SKELS) $(VERSION_H) check-build-deps
	@mkdir -p $(@D)
	$(SAN_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libsluice.a: $(FUZZ_LIB_OBJS)
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_config: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_config.o \
			   $(FUZZ_BUILD)/libsluice.a
	$(SAN_CC) $(SAN_CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

# control.c and the commands with a stub for the rest of the daemon
# (tests/fuzz/ctl_stub.c).
$(FUZZ_BUILD)/fuzz_ctl: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_ctl.o \
			$(FUZZ_BUILD)/obj/tests/fuzz/ctl_stub.o \
			$(FUZZ_BUILD)/obj/user/sluiced/control.o \
			$(FUZZ_BUILD)/obj/user/sluiced/ctl_ops.o \
			$(FUZZ_BUILD)/obj/user/sluiced/ctl_config.o \
			$(FUZZ_BUILD)/obj/user/sluiced/ctl_read.o \
			$(FUZZ_BUILD)/obj/user/sluiced/ctl_change.o \
			$(FUZZ_BUILD)/obj/user/sluiced/ctl_flows.o $(FUZZ_BUILD)/libsluice.a
	$(SAN_CC) $(SAN_CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

fuzz-build: $(FUZZ_TARGETS)

# Extra prerequisites of `make test`; tests/run.sh runs suites fuzz and asan.
test-run: asan-build fuzz-build

fuzz: root-fuzz deps-test bpffs
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: all $(BPF_TESTS) fuzz-build
	@SLUICE_FUZZ_MODE=long tests/run.sh $(BUILD) fuzz
# --- robustness: sanitizers and fuzzing (end) -----------------------------

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
