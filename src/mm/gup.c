// SPDX-License-Identifier: GPL-2.0-only
/*
 * GUP (mm/gup.c): pin accounting (folio_maybe_dma_pinned() in
 * include/linux/mm.h), the slow path under the mmap_lock, and GUP-fast,
 * the lockless walk of the page tables.
 *
 * GUP-fast comes in the kernel's two flavours (world->gup_fast_rcu):
 *   ipi  interrupts off: the walking CPU acknowledges a TLB flush's IPI
 *        only when it is done, so a flush waits for it (the model's
 *        shootdown waits for it as for a hardware access: ft_cpu_irq_save());
 *   rcu  the walk is an RCU read-side section; a flush does not wait for
 *        it, so a page can be unmapped, freed and reused under the walker.
 * Either way the pin is speculative: taken on whatever folio the PTE read
 * pointed to, kept only if the PTE is unchanged afterwards.  The ordering
 * that makes that work against a concurrent unshare is the barrier pair of
 * try_grab_folio_fast() and folio_try_share_anon_rmap_pte() below.
 *
 * Page tables the RCU walker may be reading need no deferred freeing here:
 * the model frees PTE tables only in exit_mmap() (munmap keeps them), and
 * a walker walks an mm it holds, as the kernel's walks current->mm.
 */
#include <errno.h>

#include "ft/contpte.h"
#include "ft/zoo.h"
#include "internal.h"

/*
 * smp_mb__after_atomic(): after a relaxed atomic RMW, a full barrier
 * (arm64: dmb ish; x86: nothing, the locked RMW is one).  As C11, a
 * seq_cst fence after the RMW.
 */
#define smp_mb__after_atomic()	smp_mb()

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
 * The clearing side: (A1) the caller cleared the PTE, (A2) check for pins,
 * (A3) clear AnonExclusive, (A4) the caller may restore a read-only PTE.
 * GUP-fast does (B1) read the PTE, (B2) FOLL_WRITE needs it writable,
 * (B3) pin, (B4) re-read the PTE, (B5) a read-only PTE needs AnonExclusive.
 * A1 before A2 and B3 before B4 is the store-buffering shape: one full
 * barrier on each side, or both may read the old value and a page is
 * pinned and shared at once.
 */
int folio_try_share_anon_rmap_pte(struct folio *folio, struct page *page)
{
	/* 088b8aa537c2 added both barriers; before, the caller's TLB flush
	 * was trusted to order A1 before A2, which RCU GUP-fast escapes. */
	bool fixed = !ft_injected(FT_INJ_GUP_FAST_PIN_NO_BARRIER);

	VM_WARN_ON_FOLIO(!PageAnonExclusive(page), folio);
	/* Pairs with smp_mb__after_atomic() in try_grab_folio_fast(). */
	if (fixed)
		smp_mb();
	if (folio_maybe_dma_pinned(folio))
		return -EBUSY;
	ClearPageAnonExclusive(page);
	/* A3 before A4: pairs with smp_rmb() in gup_must_unshare(). */
	if (fixed)
		smp_mb__after_atomic();
	return 0;
}

/* ---- GUP-fast ----------------------------------------------------------------------- */

/* try_get_folio(): a speculative reference on the folio @page is in now. */
static struct folio *try_get_folio(struct page *page, int refs)
{
	struct folio *folio;

	for (;;) {
		folio = page_folio(page);
		/* FT-DEVIATION: a free page has no folio here (page->folio NULL). */
		if (!folio || !folio_ref_try_add(folio, refs))
			return NULL;
		ft_sched_point(FT_SP_PTE);
		/* Split or freed and reused meanwhile: not the folio we wanted. */
		if (likely(page_folio(page) == folio))
			return folio;
		folio_put_refs(folio, refs);
	}
}

