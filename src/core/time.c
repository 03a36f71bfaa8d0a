// SPDX-License-Identifier: GPL-2.0-only
/* Clocks for timeouts, watchdogs and status lines. */
#include <errno.h>
#include <sched.h>
#include <time.h>

#include "ft/core.h"

static u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}

u64 ft_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

u64 ft_now_coarse_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

u64 ft_thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void ft_sleep_ns(u64 ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void ft_wait_step(u32 n)
{
	u32 doublings;

	if (n < FT_YIELDS_BEFORE_SLEEP) {
		sched_yield();
		return;
	}
	doublings = min((n - FT_YIELDS_BEFORE_SLEEP) / 8, 10U);
	ft_sleep_ns(NSEC_PER_USEC << doublings);
}

u64 ft_seed_from_clock(void)
{
	return ft_mix64(clock_ns(CLOCK_REALTIME) ^ clock_ns(CLOCK_MONOTONIC));
}
