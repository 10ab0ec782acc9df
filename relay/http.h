/* SPDX-License-Identifier: MPL-2.0 */
/*
 * http.h - the metrics over HTTP (control.metrics-listen): the
 * exposition of metrics.h, served to Prometheus from the relay's loop
 * so that no client can keep a scrape from being answered.
 */
#ifndef AH_HTTP_H
#define AH_HTTP_H

struct relay;

/* 0, or -1 if it cannot listen on 'addr' (logged; the relay goes on). */
int	http_listen(struct relay *, const char *addr);
/* An fd for poll(): readable when http_run() has work; -1 if none. */
int	http_fd(void);
/* Serves what is ready; closes connections past their deadline. */
void	http_run(void);
void	http_stop(void);

#endif /* AH_HTTP_H */
