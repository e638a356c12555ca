/*
 * fake_tree.h - temporary directories the unit tests lay out like a part
 * of /proc/sys or /sys/fs/cgroup, so that common/ can be tested on them.
 * Include after cmocka.h.
 */
#ifndef BOXLAB_FAKE_TREE_H
#define BOXLAB_FAKE_TREE_H

#include <stdio.h>
#include <stdlib.h>

/* A new empty directory named from TEMPLATE ("/tmp/x.XXXXXX"), in buf. */
static inline char *make_fake(char *buf, size_t size, const char *template)
{
	snprintf(buf, size, "%s", template);
	assert_non_null(mkdtemp(buf));
	return buf;
}

/* rm -rf the fake tree. */
static inline void remove_fake(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

#endif
