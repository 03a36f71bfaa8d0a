// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fatal-exit path.  Library layers never call exit();
 * when the lock model must stop the run (a splat, a lockup) it calls
 * ft_die(), which runs the registered notifiers once and exits with the
 * code.  Think panic_on_warn plus the panic notifier chain.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "ft/core.h"

#define FT_MAX_DIE_NOTIFIERS 8

struct die_notifier {
	ft_die_fn fn;
	void *arg;
};

/* Registered at start-up under die_lock; read only by the dying thread. */
static struct die_notifier die_notifiers[FT_MAX_DIE_NOTIFIERS];
static int nr_die_notifiers;
static pthread_mutex_t die_lock = PTHREAD_MUTEX_INITIALIZER;
static int dying;
static const char *die_reason;		/* atomic: the first one set */

void ft_die_set_reason(const char *why)
{
	const char *none = NULL;

	__atomic_compare_exchange_n(&die_reason, &none, why, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_RELAXED);
}

const char *ft_die_reason(void)
{
	return __atomic_load_n(&die_reason, __ATOMIC_ACQUIRE);
}

int ft_die_notifier_register(ft_die_fn fn, void *arg)
{
	int ret = 0;

	pthread_mutex_lock(&die_lock);
	if (nr_die_notifiers == FT_MAX_DIE_NOTIFIERS)
		ret = -ENOSPC;
	else
		die_notifiers[nr_die_notifiers++] = (struct die_notifier){ fn, arg };
	pthread_mutex_unlock(&die_lock);
	return ret;
}

__noreturn void ft_die(int code)
{
	/*
	 * The first thread to die reports; any other thread that fails at the
	 * same moment waits here so that its report cannot interleave.
	 */
	if (__atomic_exchange_n(&dying, 1, __ATOMIC_ACQ_REL)) {
		for (;;)
			pause();
	}
	pthread_mutex_lock(&die_lock);
	for (int i = 0; i < nr_die_notifiers; i++)
		die_notifiers[i].fn(code, die_notifiers[i].arg);
	pthread_mutex_unlock(&die_lock);
	fflush(stdout);
	fflush(stderr);
	/* Other threads may hold stdio or run atexit-unsafe code: no exit(). */
	_exit(code);
}