/*
 * The pin as it was before 088b8aa537c2 ("mm: fix PageAnonExclusive
 * clearing racing with concurrent RCU GUP-fast"): no barrier between B3 and
 * B4, so on arm64 the relaxed _pincount add may become visible only after
 * B4 read the old PTE, and A2 of a migration or swap-out that cleared the
 * PTE meanwhile sees no pin.  Its store is the one the serial scheduler may
 * delay (ft_store_delayable_add()).  The small folio's pin is left as it
 * was: in v6.0 try_get_folio() took the whole bias with one fully ordered
 * atomic_add_unless(), and the model's folio_ref_add() is fully ordered.
 *
 * The fixed code's atomic_add() could be delayed the same way and would
 * be immune by construction, its smp_mb__after_atomic() draining the
 * buffer before B4; it does not go through the primitive only so that
 * runs without the injection take no draws and keep their schedules.
 */
static struct folio *grab_pin_no_barrier(struct folio *folio, int refs)
{
	if (folio_test_large(folio))
		ft_store_delayable_add(refs, &folio->_pincount);
	else
		folio_ref_add(folio, refs * (GUP_PIN_COUNTING_BIAS - 1));
	return folio;
}

/*
 * try_grab_folio_fast(), FOLL_PIN: a reference, then the pin itself.  All
 * anon folios are longterm-pinnable (no ZONE_MOVABLE, no CMA in the
 * model), and the zero page is never reached (its PTE is special).
 */
static struct folio *try_grab_folio_fast(struct page *page, int refs,
					 unsigned int flags)
{
	struct folio *folio;

	if (!(flags & FOLL_PIN))
		return NULL;	/* FOLL_GET: nothing in the model asks for it */
	folio = try_get_folio(page, refs);
	if (!folio)
		return NULL;
	if (ft_injected(FT_INJ_GUP_FAST_PIN_NO_BARRIER))
		return grab_pin_no_barrier(folio, refs);
	if (folio_test_large(folio))
		atomic_add(refs, &folio->_pincount);
	else
		folio_ref_add(folio, refs * (GUP_PIN_COUNTING_BIAS - 1));
	/* B3 before B4: pairs with smp_mb() in folio_try_share_anon_rmap_pte(). */
	smp_mb__after_atomic();
	return folio;
}

/* gup_must_unshare() for GUP-fast (no VMA): a read-only pin of a page
 * that may be shared would go out of sync with the mapping. */
static bool gup_must_unshare(unsigned int flags, struct page *page)
{
	if ((flags & (FOLL_WRITE | FOLL_PIN)) != FOLL_PIN)
		return false;
	if (!folio_test_anon(page_folio(page)))
		return false;
	/* B4 before B5: pairs with smp_mb__after_atomic() in
	 * folio_try_share_anon_rmap_pte().  Also 088b8aa537c2's. */
	if (!ft_injected(FT_INJ_GUP_FAST_PIN_NO_BARRIER))
		smp_rmb();
	return !PageAnonExclusive(page);
}

/* pte_access_permitted() (arm64): a valid user entry, writable for a write. */
static bool pte_access_permitted(pte_t pte, bool write)
{
	return (pte_val(pte) & (PTE_VALID | PTE_USER)) == (PTE_VALID | PTE_USER) &&
	       (!write || pte_write(pte));
}

/*
 * B1.  In RCU mode ptep_get_lockless() retries a block being rewritten.
 * FT-DEVIATION: in IPI mode a torn block ends the walk (the slow path takes
 * over): the writer unfolding it waits in its TLB flush for this CPU, so
 * waiting for the writer would deadlock.  Upstream has no such pair: the
 * contpte architecture (arm64) flushes by broadcast, without IPIs.
 */
static pte_t gup_ptep_get(struct mm_struct *mm, pte_t *ptep)
{
	pte_t pte;

	if (mm->world && mm->world->gup_fast_rcu)
		return ptep_get_lockless(ptep);
	return ptep_try_get_lockless(ptep, &pte) ? pte : __pte(0);
}

