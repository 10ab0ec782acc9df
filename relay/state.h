/* SPDX-License-Identifier: MPL-2.0 */
/*
 * state.h - which services are drained, in control.state-file, across
 * restarts of the relay.
 */
#ifndef AH_STATE_H
#define AH_STATE_H

#include <sys/types.h>

struct relay;

/*
 * state_load() at start: a service the file names is drained; a file
 * that cannot be read or parsed drains every service (fail closed).
 * state_save()
 * writes it whole (temp file and rename); -1 on failure, logged and
 * kept in r->state_error for anycastctl until a save succeeds.
 */
void	state_load(struct relay *);
int	state_save(struct relay *);
/*
 * Up to 'len' bytes from fd, to its end (the state file, the handover
 * note): how many, or -1 with errno.
 */
ssize_t	state_read(int fd, char *buf, size_t len);
/* The index of service 'name' in r's configuration, or nservices. */
size_t	state_service_index(const struct relay *, const char *name);

#endif /* AH_STATE_H */
