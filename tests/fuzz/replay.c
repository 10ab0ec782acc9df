/* SPDX-License-Identifier: MPL-2.0 */
/*
 * replay.c - runs a fuzz target over files, without libFuzzer.
 *
 * Builds without --enable-fuzzing link this in place of libFuzzer, so
 * 'make check' feeds every committed seed, and every crash kept as a
 * regression seed, through its target (under ASan and UBSan when
 * configured with --enable-sanitizers).  Arguments are files or
 * directories; with none, the target's own seeds:
 * $AH_FUZZ_CORPUS/NAME, NAME being this program's name.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int	replay_path(const char *);

/* Exactly the file's size, so ASan sees any read past the input. */
static int
replay_file(const char *path, off_t size)
{
	uint8_t	*buf;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_RDONLY)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if ((buf = malloc(size > 0 ? (size_t)size : 1)) == NULL) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		close(fd);
		return (-1);
	}
	n = read(fd, buf, (size_t)size);
	close(fd);
	if (n != size) {
		fprintf(stderr, "replay: %s: short read\n", path);
		free(buf);
		return (-1);
	}
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	return (1);
}

static int
replay_dir(const char *path)
{
	struct dirent	*de;
	DIR		*d;
	char		 sub[4096];
	int		 total = 0, n;

	if ((d = opendir(path)) == NULL) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if ((n = replay_path(sub)) < 0) {
			total = -1;
			break;
		}
		total += n;
	}
	closedir(d);
	return (total);
}

/* The number of inputs run, or -1. */
static int
replay_path(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return (-1);
	}
	if (S_ISDIR(st.st_mode))
		return (replay_dir(path));
	return (replay_file(path, st.st_size));
}

int
main(int argc, char *argv[])
{
	const char	*corpus;
	char		 dir[4096];
	int		 i, n, total = 0;

	if (argc > 1) {
		for (i = 1; i < argc; i++) {
			if ((n = replay_path(argv[i])) < 0)
				return (1);
			total += n;
		}
	} else {
		if ((corpus = getenv("AH_FUZZ_CORPUS")) == NULL) {
			fprintf(stderr, "usage: %s file|dir ... "
			    "(or set AH_FUZZ_CORPUS)\n", argv[0]);
			return (2);
		}
		snprintf(dir, sizeof(dir), "%s/%s", corpus, basename(argv[0]));
		if ((total = replay_path(dir)) < 0)
			return (1);
	}
	/* No input would make this a test that cannot fail. */
	if (total == 0) {
		fprintf(stderr, "replay: no input\n");
		return (1);
	}
	printf("replay: %s: %d inputs, every property held\n",
	    basename(argv[0]), total);
	return (0);
}
