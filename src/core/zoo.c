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
	[FT_INJ_CONT_COPIED_TO_CHILD] = {
		"cont-copied-to-child", "Z15",
		"set_ptes keeps a CONT bit from its template instead of letting "
		"the contpte layer decide",
	},
	[FT_INJ_WRPROTECT_PARTIAL_NO_UNFOLD] = {
		"wrprotect-partial-no-unfold", "Z16",
		"wrprotect_ptes of part of a CONT block without unfolding it",
	},
	[FT_INJ_PTE_RMW_NOT_ATOMIC] = {
		"pte-rmw-not-atomic", "Z10",
		"read-modify-write of a live PTE as a load and a store, losing "
		"hardware a/d",
	},
	[FT_INJ_CONVERT_DROPS_AD] = {
		"convert-drops-ad", "Z18",
		"contpte_convert reads the entries instead of clearing them, so a "
		"racing a/d update is lost",
	},
	[FT_INJ_LOCKLESS_NO_RETRY] = {
		"lockless-read-no-retry", "Z19",
		"ptep_get_lockless ORs the block's a/d without checking that the "
		"block stayed consistent",
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
