# diosd: the two commands of the README, and the pieces Maven calls.
#
#   make demo      build everything, start diosd on embedded defaults, run the
#                  DIOS workload (C and Java clients) against it, stop it
#   make test      every test: Java (Surefire), C test programs, perf --quick
#
#   make dist      build and stage dist/ (no tests)
#   make install PREFIX=/usr/local   copy the dist/ tree there
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
VERSION := 0.1.0-SNAPSHOT

.PHONY: all demo test dist native stage check-system check-c check-perf install clean prereqs

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
	$(MAKE) -C $(ROOT)/native
	$(MAKE) -C $(ROOT)/libdlibc-shim/tests
	$(MAKE) -C $(ROOT)/perf

# Stage the install tree from what Maven and make built.  Built in dist.new
# and swapped in, so a failed stage never leaves half a tree.
stage: native
	@test -f $(ROOT)/diosd/target/diosd-$(VERSION).jar || { echo "stage: run mvn package first (no diosd jar)"; exit 1; }
	rm -rf $(DIST).new
	install -d $(DIST).new/bin $(DIST).new/lib/pkgconfig $(DIST).new/include/dios \
	           $(DIST).new/share/dios/java $(DIST).new/share/doc/dios
	install -m 0755 $(ROOT)/scripts/diosd.in $(DIST).new/bin/diosd
	install -m 0755 $(ROOT)/scripts/dios-java.sh $(DIST).new/share/dios/dios-java.sh
	install -m 0644 $(ROOT)/diosd/target/diosd-$(VERSION).jar $(DIST).new/share/dios/java/diosd.jar
	install -m 0644 $(ROOT)/client-java/target/dios-client-$(VERSION).jar $(DIST).new/share/dios/java/dios-client.jar
	cp -P $(ROOT)/libdlibc-shim/build/libdlibc.so* $(DIST).new/lib/
	install -m 0644 $(ROOT)/libdlibc-shim/build/libdlibc.a $(DIST).new/lib/libdlibc.a
	install -m 0644 $(ROOT)/libdlibc-shim/include/dios/dios.h $(DIST).new/include/dios/dios.h
	install -m 0644 $(ROOT)/native/include/dios/dios_abi.h $(DIST).new/include/dios/dios_abi.h
	sed -e 's|@VERSION@|$(VERSION)|' $(ROOT)/libdlibc-shim/dlibc.pc.in > $(DIST).new/lib/pkgconfig/dlibc.pc
	install -m 0644 $(ROOT)/README.md $(ROOT)/docs/ARCHITECTURE.md $(ROOT)/docs/PROTOCOL.md $(DIST).new/share/doc/dios/
	rm -rf $(DIST) && mv $(DIST).new $(DIST)
	@echo "staged $(DIST)"

# ---- system tests (run by mvn verify after staging) -------------------------
check-system: check-c check-perf

check-c:
	DIOSD=$(DIST)/bin/diosd $(ROOT)/libdlibc-shim/tests/run-tests.sh

check-perf:
	$(ROOT)/perf/run --quick

# ---- install ----------------------------------------------------------------
install:
	@test -x $(DIST)/bin/diosd || { echo "install: nothing staged; run 'make dist' first"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)
	cp -a $(DIST)/. $(DESTDIR)$(PREFIX)/
	@echo "installed into $(DESTDIR)$(PREFIX)"

clean:
	-$(MVN) -q clean
	-$(MAKE) -C $(ROOT)/libdlibc-shim clean
	rm -rf $(ROOT)/native/build $(ROOT)/perf/build $(DIST) $(DIST).new
