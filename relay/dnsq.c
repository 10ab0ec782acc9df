/* SPDX-License-Identifier: MPL-2.0 */
/*
 * dnsq.c - DNS queries from the relay to the local named (see dnsq.h).
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsq.h"

/* Fills 'ss' with addr#port; returns its length, 0 if not an address. */
static socklen_t
sockaddr_of(const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return (sizeof(*sin));
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		return (sizeof(*sin6));
	}
	return (0);
}

int
dnsq_socket(const char *server, const char *source, uint16_t port)
{
	struct sockaddr_storage	ss, src;
	socklen_t		len, slen;
	int			fd, saved;

	if ((len = sockaddr_of(server, port, &ss)) == 0) {
		errno = EINVAL;
		return (-1);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0)
		return (-1);
	if (source[0] != '\0') {
		if ((slen = sockaddr_of(source, 0, &src)) == 0 ||
		    src.ss_family != ss.ss_family) {
			close(fd);
			errno = EAFNOSUPPORT;
			return (-1);
		}
		if (bind(fd, (struct sockaddr *)&src, slen) < 0)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	return (fd);
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return (-1);
}

int
dnsq_build(unsigned char *buf, size_t cap, uint16_t id, const char *qname,
    uint16_t qtype, int rd)
{
	const char	*l = qname;
	size_t		 n = 12, len;

	if (cap < 12)
		return (-1);
	memset(buf, 0, 12);
	buf[0] = id >> 8;
	buf[1] = id & 0xff;
	buf[2] = rd ? 0x01 : 0x00;		/* RD */
	buf[5] = 1;				/* QDCOUNT */
	while (*l != '\0' && strcmp(l, ".") != 0) {
		len = strcspn(l, ".");
		if (len == 0 || len > 63 || n + len + 1 >= cap)
			return (-1);
		buf[n++] = (unsigned char)len;
		memcpy(buf + n, l, len);
		n += len;
		l += len;
		if (*l == '.')
			l++;
	}
	if (n + 5 > cap)
		return (-1);
	buf[n++] = 0;
	buf[n++] = qtype >> 8;
	buf[n++] = qtype & 0xff;
	buf[n++] = 0;
	buf[n++] = 1;				/* IN */
	return ((int)n);
}
