/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_http.c - the metrics endpoint's own hold on its connections
 * (relay/http.c): deadlines and per-address limits close the right
 * sockets.  libmicrohttpd is played here as its 1.0 header documents
 * it: every MHD_get_connection_info() answer lands in one union of the
 * connection, "invalidated with the next call of this function".  0.9
 * pointed into the connection instead, and hid code that read an
 * answer after asking the next question.  Each connection is one end
 * of a socketpair; the test holds the other and sees the EOF.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <microhttpd.h>

#include "ahclock.h"
#include "http.h"
#include "metrics.h"

#define NCONN	48

struct MHD_Connection {
	int			 fd, peer;	/* ours, the client's */
	struct sockaddr_in	 sin;
	void			*ctx;
	union MHD_ConnectionInfo info;		/* 1.0: one answer */
};

struct MHD_Daemon {
	int	unused;
};

static struct MHD_Daemon	daemon_;
static MHD_NotifyConnectionCallback notify_cb;
static void			*notify_cls;
static MHD_AccessHandlerCallback answer_cb;
static void			*answer_cls;
static struct MHD_Connection	conns[NCONN];
static int64_t			now;

int64_t
ah_mono_ms(void)
{
	return (now);
}

/* Never called: no request here asks for /metrics. */
void
metrics_render(struct relay *r, struct buf *b)
{
	(void)r;
	(void)b;
	fail();
}

void
buf_free(struct buf *b)
{
	(void)b;
}

struct MHD_Daemon *
MHD_start_daemon(unsigned int flags, uint16_t port,
    MHD_AcceptPolicyCallback apc, void *apc_cls,
    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	va_list	ap;
	int	opt;

	(void)flags, (void)port, (void)apc, (void)apc_cls;
	answer_cb = dh;
	answer_cls = dh_cls;
	va_start(ap, dh_cls);
	while ((opt = va_arg(ap, int)) != MHD_OPTION_END)
		switch (opt) {
		case MHD_OPTION_EXTERNAL_LOGGER:
			(void)va_arg(ap, void *);
			(void)va_arg(ap, void *);
			break;
		case MHD_OPTION_SOCK_ADDR:
			(void)va_arg(ap, void *);
			break;
		case MHD_OPTION_CONNECTION_LIMIT:
		case MHD_OPTION_CONNECTION_TIMEOUT:
			(void)va_arg(ap, unsigned int);
			break;
		case MHD_OPTION_NOTIFY_CONNECTION:
			notify_cb = va_arg(ap, MHD_NotifyConnectionCallback);
			notify_cls = va_arg(ap, void *);
			break;
		default:
			fail_msg("option %d not played by this test", opt);
		}
	va_end(ap);
	return (&daemon_);
}

const union MHD_ConnectionInfo *
MHD_get_connection_info(struct MHD_Connection *mc,
    enum MHD_ConnectionInfoType type, ...)
{
	memset(&mc->info, 0, sizeof(mc->info));
	switch (type) {
	case MHD_CONNECTION_INFO_CONNECTION_FD:
		mc->info.connect_fd = mc->fd;
		break;
	case MHD_CONNECTION_INFO_CLIENT_ADDRESS:
		mc->info.client_addr = (struct sockaddr *)&mc->sin;
		break;
	case MHD_CONNECTION_INFO_SOCKET_CONTEXT:
		mc->info.socket_context = mc->ctx;
		break;
	default:
		return (NULL);
	}
	return (&mc->info);
}

const union MHD_DaemonInfo *
MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType type, ...)
{
	(void)d, (void)type;
	return (NULL);
}

enum MHD_Result
MHD_run(struct MHD_Daemon *d)
{
	(void)d;
	return (MHD_YES);
}

void
MHD_stop_daemon(struct MHD_Daemon *d)
{
	(void)d;
}

struct MHD_Response *
MHD_create_response_from_buffer(size_t size, void *buffer,
    enum MHD_ResponseMemoryMode mode)
{
	(void)size, (void)buffer, (void)mode;
	return (NULL);
}

enum MHD_Result
MHD_add_response_header(struct MHD_Response *resp, const char *header,
    const char *content)
{
	(void)resp, (void)header, (void)content;
	return (MHD_NO);
}

enum MHD_Result
MHD_queue_response(struct MHD_Connection *mc, unsigned int status_code,
    struct MHD_Response *resp)
{
	(void)mc, (void)status_code, (void)resp;
	return (MHD_NO);
}

void
MHD_destroy_response(struct MHD_Response *resp)
{
	(void)resp;
}

