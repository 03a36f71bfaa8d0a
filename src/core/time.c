// SPDX-License-Identifier: GPL-2.0-only
/* Clocks for timeouts, watchdogs and status lines. */
#include <errno.h>
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

void ft_sleep_ns(u64 ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

u64 ft_seed_from_clock(void)
{
	return ft_mix64(clock_ns(CLOCK_REALTIME) ^ clock_ns(CLOCK_MONOTONIC));
}
