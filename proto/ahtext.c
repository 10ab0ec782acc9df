/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahtext.c - text made safe and plain for people (see ahtext.h).
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "ahtext.h"

/*
 * The length of the UTF-8 character at 'p', 2 to 4, if it is one that
 * a terminal only prints; else 0: a C1 control, a surrogate, an
 * overlong or cut sequence, or a byte that starts none.
 */
static size_t
utf8_len(const unsigned char *p)
{
	uint32_t	c;
	size_t		n, i;

	if (*p >= 0xc2 && *p <= 0xdf) {
		n = 2;
		c = *p & 0x1f;
	} else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		c = *p & 0x0f;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		c = *p & 0x07;
	} else
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < 0xa0 || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return (0);
	return (n);
}

size_t
ah_vis(char *dst, size_t len, const char *src, int flags)
{
	const unsigned char	*p;
	size_t			 n = 0, k;
	char			 e[5];

	for (p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p > 0x7e && (flags & AH_VIS_UTF8) &&
		    (k = utf8_len(p)) > 0) {
			if (n + k >= len)
				break;
			memcpy(dst + n, p, k);
			n += k;
			p += k - 1;
			continue;
		}
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
