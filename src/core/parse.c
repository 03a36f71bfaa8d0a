// SPDX-License-Identifier: GPL-2.0-only
/* Option-value parsers shared by every binary: strict, never silent. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ft/core.h"

int ft_parse_u64(const char *s, u64 lo, u64 hi, u64 *out)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts "-1" and leading blanks; a count must not. */
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (v < lo || v > hi)
		return -ERANGE;
	*out = v;
	return 0;
}

static const struct {
	const char *suffix;
	u64 ns;
} duration_units[] = {
	/* Longest suffix first so "ms" is not read as "m" + junk. */
	{ "ms", NSEC_PER_MSEC },
	{ "us", NSEC_PER_USEC },
	{ "ns", 1 },
	{ "s", NSEC_PER_SEC },
	{ "m", 60 * NSEC_PER_SEC },
	{ "h", 3600 * NSEC_PER_SEC },
	{ "d", 86400 * NSEC_PER_SEC },
	{ "", NSEC_PER_SEC },
};

int ft_parse_duration(const char *s, u64 *ns_out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	for (size_t i = 0; i < ARRAY_SIZE(duration_units); i++) {
		u64 unit = duration_units[i].ns;

		if (strcmp(end, duration_units[i].suffix))
			continue;
		if (v > UINT64_MAX / unit)
			return -ERANGE;
		*ns_out = v * unit;
		return 0;
	}
	return -EINVAL;
}

char *ft_list_next(char **cursor)
{
	char *elem = *cursor, *comma;

	if (!elem)
		return NULL;
	comma = strchr(elem, ',');
	*cursor = comma ? comma + 1 : NULL;
	if (comma)
		*comma = '\0';
	return elem;
}

const char *ft_format_duration(u64 ns, char *buf, size_t len)
{
	static const struct {
		const char *suffix;
		u64 ns;
	} units[] = {
		{ "d", 86400 * NSEC_PER_SEC }, { "h", 3600 * NSEC_PER_SEC },
		{ "m", 60 * NSEC_PER_SEC }, { "s", NSEC_PER_SEC },
		{ "ms", NSEC_PER_MSEC }, { "us", NSEC_PER_USEC },
	};

	if (!ns) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (ns % units[i].ns == 0) {
			snprintf(buf, len, "%llu%s",
				 (unsigned long long)(ns / units[i].ns),
				 units[i].suffix);
			return buf;
		}
	}
	/* Below a microsecond: nothing parses to it, but say it exactly. */
	snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}
