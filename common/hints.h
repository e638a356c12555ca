/*
 * hints.h - what a failed kernel call usually means.
 *
 * The table is data, keyed by the call's name and the errno it failed
 * with, so that a learner who meets EINVAL from pivot_root reads the four
 * usual causes instead of "Invalid argument".  A hint is the same for
 * every run, so it names no path or id: the failure line says those.  Pure functions: they
 * never print.
 */
#ifndef BOXLAB_HINTS_H
#define BOXLAB_HINTS_H

/* "pivot_root" from "sys_pivot_root(\".\", \".\")" or "mount(...)". */
void call_name(const char *call, char *name, unsigned long size);

/*
 * The hint for this call and errno, or NULL when there is none.  `doing`
 * (what we were doing, or NULL) may hold a row's word too.  err 0: `call`
 * is a setting of the machine ("user.max_user_namespaces = 0").
 */
const char *hint_for(const char *call, const char *doing, int err);

/* "EINVAL" for EINVAL; "E123" for a value the C library cannot name. */
const char *errno_name(int err);

#endif
