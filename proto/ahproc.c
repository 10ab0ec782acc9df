/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahproc.c - a process's /proc/PID/stat (see ahproc.h).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ahproc.h"

int
ah_proc_stat(pid_t pid, struct ah_proc *pr)
{
	char	 path[64], buf[1024], *p;
	ssize_t	 n;
	int	 fd, field;

	if (pid <= 0)
		return (-1);
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return (-1);
	while ((n = read(fd, buf, sizeof(buf) - 1)) < 0 && errno == EINTR)
		;
	close(fd);
	if (n <= 0)
		return (-1);
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return (-1);
	if (sscanf(p + 2, "%*c %d", &pr->ppid) != 1)
		return (-1);
	for (p += 2, field = 3; field < 22; field++)
		if ((p = strchr(p, ' ')) == NULL)
			return (-1);
		else
			p++;
	pr->started = strtoull(p, NULL, 10);
	return (0);
}
