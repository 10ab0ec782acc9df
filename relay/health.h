/* SPDX-License-Identifier: MPL-2.0 */
/*
 * health.h - the verdict for each service, and what it means for its
 * routes.
 */
#ifndef AH_HEALTH_H
#define AH_HEALTH_H

#include <stddef.h>
#include <stdint.h>

struct relay;
struct service_conf;
struct service_state;

/*
 * Judge one service.  'snapshot' is true when a new snapshot
 * arrived since the last call.  Returns 1 if the route mode changed.
 */
void	health_init(struct service_state *, const struct service_conf *);
int	health_judge(struct relay *, size_t svc, int64_t now, int snapshot);
/*
 * Monotonic ms after 'now' at which service svc's hard verdict may
 * change by itself, or INT64_MAX.
 */
int64_t	health_deadline(const struct relay *, size_t svc, int64_t now);
/*
 * anycastctl drain and undrain of service svc: the drain (drain.h),
 * the routes, the state file.  timeout_ms < 0 is the service's
 * drain.timeout; 'every': every service is drained by the same request.
 */
void	health_drain(struct relay *, size_t svc, int64_t timeout_ms,
	    const char *who, int every, int64_t now);
int	health_undrain(struct relay *, size_t svc, const char *who);
/*
 * anycastctl release of service svc: the flap-damping hold ends now.
 * Returns the hold that was left, 0 if it was not held.
 */
int64_t	health_release(struct relay *, size_t svc, const char *who,
	    int64_t now);

/*
 * Where the service is, as replies and metrics name it.  The route mode
 * says what the router was told; this says where the service is
 * heading.
 */
enum health_state {
	HEALTH_UP, HEALTH_FALLING, HEALTH_DEPREFERRED, HEALTH_KEPT,
	HEALTH_RISING, HEALTH_HELD, HEALTH_DOWN, HEALTH_DRAINING,
	HEALTH_DRAINED, HEALTH_STATES
};

extern const char *const health_state_names[HEALTH_STATES];
enum health_state health_state(const struct service_state *, int64_t now);

#endif /* AH_HEALTH_H */
