// SPDX-License-Identifier: GPL-2.0-only
/*
 * GUP pin accounting (mm/gup.c, rmap spec §3): what fork's maybe-pinned
 * path (folio_try_dup_anon_rmap_ptes -EBUSY) needs.
 */
#include <errno.h>

#include "ft/mapcount.h"

int try_grab_folio(struct folio *folio, int refs, unsigned int flags)
{
	if (flags & FOLL_GET) {
		folio_ref_add(folio, refs);
	} else if (flags & FOLL_PIN) {
		/* Large: exact _pincount; small: the refcount bias (fuzzy). */
		if (folio_test_large(folio)) {
			folio_ref_add(folio, refs);
			atomic_add(refs, &folio->_pincount);
		} else {
			folio_ref_add(folio, refs * GUP_PIN_COUNTING_BIAS);
		}
	} else {
		return -EINVAL;
	}
	return 0;
}

void gup_put_folio(struct folio *folio, int refs, unsigned int flags)
{
	if (flags & FOLL_PIN) {
		if (folio_test_large(folio))
			VM_WARN_ON_FOLIO(atomic_sub_return(refs, &folio->_pincount) < 0,
					 folio);
		else
			refs *= GUP_PIN_COUNTING_BIAS;
	}
	folio_put_refs(folio, refs);
}

bool folio_maybe_dma_pinned(const struct folio *folio)
{
	if (folio_test_large(folio))
		return atomic_read(&folio->_pincount) > 0;
	return (unsigned int)folio_ref_count(folio) >= GUP_PIN_COUNTING_BIAS;
}

bool folio_needs_cow_for_dma(struct vm_area_struct *vma, struct folio *folio)
{
	struct mm_struct *mm = vma->vm_mm;

	/* Fork holds write_protect_seq so GUP-fast cannot pin meanwhile. */
	VM_WARN_ON_FOLIO(!(raw_read_seqcount(&mm->write_protect_seq) & 1), folio);
	if (!test_bit(MMF_HAS_PINNED, &mm->flags))
		return false;
	return folio_maybe_dma_pinned(folio);
}
