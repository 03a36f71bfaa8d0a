/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the test programs: KTAP lines and a tiny option parser
 * (--name=value or --name value).  Tests print KTAP so a failure says what
 * failed; ctest sees the exit code.
 */
#ifndef FT_TEST_H
#define FT_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft/core.h"

static inline const char *ft_test_arg(int argc, char **argv, const char *name,
				      const char *dflt)
{
	size_t len = strlen(name);

	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], name, len))
			continue;
		if (argv[i][len] == '=')
			return argv[i] + len + 1;
		if (argv[i][len] == '\0' && i + 1 < argc)
			return argv[i + 1];
	}
	return dflt;
}

static inline bool ft_test_flag(int argc, char **argv, const char *name)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], name))
			return true;
	}
	return false;
}

static inline u64 ft_test_arg_u64(int argc, char **argv, const char *name,
				  u64 dflt)
{
	const char *s = ft_test_arg(argc, argv, name, NULL);
	u64 v;

	if (!s)
		return dflt;
	if (ft_parse_u64(s, 0, UINT64_MAX, &v)) {
		fprintf(stderr, "%s: bad value '%s'\n", name, s);
		exit(FT_EXIT_USAGE);
	}
	return v;
}

/* "not ok" lines count as failures; the program returns the verdict. */
struct ft_ktap {
	int nr;
	int failed;
};

static inline void ft_ktap_start(int planned)
{
	printf("KTAP version 1\n1..%d\n", planned);
}

static inline void __printf(3, 4) ft_ktap_result(struct ft_ktap *k, bool ok,
						const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", ok ? "ok" : "not ok", ++k->nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		k->failed++;
}

static inline int ft_ktap_finish(const struct ft_ktap *k)
{
	printf("# totals: pass:%d fail:%d\n", k->nr - k->failed, k->failed);
	fflush(stdout);
	return k->failed ? FT_EXIT_INVARIANT : FT_EXIT_SUCCESS;
}

#endif /* FT_TEST_H */
