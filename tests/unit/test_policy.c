/*
 * test_policy.c - window arithmetic, quantiles, hysteresis and flap
 * damping, driven with made-up clocks and counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

static struct window w;

static void
push(int64_t t, uint64_t queries, uint64_t servfail)
{
	struct sample s;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.queries = queries;
	s.servfail = servfail;
	window_push(&w, &s);
}

static void
test_window_needs_two(void **state)
{
	struct sample d;

	(void)state;
	window_reset(&w);
	assert_int_equal(window_delta(&w, 10000, &d), -1);
	push(0, 10, 1);
	assert_int_equal(window_delta(&w, 10000, &d), -1);
	push(1000, 30, 2);
	assert_int_equal(window_delta(&w, 10000, &d), 1000);
	assert_int_equal(d.queries, 20);
	assert_int_equal(d.servfail, 1);
}

static void
test_window_span(void **state)
{
	struct sample	d;
	int64_t		t;

	(void)state;
	window_reset(&w);
	/* 100 queries a second, 10 SERVFAIL a second for the last 5 s. */
	for (t = 0; t <= 30000; t += 1000)
		push(t, (uint64_t)t / 10,
		    t > 25000 ? (uint64_t)(t - 25000) / 100 : 0);
	/* The base is the newest sample at least 10 s old: t = 20 s. */
	assert_int_equal(window_delta(&w, 10000, &d), 10000);
	assert_int_equal(d.queries, 1000);
	assert_int_equal(d.servfail, 50);
	assert_int_equal(window_delta(&w, 3000, &d), 3000);
	assert_int_equal(d.queries, 300);
	assert_int_equal(d.servfail, 30);
	/* Longer than the history: the oldest sample is the base. */
	assert_int_equal(window_delta(&w, 3600000, &d), 30000);
	assert_int_equal(d.queries, 3000);
}

static void
test_window_irregular(void **state)
{
	struct sample d;

	(void)state;
	window_reset(&w);
	push(0, 0, 0);
	push(4000, 40, 0);
	push(9500, 95, 0);
	push(12000, 120, 0);
	/* Nothing exactly 10 s back: the newest at least 10 s old is t=0. */
	assert_int_equal(window_delta(&w, 10000, &d), 12000);
	assert_int_equal(d.queries, 120);
}

static void
test_window_counter_reset(void **state)
{
	struct sample d;

	(void)state;
	window_reset(&w);
	push(0, 1000, 10);
	push(1000, 2000, 20);
	/* named restarted: counters begin again; old history is void. */
	push(2000, 5, 0);
	assert_int_equal(window_delta(&w, 10000, &d), -1);
	push(3000, 105, 50);
	assert_int_equal(window_delta(&w, 10000, &d), 1000);
	assert_int_equal(d.queries, 100);
	assert_int_equal(d.servfail, 50);
}

static void
test_window_wraps(void **state)
{
	struct sample	d;
	int64_t		t;

	(void)state;
	window_reset(&w);
	for (t = 0; t < 3 * WINDOW_SAMPLES; t++)
		push(t * 100, (uint64_t)t, 0);
	/* Only the last WINDOW_SAMPLES are kept. */
	assert_int_equal(window_delta(&w, 1000000000, &d),
	    (WINDOW_SAMPLES - 1) * 100);
	assert_int_equal(d.queries, WINDOW_SAMPLES - 1);
}

static void
test_quantile(void **state)
{
	struct sample	d;
	size_t		i;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(latency_quantile(&d, 0.95), 0);
	/* 100 answers: 90 within 10 ms, 8 within 200 ms, 2 over 5 s. */
	for (i = 0; i < LAT_BUCKETS; i++)
		d.lat[i] = lat_bounds[i < LAT_BUCKETS - 1 ? i : 0] >= 10 ||
		    i == LAT_BUCKETS - 1 ? 90 : 0;
	for (i = 7; i < LAT_BUCKETS; i++)	/* le_200 onwards */
		d.lat[i] = 98;
	d.lat[LAT_BUCKETS - 1] = 100;
	assert_int_equal(latency_quantile(&d, 0.50), 10);
	assert_int_equal(latency_quantile(&d, 0.90), 10);
	assert_int_equal(latency_quantile(&d, 0.95), 200);
	assert_int_equal(latency_quantile(&d, 0.98), 200);
	assert_int_equal(latency_quantile(&d, 0.99), -1);
}

static const struct judge_conf plain = {
	.rise = 3, .fall = 2, .max_changes = 0,
};

