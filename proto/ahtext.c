/*
 * ahtext.c - text made safe and plain for people (see ahtext.h).
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "ahtext.h"

size_t
ah_vis(char *dst, size_t len, const char *src, int flags)
{
	const unsigned char	*p;
	size_t			 n = 0, k;
	char			 e[5];

	for (p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p == '\\' && (flags & AH_VIS_KEEPBS))
			snprintf(e, sizeof(e), "\\");
		else if (*p == '\\' || *p == '\n' || *p == '\r' || *p == '\t')
			snprintf(e, sizeof(e), "\\%c", *p == '\n' ? 'n' :
			    *p == '\r' ? 'r' : *p == '\t' ? 't' : '\\');
		else if (*p < 0x20 || *p > 0x7e)
			snprintf(e, sizeof(e), "\\x%02x", *p);
		else {
			e[0] = (char)*p;
			e[1] = '\0';
		}
		k = strlen(e);
		if (n + k >= len)
			break;
		memcpy(dst + n, e, k);
		n += k;
	}
	dst[n] = '\0';
	return (n);
}

const char *
ah_plural(uint64_t n)
{
	return (n == 1 ? "" : "s");
}
