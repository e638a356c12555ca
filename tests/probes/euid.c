/*
 * euid - prints its effective uid, and does nothing else.  The tests'
 * rootfs holds it setuid-root: run by another user, it prints 0 when the
 * kernel honoured the setuid bit, and that user's uid when no_new_privs
 * told the kernel not to (step 10).  So small on purpose: a setuid-root
 * program on the host must give nothing away.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("%u\n", (unsigned)geteuid());
	return 0;
}
