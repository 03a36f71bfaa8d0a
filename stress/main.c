// SPDX-License-Identifier: GPL-2.0-only
/*
 * foliotorture: the binary.  Its modes dispatch from one table, as perf's
 * commands[] do; each mode parses its own options.
 */
#include <stdio.h>
#include <string.h>

#include "ft/zoo.h"
#include "ft_version.h"
#include "stress.h"

struct ft_mode {
	const char *flag;
	int (*fn)(int argc, char **argv);
	const char *help;
};

static int cmd_help(int argc, char **argv);
static int cmd_list_injections(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct ft_mode modes[] = {
	{ "--lock-torture", cmd_lock_torture,
	  "torture the lock model (spinlock_t, bit_spin_lock, rw_semaphore, seqcount_t)" },
	{ "--list-lock-kinds", cmd_list_lock_kinds, "print the lock kinds" },
	{ "--list-injections", cmd_list_injections, "print the bug-zoo injections" },
	{ "--zoo", cmd_zoo, "run every bug-zoo injection against the oracles (KTAP)" },
	{ "--replay", cmd_replay, "run a repro file again: FILE [--json=F] [-q|-v]" },
	{ "--minimize", cmd_minimize,
	  "shrink a failing serial repro file: FILE [--time=D] [--output=F]" },
	{ "--bench", cmd_bench, "ns per PTE of fault, fork and zap: the model and this kernel" },
	{ "--version", cmd_version, "the version and the git commit it was built from" },
	{ "--help", cmd_help, "this text; MODE --help for a mode's options" },
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

int main(int argc, char **argv)
{
	for (size_t i = 0; argc > 1 && i < ARRAY_SIZE(modes); i++) {
		if (!strcmp(argv[1], modes[i].flag))
			return finish(modes[i].fn(argc - 1, argv + 1));
	}
	return finish(cmd_torture(argc, argv));
}
