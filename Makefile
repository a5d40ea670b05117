# diosd: the two commands of the README, and the pieces Maven calls.
#
#   make demo      build everything, start diosd on embedded defaults, run the
#                  DIOS workload (C and Java clients) against it, stop it
#   make test      every test: Java (Surefire), C test programs, perf --quick
#
#   make dist      build and stage dist/ (no tests)
#   make deb       build dist/ and the Debian packages in build/deb
#   make install PREFIX=/usr/local   copy the dist/ tree there, with the systemd unit,
#                  sysusers and tmpfiles entries, and /etc/default/diosd
#                  (DESTDIR=/staging for packaging; SYSCONFDIR=/etc)
#
# Maven drives the build (mvn package / mvn verify).  It calls back into this
# Makefile for the native parts (`native`, before the Java modules), for
# staging (`stage`, after the jars exist) and for the system tests
# (`check-system`, at integration-test).  Maven runs on the machine's default
# JDK; the toolchains plugin picks JDK 25 for compiling and testing.

SHELL := /bin/bash
ROOT  := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
MVN   ?= mvn -B -ntp
DIST  := $(ROOT)/dist
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
VERSION := 0.1.0-SNAPSHOT
# The date on the man pages: the last commit's, so a rebuild makes the same pages.
MAN_DATE ?= $(or $(shell git -C $(ROOT) log -1 --format=%cs 2>/dev/null),$(shell date -u +%F))

.PHONY: all demo test dist native rust stage check-system check-c check-native check-rust check-scenarios check-perf check-systemd check-prometheus check-man check-deb check-java-artifact install deb clean prereqs check-reliability-long

# Rust is optional: without cargo the Rust parts are skipped, and say so.
CARGO := $(shell command -v cargo 2>/dev/null)
RUST  := $(ROOT)/libdlibc-shim/rust

all: dist

# ---- the two commands -------------------------------------------------------
demo: dist
	@$(ROOT)/scripts/demo

test: prereqs
	$(MVN) verify

# ---- build ------------------------------------------------------------------
dist: prereqs
	$(MVN) package -DskipTests

prereqs:
	@$(ROOT)/scripts/prereqs

native:
	$(MAKE) -C $(ROOT)/libdlibc-shim
	$(MAKE) -C $(ROOT)/native VERSION=$(VERSION)
	$(MAKE) -C $(ROOT)/libdlibc-shim/tests
	$(MAKE) -C $(ROOT)/perf
	$(MAKE) rust

# The dios crate's examples, staged as dist/share/dios/examples/rust_<name> (branded DIOS Limbo
# as they are linked: libdlibc-shim/rust/tools/cc-brand).
RUST_EXAMPLES := hello fib primes scenarios

# The staged Rust example gets an $$ORIGIN-relative rpath (dist/share/dios/examples -> dist/lib);
# it is built in its own target dir so the tests' build (absolute rpath) is not redone.
rust:
ifneq ($(CARGO),)
	cd $(RUST) && DIOS_RPATH='$$ORIGIN/../../../lib' CARGO_TARGET_DIR=$(RUST)/target/dist \
		cargo build --offline --release -q --examples
else
	@echo "rust: cargo not found; the Rust client is not built"
endif

