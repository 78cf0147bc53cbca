# SmartlyQ edge: `make run` and `make test` do all the set-up.

SHELL     := /bin/bash
BUILD     := $(CURDIR)/build
NGX_SRC   ?= /usr/share/nginx/src
NGX_TREE  := $(BUILD)/nginx-src
MODULE    := $(BUILD)/ngx_http_smartlyq_module.so
MOD_FILES := config $(wildcard ngx_smartlyq_module/*.c ngx_smartlyq_module/*.h \
                                common/*.c common/*.h)

CC        ?= cc
CFLAGS    ?= -O2 -g
WARN      := -std=c11 -Wall -Wextra -Werror -Wstrict-prototypes \
             -Wwrite-strings
SQ_SRCS   := common/sq_authz.c \
             common/sq_bearer.c \
             common/sq_workspace.c \
             common/sq_identity.c \
             common/sq_redis_auth.c \
             common/sq_scope.c \
             common/sq_form.c \
             common/sq_redirect.c
UNIT_SRCS := $(wildcard tests/*.c)

# Debian 12 packages the build, the servers and the tests need
DEBS := nginx nginx-dev redis-server libhiredis-dev libjansson-dev \
        libsodium-dev libevent-dev check pkg-config curl \
        libtest-base-perl libipc-run-perl libtext-diff-perl \
        libtest-longstring-perl liblist-moreutils-perl \
        libhttp-message-perl liburi-perl clang-14 libclang-rt-14-dev \
        wrk iptables iproute2 slowhttptest \
        debhelper dpkg-dev fakeroot help2man adduser lintian \
        prometheus
# issue 14 (browser): headless chromium through selenium for the consent
# page (t/143-oauth-browser.t) and a stock OAuth 2 client library
# (scripts/oauth-client.py); the scripts run Debian's /usr/bin/python3
DEBS += chromium chromium-driver python3-selenium python3-requests-oauthlib
# === issue 15, "sedge": Sentinel for t/lib/SQCluster.pm and the demo ===
DEBS += redis-sentinel

# Test::Nginx is on CPAN, which this machine cannot reach: the shared copy
VENDOR_TN := $(abspath $(CURDIR)/../shared/vendor/test-nginx/lib)

.PHONY: all deps module backend unit test run clean asan fuzz \
        fuzz-build fuzz-replay man install deb

# sanitizers for `make asan`; the module's own flags go through configure
SAN       := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -fno-sanitize-recover=undefined
NGX_CC_OPT ?=
NGX_LD_OPT ?=

all: module backend

deps:
	@missing=""; \
	for p in $(DEBS); do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then \
	    echo "deps: all Debian packages present"; \
	elif [ "$$(id -u)" = 0 ]; then \
	    echo "deps: installing$$missing"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
	    echo "deps: missing:$$missing"; \
	    echo "run:  sudo apt-get install -y$$missing"; \
	    exit 1; \
	fi

# nginx's build tree: Debian's nginx-dev sources, configured once
$(NGX_TREE)/objs/Makefile: config Makefile
	@mkdir -p $(BUILD)
	rm -rf $(NGX_TREE)
	cp -r $(NGX_SRC) $(NGX_TREE)
	cd $(NGX_TREE) && ./configure --with-compat --with-debug \
	    --with-cc-opt="$(NGX_CC_OPT)" --with-ld-opt="$(NGX_LD_OPT)" \
	    --add-dynamic-module=$(CURDIR) > $(BUILD)/nginx-configure.log

$(MODULE): $(NGX_TREE)/objs/Makefile $(MOD_FILES)
	cd $(NGX_TREE) && $(MAKE) -f objs/Makefile modules
	@# a new file, renamed into place: a running nginx keeps its mapping
	cp $(NGX_TREE)/objs/ngx_http_smartlyq_module.so $@.tmp
	mv -f $@.tmp $@

module: $(MODULE)

backend:
	$(MAKE) -C backend BUILD=$(BUILD)

$(BUILD)/unit-tests: $(UNIT_SRCS) $(SQ_SRCS) \
                     $(wildcard common/sq_*.h)
	@mkdir -p $(BUILD)
	$(CC) $(WARN) $(CFLAGS) -Icommon -o $@ \
	    $(UNIT_SRCS) $(SQ_SRCS) \
	    $$(pkg-config --cflags --libs check libsodium jansson hiredis)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

test: deps all unit fuzz-replay deps-check-selftest deps-check
	$(MAKE) -C backend BUILD=$(BUILD) test
	@if ! perl -MTest::Nginx::Socket -e1 2>/dev/null; then \
	    export PERL5LIB="$(VENDOR_TN)$${PERL5LIB:+:$$PERL5LIB}"; \
	fi; \
	SQ_BUILD=$(BUILD) prove -r t/

# The module's file-to-file includes and calls, failing on a cycle
# (scripts/module-deps), and its self-test on the fixtures of tests/deps/;
# both run in `make test`.
.PHONY: deps-check deps-check-selftest
deps-check:
	scripts/module-deps ngx_smartlyq_module

deps-check-selftest:
	tests/deps/run.sh

# Everything built with AddressSanitizer + UBSan into build/asan, then the
# unit tests, the backend's tests and the whole t/ suite run on it; nginx
# gets the ASan runtime preloaded (scripts/nginx-asan).  Any report, from
# any process, fails the target.
ASAN_DIR := $(BUILD)/asan
asan: deps
	$(MAKE) BUILD=$(ASAN_DIR) CFLAGS="-O1 -g $(SAN)" \
	    NGX_CC_OPT="$(SAN)" NGX_LD_OPT="$(SAN)" all $(ASAN_DIR)/unit-tests
	@# nginx workers run as another user: they must be able to write here
	rm -rf $(ASAN_DIR)/reports && mkdir -p -m 1777 $(ASAN_DIR)/reports
	export ASAN_OPTIONS=detect_leaks=1,log_path=$(ASAN_DIR)/reports/asan \
	       UBSAN_OPTIONS=print_stacktrace=1,log_path=$(ASAN_DIR)/reports/ubsan \
	       TEST_NGINX_BINARY=$(CURDIR)/scripts/nginx-asan; \
	if ! perl -MTest::Nginx::Socket -e1 2>/dev/null; then \
	    export PERL5LIB="$(VENDOR_TN)$${PERL5LIB:+:$$PERL5LIB}"; \
	fi; \
	$(ASAN_DIR)/unit-tests && \
	$(MAKE) -C backend BUILD=$(ASAN_DIR) CFLAGS="-O1 -g $(SAN)" test && \
	SQ_BUILD=$(ASAN_DIR) prove -r t/
	@if [ -n "$$(ls -A $(ASAN_DIR)/reports)" ]; then \
	    cat $(ASAN_DIR)/reports/*; \
	    echo "asan: sanitizer reports above"; exit 1; \
	fi; echo "asan: no sanitizer report"

# libFuzzer harnesses (tests/fuzz/fuzz_<name>.c), built with clang-14 and
# ASan + UBSan.  `make fuzz` runs each for FUZZ_SECS seconds from its seed
# corpus (tests/fuzz/corpus/<name>) and its regressions
# (tests/fuzz/regress/<name>); new inputs go to build/fuzz/work/<name>,
# crashes to build/fuzz/crash-<name>-*.  `make fuzz-replay` (part of
# `make test`) only runs the harnesses over the committed inputs.  ASan's
# quarantine is cut to 64 MB: at 256 MB the RSS of a harness that
# allocates per run (fuzz_identity: evhttp headers) neared libFuzzer's
# 2 GB limit within a minute.
FUZZ_CC     ?= clang-14
FUZZ_SECS   ?= 60
FUZZ_MAXLEN ?= 4096
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_NAMES  := bearer workspace backend_body identity resp oauth
FUZZ_BINS   := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_NAMES))
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 \
               -fsanitize=fuzzer,address,undefined \
               -fno-sanitize-recover=all -fno-omit-frame-pointer \
               -D_POSIX_C_SOURCE=200809L \
               -Icommon -Ibackend/src -Itests/fuzz
FUZZ_LIBS    = $$(pkg-config --cflags --libs jansson libsodium hiredis \
                                libevent)
FUZZ_BACKEND := backend/src/sq_resource.c backend/src/sq_resource_page.c \
                backend/src/sq_text.c backend/src/sq_json.c \
                backend/src/sq_social.c backend/src/sq_res_chatbots.c \
                backend/src/sq_res_social.c backend/src/sq_res_urls.c \
                backend/src/sq_res_articles.c backend/src/sq_res_images.c \
                backend/src/sq_res_media.c
FUZZ_SRCS_bearer       := common/sq_bearer.c \
                          common/sq_workspace.c
FUZZ_SRCS_workspace    := common/sq_workspace.c
FUZZ_SRCS_backend_body := common/sq_workspace.c \
                          common/sq_bearer.c common/sq_scope.c \
                          backend/src/sq_key.c backend/src/sq_key_parse.c \
                          $(FUZZ_BACKEND)
FUZZ_SRCS_identity     := backend/src/sq_auth.c backend/src/sq_key.c \
                          backend/src/sq_text.c backend/src/sq_resource.c \
                          common/sq_identity.c common/sq_scope.c \
                          common/sq_workspace.c \
                          common/sq_bearer.c
# the RESP bound, and the sq_authz reply parser over what it lets through
FUZZ_SRCS_resp         := common/sq_resp.c common/sq_authz.c \
                          common/sq_bearer.c common/sq_workspace.c \
                          common/sq_scope.c
FUZZ_DEFS_resp         := -DSQ_FUZZ_AUTHZ
# issue 14, oauth: the token endpoint's form parser, the redirect URIs
FUZZ_SRCS_oauth        := common/sq_form.c common/sq_redirect.c

.SECONDEXPANSION:
$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $$(FUZZ_SRCS_$$*) \
                    $(wildcard common/sq_*.h backend/src/*.h)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_DEFS_$*) -o $@ $< $(FUZZ_SRCS_$*) \
	    $(FUZZ_LIBS)

fuzz-build: deps $(FUZZ_BINS)

fuzz-replay: fuzz-build
	@for n in $(FUZZ_NAMES); do \
	    files=$$(find tests/fuzz/corpus/$$n tests/fuzz/regress/$$n \
	             -type f 2>/dev/null | sort); \
	    [ -n "$$files" ] || continue; \
	    $(FUZZ_DIR)/fuzz_$$n $$files > $(FUZZ_DIR)/replay-$$n.log 2>&1 \
	    || { cat $(FUZZ_DIR)/replay-$$n.log; \
	         echo "fuzz-replay: $$n failed"; exit 1; }; \
	    echo "fuzz-replay: $$n: $$(echo $$files | wc -w) inputs, ok"; \
	done

fuzz: fuzz-build
	@for n in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_DIR)/work/$$n; \
	    dict=""; \
	    [ -f tests/fuzz/$$n.dict ] && dict="-dict=tests/fuzz/$$n.dict"; \
	    ml=$(FUZZ_MAXLEN); \
	    [ $$n = backend_body ] && ml=$$(( $(FUZZ_MAXLEN) * 4 )); \
	    echo "fuzz: $$n for $(FUZZ_SECS) s, -max_len=$$ml"; \
	    ASAN_OPTIONS=$${ASAN_OPTIONS:-quarantine_size_mb=64} \
	    $(FUZZ_DIR)/fuzz_$$n $$dict -max_len=$$ml \
	        -max_total_time=$(FUZZ_SECS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_DIR)/crash-$$n- \
	        $(FUZZ_DIR)/work/$$n tests/fuzz/corpus/$$n \
	        $$(ls -d tests/fuzz/regress/$$n 2>/dev/null) \
	        > $(FUZZ_DIR)/fuzz-$$n.log 2>&1 \
	    || { tail -n 60 $(FUZZ_DIR)/fuzz-$$n.log; \
	         echo "fuzz: $$n crashed, input in $(FUZZ_DIR)/crash-$$n-*"; \
	         exit 1; }; \
	    grep -E '^#[0-9]+[[:space:]]+DONE|stat::' $(FUZZ_DIR)/fuzz-$$n.log; \
	done

run: deps all
	SQ_BUILD=$(BUILD) scripts/run.sh

# mixed traffic with a reload and a Redis restart against a throw-away
# stack; checks that nothing acknowledged was lost (scripts/load.sh)
LOAD_SECS ?= 60
.PHONY: load
load: deps all
	SQ_BUILD=$(BUILD) LOAD_SECS=$(LOAD_SECS) scripts/load.sh

# wrk and the Lua peer's packages are checked (and installed when root)
# by scripts/bench.sh itself; results go to build/bench/latest.md
.PHONY: bench
bench: deps all
	SQ_BUILD=$(BUILD) scripts/bench.sh

# === issue 15, "sback": a primary, 2 replicas, 3 Sentinels, 2 edges on
# their own replicas, 2 backends through Sentinel; the six steps of issue
# 15 and a timeline (scripts/cluster-demo; the bounded one is
# t/155-cluster-demo.t) ===
.PHONY: cluster-demo
cluster-demo: deps all
	SQ_BUILD=$(BUILD) scripts/cluster-demo
# === end of issue 15, "sback" ===

# man pages from the --help texts (both print usage on stderr and exit 2,
# so help2man reads them through a wrapper, one paragraph a line)
MAN_DIR  := $(BUILD)/man
VERSION  := $(shell dpkg-parsechangelog -l packaging/debian/changelog \
                -S Version 2>/dev/null || echo 0)
MAN_NAME_sqctl            := SmartlyQ admin CLI: users, workspaces, API keys
MAN_NAME_smartlyq-backend := SmartlyQ API backend behind the nginx module

$(BUILD)/sqctl $(BUILD)/smartlyq-backend: backend

$(MAN_DIR)/%.1: $(BUILD)/% packaging/debian/changelog
	@mkdir -p $(MAN_DIR)/bin
	printf '#!/bin/sh\n"%s" --help 2>&1 | sed G\nexit 0\n' $< > $(MAN_DIR)/bin/$*
	chmod +x $(MAN_DIR)/bin/$*
	help2man --no-info --no-discard-stderr --version-string=$(VERSION) \
	    --name="$(MAN_NAME_$*)" --output=$@ $(MAN_DIR)/bin/$*

man: backend $(MAN_DIR)/sqctl.1 $(MAN_DIR)/smartlyq-backend.1

# `make install` for systems without the Debian packages: DESTDIR, PREFIX,
# and where this nginx loads modules from (nginx -V: --modules-path)
PREFIX     ?= /usr/local
SYSCONFDIR ?= $(PREFIX)/etc
MODULESDIR ?= $(PREFIX)/lib/nginx/modules
UNITDIR    ?= $(PREFIX)/lib/systemd/system
BINDIR     := $(PREFIX)/bin
DATADIR    := $(PREFIX)/share
SUBST      := sed -e 's|@BINDIR@|$(BINDIR)|g' \
                  -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
                  -e 's|@DATADIR@|$(DATADIR)|g'

install: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MODULESDIR) \
	    $(DESTDIR)$(DATADIR)/smartlyq $(DESTDIR)$(DATADIR)/man/man1 \
	    $(DESTDIR)$(DATADIR)/doc/smartlyq $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/smartlyq
	install -m 0755 $(BUILD)/smartlyq-backend $(BUILD)/sqctl \
	    $(DESTDIR)$(BINDIR)/
	install -m 0644 $(MODULE) $(DESTDIR)$(MODULESDIR)/
	install -m 0644 redis/smartlyq.lua redis/redis-smartlyq.conf \
	    $(DESTDIR)$(DATADIR)/smartlyq/
	install -m 0644 $(MAN_DIR)/sqctl.1 $(MAN_DIR)/smartlyq-backend.1 \
	    $(DESTDIR)$(DATADIR)/man/man1/
	install -m 0644 README.md conf/smartlyq-routes.conf \
	    conf/smartlyq-oauth.conf conf/smartlyq-console.conf $(DESTDIR)$(DATADIR)/doc/smartlyq/
	$(SUBST) packaging/smartlyq-backend.service.in \
	    > $(DESTDIR)$(UNITDIR)/smartlyq-backend.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/smartlyq-backend.service
	@# an operator's settings are kept
	if [ ! -e $(DESTDIR)$(SYSCONFDIR)/smartlyq/backend.conf ]; then \
	    $(SUBST) packaging/backend.conf.in \
	        > $(DESTDIR)$(SYSCONFDIR)/smartlyq/backend.conf; \
	    chmod 0644 $(DESTDIR)$(SYSCONFDIR)/smartlyq/backend.conf; \
	fi
	@echo "install: load the module with" \
	      "'load_module $(MODULESDIR)/ngx_http_smartlyq_module.so;'"

# Debian packages into build/deb: the tree (without build/ and .git) is
# copied to build/deb/smartlyq with packaging/debian as its debian/, and
# dpkg-buildpackage leaves the .debs beside it
DEB_DIR := $(BUILD)/deb
deb: deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/smartlyq
	tar -C $(CURDIR) --exclude=./build --exclude=./.git -cf - . \
	    | tar -C $(DEB_DIR)/smartlyq -xf -
	cp -r $(DEB_DIR)/smartlyq/packaging/debian $(DEB_DIR)/smartlyq/debian
	cd $(DEB_DIR)/smartlyq && dpkg-buildpackage -b -us -uc \
	    > $(DEB_DIR)/build.log 2>&1 \
	    || { tail -n 40 $(DEB_DIR)/build.log; exit 1; }
	@ls -1 $(DEB_DIR)/*.deb

clean:
	rm -rf $(BUILD)
