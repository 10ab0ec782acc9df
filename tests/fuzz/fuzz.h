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

#define FUZZ_CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: property does not hold: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#endif /* AH_FUZZ_H */
