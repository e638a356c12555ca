# boxlab: a Linux container runtime built from scratch, one kernel feature
# per step.  `make help` lists the targets.

SHELL      := /bin/bash
STEPS      := $(sort $(wildcard step[0-9][0-9]-*))
NEWEST     := $(lastword $(STEPS))
CC         ?= cc
CFLAGS     ?= -O2 -g
# The kit's strict list of warnings: a warning is an error.
WARNINGS   := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wformat=2 -Wimplicit-fallthrough -Werror
SANITIZE   := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
COMMON_SRC := $(wildcard common/*.c)
COMMON_HDR := $(wildcard common/*.h)
# What the steps that run images (09 on) share: references, digests,
# manifests and configs, unpacking layers, the store.  Debian's libarchive
# (tar, gzip, zstd), jansson (JSON) and nettle (SHA-256) do the work,
# linked statically: only the C library is loaded at run time.
IMAGE_SRC  := $(wildcard common/image/*.c)
IMAGE_HDR  := $(wildcard common/image/*.h)
IMAGE_LIBS := -Wl,-Bstatic -larchive -ljansson -lnettle -lacl -llzma -lzstd -llz4 -lbz2 -lz \
              -Wl,-Bdynamic -ldl
# The sanitizer build and the unit tests load them as shared libraries.
IMAGE_SO   := -larchive -ljansson -lnettle
# What the steps that harden the container (10 on) add: the seccomp
# filter, built with Debian's libseccomp, linked statically too.
HARDEN_SRC := $(wildcard common/seccomp/*.c)
HARDEN_HDR := $(wildcard common/seccomp/*.h)
HARDEN_LIBS := -Wl,-Bstatic -lseccomp -Wl,-Bdynamic

BINS       := $(STEPS:%=%/container)
ASAN_BINS  := $(STEPS:%=build/asan/%/container)
PROBE      := build/probe
ROOTFS     := rootfs
TEST_ROOTFS := build/test-rootfs

# "step03-uts-ipc" -> 3
step_number = $(patsubst 0%,%,$(firstword $(subst -, ,$(patsubst step%,%,$(1)))))
step_cflags = -std=gnu11 -Icommon $(WARNINGS) \
              -DSTEP=$(call step_number,$(1)) -DSTEP_NAME='"$(1)"'
# Steps 09 on run images: they link common/image/ and its libraries;
# steps 10 on, common/seccomp/ and libseccomp too.
image_step  = $(filter-out 1 2 3 4 5 6 7 8,$(call step_number,$(1)))
harden_step = $(filter-out 9,$(call image_step,$(1)))
step_src    = $(COMMON_SRC) $(if $(call image_step,$(1)),$(IMAGE_SRC)) \
              $(if $(call harden_step,$(1)),$(HARDEN_SRC))
step_libs   = $(if $(call harden_step,$(1)),$(HARDEN_LIBS)) $(if $(call image_step,$(1)),$(IMAGE_LIBS))
step_so     = $(if $(call harden_step,$(1)),-lseccomp) $(if $(call image_step,$(1)),$(IMAGE_SO))

.PHONY: all help deps deps-build deps-test deps-vm deps-bench deps-cross deps-lint deps-pictures lint rootfs shell test test-vm unit matrix matrix-rootless check cli image-tests lifecycle-tests diff doctor asan clean \
        lab lab-test grade demo present bench arm64 test-arm64 test-fresh pictures reset-host
.DEFAULT_GOAL := all

all: $(BINS) ## build every step's container

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 12

# Linked statically: no dynamic loader to run at every start (a third of a
# millisecond of a run) and half a megabyte less memory.  Nothing here
# needs glibc's run-time modules (NSS, iconv), which a static binary lacks.
# From step 09 on, the C library alone is linked dynamically (§ IMAGE_LIBS).
$(BINS): %/container: %/container.c $(COMMON_SRC) $(COMMON_HDR) $(IMAGE_SRC) $(IMAGE_HDR) $(HARDEN_SRC) $(HARDEN_HDR) | deps-build
	$(CC) $(call step_cflags,$*) $(CFLAGS) $(if $(call image_step,$*),,-static) -o $@ $< \
		$(call step_src,$*) $(call step_libs,$*)

asan: $(ASAN_BINS) ## build every step with AddressSanitizer and UBSan

# The sanitizer build: the binary is container.bin; container runs it
# through tests/lib/asan-run, which drops one known false alarm.
$(ASAN_BINS): build/asan/%/container: %/container.c $(COMMON_SRC) $(COMMON_HDR) $(IMAGE_SRC) $(IMAGE_HDR) $(HARDEN_SRC) $(HARDEN_HDR) | deps-build
	@mkdir -p $(@D)
	$(CC) $(call step_cflags,$*) -O1 -g $(SANITIZE) -o $@.bin $< $(call step_src,$*) \
		$(call step_so,$*)
	@printf '#!/bin/sh\nexec "%s/tests/lib/asan-run" "%s/$@.bin" "$$@"\n' "$(CURDIR)" "$(CURDIR)" >$@
	@chmod +x $@

deps: ## install the Debian packages the kit needs (as root)
	@scripts/deps.sh build test bench

# What a target needs from Debian, made sure of before its first step, so
# that no target relies on another having run before it: as root,
# scripts/deps.sh installs what is missing; otherwise it names the
# packages and the command, and the target stops there.  A file target
# takes it order-only (after "|"), so it never makes the file out of date;
# a test target takes it first, before any building.
deps-build deps-test deps-vm deps-bench deps-cross deps-lint deps-pictures: deps-%:
	@scripts/deps.sh $*

$(ROOTFS)/etc/boxlab-rootfs: scripts/mkrootfs.sh | deps-build
	@scripts/mkrootfs.sh $(ROOTFS)

rootfs: $(ROOTFS)/etc/boxlab-rootfs ## build rootfs/ from Debian's busybox-static

shell: all rootfs ## a shell in the newest step's container
	$(NEWEST)/container run $(ROOTFS) /bin/sh

# The probes run inside containers: static, so they need nothing from
# ROOTFS (and no dynamic loader reads LD_* variables for euid, which is
# setuid-root).
$(PROBE) build/euid: build/%: tests/probes/%.c | deps-build
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARNINGS) -O2 -static -o $@ $<

# The tests' rootfs: the learner's rootfs plus the probe, so tests never
# change rootfs/ itself, /scratch, which container root may write
# whatever its uid on the host, a script whose interpreter is missing,
# and euid, setuid-root, which only prints its effective uid.
$(TEST_ROOTFS)/usr/bin/probe: $(ROOTFS)/etc/boxlab-rootfs $(PROBE) build/euid
	@rm -rf $(TEST_ROOTFS)
	@cp -a $(ROOTFS) $(TEST_ROOTFS)
	@mkdir -m 0777 $(TEST_ROOTFS)/scratch
	@printf '#!/no/such/interpreter\n' >$(TEST_ROOTFS)/usr/bin/no-interpreter
	@chmod 0755 $(TEST_ROOTFS)/usr/bin/no-interpreter
	@install -m 4755 build/euid $(TEST_ROOTFS)/usr/bin/euid
	@cp $(PROBE) $@

# Rootless runs get an image of their own, as a user unpacks one: owned by
# the unprivileged user who runs them, so that its root owns it inside
# (and euid is setuid to it: chown clears the bit).
$(TEST_ROOTFS)-rootless/usr/bin/probe: $(TEST_ROOTFS)/usr/bin/probe
	@rm -rf $(TEST_ROOTFS)-rootless
	@cp -a $(TEST_ROOTFS) $(TEST_ROOTFS)-rootless
	@chown -R 65534:65534 $(TEST_ROOTFS)-rootless
	@chmod 4755 $(TEST_ROOTFS)-rootless/usr/bin/euid

# Step 09's test image, an OCI layout made from busybox-static with umoci
# (tests/lib/mkimage.sh): made once, before the tests that read it run,
# some of them in machines that see build/ read-only.
TEST_IMAGE := build/images/busybox-oci/index.json

$(TEST_IMAGE): tests/lib/mkimage.sh tests/lib/image.bash | deps-test
	@TOP=$(CURDIR) bash -c 'source tests/lib/image.bash && test_image >/dev/null'

# A real distribution's image for the image tests (tests/image/debian.bats):
# a minimal Debian, debootstrapped once from Debian's archive (about two
# minutes), in three layers.
DEBIAN_IMAGE := build/images/debian-oci/index.json

$(DEBIAN_IMAGE): tests/lib/mkimage.sh tests/lib/image.bash | deps-test
	@TOP=$(CURDIR) bash -c 'source tests/lib/image.bash && debian_image >/dev/null'

UNIT_TESTS := $(patsubst tests/unit/%.c,build/unit/%,$(wildcard tests/unit/test_*.c))

$(UNIT_TESTS): build/unit/%: tests/unit/%.c $(COMMON_SRC) $(COMMON_HDR) $(IMAGE_SRC) $(IMAGE_HDR) $(HARDEN_SRC) $(HARDEN_HDR) $(wildcard tests/unit/*.h) | deps-test
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -Icommon $(WARNINGS) -O1 -g $(SANITIZE) -o $@ $< $(COMMON_SRC) $(IMAGE_SRC) $(HARDEN_SRC) \
		-lcmocka $(IMAGE_SO) -lseccomp

unit: $(UNIT_TESTS) ## the cmocka tests of common/
	@mkdir -p build/tap
	@status=0; for t in $(UNIT_TESTS); do \
		CMOCKA_MESSAGE_OUTPUT=TAP $$t >build/tap/unit-$${t##*/}.tap || status=1; \
		cat build/tap/unit-$${t##*/}.tap; \
	done; exit $$status

# What the checks run on: the steps (BUILD=asan: their sanitizer build),
# the probe in the tests' rootfs, and the rootless copy of it (ROOTLESS=1).
# Only what a run uses, so that a first `make check STEP=1` builds no
# more than it needs.
TEST_INPUTS := all $(TEST_ROOTFS)/usr/bin/probe $(if $(filter asan,$(BUILD)),asan) $(TEST_IMAGE) \
               $(if $(filter 1,$(ROOTLESS)),$(TEST_ROOTFS)-rootless/usr/bin/probe)

matrix: deps-test $(TEST_INPUTS) ## the isolation checks of every step, as a table
	@tests/require-root.sh "make matrix"
	@tests/matrix.sh $(STEPS)

check: deps-test $(TEST_INPUTS) ## one step's checks: make check STEP=N
	@test -n "$(STEP)" || { echo "usage: make check STEP=N (1-$(words $(STEPS)))"; exit 2; }
	@tests/require-root.sh "make check STEP=$(STEP)"
	@tests/run-step.sh $(STEP)

# Rootless: every check of the steps that need no root (05 on), run as nobody.
ROOTLESS_STEPS := $(filter-out step01-% step02-% step03-% step04-%,$(STEPS))

matrix-rootless: deps-test $(TEST_INPUTS) $(TEST_ROOTFS)-rootless/usr/bin/probe ## the matrix of steps 05 on, run as an unprivileged user
	@tests/require-root.sh "make matrix-rootless"
	@ROOTLESS=1 tests/matrix.sh $(ROOTLESS_STEPS)

cli: deps-test $(TEST_INPUTS) ## the command-line and error-message tests of every step
	@tests/require-root.sh "make cli"
	@tests/cli.sh $(STEPS)

# Step 09 on: images end to end, from files and from a registry on
# 127.0.0.1, as root, for each step from 09 on: the test image, then the
# Debian one.
IMAGE_STEPS := $(foreach s,$(STEPS),$(if $(call image_step,$(s)),$(s)))

image-tests: deps-test $(TEST_INPUTS) $(DEBIAN_IMAGE) ## the image tests (step 09 on): import, pull, run, bad input, a Debian
	@tests/require-root.sh "make image-tests"
	@mkdir -p build/tap
	@status=0; for s in $(IMAGE_STEPS); do n=$${s#step}; n=$${n%%-*}; n=$${n#0}; \
		STEP=$$n bats --tap tests/image/image.bats tests/image/debian.bats >build/tap/image-step$$n.tap || status=1; \
		printf 'images, step %s: %s passed, %s failed\n' $$n \
			"$$(grep -c '^ok' build/tap/image-step$$n.tap)" "$$(grep -c '^not ok' build/tap/image-step$$n.tap)"; \
		grep -A30 '^not ok' build/tap/image-step$$n.tap | grep -v '^ok' || true; \
	done; exit $$status

# Step 11 on: containers in the background by the dozen, every feature
# on, through run -d, exec, stop, kill and rm, and a monitor killed with
# SIGKILL, as root, for each step from 11 on; the TAP's "# " lines are
# what they timed.
LIFECYCLE_STEPS := $(foreach s,$(IMAGE_STEPS),$(if $(filter-out 9 10,$(call step_number,$(s))),$(s)))

lifecycle-tests: deps-test $(TEST_INPUTS) ## the lifecycle tests (step 11 on): 50 containers run -d, exec'd, stopped, removed; a killed monitor
	@tests/require-root.sh "make lifecycle-tests"
	@mkdir -p build/tap
	@status=0; for s in $(LIFECYCLE_STEPS); do n=$${s#step}; n=$${n%%-*}; n=$${n#0}; \
		STEP=$$n bats --tap tests/lifecycle/lifecycle.bats >build/tap/lifecycle-step$$n.tap || status=1; \
		printf 'lifecycle, step %s: %s passed, %s failed\n' $$n \
			"$$(grep -c '^ok' build/tap/lifecycle-step$$n.tap)" "$$(grep -c '^not ok' build/tap/lifecycle-step$$n.tap)"; \
		grep -E '^# .*: [0-9]+\.[0-9]{3} s' build/tap/lifecycle-step$$n.tap || true; \
		grep -A30 '^not ok' build/tap/lifecycle-step$$n.tap | grep -v '^ok' || true; \
	done; exit $$status

# The sanitizer build runs on the steps whose code, together, is every
# function of every step: 03 (chroot, and the /proc it unmounts from the
# host), 04 (a sysfs and device nodes of its own), 05 (the host's /sys
# and devices bound, as a user namespace must) and the newest, which
# holds the code of 06 to 08 as well.  Every step runs plain.
ASAN_STEPS := $(filter step03-% step04-% step05-%,$(STEPS)) $(NEWEST)

# Every test, the sanitizer build's too; the last line counts them all.
# The plain build runs with / shared, as systemd makes it, the sanitizer
# build with / as this machine has it.
test: ## install what is missing, build, and run every test
	@tests/require-root.sh "make test"
	@scripts/deps.sh build test bench
	@rm -rf build/tap
	@$(MAKE) --no-print-directory all asan $(TEST_ROOTFS)/usr/bin/probe $(TEST_ROOTFS)-rootless/usr/bin/probe build/bench/timer $(TEST_IMAGE) $(DEBIAN_IMAGE)
	@status=0; \
	$(MAKE) --no-print-directory unit || status=1; \
	SHARED=1 $(MAKE) --no-print-directory cli || status=1; \
	SHARED=1 $(MAKE) --no-print-directory matrix || status=1; \
	$(MAKE) --no-print-directory matrix-rootless || status=1; \
	$(MAKE) --no-print-directory image-tests || status=1; \
	$(MAKE) --no-print-directory lifecycle-tests || status=1; \
	BUILD=asan tests/cli.sh $(ASAN_STEPS) || status=1; \
	BUILD=asan tests/matrix.sh $(ASAN_STEPS) || status=1; \
	$(MAKE) --no-print-directory lab-test || status=1; \
	bats --tap tests/stage/stage.bats >build/tap/stage.tap || { cat build/tap/stage.tap; status=1; }; \
	bats --tap tests/stage/reset-host.bats >build/tap/reset-host.tap || { cat build/tap/reset-host.tap; status=1; }; \
	bats --tap tests/bench/bench.bats >build/tap/bench.tap || { cat build/tap/bench.tap; status=1; }; \
	tests/summary.sh; exit $$status

# The same checks on a pure cgroup v2 kernel, Debian's, booted under qemu
# in software emulation.  VM_STEPS picks the columns (every step by
# default); VM_ROOTLESS=1 adds the rootless matrix.
VM_STEPS ?= $(STEPS)

test-vm: ## the matrix on a pure cgroup-v2 kernel under qemu: make test-vm [VM_STEPS="step07-cgroups ..."]
	@tests/require-root.sh "make test-vm"
	@scripts/deps.sh build test vm
	@$(MAKE) --no-print-directory all $(TEST_ROOTFS)/usr/bin/probe $(TEST_ROOTFS)-rootless/usr/bin/probe $(TEST_IMAGE)
	@tests/vm/run.sh $(VM_STEPS)

# The same programs for 64-bit ARM, with Debian's cross compiler, static
# and as strict as on the host, in build/arm64.
ARM64_CC   := aarch64-linux-gnu-gcc
ARM64      := build/arm64
# Steps 09 on link Debian's libarchive, jansson and nettle, which an amd64
# machine has only for amd64: the arm64 build stops at step 08.
ARM64_STEPS := $(filter-out $(IMAGE_STEPS),$(STEPS))
ARM64_BINS := $(ARM64_STEPS:%=$(ARM64)/%/container)

$(ARM64_BINS): $(ARM64)/%/container: %/container.c $(COMMON_SRC) $(COMMON_HDR) | deps-cross
	@mkdir -p $(@D)
	$(ARM64_CC) $(call step_cflags,$*) $(CFLAGS) -static -o $@ $< $(COMMON_SRC)

$(ARM64)/probe: tests/probes/probe.c | deps-cross
	@mkdir -p $(@D)
	$(ARM64_CC) -std=gnu11 $(WARNINGS) -O2 -static -o $@ $<

$(ARM64)/timer: scripts/bench/timer.c | deps-cross
	@mkdir -p $(@D)
	$(ARM64_CC) -std=gnu11 $(WARNINGS) -O2 -static -o $@ $<

arm64: $(ARM64_BINS) $(ARM64)/probe $(ARM64)/timer ## steps 01-08, the probe and the bench timer for arm64, in build/arm64

# Step 08's column on Debian's arm64 kernel, under qemu-system-aarch64 in
# software emulation; its programs from Debian's arm64 packages.
test-arm64: ## step 08's matrix column on an emulated arm64 machine (cgroup v2)
	@tests/require-root.sh "make test-arm64"
	@scripts/deps.sh cross vm-arm64
	@$(MAKE) --no-print-directory arm64
	@VM_ARCH=arm64 tests/vm/run.sh $(lastword $(ARM64_STEPS))

# The kit the first time on a learner's fresh Debian 12, under qemu: the
# committed HEAD cloned, then make shell, doctor, check STEP=1, demo, and
# a lab handout's check.  FRESH_STAGES and FRESH_DEMO_STEPS pick a subset.
test-fresh: ## the kit the first time on a fresh Debian 12 under qemu: make test-fresh [FRESH_STAGES="shell doctor"]
	@tests/require-root.sh "make test-fresh"
	@tests/fresh/run.sh

# Lab mode: a student's handout of one step, and its grading.
lab: ## a student's handout: make lab STEP=N DEST=DIR
	@scripts/lab.sh "$(STEP)" "$(DEST)"

lab-test: deps-test $(TEST_INPUTS) ## prove every step's handout: builds, its new checks fail, restoring passes
	@if [ ! -x tests/lab.sh ]; then echo "make lab-test: a handout has no lab tests"; else \
		tests/require-root.sh "make lab-test" && tests/lab.sh $(STEPS); fi

grade: deps-test $(TEST_INPUTS) ## grade step N (every step without STEP): TAP, JUnit and Gradescope JSON in build/grade
	@tests/require-root.sh "make grade"
	@scripts/grade.sh $(STEP)

# On stage.
demo: deps-test all rootfs $(TEST_ROOTFS)/usr/bin/probe $(TEST_IMAGE) ## a narrated tour of every step, paced for a projector
	@tests/require-root.sh "make demo"
	@scripts/demo.sh

present: ## step N's diff one hunk at a time, a key for the next: make present STEP=N
	@test -n "$(STEP)" || { echo "usage: make present STEP=N (1-$(words $(STEPS)))"; exit 2; }
	@scripts/present.sh $(STEP)

# Static, like the probe: each run's peak RSS includes the timer's own
# forked copy, which a dynamically linked timer makes larger.
build/bench/timer: scripts/bench/timer.c | deps-build
	@mkdir -p $(@D)
	$(CC) -std=gnu11 $(WARNINGS) -O2 -static -o $@ $<

bench: all rootfs build/bench/timer $(TEST_IMAGE) $(DEBIAN_IMAGE) ## time every step beside chroot, unshare, bwrap, crun and runc; step 09 image beside directory runs, import beside umoci
	@tests/require-root.sh "make bench"
	@scripts/bench.sh

diff: ## the lesson of step N: make diff STEP=N
	@test -n "$(STEP)" || { echo "usage: make diff STEP=N (2-$(words $(STEPS)))"; exit 2; }
	@scripts/stepdiff.sh $(STEP)

# The C as .clang-format lays it out (a table may keep a row a line
# between clang-format off and on), and the shell scripts with no
# shellcheck warning (a disable gives its reason on its line).
LINT_C  := $(wildcard step*/container.c common/*.[ch] common/image/*.[ch] common/seccomp/*.[ch] scripts/bench/*.c tests/*/*.c)
LINT_SH := $(wildcard .ci/run scripts/*.sh tests/*.sh tests/*/*.sh tests/lib/*.bash tests/lib/asan-run tests/*/*.bats)

lint: deps-lint ## check the C's layout (clang-format) and the scripts (shellcheck)
	@clang-format --dry-run -Werror $(LINT_C)
	@shellcheck -x -S warning $(LINT_SH)
	@echo "make lint: $(words $(LINT_C)) C files laid out as .clang-format says, $(words $(LINT_SH)) scripts without a shellcheck warning"

# The workshop's pictures: docs/pictures/NAME.svg drawn from NAME.dot by
# graphviz, or by hand; every one checked to be fit to show.
pictures: deps-pictures ## draw the workshop's pictures, docs/pictures/*.svg, from their sources
	@scripts/pictures.sh

reset-host: ## remove what crashed or killed runs left on the host (as root): make reset-host [ARGS="--dry-run"]
	@scripts/reset-host.sh $(ARGS)

doctor: ## check this machine before the first run
	@scripts/doctor.sh

clean: ## remove everything built, the rootfs included
	rm -rf build $(BINS) $(ROOTFS)
