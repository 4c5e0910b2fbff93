# Makefile - fleetgw.  GNU make.  See README.md for the targets.
#
#   make            build/fleetgwd, build/fleetgwctl
#   make check      install missing packages (as root), build with
#                   ASan+UBSan into build/san, run unit + integration tests
#   make demo       install missing packages (as root), build, replay a
#                   simulated day in Chengdu and show what was recorded
#   make bench      store and geofence benchmarks (BENCH name value unit
#                   lines)
#   make install    PREFIX, DESTDIR, SYSCONFDIR, UNITDIR honoured

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d

ifeq ($(SANITIZE),1)
BUILD      ?= build/san
SANFLAGS    = -fsanitize=address,undefined -fno-omit-frame-pointer \
	      -fno-sanitize-recover=undefined
else
BUILD      ?= build
SANFLAGS    =
endif

PKGS       = libgps sqlite3 libconfig jansson libsystemd libcurl libcrypto zlib
CFLAGS    ?= -O2 -g
CFLAGS    += -std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wvla \
	     -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
	     $(SANFLAGS)
ifeq ($(DEVELOPER),1)
CFLAGS    += -Werror
endif
CPPFLAGS  += -D_GNU_SOURCE -Iinclude -MMD -MP \
	     $(shell pkg-config --cflags $(PKGS))
LDFLAGS   += $(SANFLAGS)
LDLIBS    += $(shell pkg-config --libs $(PKGS)) -lm

