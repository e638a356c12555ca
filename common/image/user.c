/*
 * user.c - who a container runs as. An image's config may say User "app",
 * "1000", "app:staff" or "1000:50", and -u may override it. The names mean
 * what the image's own /etc/passwd and /etc/group say, not the host's, so
 * the runtime reads those two files itself with fgetpwent() and
 * fgetgrent(), which parse one stream and never ask NSS.
 *
 * The rules are docker's (moby's user.GetExecUser and the daemon's
 * getUser): a name must have an entry, a number need not; the primary gid
 * comes from passwd unless the spec names a group; the supplementary
 * groups are the primary gid plus, when the spec names no group, every
 * group that lists the user as a member.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "user.h"

/* The highest uid or gid there is: (uid_t)-1 means "leave unchanged" to setresuid(2). */
#define MAX_ID 4294967294UL

/* One side of "user:group": a name, or a number. */
struct id_arg {
	const char *text; /* not NUL-terminated: the spec continues */
	size_t len;
	int numeric;
	unsigned long id;
};

static int fail(char *err, size_t errsize, int error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errsize, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	errno = error;
	return -1;
}

/*
 * All digits: a number, which must fit a uid. A minus sign and digits: a
 * negative number, refused. Anything else is a name, looked up later.
 * -1 for an empty side or a number out of range.
 */
static int parse_side(const char *text, size_t len, struct id_arg *arg)
{
	size_t i, first = text[0] == '-';

	arg->text = text;
	arg->len = len;
	arg->numeric = 0;
	arg->id = 0;
	if (len == 0)
		return -1;
	for (i = first; i < len && isdigit((unsigned char)text[i]); i++)
		;
	if (i < len || i == first)
		return 0;
	if (first)
		return -1;
	for (i = 0; i < len; i++) {
		arg->id = arg->id * 10 + (unsigned long)(text[i] - '0');
		if (arg->id > MAX_ID)
			return -1;
	}
	arg->numeric = 1;
	return 0;
}

/* Split "user[:group]"; *has_group says whether there was a group. */
static int parse_spec(const char *spec, struct id_arg *who, struct id_arg *grp, int *has_group)
{
	const char *colon = strchr(spec, ':');

	*has_group = colon != NULL;
	if (!colon)
		return parse_side(spec, strlen(spec), who);
	if (strchr(colon + 1, ':'))
		return -1;
	if (parse_side(spec, (size_t)(colon - spec), who) < 0)
		return -1;
	return parse_side(colon + 1, strlen(colon + 1), grp);
}

static int same_name(const char *name, const struct id_arg *arg)
{
	return strlen(name) == arg->len && memcmp(name, arg->text, arg->len) == 0;
}

/*
 * fgetpwent() and fgetgrent() return NULL both at the end of the file and
 * on a failure; only the stream's error flag (or ENOMEM) tells them apart.
 */
static int read_failed(FILE *stream)
{
	return ferror(stream) || errno == ENOMEM;
}

/*
 * The first passwd entry that matches (a number matches the uid only, a
 * name the name only), copied into u. 1 if found, 0 if not, -1 on error.
 */
static int find_user(FILE *passwd, const struct id_arg *who, struct image_user *u, char *err,
		     size_t errsize)
{
	struct passwd *pw;

	if (!passwd)
		return 0;
	rewind(passwd);
	errno = 0;
	while ((pw = fgetpwent(passwd)) != NULL) {
		if (who->numeric ? pw->pw_uid == who->id : same_name(pw->pw_name, who))
			break;
	}
	if (!pw) {
		if (read_failed(passwd))
			return fail(err, errsize, EIO, "the passwd file cannot be read");
		return 0;
	}
	if (strlen(pw->pw_name) >= sizeof(u->name))
		return fail(err, errsize, EINVAL, "the passwd name of uid %u is too long",
			    (unsigned)pw->pw_uid);
	/* An empty home field means no home, as a missing entry does. */
	if (snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir[0] ? pw->pw_dir : "/") >=
	    (int)sizeof(u->home))
		return fail(err, errsize, EINVAL, "the home directory of user %s is too long",
			    pw->pw_name);
	strcpy(u->name, pw->pw_name);
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	return 1;
}