/* gup_fast_pte_range(): false once a page cannot be pinned here. */
static bool gup_fast_pte_range(struct mm_struct *mm, pmd_t *pmdp, struct ptdesc *pmd,
			       unsigned long addr, unsigned long end,
			       unsigned int flags, struct page **pages, int *nr)
{
	pte_t *ptep = &pmd->ptes[pte_index(addr)];

	do {
		pte_t pte = gup_ptep_get(mm, ptep);
		struct folio *folio;
		struct page *page;

		ft_sched_point(FT_SP_PTE);		/* B1 done */
		if (!pte_access_permitted(pte, flags & FOLL_WRITE) || pte_special(pte))
			return false;
		page = pfn_to_page(mm->pmem, pte_pfn(pte));
		folio = try_grab_folio_fast(page, 1, flags);
		if (!folio)
			return false;
		ft_window_open(FT_WIN_GUP_FAST, mm, addr, PAGE_SIZE, folio);
		ft_sched_point(FT_SP_PTE);		/* B3 done */
		ft_window_linger();
		ft_window_close();
		if (pmdp_get_lockless(pmdp) != pmd ||
		    pte_val(pte) != pte_val(ptep_get(ptep))) {
			gup_put_folio(folio, 1, flags);
			return false;
		}
		/* gup_fast_folio_allowed(): only anon folios are pinned here. */
		if (!folio_test_anon(folio) ||
		    (!pte_write(pte) && gup_must_unshare(flags, page))) {
			gup_put_folio(folio, 1, flags);
			return false;
		}
		pages[(*nr)++] = page;
	} while (ptep++, addr += PAGE_SIZE, addr != end);
	return true;
}

static void gup_fast_irq_save(struct mm_struct *mm)
{
	if (!mm->world || !mm->world->gup_fast_rcu)
		ft_cpu_irq_save(mm);
	/* RCU: rcu_read_lock(), which nothing in the model waits for. */
}

static void gup_fast_irq_restore(struct mm_struct *mm)
{
	if (!mm->world || !mm->world->gup_fast_rcu)
		ft_cpu_irq_restore();
}

static void gup_fast_unpin_user_pages(struct page **pages, int nr)
{
	for (int i = 0; i < nr; i++)
		unpin_user_page(pages[i]);
}

/*
 * gup_fast(): pin what the lockless walk can.  A FOLL_PIN that overlaps a
 * fork's write-protect of this mm (write_protect_seq odd, or changed
 * meanwhile) drops everything: fork may have checked these pages for pins
 * before the walk pinned them, and shared them with the child since.
 */
static int gup_fast(struct mm_struct *mm, unsigned long start, unsigned long end,
		    unsigned int flags, struct page **pages)
{
	/* 57efa1fe5957: before it, GUP-fast did not look at fork at all. */
	bool check_fork = (flags & FOLL_PIN) && !ft_injected(FT_INJ_GUP_FAST_FORK_RACE);
	unsigned int seq = 0;
	int nr = 0;

	if (check_fork) {
		/* raw_seqcount_try_begin() */
		seq = raw_read_seqcount(&mm->write_protect_seq);
		if (seq & 1)
			return 0;
	}
	ft_sched_point(FT_SP_PTE);
	gup_fast_irq_save(mm);
	for (unsigned long addr = start, next; addr < end; addr = next) {
		pmd_t *pmdp = pmd_off(mm, addr);
		struct ptdesc *pmd = pmdp_get_lockless(pmdp);

		next = pmd_addr_end(addr, end);
		if (!pmd || !gup_fast_pte_range(mm, pmdp, pmd, addr, next, flags, pages, &nr))
			break;
	}
	gup_fast_irq_restore(mm);
	if (check_fork) {
		ft_sched_point(FT_SP_PTE);
		if (read_seqcount_retry(&mm->write_protect_seq, seq)) {
			gup_fast_unpin_user_pages(pages, nr);
			return 0;
		}
	}
	return nr;
}

/* ---- The slow path ------------------------------------------------------------------- */

/*
 * One page the slow way (__get_user_pages() with follow_page_pte() and
 * faultin_page()): under the mmap_lock for read, a page that is absent,
 * not writable for FOLL_WRITE, or one that must be unshared is faulted
 * (write or unshare) first, then pinned under the PTL.
 */
