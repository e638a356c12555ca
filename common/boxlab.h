/*
 * boxlab.h - everything a step's container.c uses from common/.
 *
 * common/ holds what every step shares and no step teaches: the one way
 * to make a kernel call (kcall.h), the command line (cli.h), starting and
 * waiting for the container (process.h) and raw system calls (syscalls.h);
 * from step 09, images (image/); from step 10, capabilities by name
 * (caps.h) and the seccomp filter (seccomp/); from step 11, the records
 * of containers that run in the background (record.h).
 */
#ifndef BOXLAB_H
#define BOXLAB_H

#include "caps.h"
#include "cgroup.h"
#include "cli.h"
#include "hints.h"
#include "kcall.h"
#include "netlink.h"
#include "parse.h"
#include "process.h"
#include "record.h"
#include "state.h"
#include "subnet.h"
#include "sync.h"
#include "syscalls.h"

/* Steps 09 on run images. */
#if STEP >= 9
#include "image/image.h"
#include "image/import.h"
#include "image/registry.h"
#include "image/ref.h"
#include "image/store.h"
#include "image/user.h"
#endif

/* Steps 10 on filter system calls. */
#if STEP >= 10
#include "seccomp/filter.h"
#endif

#endif
