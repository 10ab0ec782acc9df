/* SPDX-License-Identifier: MPL-2.0 */
/*
 * control.h - the control socket anycastctl talks to, and the metrics
 * endpoint beside it.
 */
#ifndef AH_CONTROL_H
#define AH_CONTROL_H

#include <poll.h>
#include <stddef.h>

struct relay;
struct relay_conf;

int	control_init(struct relay *);
void	control_fds(struct pollfd *, size_t *);
void	control_dispatch(struct relay *, const struct pollfd *, size_t);
void	control_cleanup(const struct relay_conf *);

#endif /* AH_CONTROL_H */
