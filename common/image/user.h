/*
 * user.h - who a container runs as: the image's User (or -u) resolved
 * against the image's own /etc/passwd and /etc/group, the way docker
 * resolves it. Never the host's files, never NSS: the runtime opens the
 * files after it has moved into the container's root.
 */
#ifndef BOXLAB_IMAGE_USER_H
#define BOXLAB_IMAGE_USER_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define USER_MAX_GROUPS 64

struct image_user {
	uid_t uid;
	gid_t gid;
	/*
	 * The list for setgroups(), as docker sets it: the primary gid first,
	 * then, only when the spec names no group, every group of
	 * /etc/group that lists the user as a member. No gid twice.
	 */
	gid_t groups[USER_MAX_GROUPS];
	int ngroups;
	char name[64]; /* the passwd name, or "" when the uid has no entry */
	char home[256]; /* from passwd; "/" when none */
};

/*
 * Resolve spec against the image's passwd and group files. Forms: "user",
 * "uid", "user:group", "uid:gid", "user:gid", "uid:group". A name must be
 * in the file; a number need not be (a uid without an entry gets gid 0 and
 * home "/"). "" or NULL means root: uid 0 with the gid, home and groups of
 * passwd's uid 0 entry when there is one, else gid 0 and home "/".
 * Either stream may be NULL: the image has no such file. Both are rewound
 * before each pass.
 *
 * 0 on success. -1 with errno EINVAL and err filled when the spec is
 * malformed, a name is not found or the user is in too many groups; -1
 * with errno EIO when a stream cannot be read.
 */
int user_resolve(const char *spec, FILE *passwd, FILE *group, struct image_user *u, char *err,
		 size_t errsize);

#endif
