/*
 * jsoncheck FILE: exit 0 if FILE is one well-formed JSON value (RFC 8259),
 * else say where it goes wrong and exit 1.  A validator small enough to
 * read, so that tests need neither python nor jq.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text, *p;

static int fail(const char *what)
{
	fprintf(stderr, "jsoncheck: byte %ld: %s\n", (long)(p - text), what);
	exit(1);
}

static void skip_space(void)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
}

static void value(int depth);

static void string(void)
{
	p++; /* the opening quote */
	for (;;) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			p++;
			return;
		}
		if (c == '\0')
			fail("a string that never ends");
		if (c < 0x20)
			fail("a control character in a string (it must be escaped)");
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				int i;

				for (i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						fail("\\u needs four hex digits");
				p += 5;
				continue;
			}
			if (!*p || !strchr("\"\\/bfnrt", *p))
				fail("an unknown escape in a string");
		}
		p++;
	}
}

static void number(void)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (isdigit((unsigned char)*p))
		while (isdigit((unsigned char)*p))
			p++;
	else
		fail("a number needs a digit");
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			fail("a fraction needs a digit");
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			fail("an exponent needs a digit");
		while (isdigit((unsigned char)*p))
			p++;
	}
}

static void members(int depth, char close)
{
	p++; /* the opening bracket */
	skip_space();
	if (*p == close) {
		p++;
		return;
	}
	for (;;) {
		skip_space();
		if (close == '}') {
			if (*p != '"')
				fail("an object key must be a string");
			string();
			skip_space();
			if (*p != ':')
				fail("a ':' after an object key");
			p++;
		}
		value(depth + 1);
		skip_space();
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == close) {
			p++;
			return;
		}
		fail(close == '}' ? "a ',' or '}' in an object" : "a ',' or ']' in an array");
	}
}

static void value(int depth)
{
	if (depth > 100)
		fail("nested too deep");
	skip_space();
	if (*p == '{' || *p == '[')
		members(depth, *p == '{' ? '}' : ']');
	else if (*p == '"')
		string();
	else if (*p == '-' || isdigit((unsigned char)*p))
		number();
	else if (!strncmp(p, "true", 4))
		p += 4;
	else if (!strncmp(p, "false", 5))
		p += 5;
	else if (!strncmp(p, "null", 4))
		p += 4;
	else
		fail("a value was expected");
}

int main(int argc, char **argv)
{
	static char buf[1 << 24];
	size_t len;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: jsoncheck FILE\n");
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (memchr(buf, '\0', len))
		return fprintf(stderr, "jsoncheck: a NUL byte in %s\n", argv[1]), 1;
	text = p = buf;
	value(0);
	skip_space();
	if (*p)
		fail("something after the value");
	return 0;
}
