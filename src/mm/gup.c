// SPDX-License-Identifier: GPL-2.0-only
/*
 * GUP pin accounting (mm/gup.c, folio_maybe_dma_pinned() in
 * include/linux/mm.h): what fork's maybe-pinned path
 * (folio_try_dup_anon_rmap_ptes -EBUSY) needs.
 */
#include <errno.h>

#include "internal.h"

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

/*
 * pin_user_pages(FOLL_WRITE | FOLL_LONGTERM) of one page, the slow way
 * (mm/gup.c): under the mmap_lock for read, a page that is absent or not
 * exclusive is faulted in for write first (a FOLL_PIN of a shared anon
 * page must unshare it), then pinned under the PTL.  Sets MMF_HAS_PINNED,
 * so a later fork copies maybe-pinned exclusive pages.
 */
struct folio *ft_pin_user_page(struct mm_struct *mm, unsigned long addr)
{
	struct folio *pinned = NULL;
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	for (int tries = 0; tries < 8 && !pinned; tries++) {
		spinlock_t *ptl;
		pte_t *pte;

		vma = find_vma(mm, addr);
		if (!vma || !(vma->vm_flags & VM_WRITE))
			break;
		pte = pte_offset_map_lock(mm, pmd_off(mm, addr), addr, &ptl);
		if (pte) {
			pte_t ptent = ptep_get(pte);
			struct page *page = pte_present(ptent) ?
					    vm_normal_page(vma, addr, ptent) : NULL;

			if (page && PageAnonExclusive(page)) {
				pinned = page_folio(page);
				try_grab_folio(pinned, 1, FOLL_PIN);
				mm_set_has_pinned_flag(mm);
			}
			pte_unmap_unlock(pte, ptl);
		}
		if (!pinned &&
		    handle_mm_fault(vma, addr, FAULT_FLAG_WRITE, 0) &
		    (VM_FAULT_OOM | VM_FAULT_SIGSEGV))
			break;
	}
	mmap_read_unlock(mm);
	return pinned;
}

void ft_unpin_user_page(struct folio *folio)
{
	gup_put_folio(folio, 1, FOLL_PIN);
}