static struct page *gup_slow_one(struct mm_struct *mm, unsigned long addr,
				 unsigned int flags)
{
	unsigned int fault = flags & FOLL_WRITE ? FAULT_FLAG_WRITE : FAULT_FLAG_UNSHARE;
	unsigned long need = flags & FOLL_WRITE ? VM_WRITE : VM_READ;
	struct page *pinned = NULL;
	struct vm_area_struct *vma;

	mmap_read_lock(mm);
	for (int tries = 0; tries < 8 && !pinned; tries++) {
		spinlock_t *ptl;
		pte_t *pte;

		vma = find_vma(mm, addr);
		if (!vma || !(vma->vm_flags & need))
			break;
		pte = pte_offset_map_lock(mm, pmd_off(mm, addr), addr, &ptl);
		if (pte) {
			pte_t ptent = ptep_get(pte);
			struct page *page = pte_present(ptent) ?
					    vm_normal_page(vma, addr, ptent) : NULL;

			/* An anon page mapped exclusively (our only kind of pin). */
			if (page && PageAnonExclusive(page) &&
			    (!(flags & FOLL_WRITE) || pte_write(ptent))) {
				try_grab_folio(page_folio(page), 1, FOLL_PIN);
				pinned = page;
			}
			pte_unmap_unlock(pte, ptl);
		}
		if (!pinned && handle_mm_fault(vma, addr, fault, 0) &
		    (VM_FAULT_OOM | VM_FAULT_SIGSEGV))
			break;
	}
	mmap_read_unlock(mm);
	return pinned;
}

long pin_user_pages_fast(struct mm_struct *mm, unsigned long start, int nr_pages,
			 unsigned int gup_flags, struct page **pages)
{
	unsigned long end = start + (unsigned long)nr_pages * PAGE_SIZE;
	int nr;

	if (gup_flags & ~(FOLL_WRITE | FOLL_LONGTERM) || nr_pages <= 0 ||
	    start & (PAGE_SIZE - 1) || end > mm->task_size || end <= start)
		return -EINVAL;
	gup_flags |= FOLL_PIN;
	mm_set_has_pinned_flag(mm);
	nr = gup_fast(mm, start, end, gup_flags, pages);
	count_vm_events(mm->pmem, GUP_FAST_PIN, nr);
	/* The slow path for the rest, as __gup_longterm_locked() would. */
	for (; nr < nr_pages; nr++) {
		pages[nr] = gup_slow_one(mm, start + (unsigned long)nr * PAGE_SIZE, gup_flags);
		if (!pages[nr])
			break;
		count_vm_event(mm->pmem, GUP_SLOW_PIN);
	}
	return nr ? nr : -EFAULT;
}

struct folio *ft_pin_user_page(struct mm_struct *mm, unsigned long addr)
{
	struct page *page;

	mm_set_has_pinned_flag(mm);
	page = gup_slow_one(mm, addr, FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM);
	return page ? page_folio(page) : NULL;
}

void ft_unpin_user_page(struct folio *folio)
{
	gup_put_folio(folio, 1, FOLL_PIN);
}

void unpin_user_page(struct page *page)
{
	gup_put_folio(page_folio(page), 1, FOLL_PIN);
}

/*
 * unpin_user_pages_dirty_lock(): what a driver that wrote through its pins
 * (DMA) calls, the folio marked dirty before the pin goes, so reclaim
 * cannot discard a lazyfree folio written only through a pin.  Upstream
 * takes the folio lock for a file folio's set_page_dirty(); an anon folio
 * needs only the flag.
 */
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages,
				 bool make_dirty)
{
	for (unsigned long i = 0; i < npages; i++) {
		struct folio *folio = page_folio(pages[i]);

		if (make_dirty && !folio_test_dirty(folio))
			folio_mark_dirty(folio);
		gup_put_folio(folio, 1, FOLL_PIN);
	}
}