/* Connection 'i' arrives from 'addr' now. */
static struct MHD_Connection *
connect_from(int i, const char *addr)
{
	struct MHD_Connection	*mc = &conns[i];
	int			 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	mc->fd = sv[0];
	mc->peer = sv[1];
	mc->sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &mc->sin.sin_addr), 1);
	notify_cb(notify_cls, mc, &mc->ctx, MHD_CONNECTION_NOTIFY_STARTED);
	return (mc);
}

/*
 * Connection 'mc' sends a whole request, for a page that is not there
 * (the metrics are not rendered here), and is closed as libmicrohttpd
 * closes it once answered.
 */
static void
ask_and_close(struct MHD_Connection *mc)
{
	size_t	len = 0;
	void	*req = NULL;

	(void)answer_cb(answer_cls, mc, "/", MHD_HTTP_METHOD_GET,
	    MHD_HTTP_VERSION_1_1, NULL, &len, &req);
	notify_cb(notify_cls, mc, &mc->ctx, MHD_CONNECTION_NOTIFY_CLOSED);
	close(mc->fd);
	close(mc->peer);
	mc->fd = mc->peer = 0;
}

/* The client's end: 1 if the relay closed the connection. */
static int
closed(const struct MHD_Connection *mc)
{
	char	c;
	ssize_t	n = read(mc->peer, &c, 1);

	if (n < 0)
		assert_int_equal(errno, EAGAIN);
	return (n == 0);
}

static int
setup(void **state)
{
	(void)state;
	memset(conns, 0, sizeof(conns));
	now = 1000000;
	assert_int_equal(http_listen(NULL, "127.0.0.1:9100"), 0);
	assert_non_null(notify_cb);
	return (0);
}

static int
teardown(void **state)
{
	int	i;

	(void)state;
	for (i = 0; i < NCONN; i++) {
		if (conns[i].fd <= 0)
			continue;
		notify_cb(notify_cls, &conns[i], &conns[i].ctx,
		    MHD_CONNECTION_NOTIFY_CLOSED);
		close(conns[i].fd);
		close(conns[i].peer);
	}
	http_stop();
	return (0);
}

/* Silent for a second: kept; silent past every deadline: closed. */
static void
test_silent_connection_closed_at_its_deadline(void **state)
{
	struct MHD_Connection	*mc;

	(void)state;
	mc = connect_from(0, "192.0.2.1");
	now += 1000;
	http_run();
	assert_false(closed(mc));
	now += 10000;
	http_run();
	assert_true(closed(mc));
}

/* One more than an address may hold (HTTP_PER_ADDR, 4): its oldest goes. */
static void
test_one_address_makes_room_from_its_oldest(void **state)
{
	struct MHD_Connection	*mc[6];
	int			 i;

	(void)state;
	for (i = 0; i < 5; i++) {
		mc[i] = connect_from(i, "192.0.2.1");
		now += 10;
	}
	mc[5] = connect_from(5, "198.51.100.1");
	assert_true(closed(mc[0]));
	for (i = 1; i < 6; i++)
		assert_false(closed(mc[i]));
}

/*
 * A scraper answered before connects again, and before its request is
 * read, 40 strangers arrive a millisecond apart, more than HTTP_CONNS
 * (32): they make room from each other, never from the scraper,
 * although it is the oldest waiting.
 */
static void
test_an_address_answered_before_keeps_its_place(void **state)
{
	struct MHD_Connection	*scraper;
	char			 addr[32];
	int			 i, gone = 0;

	(void)state;
	ask_and_close(connect_from(0, "192.0.2.1"));
	now += 15000;
	scraper = connect_from(0, "192.0.2.1");
	for (i = 1; i <= 40; i++) {
		now += 1;
		snprintf(addr, sizeof(addr), "198.51.100.%d", i);
		(void)connect_from(i, addr);
	}
	http_run();
	assert_false(closed(scraper));
	for (i = 1; i <= 40; i++)
		gone += closed(&conns[i]);
	assert_int_equal(gone, 40 - 31);
}

/*
 * Strangers alike: beyond HTTP_CONNS, the oldest stranger makes room,
 * the way it did before any address was known.
 */
static void
test_strangers_make_room_from_the_oldest(void **state)
{
	char	addr[32];
	int	i;

	(void)state;
	for (i = 0; i < 34; i++) {
		now += 1;
		snprintf(addr, sizeof(addr), "198.51.100.%d", i + 1);
		(void)connect_from(i, addr);
	}
	assert_true(closed(&conns[0]));
	assert_true(closed(&conns[1]));
	for (i = 2; i < 34; i++)
		assert_false(closed(&conns[i]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_silent_connection_closed_at_its_deadline, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_one_address_makes_room_from_its_oldest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_an_address_answered_before_keeps_its_place, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_strangers_make_room_from_the_oldest, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
