// SPDX-License-Identifier: GPL-2.0-only
/*
 * foliotorture: the binary.  Its modes dispatch from one table, as perf's
 * commands[] do; each mode parses its own options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft/zoo.h"
#include "ft_version.h"
#include "stress.h"

/* What follows a mode's flag: its options, a FILE (or LIST) first, or nothing. */
enum ft_mode_args { MODE_OPTIONS, MODE_FILE, MODE_BARE };

struct ft_mode {
	const char *flag;
	int (*fn)(int argc, char **argv);
	const char *help;
	enum ft_mode_args args;
};

static int cmd_help(int argc, char **argv);
static int cmd_list_injections(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct ft_mode modes[] = {
	{ "--lock-torture", cmd_lock_torture,
	  "torture the lock model (spinlock_t, bit_spin_lock, rw_semaphore, seqcount_t)",
	  MODE_OPTIONS },
	{ "--list-lock-kinds", cmd_list_lock_kinds, "print the lock kinds", MODE_BARE },
	{ "--list-injections", cmd_list_injections, "print the bug-zoo injections",
	  MODE_BARE },
	{ "--list-scenarios", cmd_list_scenarios,
	  "print the shipped scenarios (--scenario=NAME) and what each is for", MODE_BARE },
	{ "--zoo", cmd_zoo, "run every bug-zoo injection against the oracles (KTAP)",
	  MODE_OPTIONS },
	{ "--replay", cmd_replay, "run a repro file again: FILE [--json=F] [-q|-v]",
	  MODE_FILE },
	{ "--minimize", cmd_minimize,
	  "shrink a failing serial repro file: FILE [--time=D] [--output=F]", MODE_FILE },
	{ "--compare-models", cmd_compare_models,
	  "the same run under each mapcount model, one table: LIST [--parallel] [options]",
	  MODE_FILE },
	{ "--bench", cmd_bench, "ns per PTE of fault, fork and zap: the model and this kernel",
	  MODE_OPTIONS },
	{ "--version", cmd_version, "the version and the git commit it was built from",
	  MODE_BARE },
	{ "--help", cmd_help, "this text (also -h); MODE --help for a mode's options",
	  MODE_BARE },
};

static int cmd_help(int argc, char **argv)
{
	char *help[] = { (char *)FT_PROG, (char *)"--help", NULL };

	(void)argc;
	(void)argv;
	printf("usage: " FT_PROG " [MODE] [options]\n\nmodes:\n");
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		printf("  %-20s %s\n", modes[i].flag, modes[i].help);
	printf("\nWithout a mode: the mm torture run.\n\n");
	cmd_torture(2, help);
	printf("\nexit codes: 0 success, 1 invariant failure, 2 lock-model splat,\n"
	       "3 stall, 4 usage error (66: ThreadSanitizer report)\n");
	return FT_EXIT_SUCCESS;
}

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return ft_usage_error("--version takes no options");
	printf(FT_PROG " %s (git %s)\n", FT_VERSION, FT_GIT_COMMIT);
	return FT_EXIT_SUCCESS;
}

static int cmd_list_injections(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return ft_usage_error("--list-injections takes no options");
	for (int i = 0; i < FT_NR_INJECTIONS; i++) {
		const struct ft_injection *inj = &ft_injections[i];

		printf("%-30s %-6s [", inj->name, inj->spec);
		for (int j = 0; inj->caught_by[j]; j++)
			printf("%s%s", j ? "|" : "", inj->caught_by[j]);
		printf("] %s\n", inj->desc);
	}
	return FT_EXIT_SUCCESS;
}

/* perf's run_builtin(): clamp the status, and a failed flush is a failure. */
static int finish(int status)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, FT_PROG ": write error on stdout\n");
		return FT_EXIT_INVARIANT;
	}
	return status & 0xff;
}

/* A mode without options still answers --help. */
static int run_bare(const struct ft_mode *m, int argc, char **argv)
{
	if (argc == 2 && ft_help_asked(argv[1]) && m->fn != cmd_help) {
		printf("usage: " FT_PROG " %s   %s\n", m->flag, m->help);
		return FT_EXIT_SUCCESS;
	}
	return m->fn(argc, argv);
}

/* "--replay=FILE" as "--replay FILE": @argv[0] is "--replay=FILE". */
static int run_file_joined(const struct ft_mode *m, int argc, char **argv)
{
	char **args = malloc(sizeof(*args) * ((size_t)argc + 2));
	int ret;

	if (!args)
		return ft_usage_error("out of memory");
	args[0] = (char *)m->flag;
	args[1] = argv[0] + strlen(m->flag) + 1;
	memcpy(args + 2, argv + 1, sizeof(*args) * (size_t)argc);	/* and NULL */
	ret = m->fn(argc + 1, args);
	free(args);
	return ret;
}

static int run_mode(const struct ft_mode *m, int argc, char **argv)
{
	size_t len = strlen(m->flag);

	if (!strcmp(argv[0], m->flag))
		return m->args == MODE_BARE ? run_bare(m, argc, argv) : m->fn(argc, argv);
	if (m->args == MODE_FILE && !strncmp(argv[0], m->flag, len) && argv[0][len] == '=')
		return run_file_joined(m, argc, argv);
	return -1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "-h"))
		return finish(cmd_help(argc - 1, argv + 1));
	for (size_t i = 0; argc > 1 && i < ARRAY_SIZE(modes); i++) {
		int ret = run_mode(&modes[i], argc - 1, argv + 1);

		if (ret >= 0)
			return finish(ret);
	}
	return finish(cmd_torture(argc, argv));
}