# Stage the install tree from what Maven and make built.  Built in dist.new
# and swapped in, so a failed stage never leaves half a tree.  The section-3
# and -7 man pages are made from dios.h's comments (scripts/gen-man3);
# dios(1) and diosd(8) are written in man/.
stage: native
	@test -f $(ROOT)/diosd/target/diosd-$(VERSION).jar || { echo "stage: run mvn package first (no diosd jar)"; exit 1; }
	rm -rf $(DIST).new
	install -d $(DIST).new/bin $(DIST).new/lib/pkgconfig $(DIST).new/include/dios \
	           $(DIST).new/libexec/dios $(DIST).new/share/dios/java $(DIST).new/share/doc/dios \
	           $(DIST).new/share/man
	install -m 0755 $(ROOT)/scripts/diosd.in $(DIST).new/bin/diosd
	install -m 0755 $(ROOT)/native/build/dios $(DIST).new/bin/dios
	install -m 0755 $(ROOT)/native/build/dios-launch $(DIST).new/libexec/dios/dios-launch
	install -m 0755 $(ROOT)/scripts/dios-cargo $(DIST).new/bin/dios-cargo
	install -m 0755 $(RUST)/tools/cc-brand $(DIST).new/libexec/dios/cc-brand
	install -d $(DIST).new/share/dios/rust
	install -m 0644 $(RUST)/Cargo.toml $(RUST)/Cargo.lock $(RUST)/README.md $(DIST).new/share/dios/rust/
	cp -R $(RUST)/dios-sys $(RUST)/dios $(DIST).new/share/dios/rust/
	install -m 0755 $(ROOT)/scripts/dios-java.sh $(DIST).new/share/dios/dios-java.sh
	install -m 0644 $(ROOT)/diosd/target/diosd-$(VERSION).jar $(DIST).new/share/dios/java/diosd.jar
	install -d $(DIST).new/share/dios/java/lib
	install -m 0644 $(ROOT)/diosd/target/lib/*.jar $(DIST).new/share/dios/java/lib/
	@! ls $(DIST).new/share/dios/java/lib | grep -q chronicle-analytics || { echo "stage: chronicle-analytics must not ship"; exit 1; }
	install -m 0644 $(ROOT)/client-java/target/dios-client-$(VERSION).jar $(DIST).new/share/dios/java/dios-client.jar
	cp -P $(ROOT)/libdlibc-shim/build/libdlibc.so* $(DIST).new/lib/
	install -m 0644 $(ROOT)/libdlibc-shim/build/libdlibc.a $(DIST).new/lib/libdlibc.a
	install -m 0644 $(ROOT)/libdlibc-shim/include/dios/dios.h $(DIST).new/include/dios/dios.h
	install -m 0644 $(ROOT)/native/include/dios/dios_abi.h $(DIST).new/include/dios/dios_abi.h
	sed -e 's|@VERSION@|$(VERSION)|' $(ROOT)/libdlibc-shim/dlibc.pc.in > $(DIST).new/lib/pkgconfig/dlibc.pc
	install -d $(DIST).new/share/dios/examples
	install -m 0644 $(ROOT)/libdlibc-shim/examples/*.c $(DIST).new/share/dios/examples/
	$(if $(CARGO),install -m 0755 $(RUST)/target/dist/release/examples/rust_peer $(DIST).new/share/dios/examples/rust_peer)
	$(if $(CARGO),for e in $(RUST_EXAMPLES); do \
		install -m 0755 $(RUST)/target/dist/release/examples/$$e $(DIST).new/share/dios/examples/rust_$$e || exit 1; done)
	$(ROOT)/scripts/gen-man3 --version $(VERSION) --date $(MAN_DATE) \
		$(ROOT)/libdlibc-shim/include/dios/dios.h $(DIST).new/share/man >/dev/null
	install -d $(DIST).new/share/man/man1 $(DIST).new/share/man/man8
	for p in dios.1 dios-cargo.1 diosd.8; do \
		sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@DATE@|$(MAN_DATE)|g' $(ROOT)/man/$$p \
			> $(DIST).new/share/man/man$${p##*.}/$$p && chmod 0644 $(DIST).new/share/man/man$${p##*.}/$$p || exit 1; \
	done
	install -d $(DIST).new/share/dios/prometheus $(DIST).new/share/dios/grafana
	install -m 0644 $(ROOT)/monitoring/diosd-alerts.yml $(DIST).new/share/dios/prometheus/diosd-alerts.yml
	install -m 0644 $(ROOT)/monitoring/diosd-dashboard.json $(DIST).new/share/dios/grafana/diosd-dashboard.json
	install -m 0644 $(ROOT)/README.md $(ROOT)/docs/ARCHITECTURE.md $(ROOT)/docs/PROTOCOL.md \
		$(ROOT)/docs/PURE_DIOS.md $(DIST).new/share/doc/dios/
	rm -rf $(DIST) && mv $(DIST).new $(DIST)
	@echo "staged $(DIST)"

# ---- system tests (run by mvn verify after staging) -------------------------
check-system: check-c check-native check-systemd check-prometheus check-man check-deb check-java-artifact check-rust check-scenarios check-perf

check-c:
	DIOSD=$(DIST)/bin/diosd $(ROOT)/libdlibc-shim/tests/run-tests.sh

# The reliability runs at full size (docs/RELIABILITY.md): 20,000,000 hostile
# ring entries, 10,000 task kills, 300 daemon kills, the load test until
# 64 x 100,000 calls and 60 s.  Not in `make test`.
check-reliability-long:
	DIOS_LONG=1 DIOSD=$(DIST)/bin/diosd $(ROOT)/libdlibc-shim/tests/run-tests.sh t_hostile_fuzz t_crash_tasks t_crash_daemon t_load

# dios brand and dios-launch, as staged (no daemon): native/tests/run-tests.sh
check-native:
	$(MAKE) -C $(ROOT)/native tests
	DIOS_TOOL=$(DIST)/bin/dios DIOS_LAUNCH=$(DIST)/libexec/dios/dios-launch $(ROOT)/native/tests/run-tests.sh

# One scenario set (docs/SCENARIOS.md) through the C, Rust and Java clients against one daemon.
check-scenarios:
	DIST=$(DIST) $(ROOT)/system-tests/scenarios.sh

# cargo test of the Rust crates against a daemon of dist/ (run-tests.sh starts and stops it),
# then a fresh crate outside the workspace that depends on dios, built with dist/bin/dios-cargo
check-rust:
ifneq ($(CARGO),)
	DIOSD=$(DIST)/bin/diosd $(RUST)/run-tests.sh
	DIST=$(DIST) $(RUST)/fresh-crate-test.sh
else
	@echo "check-rust: cargo not found; Rust tests skipped"
endif

# The unit as `make install` writes it: systemd-analyze verify and security,
# its command line against the daemon, sysusers and tmpfiles in a scratch root.
check-systemd:
	$(ROOT)/scripts/check-systemd

# The metrics through promtool and a real Prometheus; the shipped alerting rules and dashboard.
check-prometheus:
	$(ROOT)/scripts/check-prometheus

# The man pages as man(1) renders them, against dios.h, diosd --help and dios --help.
check-man:
	$(ROOT)/scripts/check-man

# The Debian packages of dist/: lintian, then installed into a scratch root
# (dpkg --root), run, upgraded, removed and purged.  About 30 s; at most 10 min.
check-deb:
	timeout 600 $(ROOT)/scripts/check-deb

# The Java client's jar, -sources and -javadoc jars and module name, as `mvn install` ships them.
check-java-artifact:
	$(ROOT)/scripts/check-java-artifact

# dist/ was staged by the same mvn verify that runs this: do not rebuild it.
check-perf:
	PERF_SKIP_DIST=1 $(ROOT)/perf/run --quick

# ---- install ----------------------------------------------------------------
# The systemd files go beside the tree: the unit (its @PREFIX@ and
# @SYSCONFDIR@ filled in), sysusers.d and tmpfiles.d entries under
# PREFIX/lib, which systemd searches for /usr and /usr/local alike.  The
# environment file is the admin's once installed: never overwritten.
UNIT_DIR     = $(DESTDIR)$(PREFIX)/lib/systemd/system
SYSUSERS_DIR = $(DESTDIR)$(PREFIX)/lib/sysusers.d
TMPFILES_DIR = $(DESTDIR)$(PREFIX)/lib/tmpfiles.d
ENV_FILE     = $(DESTDIR)$(SYSCONFDIR)/default/diosd

install:
	@test -x $(DIST)/bin/diosd || { echo "install: nothing staged; run 'make dist' first"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)
	cp -a $(DIST)/. $(DESTDIR)$(PREFIX)/
	install -d $(UNIT_DIR) $(SYSUSERS_DIR) $(TMPFILES_DIR) $(dir $(ENV_FILE))
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
		$(ROOT)/systemd/diosd.service.in > $(UNIT_DIR)/diosd.service.new
	@! grep -n '@[A-Z_]*@' $(UNIT_DIR)/diosd.service.new || { echo "install: placeholder left in diosd.service"; exit 1; }
	chmod 0644 $(UNIT_DIR)/diosd.service.new && mv $(UNIT_DIR)/diosd.service.new $(UNIT_DIR)/diosd.service
	install -m 0644 $(ROOT)/systemd/diosd.sysusers $(SYSUSERS_DIR)/diosd.conf
	install -m 0644 $(ROOT)/systemd/diosd.tmpfiles $(TMPFILES_DIR)/diosd.conf
	@if [ -e $(ENV_FILE) ]; then \
		echo "install: kept $(ENV_FILE) (yours; the new defaults are in $(ROOT)/systemd/diosd.env)"; \
	else \
		echo "install -m 0644 $(ROOT)/systemd/diosd.env $(ENV_FILE)"; \
		install -m 0644 $(ROOT)/systemd/diosd.env $(ENV_FILE); \
	fi
	@echo "installed into $(DESTDIR)$(PREFIX)"
	@echo "  as a service (root): systemd-sysusers && systemd-tmpfiles --create diosd.conf && systemctl daemon-reload && systemctl enable --now diosd"

# ---- Debian packages -----------------------------------------------------------
# build/deb/diosd_<version>_<arch>.deb (daemon, tool, libdlibc.so, the unit,
# sysusers and tmpfiles entries, /etc/default/diosd) and libdlibc-dev_...deb
# (headers, libdlibc.a, dlibc.pc, section-3 pages), from the tree `make dist`
# stages: scripts/mkdeb, files in packaging/deb.  DEB_JAVA_DEPENDS= (empty)
# for machines whose JDK 25 dpkg does not know (a Temurin tarball).
deb: dist
	$(ROOT)/scripts/mkdeb $(ROOT)/build/deb

clean:
	-$(MVN) -q clean
	-$(MAKE) -C $(ROOT)/libdlibc-shim clean
	rm -rf $(ROOT)/native/build $(ROOT)/perf/build $(RUST)/target $(DIST) $(DIST).new $(ROOT)/build
