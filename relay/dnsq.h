/* SPDX-License-Identifier: MPL-2.0 */
/*
 * dnsq.h - the one way the relay puts a DNS query on the wire to the
 * local named: a connected, non-blocking UDP socket and a query
 * packet.  Shared by the canary (canary.c) and the liveness probe
 * (liveness.c).
 */
#ifndef AH_DNSQ_H
#define AH_DNSQ_H

#include <stddef.h>
#include <stdint.h>

/*
 * A UDP socket connected to server#port, bound to 'source' unless it
 * is empty.  Connected, so the kernel drops datagrams from anyone else
 * and reports an ICMP refusal as ECONNREFUSED.  Returns -1 with errno.
 */
int	dnsq_socket(const char *server, const char *source, uint16_t port);
/* A query for qname/qtype, class IN; returns its length or -1. */
int	dnsq_build(unsigned char *buf, size_t cap, uint16_t id,
	    const char *qname, uint16_t qtype, int rd);

#endif /* AH_DNSQ_H */
