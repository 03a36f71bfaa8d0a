/* SPDX-License-Identifier: GPL-2.0-only */
/* Private to stress/: the mode table's entry points and CLI helpers. */
#ifndef FT_STRESS_H
#define FT_STRESS_H

#include <sys/types.h>

#include "ft/core.h"

#define FT_PROG "foliotorture"

/*
 * A mode's entry point: argv[0] is the mode's own flag, the rest are its
 * options.  Returns an enum ft_exit code.
 */
int cmd_torture(int argc, char **argv);		/* the default mode */
int cmd_lock_torture(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_compare_models(int argc, char **argv);
int cmd_zoo(int argc, char **argv);
int cmd_list_lock_kinds(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_minimize(int argc, char **argv);
int cmd_list_scenarios(int argc, char **argv);

/*
 * Run this binary again with @argv, its stdout and stderr into @log (NULL:
 * ours); reap it, killed once past @deadline_ns (CLOCK_MONOTONIC; 0: never).
 * Returns its exit status, or minus the signal that ended it.
 */
pid_t ft_child_spawn(char **argv, const char *log);
int ft_child_reap(pid_t pid, u64 deadline_ns, bool *hung);

/* The one-line usage error every bad option gets; returns FT_EXIT_USAGE. */
int __printf(1, 2) ft_usage_error(const char *fmt, ...);
/* Where the options come from ("FILE:LINE"), said before each error; NULL
 * again once read.  @where must live until then. */
void ft_usage_context(const char *where);
/* --help or -h */
bool ft_help_asked(const char *arg);
/* getopt_long's error cases, turned into ft_usage_error() lines. */
int ft_bad_option(int opt, char **argv);

/* Parse a numeric option or say which option was wrong and why. */
int ft_opt_u64(const char *opt, const char *arg, u64 lo, u64 hi, u64 *out);
int ft_opt_duration(const char *opt, const char *arg, u64 lo, u64 *out);
/* Copy a string option into @dst: empty or longer than @size is an error. */
int ft_opt_string(const char *opt, const char *arg, char *dst, size_t size);
/* The error for an empty list or an empty element of one (ft_list_next()). */
int ft_opt_list_empty(const char *opt, const char *arg);
/*
 * Can @path be written: an existing file we may write, or a new one in a
 * writable directory?  Checked without creating anything.
 */
int ft_opt_output(const char *opt, const char *path);
/* The same for a directory: an existing writable one, or one we may create. */
int ft_opt_dir(const char *opt, const char *path);

#endif /* FT_STRESS_H */
