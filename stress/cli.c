// SPDX-License-Identifier: GPL-2.0-only
/* The command line's helpers every mode shares (stress.h): one-line errors. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stress.h"

static const char *usage_context;

void ft_usage_context(const char *where)
{
	usage_context = where;
}

int ft_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, FT_PROG ": ");
	if (usage_context)
		fprintf(stderr, "%s: ", usage_context);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return FT_EXIT_USAGE;
}

bool ft_help_asked(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
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

int ft_opt_list_empty(const char *opt, const char *arg)
{
	if (!*arg)
		return ft_usage_error("--%s: empty list", opt);
	return ft_usage_error("--%s: '%s' has an empty element", opt, arg);
}

static int cannot_write(const char *opt, const char *path, int err)
{
	return ft_usage_error("--%s: cannot write '%s': %s", opt, path, strerror(err));
}

/* Can a new entry be made in @path's directory?  0 or an errno. */
static int parent_writable(const char *path)
{
	char *copy = strdup(path), *dir;
	struct stat st;
	int err = 0;

	if (!copy)
		return ENOMEM;
	dir = dirname(copy);
	if (stat(dir, &st))
		err = errno;
	else if (!S_ISDIR(st.st_mode))
		err = ENOTDIR;
	else if (access(dir, W_OK | X_OK))
		err = errno;
	free(copy);
	return err;
}

/*
 * Checked now rather than at the end of a run that took hours: nothing is
 * created or truncated, so a refused command line leaves no file behind.
 */
int ft_opt_output(const char *opt, const char *path)
{
	struct stat st;
	int err;

	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode))
			return cannot_write(opt, path, EISDIR);
		return access(path, W_OK) ? cannot_write(opt, path, errno) : 0;
	}
	err = errno == ENOENT ? parent_writable(path) : errno;
	return err ? cannot_write(opt, path, err) : 0;
}

int ft_opt_dir(const char *opt, const char *path)
{
	struct stat st;
	int err;

	if (!stat(path, &st)) {
		if (!S_ISDIR(st.st_mode))
			return cannot_write(opt, path, ENOTDIR);
		return access(path, W_OK | X_OK) ? cannot_write(opt, path, errno) : 0;
	}
	err = errno == ENOENT ? parent_writable(path) : errno;
	return err ? cannot_write(opt, path, err) : 0;
}
