# perfbisect - one non-recursive Makefile.
#
#   make            build bin/perfbisect, bin/perfbisectd and bin/perfbisect-agent
#   make check      build with AddressSanitizer + UBSan, run every test
#   make demo       bisect the built-in sample repository end to end
#   make deps       install the Debian packages (as root) or name them
#   make install    programs, man pages, systemd units and examples under
#                   $(DESTDIR)$(PREFIX) (see INSTALL below); make uninstall
#   make clean
#
# Objects go under $(B) (build/release, or build/check for the sanitized
# test build), programs under bin/ (release) or $(B)/bin (check).

PREFIX  ?= /usr/local
DESTDIR ?=
# Where `make install` puts things.  All three programs go to BINDIR (the
# contract of DESIGN.md section 3: $(PREFIX)/bin), even the two daemons
# whose man pages are in section 8.  The configuration goes to /etc for
# PREFIX=/usr, else under PREFIX; systemd looks for units in both
# /usr/lib/systemd/system and /usr/local/lib/systemd/system.
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/perfbisect
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
CC      ?= cc
B       ?= build/release
BIN     ?= bin

# The layers are link lines: perfbisect links the orchestrator and sqlite,
# perfbisect-agent links libcurl and never sqlite.  Each program has its own
# object list and its own libraries below, so the agent cannot pick up
# orchestrator code or -lsqlite3 by accident (`make check-layers` checks
# the built binary as well).
SHARED_PKGS := libgit2 jansson libcrypto
ORCH_PKGS   := $(SHARED_PKGS) sqlite3
AGENT_PKGS  := $(SHARED_PKGS) libcurl
PKG_CFLAGS := $(shell pkg-config --cflags $(SHARED_PKGS) sqlite3 libcurl 2>/dev/null)
PKG_LDLIBS := $(shell pkg-config --libs $(ORCH_PKGS) 2>/dev/null)
AGENT_PKG_LDLIBS := $(shell pkg-config --libs $(AGENT_PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
# the orchestrator daemon alone needs libmicrohttpd
SRV_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
# (and libcurl, to send notifications: orchestrator/server/notify_send.c)
SRV_LDLIBS := $(shell pkg-config --libs libmicrohttpd libcurl 2>/dev/null) \
              -pthread

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
SAN     ?=
ifeq ($(SAN),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            -fno-omit-frame-pointer
endif
ALL_CFLAGS  = -std=gnu11 $(WARN) $(CFLAGS) $(SANFLAGS) -I. -I$(B)/gen \
              $(PKG_CFLAGS) $(SRV_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
LDLIBS_ALL  = $(PKG_LDLIBS) -lpfm -lnuma -lm
LDLIBS_AGENT = $(AGENT_PKG_LDLIBS) -lpfm -lnuma -lm -pthread

COMMON_SRC := common/buf.c common/err.c common/git.c common/human.c common/log.c \
              common/metric.c common/model.c common/proc.c common/proto.c \
              common/record.c common/sysroot.c \
              common/util.c
AGENT_SRC  := agent/ccache.c agent/facts.c agent/image.c agent/interfere.c \
              agent/knobs.c agent/hostlock.c agent/measure.c \
              agent/numa.c agent/pmu.c \
              agent/runner.c
# perfbisect-agent's own code (libcurl, spool, build cache, the loop):
# never part of perfbisect.
AGENTD_SRC := agent/daemon/backoff.c agent/daemon/cache.c \
              agent/daemon/net.c agent/daemon/record.c \
              agent/daemon/spool.c agent/daemon/loop.c
AGENTD_MAIN := agent/daemon/main.c
CORE_SRC   := orchestrator/core/bayes.c orchestrator/core/mixture.c \
              orchestrator/core/stats.c orchestrator/core/ranktest.c \
              orchestrator/core/edivisive.c orchestrator/core/dip.c \
              orchestrator/core/dip_table.c orchestrator/core/verify.c \
              orchestrator/core/changes.c orchestrator/core/compare.c
ORCH_SRC   := orchestrator/db.c orchestrator/local.c orchestrator/demo.c \
              orchestrator/session.c orchestrator/sched.c \
              orchestrator/detect.c orchestrator/identical.c \
              orchestrator/history.c orchestrator/notify.c \
              orchestrator/checks.c orchestrator/site.c
WEB_SRC    := web/html.c web/page.c web/page_bisection.c web/pages.c \
              web/site.c
GEN_SRC    := $(B)/gen/schema.c $(B)/gen/demo_files.c
LIB_SRC    := $(COMMON_SRC) $(AGENT_SRC) $(CORE_SRC) $(ORCH_SRC) $(WEB_SRC)

SCHEMA     := $(sort $(wildcard schema/[0-9][0-9][0-9][0-9]-*.sql))
DEMO_FILES := demo/bench.c demo/verify.inc demo/README

LIB_OBJ    := $(LIB_SRC:%.c=$(B)/%.o) $(GEN_SRC:%.c=%.o)
# perfbisect itself: the command line, and its client of perfbisectd (the
# agent's libcurl client)
CLI_OBJ    := $(B)/orchestrator/cli.o $(B)/orchestrator/remote.o \
              $(B)/agent/daemon/net.o $(B)/agent/daemon/backoff.o

# perfbisectd: the HTTP layer, settings, tokens and route sets, and its main
SRV_SRC    := orchestrator/server/api_core.c orchestrator/server/api_report.c \
              orchestrator/server/config.c orchestrator/server/http.c \
              orchestrator/server/srv.c orchestrator/server/token.c \
              orchestrator/server/urlrule.c orchestrator/server/api_service.c \
              orchestrator/server/api_merge.c \
              orchestrator/server/notify_send.c
SRV_OBJ    := $(SRV_SRC:%.c=$(B)/%.o)
SRVD_OBJ   := $(B)/orchestrator/server/main.o
# Everything perfbisect-agent is made of: common/, agent/ and agent/daemon/.
AGENT_LIB_OBJ := $(COMMON_SRC:%.c=$(B)/%.o) $(AGENT_SRC:%.c=$(B)/%.o) \
                 $(AGENTD_SRC:%.c=$(B)/%.o)
AGENT_MAIN_OBJ := $(AGENTD_MAIN:%.c=$(B)/%.o)

UNIT_TESTS := buf metric proc git db engine html ranktest edivisive dip history \
              interfere \
              mixture stats pmu knobs numa verify image identical human util \
              local session sched notify compare
UNIT_BIN   := $(UNIT_TESTS:%=$(B)/tests/test_%)
# unit tests of perfbisectd's parts (linked with them and libmicrohttpd)
SRV_UNIT_TESTS := config token urlrule http db_service
SRV_UNIT_BIN   := $(SRV_UNIT_TESTS:%=$(B)/tests/test_%)
# Unit tests of the agent's side, linked as the agent is (no sqlite).
AGENT_TESTS := proto_record spool cache backoff hostlock ccache
AGENT_TEST_BIN := $(AGENT_TESTS:%=$(B)/tests/test_%)

.PHONY: all check check-layers demo deps install uninstall clean unit-tests bench
.DEFAULT_GOAL := all

all: $(BIN)/perfbisect $(BIN)/perfbisectd $(BIN)/perfbisect-agent

$(BIN)/perfbisect: $(CLI_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_ALL) \
		$(shell pkg-config --libs libcurl 2>/dev/null)

$(BIN)/perfbisectd: $(SRVD_OBJ) $(SRV_OBJ) $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SRV_LDLIBS) $(LDLIBS_ALL)
$(BIN)/perfbisect-agent: $(AGENT_MAIN_OBJ) $(AGENT_LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_AGENT)

# The agent's layers, checked on what was built: no sqlite in the binary
# or among the libraries it loads, no orchestrator header included by
# common/ or agent/.
check-layers: $(BIN)/perfbisect-agent
	@if nm $(BIN)/perfbisect-agent | grep -q ' sqlite3_'; then \
		echo "check-layers: perfbisect-agent has sqlite3 symbols" >&2; \
		exit 1; fi
	@if ldd $(BIN)/perfbisect-agent | grep -q sqlite; then \
		echo "check-layers: perfbisect-agent loads libsqlite3" >&2; \
		exit 1; fi
	@if grep -ln '#include "orchestrator/\|#include "web/\|sqlite3\.h' \
		common/*.[ch] agent/*.[ch] agent/daemon/*.[ch]; then \
		echo "check-layers: the files above reach past their layer" >&2; \
		exit 1; fi
	@echo "check-layers: perfbisect-agent is common/ + agent/ only, no sqlite"

$(B)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/gen/%.o: $(B)/gen/%.c
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/gen/schema.c: $(SCHEMA) tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh pb_schema $(SCHEMA) > $@.tmp && mv $@.tmp $@

$(B)/gen/demo_files.c: $(DEMO_FILES) tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh pb_demo_files $(DEMO_FILES) > $@.tmp && mv $@.tmp $@

$(B)/tests/test_%: $(B)/tests/unit/test_%.o $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS_ALL)

$(SRV_UNIT_BIN): $(B)/tests/test_%: $(B)/tests/unit/test_%.o $(SRV_OBJ) \
		$(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(SRV_LDLIBS) $(LDLIBS_ALL)

$(AGENT_TEST_BIN): $(B)/tests/test_%: $(B)/tests/unit/test_%.o $(AGENT_LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(LDLIBS_AGENT)

unit-tests: $(UNIT_BIN) $(SRV_UNIT_BIN) $(AGENT_TEST_BIN) \
	    $(BIN)/perfbisect $(BIN)/perfbisectd $(BIN)/perfbisect-agent

# Harnesses in bench/: built by `make bench`, run by hand (see bench/README.md);
# `make check` builds bisect-sim under the sanitizers and t0012 runs it small.
CORE_OBJ := $(CORE_SRC:%.c=$(B)/%.o)
$(B)/bench/bisect-sim: $(B)/bench/bisect-sim.o $(CORE_OBJ) \
		$(B)/common/util.o $(B)/common/err.o $(B)/common/human.o $(B)/common/buf.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lm

$(B)/bench/verify-sim: $(B)/bench/verify-sim.o $(CORE_OBJ) \
		$(B)/common/util.o $(B)/common/err.o $(B)/common/human.o $(B)/common/buf.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lm

$(B)/bench/measure-overhead: $(B)/bench/measure-overhead.o $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

$(B)/bench/report-site: $(B)/bench/report-site.o $(LIB_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_ALL)

# service-load is a client of perfbisectd: the agent's libcurl client and
# common/, never sqlite or orchestrator code (as perfbisect-agent)
SERVICE_LOAD_OBJ := $(B)/bench/service-load.o $(COMMON_SRC:%.c=$(B)/%.o) \
		    $(B)/agent/daemon/net.o $(B)/agent/daemon/backoff.o
$(B)/bench/service-load: $(SERVICE_LOAD_OBJ)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS_AGENT)

bench: $(B)/bench/bisect-sim $(B)/bench/verify-sim \
       $(B)/bench/measure-overhead $(B)/bench/service-load \
       $(B)/bench/report-site

# The dip test's null table: simulated by tools/gen-dip-table.c with the same
# dip.c, written to orchestrator/core/dip_table.c and committed.  A few
# minutes on two cores; never run by `make check`.
.PHONY: dip-table
$(B)/tools/gen-dip-table: $(B)/tools/gen-dip-table.o \
			  $(B)/orchestrator/core/dip.o
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -pthread -o $@ $^ -lm

dip-table: $(B)/tools/gen-dip-table
	./$(B)/tools/gen-dip-table > orchestrator/core/dip_table.c.tmp
	mv orchestrator/core/dip_table.c.tmp orchestrator/core/dip_table.c

deps:
	@sh tools/deps.sh

# The test build: sanitizers on, its own objects and program.
check: deps
	@$(MAKE) --no-print-directory B=build/check BIN=build/check/bin SAN=1 \
		unit-tests build/check/bench/bisect-sim
	@$(MAKE) --no-print-directory B=build/check BIN=build/check/bin SAN=1 \
		check-layers
	@sh tests/run.sh build/check

demo: deps
	@$(MAKE) --no-print-directory all
	./$(BIN)/perfbisect demo --out perfbisect-demo

# INSTALL: every file `make install` places (t0049 checks the list):
#   BINDIR/perfbisect, perfbisectd, perfbisect-agent
#   MANDIR/man1/perfbisect.1, man8/perfbisectd.8, man8/perfbisect-agent.8
#   UNITDIR/perfbisectd.service, perfbisect-agent.service (their /usr/bin
#     and /etc/perfbisect rewritten to BINDIR and SYSCONFDIR/perfbisect)
#   SYSCONFDIR/perfbisect/perfbisectd.conf (only when there is none: it is
#     yours to edit; uninstall leaves it)
#   DOCDIR/README.deploy.md and DOCDIR/examples/: perfbisectd.conf,
#     perfbisect-agent.env, nginx.conf, Caddyfile, perfbisect-agent.sbatch
MANPAGES := man/perfbisect.1 man/perfbisectd.8 man/perfbisect-agent.8
UNITS    := deploy/systemd/perfbisectd.service \
            deploy/systemd/perfbisect-agent.service
EXAMPLES := deploy/perfbisectd.conf deploy/perfbisect-agent.env \
            deploy/proxy/nginx.conf deploy/proxy/Caddyfile \
            deploy/slurm/perfbisect-agent.sbatch
UNIT_SED := -e 's|/usr/bin/|$(BINDIR)/|g' \
            -e 's|/etc/perfbisect/|$(SYSCONFDIR)/perfbisect/|g'

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/perfbisect $(DESTDIR)$(DOCDIR)/examples
	install -m 0755 $(BIN)/perfbisect $(BIN)/perfbisectd \
		$(BIN)/perfbisect-agent $(DESTDIR)$(BINDIR)/
	install -m 0644 man/perfbisect.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/perfbisectd.8 man/perfbisect-agent.8 \
		$(DESTDIR)$(MANDIR)/man8/
	for u in $(UNITS); do \
		sed $(UNIT_SED) $$u > $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$${u##*/}.tmp \
		   $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; \
	done
	[ -e $(DESTDIR)$(SYSCONFDIR)/perfbisect/perfbisectd.conf ] || \
		install -m 0644 deploy/perfbisectd.conf \
			$(DESTDIR)$(SYSCONFDIR)/perfbisect/perfbisectd.conf
	install -m 0644 deploy/README.md $(DESTDIR)$(DOCDIR)/README.deploy.md
	install -m 0644 $(filter-out %.sbatch,$(EXAMPLES)) \
		$(DESTDIR)$(DOCDIR)/examples/
	install -m 0755 deploy/slurm/perfbisect-agent.sbatch \
		$(DESTDIR)$(DOCDIR)/examples/

# Removes what install placed, but the configuration in SYSCONFDIR.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/perfbisect $(DESTDIR)$(BINDIR)/perfbisectd \
		$(DESTDIR)$(BINDIR)/perfbisect-agent \
		$(DESTDIR)$(MANDIR)/man1/perfbisect.1 \
		$(DESTDIR)$(MANDIR)/man8/perfbisectd.8 \
		$(DESTDIR)$(MANDIR)/man8/perfbisect-agent.8 \
		$(DESTDIR)$(UNITDIR)/perfbisectd.service \
		$(DESTDIR)$(UNITDIR)/perfbisect-agent.service \
		$(DESTDIR)$(DOCDIR)/README.deploy.md \
		$(addprefix $(DESTDIR)$(DOCDIR)/examples/,$(notdir $(EXAMPLES)))
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	rm -rf build bin perfbisect-demo

-include $(shell find build -name '*.d' 2>/dev/null)
