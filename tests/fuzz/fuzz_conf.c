/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_conf.c - the relay's YAML loader on any file.
 *
 * conf_load() takes a path, so the input goes into a memfd that the
 * loader opens through /proc/self/fd: it runs unchanged, on a file that
 * lives in memory.  Properties: a config or errors, never both and
 * never neither; every error line names the file and a line number
 * (parse.h's "file:line:column: message"); nothing leaks (ASan).
 * A rejected file is also read as a relay and anycastctl read it then
 * (conf_fallback()): a configuration without services whose control
 * socket and state file are absolute paths, whatever the bytes.
 */
#include <config.h>

#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "parse.h"

static int	memfd = -1;
static char	path[64];

static void
check_errors(const char *text, size_t len)
{
	size_t		 plen = strlen(path);
	const char	*p = text, *nl;

	while (p < text + len) {
		FUZZ_CHECK(strncmp(p, path, plen) == 0 && p[plen] == ':' &&
		    p[plen + 1] >= '1' && p[plen + 1] <= '9');
		nl = memchr(p, '\n', (size_t)(text + len - p));
		FUZZ_CHECK(nl != NULL);
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_conf	*rc;
	FILE			*errf;
	char			*errs = NULL;
	size_t			 errlen = 0;

	if (memfd == -1) {
		memfd = memfd_create("fuzz_conf.yaml", 0);
		FUZZ_CHECK(memfd != -1);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	FUZZ_CHECK(ftruncate(memfd, 0) == 0);
	FUZZ_CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size);

	errf = open_memstream(&errs, &errlen);
	FUZZ_CHECK(errf != NULL);
	rc = conf_load(path, errf);
	fclose(errf);

	if (rc != NULL)
		FUZZ_CHECK(errlen == 0);
	else {
		FUZZ_CHECK(errlen > 0);
		rc = conf_fallback(path);
		FUZZ_CHECK(rc != NULL && rc->nservices == 0 &&
		    rc->control_socket[0] == '/' && rc->state_file[0] == '/');
	}
	check_errors(errs, errlen);
	conf_free(rc);
	free(errs);
	return (0);
}
