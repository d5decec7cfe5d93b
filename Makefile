# SPDX-License-Identifier: MIT OR Apache-2.0
#
# pktspec build. `make` builds the BPF objects, their skeletons and the CLI;
# `make demo` replays the bundled capture; `make check` runs every test.
# Missing Debian packages are installed first (as root). V=1 shows commands.

OUTPUT ?= .output
PREFIX ?= /usr/local
SYSTEMD_UNIT_DIR ?= /lib/systemd/system
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_DIR := vmlinux/$(ARCH)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wextra -Werror \
	-Wno-unused-parameter -Iinclude -Ibpf -I$(VMLINUX_DIR)
USER_CFLAGS := -g -O2 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -D_GNU_SOURCE -Iinclude -I$(OUTPUT) -Iuser
LDLIBS := -lbpf -lelf -lz -lpcap -lcrypto -lmicrohttpd

BPF_PROGS := pktspec pktspec_tc pktspec_egress
# Baselines for `make bench` (tests/bench): built with the rest so they never rot.
BPF_PROGS += bench_pass bench_parse
BPF_OBJS := $(patsubst %,$(OUTPUT)/%.bpf.o,$(BPF_PROGS))
SKELS := $(patsubst %,$(OUTPUT)/%.skel.h,$(BPF_PROGS))
BPF_HDRS := $(wildcard bpf/*.h bpf/sig/*.h) $(wildcard include/pktspec/*)

USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_HDRS := $(wildcard user/*.h) $(wildcard include/pktspec/*)
TEST_SRCS := $(wildcard tests/unit/*.c)
BENCH_SRCS := $(wildcard tests/bench/*.c)

.PHONY: all deps clean demo check test install uninstall vmlinux asan accuracy bench bench-tc
# Keep the BPF objects: replay, bench and bpftool users read them.
.SECONDARY: $(BPF_OBJS)

all: deps $(OUTPUT)/pktspec

deps:
	$(Q)tools/deps.sh build

$(OUTPUT) $(OUTPUT)/asan:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The egress classifier compiles the XDP classifier's source (bpf/hook.h).
$(OUTPUT)/pktspec_egress.bpf.o: bpf/pktspec.bpf.c

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

$(OUTPUT)/pktspec: user/main.c $(USER_SRCS) $(USER_HDRS) $(SKELS) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) user/main.c $(USER_SRCS) -o $@ $(LDLIBS)

$(OUTPUT)/pktspec-test: $(TEST_SRCS) $(USER_SRCS) $(USER_HDRS) $(SKELS) tests/unit/*.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/unit $(TEST_SRCS) $(USER_SRCS) -o $@ $(LDLIBS)

# The measuring tool of `make bench` (doc/performance.md).
$(OUTPUT)/pktspec-bench: $(BENCH_SRCS) $(USER_SRCS) $(USER_HDRS) $(SKELS) tests/bench/*.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/bench $(BENCH_SRCS) $(USER_SRCS) -o $@ $(LDLIBS) -lm

# The same CLI and unit tests under AddressSanitizer and UBSan.
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
$(OUTPUT)/asan/pktspec: user/main.c $(USER_SRCS) $(USER_HDRS) $(SKELS) | $(OUTPUT)/asan
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) user/main.c $(USER_SRCS) -o $@ $(LDLIBS)

$(OUTPUT)/asan/pktspec-test: $(TEST_SRCS) $(USER_SRCS) $(USER_HDRS) $(SKELS) tests/unit/*.h | $(OUTPUT)/asan
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(USER_CFLAGS) $(SAN_FLAGS) -Itests/unit $(TEST_SRCS) $(USER_SRCS) -o $@ $(LDLIBS)

asan: deps $(OUTPUT)/asan/pktspec $(OUTPUT)/asan/pktspec-test

# What the tc policy program costs per packet next to a pass-only tc program.
$(OUTPUT)/bench_tc: tools/bench_tc.c tests/unit/pkt.c $(USER_SRCS) $(USER_HDRS) $(SKELS) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/unit tools/bench_tc.c tests/unit/pkt.c $(USER_SRCS) -o $@ $(LDLIBS)

bench-tc: all $(OUTPUT)/bench_tc
	$(Q)$(OUTPUT)/bench_tc

DEMO_PCAP := tests/captures/demo.pcap

demo: all
	@echo "pktspec replay $(DEMO_PCAP)"
	$(Q)$(OUTPUT)/pktspec replay $(DEMO_PCAP)

check: all
	$(Q)tools/deps.sh test
	$(Q)$(MAKE) --no-print-directory $(OUTPUT)/pktspec-test $(OUTPUT)/asan/pktspec $(OUTPUT)/asan/pktspec-test \
		$(OUTPUT)/pktspec-bench
	$(Q)tests/run

test: check

accuracy: all
	$(Q)tools/deps.sh accuracy
	$(Q)/usr/bin/python3 tools/accuracy.py --pktspec $(OUTPUT)/pktspec

bench: all
	$(Q)tools/deps.sh bench
	$(Q)$(MAKE) --no-print-directory $(OUTPUT)/pktspec-bench $(OUTPUT)/bench_tc
	$(Q)tools/bench.sh

install: all
	install -D -m 0755 $(OUTPUT)/pktspec $(DESTDIR)$(PREFIX)/sbin/pktspec
	install -D -m 0644 doc/pktspec.8 $(DESTDIR)$(PREFIX)/share/man/man8/pktspec.8
	sed 's|/usr/local/sbin/|$(PREFIX)/sbin/|' dist/pktspec.service > $(OUTPUT)/pktspec.service
	install -D -m 0644 $(OUTPUT)/pktspec.service $(DESTDIR)$(SYSTEMD_UNIT_DIR)/pktspec.service
	install -D -m 0644 dist/pktspec.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pktspec

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/pktspec $(DESTDIR)$(PREFIX)/share/man/man8/pktspec.8
	rm -f $(DESTDIR)$(SYSTEMD_UNIT_DIR)/pktspec.service
	rm -f $(DESTDIR)$(PREFIX)/share/bash-completion/completions/pktspec

# Regenerate the kernel type header from the running kernel's BTF.
vmlinux:
	$(Q)mkdir -p $(VMLINUX_DIR)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX_DIR)/vmlinux.h.tmp
	$(Q)mv $(VMLINUX_DIR)/vmlinux.h.tmp $(VMLINUX_DIR)/vmlinux.h
	@echo "regenerated $(VMLINUX_DIR)/vmlinux.h from $$(uname -r); update $(VMLINUX_DIR)/README.md"

clean:
	rm -rf $(OUTPUT)
