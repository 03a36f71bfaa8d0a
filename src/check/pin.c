// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pin oracle (G1, doc/invariants.md): a FOLL_PIN of an anon page is
 * taken only while the page is exclusive to its mm, and from then on the
 * kernel must keep it so: fork copies a maybe-pinned exclusive page for the
 * child instead of sharing it, and the paths that would share it
 * (migration, swap-out: folio_try_share_anon_rmap_pte()) give up on a
 * pinned folio.  So until the process itself unmaps or replaces that range
 * (munmap, MADV_DONTNEED, MAP_FIXED: the caller knows), the entry at the
 * address maps the pinned page, and the page is still AnonExclusive.  If
 * not, the pin and the process see different memory: a write fault will
 * (or did) give the process a copy, and DMA through the pin goes to a page
 * it no longer maps, or to one another mm maps too.
 */
#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/report.h"

bool ft_pin_coherent(struct mm_struct *mm, unsigned long addr, struct page *page,
		     pte_t *seen)
{
	spinlock_t *ptl;
	pte_t *ptep, pte = __pte(0);
	bool exclusive;

	/* Under the PTL: migration and fork change the entry and the bit
	 * only with it held, so no transient state is seen. */
	ptep = pte_offset_map_lock(mm, pmd_off(mm, addr), addr, &ptl);
	if (ptep)
		pte = ptep_get(ptep);
	exclusive = PageAnonExclusive(page);
	if (ptep)
		pte_unmap_unlock(ptep, ptl);
	*seen = pte;
	return pte_present(pte) && pte_pfn(pte) == page_to_pfn(page) && exclusive;
}

void ft_pin_report(struct mm_struct *mm, unsigned long addr, struct page *page, pte_t pte)
{
	if (!ft_report_begin("pin coherence"))
		return;
	ft_report_msg("BUG: pinned page pfn %#lx of mm id %u at %#lx %s: the pin and the "
		      "process no longer see the same memory\n",
		      page_to_pfn(page), mm->mm_id, addr,
		      !pte_present(pte) ? "is no longer mapped there" :
		      pte_pfn(pte) != page_to_pfn(page) ? "was replaced by another page" :
		      "lost AnonExclusive (it may be shared)");
	fprintf(stderr, "pte at %#lx: ", addr);
	pte_describe(stderr, pte);
	fprintf(stderr, "\n");
	pte_print_last_clear(stderr, mm, addr);
	dump_page(stderr, page, "pinned page");
	ft_report_end();
}