static void
test_rise_and_fall(void **state)
{
	struct judge	j;
	int64_t		t = 0;

	(void)state;
	judge_init(&j, &plain);
	assert_false(j.up);
	assert_int_equal(judge_step(&j, &plain, t++, V_GOOD), 0);
	assert_int_equal(judge_step(&j, &plain, t++, V_GOOD), 0);
	/* A bad one resets the run. */
	assert_int_equal(judge_step(&j, &plain, t++, V_BAD), 0);
	assert_int_equal(judge_step(&j, &plain, t++, V_GOOD), 0);
	assert_int_equal(judge_step(&j, &plain, t++, V_GOOD), 0);
	assert_int_equal(judge_step(&j, &plain, t++, V_GOOD), 1);
	assert_true(j.up);
	/* One bad second does not bounce the route. */
	assert_int_equal(judge_step(&j, &plain, t++, V_BAD), 0);
	assert_int_equal(judge_step(&j, &plain, t++, V_GOOD), 0);
	assert_int_equal(judge_step(&j, &plain, t++, V_BAD), 0);
	assert_true(j.up);
	assert_int_equal(judge_step(&j, &plain, t++, V_BAD), 1);
	assert_false(j.up);
}

static void
test_dead_is_immediate(void **state)
{
	struct judge	j;
	int64_t		t = 0;

	(void)state;
	judge_init(&j, &plain);
	for (int i = 0; i < 3; i++)
		judge_step(&j, &plain, t++, V_GOOD);
	assert_true(j.up);
	assert_int_equal(judge_step(&j, &plain, t++, V_DEAD), 1);
	assert_false(j.up);
}

static const struct judge_conf damped = {
	.rise = 1, .fall = 1, .max_changes = 4, .period_ms = 60000,
	.hold_ms = 10000, .max_hold_ms = 40000,
};

static void
test_damping_bounds_changes(void **state)
{
	struct judge	j;
	int64_t		t;
	int		changes = 0;

	(void)state;
	judge_init(&j, &damped);
	/* A signal flipping every second for a minute. */
	for (t = 0; t < 60000; t += 1000)
		changes += judge_step(&j, &damped, t,
		    (t / 1000) % 2 ? V_BAD : V_GOOD);
	assert_int_equal(changes, 4);
	assert_false(j.up);		/* held down, never held up */
	assert_true(judge_held(&j, 59000) > 0);
}

static void
test_damping_never_delays_down(void **state)
{
	struct judge	j;
	int64_t		t = 0;

	(void)state;
	judge_init(&j, &damped);
	/* Use up the budget: up, down, up (3 changes). */
	judge_step(&j, &damped, t += 100, V_GOOD);
	judge_step(&j, &damped, t += 100, V_BAD);
	judge_step(&j, &damped, t += 100, V_GOOD);
	assert_true(j.up);
	/* The 4th change is a withdrawal: always allowed. */
	assert_int_equal(judge_step(&j, &damped, t += 100, V_BAD), 1);
	assert_int_equal(judge_step(&j, &damped, t += 100, V_DEAD), 0);
	/* The 5th would be an announcement: held for 'hold'. */
	assert_int_equal(judge_step(&j, &damped, t += 100, V_GOOD), 0);
	assert_int_equal(judge_held(&j, t), 10000);
}

static void
test_damping_backoff_and_recovery(void **state)
{
	struct judge	j;
	int64_t		t = 0;

	(void)state;
	judge_init(&j, &damped);
	judge_step(&j, &damped, t += 100, V_GOOD);
	judge_step(&j, &damped, t += 100, V_BAD);
	judge_step(&j, &damped, t += 100, V_GOOD);
	judge_step(&j, &damped, t += 100, V_BAD);
	/* Budget spent: first hold 10 s ... */
	assert_int_equal(judge_step(&j, &damped, t += 100, V_GOOD), 0);
	assert_int_equal(judge_held(&j, t), 10000);
	/* ... still flapping within the period: the next hold is 20 s. */
	t += 10000;
	assert_int_equal(judge_step(&j, &damped, t, V_GOOD), 0);
	assert_int_equal(judge_held(&j, t), 20000);
	t += 20000;
	assert_int_equal(judge_step(&j, &damped, t, V_GOOD), 0);
	assert_int_equal(judge_held(&j, t), 40000);	/* capped */
	/* Once the changes age out of the period, it comes back. */
	t += 40000;
	assert_int_equal(judge_step(&j, &damped, t, V_GOOD), 1);
	assert_true(j.up);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_needs_two),
		cmocka_unit_test(test_window_span),
		cmocka_unit_test(test_window_irregular),
		cmocka_unit_test(test_window_counter_reset),
		cmocka_unit_test(test_window_wraps),
		cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_rise_and_fall),
		cmocka_unit_test(test_dead_is_immediate),
		cmocka_unit_test(test_damping_bounds_changes),
		cmocka_unit_test(test_damping_never_delays_down),
		cmocka_unit_test(test_damping_backoff_and_recovery),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
