// SPDX-License-Identifier: GPL-2.0-only
/* The injection registry (include/ft/zoo.h). */
#include <errno.h>
#include <string.h>

#include "ft/zoo.h"

const struct ft_injection ft_injections[FT_NR_INJECTIONS] = {
	[FT_INJ_MAPCOUNT_UNLOCKED] = {
		"mapcount-unlocked", "H1",
		"large mapcount and owner slots updated without the bit lock",
	},
	[FT_INJ_SHARED_CLEARED_EARLY] = {
		"shared-bit-cleared-early", "H2",
		"SHARED cleared on a sub that leaves the MM's slot mapped, "
		"without the equality check",
	},
};

unsigned long ft_injected_mask;

int ft_inject_enable(const char *name)
{
	for (int i = 0; i < FT_NR_INJECTIONS; i++) {
		if (!strcmp(ft_injections[i].name, name)) {
			WRITE_ONCE(ft_injected_mask, ft_injected_mask | BIT(i));
			return 0;
		}
	}
	return -EINVAL;
}

void ft_inject_clear(void)
{
	WRITE_ONCE(ft_injected_mask, 0UL);
}
