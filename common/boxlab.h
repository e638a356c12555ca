/*
 * boxlab.h - everything a step's container.c uses from common/.
 *
 * common/ holds what every step shares and no step teaches: the one way
 * to make a kernel call (kcall.h), the command line (cli.h), starting and
 * waiting for the container (process.h) and raw system calls (syscalls.h);
 * from step 09, images (image/).
 */
#ifndef BOXLAB_H
#define BOXLAB_H

#include "cgroup.h"
#include "cli.h"
#include "hints.h"
#include "kcall.h"
#include "netlink.h"
#include "parse.h"
#include "process.h"
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

#endif
