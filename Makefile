# Makefile - fleetgw.  GNU make.  See README.md for the targets.
#
#   make            build/fleetgwd, build/fleetgwctl
#   make check      install missing packages (as root), build with
#                   ASan+UBSan into build/san, run unit + integration tests
#   make demo       install missing packages (as root), build, replay a
#                   simulated day in Chengdu and show what was recorded
#   make bench      store benchmark (BENCH name value unit lines)
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

PKGS       = libgps sqlite3 libconfig jansson libsystemd
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

bench: deps
	$(MAKE) all benches
	@for b in $(BENCHES); do $$b || exit 1; done

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

-include $(OBJS:.o=.d) $(UNITS:=.d) $(BENCHES:=.d)
.SECONDARY: $(UNITS:=.o) $(BENCHES:=.o)
.PHONY: all units benches deps check check-unit check-integration bench \
	demo install uninstall clean
