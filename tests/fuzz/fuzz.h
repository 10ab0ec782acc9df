/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz.h - what every fuzz target shares.
 *
 * A target is one file, fuzz_NAME.c, defining LLVMFuzzerTestOneInput()
 * for one input surface.  It checks properties with FUZZ_CHECK(), which
 * aborts (so libFuzzer and replay.c both report it) whatever NDEBUG
 * says: a property that held only in debug builds would prove nothing.
 */
#ifndef AH_FUZZ_H
#define AH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ahproto.h"

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property does not hold: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * One read of a stream into a line splitter, as a socket or a pipe
 * delivers it: 1 to 1500 bytes, the size drawn from *seed, so that
 * lines are cut across reads in every way.  Returns how much of 'data'
 * has been read after it.
 */
static inline size_t
fuzz_read(struct ah_lines *l, const uint8_t *data, size_t size, size_t fed,
    unsigned int *seed)
{
	size_t	 room, chunk;
	char	*space = ah_lines_space(l, &room);

	FUZZ_CHECK(room > 0);
	*seed = *seed * 1103515245 + 12345;
	chunk = 1 + (*seed >> 16) % 1500;
	if (chunk > room)
		chunk = room;
	if (chunk > size - fed)
		chunk = size - fed;
	memcpy(space, data + fed, chunk);
	ah_lines_fill(l, chunk);
	return (fed + chunk);
}

#endif /* AH_FUZZ_H */