PROGS      = $(BUILD)/fleetgwd $(BUILD)/fleetgwctl
SRCS      := $(wildcard daemon/*.c)
OBJS      := $(SRCS:%.c=$(BUILD)/%.o)
MAINS     := $(BUILD)/daemon/main.o $(BUILD)/daemon/fleetgwctl.o
CORE      := $(filter-out $(MAINS),$(OBJS))
UNITSRC   := $(wildcard tests/unit/test_*.c)
UNITS     := $(UNITSRC:%.c=$(BUILD)/%)
BENCHSRC  := $(wildcard tests/bench/bench_*.c)
BENCHES   := $(BENCHSRC:%.c=$(BUILD)/%)

all: $(PROGS)

$(BUILD)/fleetgwd: $(BUILD)/daemon/main.o $(BUILD)/libcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/fleetgwctl: $(BUILD)/daemon/fleetgwctl.o $(BUILD)/libcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libcore.a: $(CORE)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(BUILD)/libcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs criterion)

$(BUILD)/tests/bench/%: $(BUILD)/tests/bench/%.o $(BUILD)/libcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# GEOS is the geofence oracle and baseline of these two only (with the
# seeded reference set, tests/bench/fencegen.c); the daemon never links
# it.  Recursive variables: pkg-config runs only when they are built.
GEOS_CFLAGS = $(shell pkg-config --cflags geos)
GEOS_LIBS   = $(shell pkg-config --libs geos)
FENCEGEN   := $(BUILD)/tests/bench/fencegen.o
GEOS_OBJS  := $(FENCEGEN) $(BUILD)/tests/unit/test_fence_geos.o \
	      $(BUILD)/tests/bench/bench_fence.o
$(GEOS_OBJS): CPPFLAGS += $(GEOS_CFLAGS)

$(BUILD)/tests/unit/test_fence_geos: $(BUILD)/tests/unit/test_fence_geos.o \
    $(FENCEGEN) $(BUILD)/libcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(GEOS_LIBS) \
	    $(shell pkg-config --libs criterion)

$(BUILD)/tests/bench/bench_fence: $(BUILD)/tests/bench/bench_fence.o \
    $(FENCEGEN) $(BUILD)/libcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(GEOS_LIBS)

# bench_wire and bench_sync share the generated day (daygen.c); bench_wire
# also has the JT/T 808 encoder (jtt808.c).  bench_sync needs the fake
# platform: make bench runs it through tests/bench/bench_sync.sh.
DAYGEN     := $(BUILD)/tests/bench/daygen.o
JTT808     := $(BUILD)/tests/bench/jtt808.o

$(BUILD)/tests/bench/bench_wire: $(BUILD)/tests/bench/bench_wire.o \
    $(DAYGEN) $(JTT808) $(BUILD)/libcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/bench/bench_sync: $(BUILD)/tests/bench/bench_sync.o \
    $(DAYGEN) $(BUILD)/libcore.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

units: $(UNITS)
benches: $(BENCHES)

# Missing Debian packages: installed when root, else the apt-get line is
# printed and the target fails.
deps:
	@sh scripts/deps.sh

check: deps
	$(MAKE) SANITIZE=1 all units
	sh tests/run.sh build/san

check-unit: deps
	$(MAKE) SANITIZE=1 all units
	sh tests/run.sh build/san unit

check-integration: deps
	$(MAKE) SANITIZE=1 all
	sh tests/run.sh build/san integration

# Longer runs than make check: SOAK_CYCLES kill -9/restart cycles of the
# sanitized daemon mid-replay (reliability brief G1 asks for >= 200).
SOAK_CYCLES ?= 200
soak: deps
	$(MAKE) SANITIZE=1 all
	FLEETGW_CRASH_CYCLES=$(SOAK_CYCLES) FLEETGWD=$(CURDIR)/build/san/fleetgwd \
	    FLEETGWCTL=$(CURDIR)/build/san/fleetgwctl \
	    /usr/bin/python3 tests/integration/run.py crash

bench: deps
	$(MAKE) all benches
	@for b in $(filter-out %/bench_sync,$(BENCHES)); do $$b || exit 1; done
	@sh tests/bench/bench_sync.sh $(BUILD)/tests/bench/bench_sync

demo: deps
	$(MAKE) all
	sh scripts/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/fleetgw $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(BUILD)/fleetgwd $(DESTDIR)$(SBINDIR)/fleetgwd
	install -m 0755 $(BUILD)/fleetgwctl $(DESTDIR)$(BINDIR)/fleetgwctl
	test -e $(DESTDIR)$(SYSCONFDIR)/fleetgw/fleetgw.conf || \
	    install -m 0640 conf/fleetgw.conf \
	    $(DESTDIR)$(SYSCONFDIR)/fleetgw/fleetgw.conf
	install -d $(DESTDIR)$(SYSCONFDIR)/fleetgw/fences
	for f in conf/fences/*.geojson; do \
	    t=$(DESTDIR)$(SYSCONFDIR)/fleetgw/fences/$${f##*/}; \
	    test -e $$t || install -m 0644 $$f $$t || exit 1; \
	done
	# Holiday files are data from the State Council notices: replaced on
	# upgrade (local changes belong in fleetgw.conf).
	install -d $(DESTDIR)$(SYSCONFDIR)/fleetgw/calendar
	install -m 0644 conf/calendar/*.conf $(DESTDIR)$(SYSCONFDIR)/fleetgw/calendar/
	# The unit in the tree is valid as it stands (systemd-analyze reads
	# it), with the default paths; install rewrites them.
	sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' \
	    -e 's|/etc/fleetgw/|$(SYSCONFDIR)/fleetgw/|g' \
	    systemd/fleetgwd.service > $(DESTDIR)$(UNITDIR)/fleetgwd.service
	install -m 0644 systemd/fleetgwd.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/fleetgw.conf
	install -m 0644 docs/man/fleetgwctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/man/fleetgw.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/man/fleetgwd.8 $(DESTDIR)$(MANDIR)/man8/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fleetgwd $(DESTDIR)$(BINDIR)/fleetgwctl \
	    $(DESTDIR)$(UNITDIR)/fleetgwd.service \
	    $(DESTDIR)$(SYSUSERSDIR)/fleetgw.conf \
	    $(DESTDIR)$(MANDIR)/man1/fleetgwctl.1 \
	    $(DESTDIR)$(MANDIR)/man5/fleetgw.conf.5 \
	    $(DESTDIR)$(MANDIR)/man8/fleetgwd.8

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(UNITS:=.d) $(BENCHES:=.d) $(FENCEGEN:.o=.d) \
    $(DAYGEN:.o=.d) $(JTT808:.o=.d)
.SECONDARY: $(UNITS:=.o) $(BENCHES:=.o) $(FENCEGEN) $(DAYGEN) $(JTT808)
.PHONY: all units benches deps check check-unit check-integration bench soak \
	demo install uninstall clean

# ---------------------------------------------------------------------
# fuzz: libFuzzer targets (tests/fuzz/README.md).  Separate from the rest:
# clang, ASan+UBSan, the daemon sources rebuilt into build/fuzz.
#
#   make fuzz-build   install clang/libFuzzer if missing (as root), build
#                     build/fuzz/fuzz_<name> for each tests/fuzz/fuzz_*.c
#   make fuzz         fuzz-build, then run each target FUZZ_SECONDS
#                     (default 60) on its corpus; one "FUZZ name runs=N
#                     crashes=K" line each; fails on any crash, leak,
#                     timeout, OOM or sanitizer report
#   FUZZ_ARGS         extra libFuzzer arguments, e.g. -jobs=2 or -seed=1

FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_ARGS     ?=
FUZZ_BUILD     = build/fuzz
FUZZ_SAN       = -fsanitize=address,undefined -fno-sanitize-recover=all \
		 -fno-omit-frame-pointer
FUZZ_CFLAGS    = -g -O1 -std=c11 -Wall -Wextra -Wshadow -Wformat=2 -Wvla \
		 -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith \
		 $(FUZZ_SAN)
FUZZ_CPPFLAGS  = -D_GNU_SOURCE -Iinclude -MMD -MP \
		 $(shell pkg-config --cflags $(PKGS))
FUZZ_SRCS     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_PROGS    := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_CORE     := $(filter-out daemon/main.c daemon/fleetgwctl.c,$(SRCS))
FUZZ_OBJS     := $(FUZZ_CORE:%.c=$(FUZZ_BUILD)/%.o)

$(FUZZ_BUILD)/daemon/%.o: daemon/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    -c -o $@ $<

$(FUZZ_BUILD)/libcore.a: $(FUZZ_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libcore.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ \
	    $< $(FUZZ_BUILD)/libcore.a $(shell pkg-config --libs $(PKGS)) -lm

fuzz-build:
	@sh scripts/deps.sh --fuzz
	$(MAKE) $(FUZZ_PROGS)

fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_ARGS)

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_PROGS:=.d)
.PHONY: fuzz-build fuzz
