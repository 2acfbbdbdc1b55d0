# gridfront: one non-recursive Makefile.
#
#   make            build build/gridfront
#   make test       unit tests, then end-to-end tests (SANITIZE=1 for ASan+UBSan)
#   make run        start the proxy on the built-in demo config
#   make bench      side-by-side benchmark with nginx and HAProxy (bench/)
#   make lint       clang-tidy and cppcheck
#   make deps       install the Debian packages the build needs (as root)

CC	?= cc
BUILD	?= build
LLHTTP_SRC ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp

PKGS	 = openssl libevent libevent_openssl libevent_pthreads yaml-0.1 jansson
WARN	 = -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	   -Wmissing-declarations -Wshadow -Wpointer-arith -Wsign-compare \
	   -Wcast-qual -Wno-unused-parameter
OPT	?= -O2 -g
CFLAGS	?= $(OPT)
ALL_CFLAGS = $(CFLAGS) -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -I$(LLHTTP_INC) \
	   -DLLHTTP_STRICT_MODE=1 $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS	 = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
LDFLAGS	?=

ifeq ($(CI),true)
WARN	+= -Werror
endif

ifeq ($(SANITIZE),1)
BUILD	 = build-san
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
	   -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif

CONF_SRC	= $(wildcard conf/*.c)
AUTH_SRC	= $(wildcard auth/*.c)
PROXY_SRC	= $(filter-out proxy/main.c,$(wildcard proxy/*.c))
CONF_OBJ	= $(CONF_SRC:%.c=$(BUILD)/%.o)
AUTH_OBJ	= $(AUTH_SRC:%.c=$(BUILD)/%.o)
PROXY_OBJ	= $(PROXY_SRC:%.c=$(BUILD)/%.o)
LLHTTP_OBJ	= $(BUILD)/llhttp/llhttp.o $(BUILD)/llhttp/api.o \
		  $(BUILD)/llhttp/http.o
MAIN_OBJ	= $(BUILD)/proxy/main.o

# Unit tests: one binary per module.  Each links only its own layer and the
# layers below it, so the link line is the layering check.
UNIT_CONF	= $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_conf*.c tests/unit/test_route*.c tests/unit/test_yaml*.c))
UNIT_AUTH	= $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_sign*.c tests/unit/test_dn*.c tests/unit/test_ban*.c tests/unit/test_x509*.c tests/unit/test_voms*.c tests/unit/test_auth*.c tests/unit/test_proxycert*.c))
UNIT_HTTP	= $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_http*.c tests/unit/test_chunk*.c tests/unit/test_path*.c))
UNIT_PROXY	= $(patsubst tests/unit/%.c,%,$(filter-out $(addprefix tests/unit/,$(addsuffix .c,$(UNIT_CONF) $(UNIT_AUTH) $(UNIT_HTTP))),$(wildcard tests/unit/test_*.c)))
UNIT_BINS	= $(addprefix $(BUILD)/tests/,$(UNIT_CONF) $(UNIT_AUTH) $(UNIT_HTTP) $(UNIT_PROXY))

TOOLS		= $(BUILD)/tests/backend $(BUILD)/tests/rawclient \
		  $(BUILD)/bench/loadgen

# The test PKI is generated at test time (never committed); one copy serves
# the plain and the sanitizer builds.
PKI		?= $(CURDIR)/build/pki
export PKI
export PKI_DIR	 = $(PKI)

OBJS	= $(CONF_OBJ) $(AUTH_OBJ) $(PROXY_OBJ) $(MAIN_OBJ) $(LLHTTP_OBJ)
DEPS	= $(OBJS:.o=.d) $(UNIT_BINS:=.d)

.PHONY: all test unit e2e pki run bench bench-smoke lint deps clean install \
	fuzz soak fmt-check names-check
all: $(BUILD)/gridfront

$(BUILD)/gridfront: $(MAIN_OBJ) $(PROXY_OBJ) $(AUTH_OBJ) $(CONF_OBJ) $(LLHTTP_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# Debian's node-llhttp ships generated C; compile it, do not vendor it.
$(BUILD)/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -I$(LLHTTP_INC) -DLLHTTP_STRICT_MODE=1 \
	    $(filter -fsanitize% -fno-%,$(ALL_CFLAGS)) -w -MMD -MP -c -o $@ $<

$(addprefix $(BUILD)/tests/,$(UNIT_CONF)): $(BUILD)/tests/%: tests/unit/%.c $(CONF_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(CONF_OBJ) $(LDFLAGS) $(LIBS) -lcmocka

$(addprefix $(BUILD)/tests/,$(UNIT_AUTH)): $(BUILD)/tests/%: tests/unit/%.c $(AUTH_OBJ) $(CONF_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(AUTH_OBJ) $(CONF_OBJ) $(LDFLAGS) $(LIBS) -lcmocka

$(addprefix $(BUILD)/tests/,$(UNIT_HTTP)): $(BUILD)/tests/%: tests/unit/%.c $(BUILD)/proxy/http.o $(LLHTTP_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(BUILD)/proxy/http.o $(LLHTTP_OBJ) $(LDFLAGS) $(LIBS) -lcmocka

$(addprefix $(BUILD)/tests/,$(UNIT_PROXY)): $(BUILD)/tests/%: tests/unit/%.c $(PROXY_OBJ) $(AUTH_OBJ) $(CONF_OBJ) $(LLHTTP_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(PROXY_OBJ) $(AUTH_OBJ) $(CONF_OBJ) $(LLHTTP_OBJ) $(LDFLAGS) $(LIBS) -lcmocka

# Test and bench helpers: stand-alone programs.
$(BUILD)/tests/%: tests/e2e/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LDFLAGS) $(LIBS)

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LDFLAGS) $(LIBS) -lm

# test and run install missing packages first, then re-enter make so that
# pkg-config sees them.
test: deps
	$(MAKE) --no-print-directory unit e2e

run: deps
	$(MAKE) --no-print-directory $(BUILD)/gridfront $(BUILD)/tests/backend
	BUILD=$(BUILD) bash tests/demo.sh

$(PKI)/.done: tests/fixtures/certs/mkcerts.sh
	bash tests/fixtures/certs/mkcerts.sh $(PKI)

pki: $(PKI)/.done

unit: $(UNIT_BINS) $(PKI)/.done
	@rc=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || rc=1; done; exit $$rc

e2e: $(BUILD)/gridfront $(TOOLS) $(PKI)/.done
	BUILD=$(BUILD) bash tests/e2e/run.sh
	BUILD=$(BUILD) bash tests/ops/run.sh
	@if [ -f tests/deploy/run.sh ] && [ "$(SANITIZE)" != 1 ]; then \
		bash tests/deploy/run.sh; fi

bench: $(BUILD)/gridfront $(TOOLS)
	BUILD=$(BUILD) bash bench/run.sh

bench-smoke: $(BUILD)/gridfront $(TOOLS)
	BUILD=$(BUILD) BENCH_SMOKE=1 bash bench/run.sh

deps:
	bash .ci/deps.sh

PREFIX	?= /usr/local
DESTDIR	?=
install: $(BUILD)/gridfront
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)/etc/gridfront \
	    $(DESTDIR)/lib/systemd/system $(DESTDIR)/etc/logrotate.d \
	    $(DESTDIR)$(PREFIX)/share/doc/gridfront
	install -m 0755 $(BUILD)/gridfront $(DESTDIR)$(PREFIX)/sbin/gridfront
	install -m 0644 conf/examples/gridfront.yaml \
	    $(DESTDIR)$(PREFIX)/share/doc/gridfront/gridfront.yaml.example
	[ -e $(DESTDIR)/etc/gridfront/gridfront.yaml ] || install -m 0644 \
	    conf/examples/gridfront.yaml $(DESTDIR)/etc/gridfront/gridfront.yaml
	sed 's|/usr/sbin/gridfront|$(PREFIX)/sbin/gridfront|g' \
	    dist/gridfront.service > $(DESTDIR)/lib/systemd/system/gridfront.service
	install -m 0644 dist/gridfront.logrotate \
	    $(DESTDIR)/etc/logrotate.d/gridfront
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/gridfront/

clean:
	rm -rf build build-san

-include $(DEPS)
