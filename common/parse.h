/*
 * parse.h - turning the words of a command line into values.
 * Pure functions: they never print; they return -1 (or 0 for a bool).
 */
#ifndef BOXLAB_PARSE_H
#define BOXLAB_PARSE_H

/* 1 if name is a usable host name: 1-64 of [A-Za-z0-9.-], no leading '-'. */
int valid_hostname(const char *name);

/*
 * 1 if name is a usable container name, as docker has them: 1-63 of
 * [A-Za-z0-9_.-], a letter or digit first (step 11).
 */
int valid_name(const char *name);

/* "TERM", "SIGTERM", "term" or "15" -> 15; -1 for anything else (step 11). */
int parse_signal(const char *text);

/*
 * "64M" -> 67108864.  A number with an optional K, M, G or T suffix
 * (powers of 1024, either case, an optional trailing "B" or "iB").
 * Returns -1 for anything else, for zero and for overflow.
 */
long long parse_size(const char *text);

/*
 * "0.5" CPUs -> 50000, the microseconds per period of `period` that many
 * CPUs get.  From 0.01 to max CPUs, at most two decimals; -1 otherwise.
 */
long parse_cpus(const char *text, long period, long max);

/* A whole number from 1 to max, or -1. */
long parse_count(const char *text, long max);

/*
 * A resource limit into *value: a whole number from 0, or "-1" or
 * "unlimited" for RLIM_INFINITY.  0, or -1 for anything else.
 */
int parse_rlimit(const char *text, unsigned long long *value);

#endif
