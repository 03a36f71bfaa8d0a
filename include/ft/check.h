/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Oracles that look at the whole machine.  ft_audit() is the
 * stop-the-world audit: with no operation in progress, it walks every page
 * table of the given mms and compares them with every folio they map
 * (rmap spec §8, pagetable spec §9):
 *   I2   each folio's mapcount (and per-page mapcounts, _nr_pages_mapped
 *        under PAGE_MAPCOUNT) equals the PTEs that map it;
 *   I1   refcount = mappings + pins (nothing else holds a reference at rest);
 *   I3-I10 the owner slots: structure, no slot above its MM's mappings, no
 *        false negative (SHARED clear with mapcount >= 2 means one MM);
 *   I11  a writable anon PTE maps an AnonExclusive page, and such a page is
 *        mapped by one MM;
 *   I4   every contpte block consistent;
 *   I10' rss counters equal the entries counted;
 *   every present PTE lies in a VMA, and the rmap reaches it from its
 *        folio's anon_vma (what Z14 breaks);
 *   a queued deferred-split folio is anon and of order > 1.
 * Each broken rule is reported (ft_report); returns how many.
 */
#ifndef FT_CHECK_H
#define FT_CHECK_H

#include "ft/mm.h"

struct ft_audit_stats {
	u64 ptes;		/* present entries seen */
	u64 migration_entries;
	u64 folios;
	u64 cont_blocks;
};

int ft_audit(struct ft_world *w, struct mm_struct **mms, int nr_mms,
	     struct ft_audit_stats *stats);

#endif /* FT_CHECK_H */
