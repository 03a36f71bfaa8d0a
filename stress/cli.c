// SPDX-License-Identifier: GPL-2.0-only
/* The command line's helpers every mode shares (stress.h): one-line errors. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stress.h"

int ft_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, FT_PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return FT_EXIT_USAGE;
}

int ft_bad_option(int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		return ft_usage_error("option '%s' needs a value", arg);
	return ft_usage_error("unknown option '%s' (see --help)", arg);
}

int ft_opt_u64(const char *opt, const char *arg, u64 lo, u64 hi, u64 *out)
{
	int ret = ft_parse_u64(arg, lo, hi, out);

	if (ret == -ERANGE)
		return ft_usage_error("--%s: '%s' is out of range %llu..%llu", opt,
				      arg, (unsigned long long)lo,
				      (unsigned long long)hi);
	if (ret)
		return ft_usage_error("--%s: '%s' is not a number", opt, arg);
	return 0;
}

int ft_opt_string(const char *opt, const char *arg, char *dst, size_t size)
{
	if (!*arg || strlen(arg) >= size)
		return ft_usage_error("--%s: '%s' is empty or too long", opt, arg);
	strcpy(dst, arg);
	return 0;
}

int ft_opt_duration(const char *opt, const char *arg, u64 lo, u64 *out)
{
	int ret = ft_parse_duration(arg, out);

	if (ret == -ERANGE)
		return ft_usage_error("--%s: '%s' is too long", opt, arg);
	if (ret)
		return ft_usage_error("--%s: '%s' is not a duration "
				      "(like 500ms, 10s, 30m, 8h)", opt, arg);
	if (*out < lo)
		return ft_usage_error("--%s: '%s' is shorter than %llu ms", opt,
				      arg, (unsigned long long)(lo / NSEC_PER_MSEC));
	return 0;
}