/* The gid of the first group with this name: 1 if found, 0 if not, -1 on error. */
static int find_group(FILE *group, const struct id_arg *grp, gid_t *gid, char *err, size_t errsize)
{
	struct group *gr;

	if (!group)
		return 0;
	rewind(group);
	errno = 0;
	while ((gr = fgetgrent(group)) != NULL) {
		if (same_name(gr->gr_name, grp)) {
			*gid = gr->gr_gid;
			return 1;
		}
	}
	if (read_failed(group))
		return fail(err, errsize, EIO, "the group file cannot be read");
	return 0;
}

/* Append gid to the list unless it is there already; -1 if the list is full. */
static int add_group(struct image_user *u, gid_t gid)
{
	int i;

	for (i = 0; i < u->ngroups; i++)
		if (u->groups[i] == gid)
			return 0;
	if (u->ngroups == USER_MAX_GROUPS)
		return -1;
	u->groups[u->ngroups++] = gid;
	return 0;
}

static int is_member(const struct group *gr, const char *name)
{
	char **member;

	for (member = gr->gr_mem; *member; member++)
		if (strcmp(*member, name) == 0)
			return 1;
	return 0;
}

/* Every group whose member list (the 4th field) names the user. */
static int add_memberships(FILE *group, struct image_user *u, char *err, size_t errsize)
{
	struct group *gr;

	if (!group || !u->name[0])
		return 0;
	rewind(group);
	errno = 0;
	while ((gr = fgetgrent(group)) != NULL) {
		if (!is_member(gr, u->name))
			continue;
		if (add_group(u, gr->gr_gid) < 0)
			return fail(err, errsize, EINVAL, "user %s is in more than %d groups",
				    u->name, USER_MAX_GROUPS);
	}
	if (read_failed(group))
		return fail(err, errsize, EIO, "the group file cannot be read");
	return 0;
}

int user_resolve(const char *spec, FILE *passwd, FILE *group, struct image_user *u, char *err,
		 size_t errsize)
{
	struct id_arg who = { "0", 1, 1, 0 }, grp = { NULL, 0, 0, 0 };
	int has_group = 0, found;
	gid_t gid = 0;

	memset(u, 0, sizeof(*u));
	strcpy(u->home, "/");
	/* No spec at all means root, whose entry (if any) still gives home and groups. */
	if (spec && spec[0] && parse_spec(spec, &who, &grp, &has_group) < 0)
		return fail(err, errsize, EINVAL, "invalid user \"%s\"", spec);

	found = find_user(passwd, &who, u, err, errsize);
	if (found < 0)
		return -1;
	if (!found) {
		if (!who.numeric)
			return fail(err, errsize, EINVAL,
				    "unable to find user %.*s: no matching entries in passwd file",
				    (int)who.len, who.text);
		/* A uid the image does not know: allowed, with gid 0 and home "/". */
		u->uid = (uid_t)who.id;
	}

	/* A gid need not exist in the image; a group name must. */
	if (has_group && grp.numeric)
		u->gid = (gid_t)grp.id;
	if (has_group && !grp.numeric) {
		found = find_group(group, &grp, &gid, err, errsize);
		if (found < 0)
			return -1;
		if (!found)
			return fail(err, errsize, EINVAL,
				    "unable to find group %.*s: no matching entries in group file",
				    (int)grp.len, grp.text);
		u->gid = gid;
	}

	/*
	 * docker lists the primary gid among the supplementary groups too: a
	 * process that later changes its gid (newgrp, a set-group-ID program)
	 * keeps it, so a file closed to that group stays closed. Memberships
	 * only count when the spec names no group.
	 */
	add_group(u, u->gid);
	if (!has_group)
		return add_memberships(group, u, err, errsize);
	return 0;
}
