/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ahtext.h - text from the sockets made safe and plain for people.
 *
 * Names and reasons that come from named (views, zones, domain names)
 * or from ExaBGP reach the relay's log and anycastctl's output.  Both
 * show them through ah_vis(), as bgpctl shows a peer's shutdown
 * communication through strnvis(3): a name can then neither end a line
 * and forge the next one nor drive the reader's terminal.
 */
#ifndef AHTEXT_H
#define AHTEXT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Bytes other than printable ASCII made visible, C style: \n, \r, \t,
 * \\, else \xHH.  For text with escapes and an encoding of its own
 * (the Prometheus exposition: backslash escapes, UTF-8), AH_VIS_KEEPBS
 * leaves backslashes alone and AH_VIS_UTF8 well-formed UTF-8 other
 * than the C1 controls, which some terminals obey.  'dst' (len > 0) is
 * cut at a whole escape or character and always terminated; returns
 * the length written.  4 * strlen(src) + 1 bytes hold any 'src'.
 */
#define AH_VIS_KEEPBS	0x01
#define AH_VIS_UTF8	0x02
size_t		 ah_vis(char *dst, size_t len, const char *src, int flags);

/* "" for one, "s" for any other count: "1 service", "2 services". */
const char	*ah_plural(uint64_t n);

#endif /* AHTEXT_H */
