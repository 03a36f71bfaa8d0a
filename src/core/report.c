// SPDX-License-Identifier: GPL-2.0-only
/* Oracle failures: counted always, printed first, fatal on request. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ft/report.h"

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static u64 nr_failures;			/* atomic */
static const char *first_oracle;	/* under report_lock */
static bool fatal;			/* atomic */
/* The first failure's headline, as ft_report_msg() printed it; under
 * report_lock, which the reporting thread holds until ft_report_end(). */
static char first_msg[FT_REPORT_MSG_LEN];
static bool capturing;

bool ft_report_begin(const char *oracle)
{
	u64 n = __atomic_add_fetch(&nr_failures, 1, __ATOMIC_RELAXED);

	pthread_mutex_lock(&report_lock);
	if (!first_oracle) {
		first_oracle = oracle;
		first_msg[0] = '\0';
		capturing = true;
	}
	if (n > FT_REPORT_MAX_PRINTED) {
		pthread_mutex_unlock(&report_lock);
		return false;
	}
	fprintf(stderr, "\n!!! oracle: %s (failure %llu)\n", oracle,
		(unsigned long long)n);
	return true;
}

void ft_report_msg(const char *fmt, ...)
{
	size_t len = strlen(first_msg);
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (!capturing)
		return;
	va_start(ap, fmt);
	vsnprintf(first_msg + len, sizeof(first_msg) - len, fmt, ap);
	va_end(ap);
	/* One line: the headline ends at its first newline. */
	len = strcspn(first_msg, "\n");
	if (first_msg[len]) {
		first_msg[len] = '\0';
		capturing = false;
	}
}

void ft_report_end(void)
{
	capturing = false;
	fflush(stderr);
	pthread_mutex_unlock(&report_lock);
	if (__atomic_load_n(&fatal, __ATOMIC_RELAXED))
		ft_die(FT_EXIT_INVARIANT);
}

u64 ft_report_failures(void)
{
	return __atomic_load_n(&nr_failures, __ATOMIC_RELAXED);
}

const char *ft_report_first(void)
{
	const char *s;

	pthread_mutex_lock(&report_lock);
	s = first_oracle;
	pthread_mutex_unlock(&report_lock);
	return s;
}

const char *ft_report_first_msg(void)
{
	const char *s;

	pthread_mutex_lock(&report_lock);
	s = first_oracle ? first_msg : NULL;
	pthread_mutex_unlock(&report_lock);
	return s;
}

void ft_report_set_fatal(bool on)
{
	__atomic_store_n(&fatal, on, __ATOMIC_RELAXED);
}

void ft_report_reset(void)
{
	pthread_mutex_lock(&report_lock);
	first_oracle = NULL;
	first_msg[0] = '\0';
	__atomic_store_n(&nr_failures, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&report_lock);
}
