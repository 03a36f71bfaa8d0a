// SPDX-License-Identifier: GPL-2.0-only
/*
 * mm/memory.c (v6.15-v6.18): PTE batching, page faults (anonymous with
 * mTHP, COW reuse and copy), fork's page-table copy, and zap.
 *
 * Upstream functions of the same names: folio_pte_batch_flags()
 * (mm/internal.h), copy_pte_range() and copy_present_ptes() (fork),
 * zap_pte_range() and zap_present_ptes() (zap), do_wp_page(),
 * wp_page_copy(), __wp_can_reuse_large_anon_folio(), alloc_anon_folio()
 * and do_anonymous_page().  Refcount before mapcount on the way up,
 * mapcount before refcount on the way down (I1, doc/invariants.md).
 *
 * Lock ordering here: vma lock or mmap_lock, then anon_vma (prepare),
 * then PTL; fork takes the child's PTL, then the parent's nested.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "internal.h"

/* ---- PTE batching (mm/util.c, mm/internal.h) ----------------------------------- */

static pte_t __pte_batch_clear_ignored(pte_t pte, unsigned int flags)
{
	if (!(flags & FPB_RESPECT_DIRTY))
		pte = pte_mkclean(pte);
	if (!(flags & FPB_RESPECT_SOFT_DIRTY))
		pte = pte_clear_soft_dirty(pte);
	if (!(flags & FPB_RESPECT_WRITE))
		pte = pte_wrprotect(pte);
	return pte_mkold(pte);
}

/*
 * The next PTE the batch expects.  Z3 (7b08b74f3d99): on XEN PV a PFN past
 * the folio has no machine frame, the advanced PTE came out empty and
 * matched a none PTE after the folio.
 */
static pte_t batch_expected(pte_t pte, unsigned long end_pfn, unsigned int flags)
{
	if (ft_injected(FT_INJ_BATCH_PAST_FOLIO) && pte_pfn(pte) >= end_pfn)
		return __pte_batch_clear_ignored(__pte(0), flags);
	return __pte_batch_clear_ignored(pte, flags);
}

unsigned int folio_pte_batch_flags(struct folio *folio, pte_t *ptep,
				   pte_t *ptentp, unsigned int max_nr,
				   unsigned int flags)
{
	bool any_writable = false, any_young = false, any_dirty = false;
	unsigned long end_pfn = folio_pfn(folio) + folio_nr_pages(folio);
	pte_t expected, pte = *ptentp, *p;
	unsigned int nr;

	/* The caller's contract (T9): the scan stays in @ptep's table. */
	VM_WARN_ON_FOLIO(ptep - ptdesc_of(ptep)->ptes + max_nr > PTRS_PER_PTE, folio);
	/* Never past the folio's end (the Z3/B3 fix). */
	if (!ft_injected(FT_INJ_BATCH_PAST_FOLIO))
		max_nr = min(max_nr, (unsigned int)(end_pfn - pte_pfn(pte)));
	nr = pte_batch_hint(ptep, pte);
	expected = batch_expected(pte_advance_pfn(pte, nr), end_pfn, flags);
	p = ptep + nr;
	while (nr < max_nr) {
		unsigned int step;

		pte = ptep_get(p);
		if (!pte_same(__pte_batch_clear_ignored(pte, flags), expected))
			break;
		any_writable |= pte_write(pte);
		any_young |= pte_young(pte);
		any_dirty |= pte_dirty(pte);
		step = pte_batch_hint(p, pte);
		expected = batch_expected(pte_advance_pfn(expected, step), end_pfn, flags);
		p += step;
		nr += step;
	}
	if ((flags & FPB_MERGE_WRITE) && any_writable)
		*ptentp = pte_mkwrite_novma(*ptentp);
	if ((flags & FPB_MERGE_YOUNG_DIRTY) && any_young)
		*ptentp = pte_mkyoung(*ptentp);
	if ((flags & FPB_MERGE_YOUNG_DIRTY) && any_dirty)
		*ptentp = pte_mkdirty(*ptentp);
	/* The CONT hint can jump past max_nr: the clamp matters (Z4). */
	return min(nr, max_nr);
}

struct page *vm_normal_page(struct vm_area_struct *vma, unsigned long addr,
			    pte_t pte)
{
	(void)addr;
	if (pte_special(pte))
		return NULL;
	return pfn_to_page(vma->vm_mm->pmem, pte_pfn(pte));
}

/*
 * follow_page_pte(): the PTE read and the reference under the PTL.  The PTL
 * orders this after everything the mapper did before set_ptes() (the new
 * anon_vma, folio->mapping); a lockless read would see the entry without
 * them, as ThreadSanitizer showed on a reused anon_vma's root.
 */
struct folio *ft_folio_at(struct mm_struct *mm, unsigned long addr)
{
	struct folio *folio = NULL;
	spinlock_t *ptl;
	pte_t *ptep, pte;

	if (addr >= mm->task_size)
		return NULL;
	ptep = pte_offset_map_lock(mm, pmd_off(mm, addr), addr, &ptl);
	if (!ptep)
		return NULL;
	pte = ptep_get(ptep);
	if (pte_valid(pte) && !pte_special(pte)) {
		folio = page_folio(pfn_to_page(mm->pmem, pte_pfn(pte)));
		/* Mapped under the PTL: the folio cannot be freed meanwhile. */
		folio_get(folio);
	}
	spin_unlock(ptl);
	return folio;
}

const struct folio *ft_folio_peek(struct mm_struct *mm, unsigned long addr)
{
	struct ptdesc *pmd;
	pte_t pte;

	if (addr >= mm->task_size)
		return NULL;
	pmd = pmdp_get_lockless(pmd_off(mm, addr));
	if (!pmd)
		return NULL;
	/* The pfn alone: a CONT bit or a/d bits change nothing here. */
	pte = __ptep_get(&pmd->ptes[pte_index(addr)]);
	if (!pte_valid(pte) || pte_special(pte))
		return NULL;
	return page_folio(pfn_to_page(mm->pmem, pte_pfn(pte)));
}

static pte_t maybe_mkwrite(pte_t pte, struct vm_area_struct *vma)
{
	if (likely(vma_flags(vma) & VM_WRITE))
		pte = pte_mkwrite_novma(pte);
	return pte;
}

static void add_mm_rss_vec(struct mm_struct *mm, const int *rss)
{
	for (int i = 0; i < NR_MM_COUNTERS; i++)
		if (rss[i])
			add_mm_counter(mm, i, rss[i]);
}

static struct ft_random_state *fault_rs(void)
{
	struct ft_sched *s = ft_sched_current();

	return s ? &s->rs : NULL;
}

/* ---- Faults --------------------------------------------------------------------- */

struct vm_fault {
	struct vm_area_struct *vma;
	unsigned long address;
	unsigned int flags;		/* FAULT_FLAG_* */
	unsigned int seq;		/* SPF: the VMA's vm_seq at lookup */
	pmd_t *pmd;
	pte_t *pte;
	spinlock_t *ptl;
	pte_t orig_pte;
	struct page *page;
};

/* SPF: did the VMA change since the lookup?  Checked under the PTL. */
static bool vmf_vma_changed(struct vm_fault *vmf)
{
	return (vmf->flags & FAULT_FLAG_SPECULATIVE) &&
	       read_seqcount_retry(&vmf->vma->vm_seq, vmf->seq);
}

static bool pte_range_none(pte_t *pte, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		if (!pte_none(ptep_get_lockless(pte + i)))
			return false;
	return true;
}

/*
 * alloc_anon_folio() (mm/memory.c): the largest enabled order whose
 * naturally aligned range fits the VMA and is all none, falling back to
 * smaller orders on allocation failure, then to order 0.
 */
static struct folio *alloc_anon_folio(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	unsigned long orders = mm->world->anon_orders & ~1UL;
	struct ptdesc *table = pmdp_get_lockless(vmf->pmd);
	int order;

	for (order = MAX_PAGE_ORDER; order > 0 && table; order--) {
		unsigned long size = PAGE_SIZE << order;
		unsigned long start = vmf->address & ~(size - 1);

		if (!(orders & BIT(order)))
			continue;
		if (start < READ_ONCE(vma->vm_start) || start + size > READ_ONCE(vma->vm_end) ||
		    !pte_range_none(&table->ptes[pte_index(start)], 1U << order)) {
			orders &= ~BIT(order);
			continue;
		}
		break;
	}
	for (; order > 0; order--) {
		struct folio *folio;

		if (!(orders & BIT(order)))
			continue;
		folio = folio_alloc(mm->pmem, (unsigned int)order, fault_rs());
		if (folio)
			return folio;
	}
	return folio_alloc(mm->pmem, 0, fault_rs());
}

/* __vmf_anon_prepare(): under the VMA lock only if the mmap_lock can be had. */
static vm_fault_t vmf_anon_prepare(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	int ret;

	/* Pairs with anon_vma_prepare()'s release: the kernel's address
	 * dependency, which C11 spells acquire (the anon_vma's init before
	 * the folios mapped through it; TSan, a reused anon_vma's root). */
	if (likely(smp_load_acquire(&vma->anon_vma)))
		return 0;
	if (vmf->flags & FAULT_FLAG_SPECULATIVE)
		return VM_FAULT_RETRY;
	if (vmf->flags & FAULT_FLAG_VMA_LOCK) {
		if (!mmap_read_trylock(vma->vm_mm))
			return VM_FAULT_RETRY;
	}
	ret = anon_vma_prepare(vma);
	if (vmf->flags & FAULT_FLAG_VMA_LOCK)
		mmap_read_unlock(vma->vm_mm);
	return ret ? VM_FAULT_OOM : 0;
}

static vm_fault_t do_anonymous_zero_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	pte_t entry = pte_mkspecial(pfn_pte(folio_pfn(mm->world->zero_folio),
					    vma_page_prot(vma)));

	vmf->pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (!vmf->pte)
		return 0;
	if (pte_none(ptep_get(vmf->pte)) && !vmf_vma_changed(vmf))
		set_pte_at(mm, vmf->address, vmf->pte, entry);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

static void add_new_anon_rmap(struct vm_fault *vmf, struct folio *folio,
			      unsigned long addr)
{
	if (vmf->flags & FAULT_FLAG_SPECULATIVE)
		__folio_add_new_anon_rmap(folio, vmf->vma, addr, RMAP_EXCLUSIVE);
	else
		folio_add_new_anon_rmap(folio, vmf->vma, addr, RMAP_EXCLUSIVE);
}

/* do_anonymous_page() (mm/memory.c): refs, then rmap, then set_ptes. */
static vm_fault_t do_anonymous_page(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct folio *folio;
	unsigned long addr;
	vm_fault_t ret;
	unsigned int nr;
	pte_t entry;

	if (vma_flags(vma) & VM_SHARED)
		return VM_FAULT_SIGSEGV;	/* FT-DEVIATION: no shmem */
	if (pte_alloc(mm, vmf->pmd, vmf->address))
		return VM_FAULT_OOM;
	if (!(vmf->flags & FAULT_FLAG_WRITE))
		return do_anonymous_zero_page(vmf);
	ret = vmf_anon_prepare(vmf);
	if (ret)
		return ret;
	folio = alloc_anon_folio(vmf);
	if (!folio)
		return VM_FAULT_OOM;
	nr = (unsigned int)folio_nr_pages(folio);
	addr = vmf->address & ~(nr * PAGE_SIZE - 1);
	entry = pfn_pte(folio_pfn(folio), vma_page_prot(vma));
	if (vma_flags(vma) & VM_WRITE)
		entry = pte_mkwrite_novma(pte_mkdirty(entry));
	vmf->pte = pte_offset_map_lock(mm, vmf->pmd, addr, &vmf->ptl);
	if (!vmf->pte)
		goto release;
	/* Someone else faulted in (part of) the range meanwhile. */
	if ((nr == 1 && !pte_none(ptep_get(vmf->pte))) ||
	    (nr > 1 && !pte_range_none(vmf->pte, nr)) || vmf_vma_changed(vmf))
		goto unlock;
	folio_ref_add(folio, (int)nr - 1);		/* one per PTE */
	add_mm_counter(mm, MM_ANONPAGES, nr);
	add_new_anon_rmap(vmf, folio, addr);
	folio_add_lru(folio);
	set_ptes(mm, addr, vmf->pte, entry, nr);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	if (nr > 1)
		count_vm_event(mm->pmem, THP_FAULT_ALLOC);
	return 0;
unlock:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
release:
	folio_put(folio);
	return 0;
}

/*
 * The ground truth for --compare-models, under the PTL: would a scheme that
 * knew every mapping have reused @folio?  Yes if it is mapped more than
 * once, every reference is a mapping, and this table maps it as often as
 * the mapcount says, at the addresses where its pages sit in line with the
 * faulting one.  Mappings elsewhere in this MM (another table, a partial
 * mremap) are not counted: the count errs towards "not avoidable".
 */
static bool exact_would_reuse(struct vm_fault *vmf, struct folio *folio)
{
	unsigned long idx = folio_page_idx(folio, vmf->page);
	unsigned long nr = folio_nr_pages(folio), first = folio_pfn(folio);
	unsigned long start = vmf->address - idx * PAGE_SIZE;
	unsigned long table = vmf->address & PMD_MASK;
	int mapcount = folio_large_mapcount(folio), here = 0;

	if (mapcount <= 1 || folio_ref_count(folio) != mapcount)
		return false;
	for (unsigned long i = 0; i < nr; i++) {
		unsigned long addr = start + i * PAGE_SIZE;
		pte_t pte;

		if (addr < table || addr >= table + PMD_SIZE)
			continue;
		pte = ptep_get(vmf->pte - (long)idx + (long)i);
		here += pte_present(pte) && pte_pfn(pte) == first + i;
	}
	return here == mapcount;
}

/* wp_can_reuse_anon_folio() (mm/memory.c): small folios here. */
static bool wp_can_reuse_anon_folio(struct vm_fault *vmf, struct folio *folio)
{
	struct vm_area_struct *vma = vmf->vma;

	if (folio_test_large(folio)) {
		bool swapcache = folio_test_swapcache(folio);

		if (!wp_can_reuse_large_anon_folio(folio, vma)) {
			count_vm_event(folio->pmem, COW_LARGE_COPY);
			if (exact_would_reuse(vmf, folio))
				count_vm_event(folio->pmem, COW_LARGE_COPY_AVOIDABLE);
			return false;
		}
		count_vm_event(folio->pmem, COW_LARGE_REUSE);
		if (swapcache)
			count_vm_event(folio->pmem, SWAP_REUSE_LARGE);
		return true;
	}
	if (folio_ref_count(folio) > 1 + folio_test_swapcache(folio))
		return false;
	if (!folio_trylock(folio))
		return false;
	if (folio_test_swapcache(folio))
		folio_free_swap(folio);
	if (folio_ref_count(folio) != 1) {
		folio_unlock(folio);
		return false;
	}
	/* Ours alone: it belongs to this VMA's anon_vma from now on. */
	folio_move_anon_rmap(folio, vma);
	folio_unlock(folio);
	return true;
}

/* Only the faulting PTE: young, dirty and writable (the others stay RO). */
static vm_fault_t wp_page_reuse(struct vm_fault *vmf)
{
	pte_t entry = pte_mkyoung(vmf->orig_pte);

	entry = maybe_mkwrite(pte_mkdirty(entry), vmf->vma);
	ptep_set_access_flags(vmf->vma, vmf->address, vmf->pte, entry, 1);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

/*
 * wp_page_copy() (mm/memory.c, in upstream's order):
 * the new folio's rmap before the PTE switch, the old one's removed only
 * after it (so no other MM can "reuse" the old page while this PTE still
 * maps it), both old references dropped after the PTL.  Called without
 * the PTL, holding an extra reference on the old folio.
 *
 * FT-DEVIATION: an unshare's copy (FAULT_FLAG_UNSHARE, a read-only pin of
 * a shared page) gets a dirty entry too.  The unshare branch of upstream's
 * wp_page_copy() as we read it leaves the entry clean, but the 6.18 kernel
 * (x86) we ran shows the copy dirty (smaps Private_Dirty with PG_dirty
 * clear, after a process_vm_readv() or O_DIRECT write of the page), and a
 * fork child that inherits it keeps its data when the parent alone
 * MADV_FREEs the page and reclaim runs.  A clean copy would let reclaim
 * discard it under that child: the content exists nowhere else, and no
 * entry says so (test_gup's unshare-lazyfree).  Why the kernel's entry is
 * dirty we have not found.
 */
static vm_fault_t wp_page_copy(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	struct folio *old = vmf->page ? page_folio(vmf->page) : NULL;
	struct folio *new = NULL;
	vm_fault_t ret;
	pte_t entry;

	/* The new page is anon: the VMA needs its anon_vma first (a VMA
	 * that so far mapped only the zero page has none). */
	ret = vmf_anon_prepare(vmf);
	if (!ret) {
		new = folio_alloc(mm->pmem, 0, fault_rs());
		ret = new ? 0 : VM_FAULT_OOM;
	}
	if (ret) {
		if (old)
			folio_put(old);
		return ret;
	}
	if (old)
		copy_page_data(new->page, vmf->page);
	/* Preemptible until the PTL (mmu_notifier_invalidate_range_start()
	 * may sleep): a store through a stale TLB entry to the old page
	 * lands after the copy (Z14's lost write).  Such entries outlive a
	 * write-protect until its flush: while fork copies this mm
	 * (write_protect_seq odd; a speculative fault or Z14's), the window
	 * lingers for an aimer. */
	ft_irq_window_linger(FT_WIN_WP_COPY, mm, vmf->address & PAGE_MASK, PAGE_SIZE, old,
			     raw_read_seqcount(&mm->write_protect_seq) & 1);
	vmf->pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (!vmf->pte || !pte_same(ptep_get(vmf->pte), vmf->orig_pte) ||
	    vmf_vma_changed(vmf)) {
		if (vmf->pte)
			pte_unmap_unlock(vmf->pte, vmf->ptl);
		folio_put(new);
		if (old)
			folio_put(old);
		return 0;
	}
	if (!old)
		add_mm_counter(mm, MM_ANONPAGES, 1);	/* the zero page was not */
	entry = pte_mkdirty(pfn_pte(folio_pfn(new), vma_page_prot(vma)));
	if (!(vmf->flags & FAULT_FLAG_UNSHARE))
		entry = maybe_mkwrite(entry, vma);
	ptep_clear_flush(vma, vmf->address, vmf->pte);
	add_new_anon_rmap(vmf, new, vmf->address);
	folio_add_lru(new);
	set_pte_at(mm, vmf->address, vmf->pte, entry);
	if (old)
		folio_remove_rmap_pte(old, vmf->page, vma);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	count_vm_event(mm->pmem, COW_COPY);
	if (old) {
		folio_put(old);		/* the old PTE's reference */
		free_swap_cache(old);
		folio_put(old);		/* do_wp_page's */
	}
	return 0;
}

/* do_wp_page() (mm/memory.c): called with the PTL held. */
static vm_fault_t do_wp_page(struct vm_fault *vmf)
{
	struct folio *folio;

	vmf->page = vm_normal_page(vmf->vma, vmf->address, vmf->orig_pte);
	folio = vmf->page ? page_folio(vmf->page) : NULL;
	if (folio && folio_test_anon(folio) &&
	    (PageAnonExclusive(vmf->page) || wp_can_reuse_anon_folio(vmf, folio))) {
		/* Only the faulting page: the others check on their own. */
		if (!PageAnonExclusive(vmf->page))
			SetPageAnonExclusive(vmf->page);
		count_vm_event(vmf->vma->vm_mm->pmem, COW_REUSE);
		if (vmf->flags & FAULT_FLAG_UNSHARE) {
			pte_unmap_unlock(vmf->pte, vmf->ptl);
			return 0;
		}
		return wp_page_reuse(vmf);
	}
	if (folio)
		folio_get(folio);
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return wp_page_copy(vmf);
}

/*
 * do_swap_page()'s whole-folio case (v6.18): a large swap cache folio is
 * mapped at once when its pages' entries all sit in this table and VMA,
 * in order, alike (swap_pte_batch()).  Else one page is mapped.
 */
static unsigned int swapin_nr_pages(struct vm_fault *vmf, struct folio *folio,
				    struct page *page)
{
	struct vm_area_struct *vma = vmf->vma;
	unsigned int nr = (unsigned int)folio_nr_pages(folio);
	unsigned long idx = folio_page_idx(folio, page);
	unsigned long start = vmf->address - idx * PAGE_SIZE;
	pte_t *ptep = vmf->pte - idx;

	if (start < max(vmf->address & PMD_MASK, vma->vm_start) ||
	    start + nr * PAGE_SIZE > pmd_addr_end(vmf->address, vma->vm_end))
		return 1;
	for (unsigned int i = 0; i < nr; i++) {
		pte_t expected = make_swap_pte(READ_ONCE(folio->swap) + i,
					       pte_swp_exclusive(vmf->orig_pte),
					       vmf->orig_pte);

		if (!pte_same(ptep_get(ptep + i), expected))
			return 1;
	}
	return nr;
}

/*
 * should_try_to_free_swap(): a write fault that would find only its own
 * and the cache's references frees the cache's, to map the page writable.
 */
static bool should_try_to_free_swap(struct folio *folio, unsigned int flags)
{
	return folio_test_swapcache(folio) && (flags & FAULT_FLAG_WRITE) &&
	       folio_ref_count(folio) == 1 + (int)folio_nr_pages(folio);
}

/* The swap cache folio for the entry, with a reference; NULL: retry or OOM. */
static struct folio *swapin_lookup(struct vm_fault *vmf, unsigned long offset,
				   vm_fault_t *ret)
{
	struct ft_pmem *pmem = vmf->vma->vm_mm->pmem;
	struct folio *folio = swap_cache_get_folio(pmem, offset);
	bool oom;

	if (folio)
		return folio;
	folio = swapin_folio(pmem, offset, fault_rs(), &oom);
	if (folio)
		count_vm_event(pmem, PSWPIN);
	else if (oom)
		*ret = VM_FAULT_OOM;
	else
		ft_page_wait_yield();	/* being added or removed: wait for it */
	return folio;
}

/* Map @nr pages of the locked swap cache @folio from @page at @address. */
static void swapin_map(struct vm_fault *vmf, struct folio *folio, struct page *page,
		       unsigned long address, pte_t *ptep, unsigned int nr)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	bool exclusive = pte_swp_exclusive(vmf->orig_pte);
	rmap_t rmap_flags = RMAP_NONE;
	pte_t pte;

	swap_free_nr(mm->pmem, READ_ONCE(folio->swap) + folio_page_idx(folio, page), nr);
	if (should_try_to_free_swap(folio, vmf->flags))
		folio_free_swap(folio);
	add_mm_counter(mm, MM_ANONPAGES, nr);
	add_mm_counter(mm, MM_SWAPENTS, -(long)nr);
	pte = pfn_pte(page_to_pfn(page), vma_page_prot(vma));
	if (pte_soft_dirty(vmf->orig_pte))
		pte = pte_mksoft_dirty(pte);
	/* Certainly not shared: the entry says so, or no one else holds it. */
	if (exclusive || folio_ref_count(folio) == 1) {
		if (vma_flags(vma) & VM_WRITE) {
			pte = pte_mkwrite_novma(pte);
			if (vmf->flags & FAULT_FLAG_WRITE) {
				pte = pte_mkdirty(pte);
				vmf->flags &= ~FAULT_FLAG_WRITE;
			}
		}
		rmap_flags = RMAP_EXCLUSIVE;
	}
	folio_ref_add(folio, (int)nr - 1);	/* the lookup's is one of them */
	if (!folio_test_anon(folio))
		folio_add_new_anon_rmap(folio, vma, address, rmap_flags);
	else
		folio_add_anon_rmap_ptes(folio, page, (int)nr, vma, address, rmap_flags);
	set_ptes(mm, address, ptep, pte, nr);
}

/*
 * A non-present entry that is neither a migration entry nor one of the
 * swap device's.  Upstream decodes it as an entry of a swap device that
 * does not exist, and get_swap_device() (fault), swap_duplicate() (fork)
 * and free_swap_and_cache() (zap) say "Bad swap file entry".  Write-
 * protecting a none entry makes one, as arm64's pte_wrprotect() sets
 * PTE_RDONLY: fork does that to the hole the batch-over-hole injection
 * copies across.
 */
static void bad_swap_entry(struct mm_struct *mm, unsigned long addr, pte_t pte,
			   const char *func)
{
	if (!ft_report_begin("bad swap entry"))
		return;
	ft_report_msg("BUG: mm id %u: %s: Bad swap file entry %#llx at %#lx\n",
		      mm->mm_id, func, (unsigned long long)pte_val(pte), addr);
	fprintf(stderr, "pte: ");
	pte_describe(stderr, pte);
	fprintf(stderr, "\n");
	ft_report_end();
}

/*
 * do_swap_page() (mm/memory.c v6.18): the swap cache folio (read in if
 * needed), locked, checked to still be the entry's, mapped under the PTL
 * if the entry did not change; exclusive if the entry remembers it.  A
 * write fault that could not map writable goes on to do_wp_page(), as
 * upstream.  FT-DEVIATION: a speculative fault retries with a lock.
 */
static vm_fault_t do_swap_page(struct vm_fault *vmf)
{
	struct mm_struct *mm = vmf->vma->vm_mm;
	unsigned long offset = pte_swp_offset(vmf->orig_pte), address, idx;
	vm_fault_t ret = 0;
	struct folio *folio;
	struct page *page;
	unsigned int nr;

	if (vmf->flags & FAULT_FLAG_SPECULATIVE)
		return VM_FAULT_RETRY;
	folio = swapin_lookup(vmf, offset, &ret);
	if (!folio)
		return ret;
	if (!folio_trylock(folio)) {		/* folio_lock_or_retry() */
		folio_put(folio);
		ft_page_wait_yield();
		return 0;
	}
	idx = offset - READ_ONCE(folio->swap);
	if (!folio_test_swapcache(folio) || idx >= folio_nr_pages(folio))
		goto out_page;			/* left the cache: retry */
	page = folio_page(folio, idx);
	vmf->pte = pte_offset_map_lock(mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (!vmf->pte)
		goto out_page;
	if (!pte_same(ptep_get(vmf->pte), vmf->orig_pte) || vmf_vma_changed(vmf))
		goto out_nomap;
	nr = folio_test_large(folio) ? swapin_nr_pages(vmf, folio, page) : 1;
	address = vmf->address;
	if (nr > 1) {
		address -= idx * PAGE_SIZE;
		page = folio_page(folio, 0);
	}
	swapin_map(vmf, folio, page, address, vmf->pte - (nr > 1 ? idx : 0), nr);
	folio_unlock(folio);
	if (vmf->flags & FAULT_FLAG_WRITE) {
		vmf->orig_pte = ptep_get(vmf->pte);
		return do_wp_page(vmf);		/* with the PTL */
	}
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
out_nomap:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
out_page:
	folio_unlock(folio);
	folio_put(folio);
	return 0;
}

/*
 * handle_pte_fault() as upstream: the entry read without the PTL
 * (ptep_get_lockless(), which gathers a contpte block's a/d with its
 * consistency retry), decisions taken on that view, and the PTL taken to
 * check with pte_same() that the entry is still what was read.
 */
static vm_fault_t handle_pte_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	bool write = vmf->flags & (FAULT_FLAG_WRITE | FAULT_FLAG_UNSHARE);
	pte_t entry;

	vmf->pte = pte_offset_map_nolock(mm, vmf->pmd, vmf->address, &vmf->ptl);
	if (vmf->pte) {
		vmf->orig_pte = ptep_get_lockless(vmf->pte);
		if (pte_none(vmf->orig_pte))
			vmf->pte = NULL;
	}
	if (!vmf->pte)
		return do_anonymous_page(vmf);
	if (is_swapfile_entry(vmf->orig_pte))
		return do_swap_page(vmf);
	if (!pte_present(vmf->orig_pte)) {
		/* FT-DEVIATION: upstream returns 0 and faults again for ever;
		 * the report ends the run, the access fails meanwhile. */
		if (!is_migration_entry(vmf->orig_pte)) {
			bad_swap_entry(mm, vmf->address, vmf->orig_pte, "do_swap_page");
			return VM_FAULT_SIGSEGV;
		}
		/* migration_entry_wait(): until remove_migration_ptes() ran. */
		ft_page_wait_yield();
		return 0;
	}
	spin_lock(vmf->ptl);
	entry = vmf->orig_pte;
	if (!pte_same(ptep_get(vmf->pte), entry))
		goto unlock;		/* changed since: the access retries */
	if (vmf_vma_changed(vmf)) {
		pte_unmap_unlock(vmf->pte, vmf->ptl);
		return VM_FAULT_RETRY;
	}
	if (write && !pte_write(entry))
		return do_wp_page(vmf);
	if (vmf->flags & FAULT_FLAG_WRITE)
		entry = pte_mkdirty(entry);
	entry = pte_mkyoung(entry);
	ptep_set_access_flags(vma, vmf->address, vmf->pte, entry,
			      vmf->flags & FAULT_FLAG_WRITE);
unlock:
	pte_unmap_unlock(vmf->pte, vmf->ptl);
	return 0;
}

/**
 * handle_mm_fault - resolve a fault on @address of @vma
 * @vma: the VMA, read-locked, or its mm's mmap_lock held, or (SPF) looked
 *       up without a lock at sequence @seq
 * @address: the faulting address
 * @flags: FAULT_FLAG_*
 * @seq: for FAULT_FLAG_SPECULATIVE, the VMA's vm_seq at lookup
 *
 * Returns 0, or VM_FAULT_RETRY (try again with the mmap_lock), OOM, SIGSEGV.
 */
vm_fault_t handle_mm_fault(struct vm_area_struct *vma, unsigned long address,
			   unsigned int flags, unsigned int seq)
{
	struct vm_fault vmf = {
		.vma = vma, .address = address & ~(PAGE_SIZE - 1),
		.flags = flags, .seq = seq,
		.pmd = pmd_off(vma->vm_mm, address),
	};

	if (!(flags & FAULT_FLAG_SPECULATIVE))
		vma_assert_locked(vma);
	return handle_pte_fault(&vmf);
}

static bool access_permitted(struct vm_area_struct *vma, bool write)
{
	unsigned long flags = vma_flags(vma);

	return write ? flags & VM_WRITE : flags & (VM_READ | VM_WRITE);
}

static enum ft_fault_result to_result(vm_fault_t ret)
{
	if (ret & VM_FAULT_OOM)
		return FT_FAULT_OOM;
	if (ret & VM_FAULT_SIGSEGV)
		return FT_FAULT_SIGSEGV;
	return FT_FAULT_OK;
}

/* arm64's do_page_fault(): the world's locking mode picks the locks. */
static enum ft_fault_result do_page_fault(struct mm_struct *mm, unsigned long addr,
					  bool write)
{
	const struct ft_locking_mode *locking = mm->world->locking;
	unsigned int flags = write ? FAULT_FLAG_WRITE : 0;
	struct vm_area_struct *vma;
	vm_fault_t ret;

	count_vm_event(mm->pmem, PGFAULT);
	if (locking->fault_speculative) {
		vma = find_vma_speculative(mm, addr);
		if (vma) {
			unsigned int seq = raw_read_seqcount(&vma->vm_seq);

			if (!(seq & 1) && access_permitted(vma, write)) {
				ret = handle_mm_fault(vma, addr,
						      flags | FAULT_FLAG_SPECULATIVE, seq);
				if (!(ret & VM_FAULT_RETRY))
					return to_result(ret);
			}
		}
	} else if (locking->fault_vma_lock) {
		vma = lock_vma_under_rcu(mm, addr);
		if (vma) {
			if (!access_permitted(vma, write)) {
				vma_end_read(vma);
				return FT_FAULT_SIGSEGV;
			}
			ret = handle_mm_fault(vma, addr, flags | FAULT_FLAG_VMA_LOCK, 0);
			vma_end_read(vma);
			if (!(ret & VM_FAULT_RETRY))
				return to_result(ret);
		}
	}
	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	if (!vma || !access_permitted(vma, write)) {
		mmap_read_unlock(mm);
		return FT_FAULT_SIGSEGV;
	}
	ret = handle_mm_fault(vma, addr, flags, 0);
	mmap_read_unlock(mm);
	return to_result(ret);
}

enum ft_fault_result ft_user_access(struct mm_struct *mm, unsigned long addr,
				    bool write, unsigned long *data,
				    struct ft_random_state *rs)
{
	for (;;) {
		enum ft_fault_result ret;

		if (ft_hw_access_data(mm, addr, write, rs, data) == FT_HW_OK)
			return FT_FAULT_OK;
		ret = do_page_fault(mm, addr, write);
		if (ret != FT_FAULT_OK)
			return ret;
	}
}

/* ---- fork: copy_page_range (copy_pte_range(), copy_present_ptes()) ------------- */

/* Any of @nr entries dirty (a contpte block's gathered dirty included)? */
static bool ptes_any_dirty(pte_t *ptep, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		if (pte_dirty(ptep_get(ptep + i)))
			return true;
	return false;
}

/*
 * __copy_present_ptes(): the parent write-protected, the child old.
 *
 * FT-DEVIATION (Z26): a writable entry read clean is read again after the
 * write-protect, and the child gets its dirty bit from there.  Upstream
 * (v6.18) gives the child the value read before: another thread's first
 * write through the still-writable entry sets dirty in between, so the
 * parent's entry is dirty and the child's clean although both map the
 * written page.  Anon code drops a dirty entry without telling the folio
 * (the parent's COW copy, zap, exit), and then no entry says the page is
 * newer than its copy: reclaim frees a swap cache folio without writing
 * it (the child reads the stale swap slot back) or discards a lazyfree
 * one (zero).  Clean writable entries are what MADV_FREE leaves, and what
 * a read fault's swap-in of an exclusive page maps (since c18160dba5ff63,
 * June 2024).  After the write-protect no CPU can set dirty any more.
 */
static void __copy_present_ptes(struct vm_area_struct *dst_vma,
				struct vm_area_struct *src_vma, pte_t *dst_pte,
				pte_t *src_pte, pte_t pte, unsigned long addr,
				unsigned int nr)
{
	struct mm_struct *src_mm = src_vma->vm_mm;

	if (is_cow_mapping(src_vma->vm_flags) && pte_write(pte)) {
		wrprotect_ptes(src_mm, addr, src_pte, nr);
		pte = pte_wrprotect(pte);
		if (!pte_dirty(pte) && !ft_injected(FT_INJ_FORK_DIRTY_BEFORE_WRPROTECT) &&
		    ptes_any_dirty(src_pte, nr))
			pte = pte_mkdirty(pte);
	}
	if (src_vma->vm_flags & VM_SHARED)
		pte = pte_mkclean(pte);
	pte = pte_clear_uffd_wp(pte_mkold(pte));
	set_ptes(dst_vma->vm_mm, addr, dst_pte, pte, nr);
}

/* A maybe-pinned exclusive page: the child gets its own copy now. */
static int copy_present_page(struct vm_area_struct *dst_vma, pte_t *dst_pte,
			     unsigned long addr, int *rss, struct folio **prealloc,
			     struct page *page)
{
	struct folio *new = *prealloc;
	pte_t pte;

	if (!new)
		return -EAGAIN;
	*prealloc = NULL;
	copy_page_data(new->page, page);
	folio_add_new_anon_rmap(new, dst_vma, addr, RMAP_EXCLUSIVE);
	folio_add_lru(new);
	rss[MM_ANONPAGES]++;
	pte = pfn_pte(folio_pfn(new), dst_vma->vm_page_prot);
	pte = maybe_mkwrite(pte_mkdirty(pte), dst_vma);
	set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte);
	return 0;
}

/*
 * The PTEs fork copies as one batch.  The batch-over-hole injection sizes
 * it from the folio alone, as if every PTE up to the folio's end still
 * mapped it: a none PTE left by MADV_DONTNEED is copied as present.
 */
static unsigned int fork_batch(struct folio *folio, struct page *page,
			       pte_t *src_pte, pte_t *ptentp, unsigned int max_nr,
			       unsigned int flags)
{
	if (ft_injected(FT_INJ_BATCH_OVER_HOLE))
		return min(max_nr, (unsigned int)(folio_pfn(folio) +
						  folio_nr_pages(folio) -
						  page_to_pfn(page)));
	return folio_pte_batch_flags(folio, src_pte, ptentp, max_nr, flags);
}

/*
 * Z22: copy_pte_range's progress check moved inside the batch.  The batch
 * already has its references, mapcounts and rss; a break at PTE i copies i
 * of them and the resumed loop duplicates the rest a second time.
 */
static unsigned int break_inside_batch(unsigned int nr, unsigned long addr)
{
	int progress = 0;

	for (unsigned int i = 1; i < nr; i++) {
		progress += 8;
		if (ft_fork_should_break(&progress, addr + i * PAGE_SIZE, false))
			return i;
	}
	return nr;
}

/*
 * copy_present_ptes(): a batch of one folio, reference before mapcount
 * (Z2 had them the other way round), dropped again on -EBUSY (Z24).
 */
static int copy_present_ptes(struct vm_area_struct *dst_vma,
			     struct vm_area_struct *src_vma, pte_t *dst_pte,
			     pte_t *src_pte, pte_t pte, unsigned long addr,
			     unsigned int max_nr, int *rss, struct folio **prealloc)
{
	unsigned int flags = FPB_MERGE_WRITE, nr;
	struct page *page = vm_normal_page(src_vma, addr, pte);
	struct folio *folio;
	int err;

	if (!page)
		goto copy_pte;		/* the zero page: no ref, no rmap */
	folio = page_folio(page);
	if (!*prealloc && folio_test_large(folio) && max_nr != 1) {
		if (!(src_vma->vm_flags & VM_SHARED))
			flags |= FPB_RESPECT_DIRTY;
		nr = fork_batch(folio, page, src_pte, &pte, max_nr, flags);
		if (!ft_injected(FT_INJ_FORK_MAP_BEFORE_REF))
			folio_ref_add(folio, (int)nr);
		if (folio_try_dup_anon_rmap_ptes(folio, page, (int)nr, dst_vma, src_vma)) {
			if (!ft_injected(FT_INJ_FORK_MAP_BEFORE_REF) &&
			    !ft_injected(FT_INJ_EBUSY_NO_REF_ROLLBACK))
				folio_ref_sub(folio, (int)nr);
			return -EAGAIN;
		}
		if (ft_injected(FT_INJ_FORK_MAP_BEFORE_REF))
			folio_ref_add(folio, (int)nr);
		rss[MM_ANONPAGES] += (int)nr;
		VM_WARN_ON_FOLIO(PageAnonExclusive(page), folio);
		if (ft_injected(FT_INJ_BREAK_INSIDE_BATCH))
			nr = break_inside_batch(nr, addr);
		/* Shared but still writable in the parent: GUP-fast's window. */
		ft_irq_window(FT_WIN_FORK_COPY, src_vma->vm_mm, addr, nr * PAGE_SIZE, folio);
		__copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, pte, addr, nr);
		return (int)nr;
	}
	folio_get(folio);
	if (folio_try_dup_anon_rmap_pte(folio, page, dst_vma, src_vma)) {
		folio_put(folio);
		err = copy_present_page(dst_vma, dst_pte, addr, rss, prealloc, page);
		return err ? err : 1;
	}
	rss[MM_ANONPAGES]++;
	/* As above. */
	ft_irq_window(FT_WIN_FORK_COPY, src_vma->vm_mm, addr, PAGE_SIZE, folio);
copy_pte:
	__copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, pte, addr, 1);
	return 1;
}

/*
 * copy_nonpresent_pte(): a swap entry gains a reference and is shared
 * from now on (both sides lose pte_swp_exclusive); a migration entry is
 * made read-only on both sides.  FT-DEVIATION: a bad entry is reported
 * and not copied, where upstream's swap_duplicate() fails the fork.
 */
static void copy_nonpresent_pte(struct vm_area_struct *dst_vma,
				struct vm_area_struct *src_vma, pte_t *dst_pte,
				pte_t *src_pte, unsigned long addr, int *rss)
{
	pte_t pte = ptep_get(src_pte);

	if (!is_swapfile_entry(pte) && !is_migration_entry(pte)) {
		bad_swap_entry(src_vma->vm_mm, addr, pte, "swap_duplicate");
		return;
	}
	if (is_swapfile_entry(pte)) {
		swap_duplicate(src_vma->vm_mm->pmem, pte_swp_offset(pte));
		if (pte_swp_exclusive(pte)) {
			pte = pte_swp_clear_exclusive(pte);
			set_pte_at(src_vma->vm_mm, addr, src_pte, pte);
		}
		rss[MM_SWAPENTS]++;
		set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte);
		return;
	}
	rss[MM_ANONPAGES]++;
	/* COW: both sides read-only; an exclusive entry is shared now. */
	if (pte_swp_type(pte) != SWP_MIGRATION_READ &&
	    is_cow_mapping(src_vma->vm_flags)) {
		pte = make_migration_pte(pte_pfn(pte), SWP_MIGRATION_READ, pte);
		set_pte_at(src_vma->vm_mm, addr, src_pte, pte);
	}
	set_pte_at(dst_vma->vm_mm, addr, dst_pte, pte);
}

/*
 * The mid-block break experiment (the fork break race Barry Song raised in
 * the review of "mm: Batch-copy PTE ranges during fork()", Nov 2023): fork
 * resumes inside a contpte block.  Was the block folded while the PTLs
 * were dropped?  Whether the resumed copy's write-protect of part of it
 * unfolds it again, the contpte layer tells (ft_fork_resume_begin()).
 */
static void count_mid_block_resume(unsigned long addr, pte_t at_break, pte_t now)
{
	ft_fork_resume_begin(addr, pte_valid_cont(now) && !pte_valid_cont(at_break));
}

static int copy_pte_range(struct vm_area_struct *dst_vma,
			  struct vm_area_struct *src_vma, pmd_t *dst_pmd,
			  pmd_t *src_pmd, unsigned long addr, unsigned long end)
{
	struct mm_struct *dst_mm = dst_vma->vm_mm, *src_mm = src_vma->vm_mm;
	struct folio *prealloc = NULL;
	spinlock_t *src_ptl, *dst_ptl;
	pte_t *src_pte, *dst_pte;
	int progress, ret = 0, nr;
	int rss[NR_MM_COUNTERS];
	unsigned long copied = 0;
	pte_t at_break = __pte(0);	/* the source entry where we broke off */
	bool broke = false;

again:
	if (broke)
		ft_window_close();
	progress = 0;
	memset(rss, 0, sizeof(rss));
	if (pte_alloc(dst_mm, dst_pmd, addr)) {
		ret = -ENOMEM;
		goto out;
	}
	dst_pte = pte_offset_map_lock(dst_mm, dst_pmd, addr, &dst_ptl);
	/* The source table is stable under the mmap_lock: no recheck. */
	src_pte = pte_offset_map_nolock(src_mm, src_pmd, addr, &src_ptl);
	if (!src_pte) {
		pte_unmap_unlock(dst_pte, dst_ptl);
		goto out;
	}
	spin_lock_nested(src_ptl, SINGLE_DEPTH_NESTING);
	if (broke && (addr & ~CONT_PTE_MASK))
		count_mid_block_resume(addr, at_break, __ptep_get(src_pte));
	broke = false;
	do {
		pte_t ptent;

		nr = 1;
		/* Between batches only: one batch is never split (as upstream). */
		if (ft_fork_should_break(&progress, addr,
					 spin_needbreak(src_ptl) || spin_needbreak(dst_ptl))) {
			at_break = __ptep_get(src_pte);
			broke = true;
			break;
		}
		ptent = ptep_get(src_pte);
		if (pte_none(ptent)) {
			progress++;
			continue;
		}
		if (!pte_present(ptent)) {
			copy_nonpresent_pte(dst_vma, src_vma, dst_pte, src_pte, addr, rss);
			progress += 8;
			copied++;
			continue;
		}
		ret = copy_present_ptes(dst_vma, src_vma, dst_pte, src_pte, ptent, addr,
					(unsigned int)((end - addr) >> PAGE_SHIFT), rss,
					&prealloc);
		if (ret == -EAGAIN)
			break;
		if (prealloc) {
			folio_put(prealloc);
			prealloc = NULL;
		}
		nr = ret;
		progress += 8 * nr;
		copied += nr;
	} while (dst_pte += nr, src_pte += nr, addr += PAGE_SIZE * nr, addr != end);
	spin_unlock(src_ptl);
	add_mm_rss_vec(dst_mm, rss);		/* before the child's PTL goes */
	pte_unmap_unlock(dst_pte, dst_ptl);
	count_vm_events(src_mm->pmem, FORK_PTE_COPY, copied);
	copied = 0;
	/* Until the PTLs are taken again: the block fork resumes in. */
	if (broke) {
		ft_window_open(FT_WIN_FORK_BREAK, src_mm, addr & CONT_PTE_MASK,
			       CONT_PTE_SIZE, NULL);
		ft_window_linger();
	}
	cond_resched();
	if (ret == -EAGAIN) {
		/* Allocate the copy for the maybe-pinned page, then retry it. */
		prealloc = folio_alloc(src_mm->pmem, 0, fault_rs());
		if (!prealloc) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = 0;
	if (addr != end)
		goto again;			/* resume at the same address */
out:
	/* Not before: after -EAGAIN the resumed entry is copied on the next pass. */
	ft_fork_resume_end();
	if (prealloc)
		folio_put(prealloc);
	return ret;
}

int copy_page_range(struct vm_area_struct *dst_vma, struct vm_area_struct *src_vma)
{
	struct mm_struct *dst_mm = dst_vma->vm_mm, *src_mm = src_vma->vm_mm;
	bool is_cow = is_cow_mapping(src_vma->vm_flags);
	unsigned long addr = src_vma->vm_start, end = src_vma->vm_end, next;
	int ret = 0;

	/* vma_needs_copy(): anonymous pages exist only with an anon_vma. */
	if (!src_vma->anon_vma)
		return 0;
	if (is_cow) {
		mmap_assert_write_locked(src_mm);
		if (!ft_injected(FT_INJ_FORK_NO_VMA_LOCK))
			vma_assert_write_locked(src_vma);
		/* GUP-fast backs off while the parent is write-protected. */
		raw_write_seqcount_begin(&src_mm->write_protect_seq);
	}
	for (; addr < end && !ret; addr = next) {
		pmd_t *src_pmd = pmd_off(src_mm, addr);

		next = pmd_addr_end(addr, end);
		if (!pmdp_get_lockless(src_pmd))
			continue;
		ret = copy_pte_range(dst_vma, src_vma, pmd_off(dst_mm, addr), src_pmd,
				     addr, next);
	}
	if (is_cow)
		raw_write_seqcount_end(&src_mm->write_protect_seq);
	return ret;
}

/* ---- zap (zap_pte_range(), zap_present_ptes()) ------------------------------------ */

struct zap_state {
	int rss[NR_MM_COUNTERS];
	bool force_flush, force_break;
};

static void zap_hand_to_gather(struct mmu_gather *tlb, struct page *page,
			       unsigned int nr, bool delay_rmap, struct zap_state *zs)
{
	if (__tlb_remove_folio_pages(tlb, page, nr, delay_rmap)) {
		zs->force_flush = true;
		zs->force_break = true;
	}
}

/* zap_present_folio_ptes(): mapcount down, then the reference to the gather. */
static void zap_present_folio_ptes(struct mmu_gather *tlb,
				   struct vm_area_struct *vma, struct folio *folio,
				   struct page *page, pte_t *pte, unsigned int nr,
				   unsigned long addr, struct zap_state *zs)
{
	struct mm_struct *mm = vma->vm_mm;
	bool delay_rmap = false;

	if (!folio_test_anon(folio)) {
		pte_t ptent = get_and_clear_full_ptes(mm, addr, pte, nr, tlb->fullmm);

		/* Dirty file data: rmap only after the flush (5df397dec7c4). */
		if (pte_dirty(ptent) && tlb_delay_rmap(tlb)) {
			delay_rmap = true;
			zs->force_flush = true;
		}
		zs->rss[MM_FILEPAGES] -= (int)nr;
	} else {
		clear_full_ptes(mm, addr, pte, nr, tlb->fullmm);
		zs->rss[MM_ANONPAGES] -= (int)nr;
	}
	tlb_remove_tlb_entries(tlb, pte, nr, addr);
	/* Z1: the July 2023 batch-zap order, harmless unless NO_GATHER. */
	if (ft_injected(FT_INJ_BATCHZAP_S390))
		zap_hand_to_gather(tlb, page, nr, delay_rmap, zs);
	if (!delay_rmap) {
		folio_remove_rmap_ptes(folio, page, (int)nr, vma);
		VM_WARN_ON_FOLIO(folio_mapcount(folio) < 0, folio);
	}
	if (!ft_injected(FT_INJ_BATCHZAP_S390))
		zap_hand_to_gather(tlb, page, nr, delay_rmap, zs);
}

static unsigned int zap_present_ptes(struct mmu_gather *tlb,
				     struct vm_area_struct *vma, pte_t *pte,
				     pte_t ptent, unsigned int max_nr,
				     unsigned long addr, struct zap_state *zs)
{
	struct page *page = vm_normal_page(vma, addr, ptent);
	struct folio *folio;
	unsigned int nr = 1;

	if (!page) {		/* the zero page */
		ptep_get_and_clear(vma->vm_mm, addr, pte);
		tlb_remove_tlb_entries(tlb, pte, 1, addr);
		return 1;
	}
	folio = page_folio(page);
	if (folio_test_large(folio) && max_nr != 1)
		nr = folio_pte_batch(folio, pte, ptent, max_nr);
	zap_present_folio_ptes(tlb, vma, folio, page, pte, nr, addr, zs);
	return nr;
}

/*
 * do_zap_pte_range(): one step, a run of none entries and the batch after
 * it (present, or a migration entry); how many entries it covered.
 */
static unsigned int do_zap_pte_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
				     pte_t *pte, unsigned long addr, unsigned long end,
				     struct zap_state *zs, unsigned long *zapped)
{
	unsigned int max_nr = (unsigned int)((end - addr) >> PAGE_SHIFT), nr = 0;
	pte_t ptent = ptep_get(pte);

	if (pte_none(ptent)) {
		for (nr = 1; nr < max_nr; nr++) {
			ptent = ptep_get(pte + nr);
			if (!pte_none(ptent))
				break;
		}
		max_nr -= nr;
		if (!max_nr)
			return nr;
		pte += nr;
		addr += nr * PAGE_SIZE;
	}
	if (pte_present(ptent)) {
		unsigned int batch = zap_present_ptes(tlb, vma, pte, ptent, max_nr, addr, zs);

		*zapped += batch;
		return nr + batch;
	}
	if (is_migration_entry(ptent)) {
		/* No mapcount, no reference: rss only. */
		ptep_get_and_clear(vma->vm_mm, addr, pte);
		zs->rss[MM_ANONPAGES]--;
		(*zapped)++;
	} else if (is_swapfile_entry(ptent)) {
		/* zap_nonpresent_ptes().  FT-DEVIATION: one entry at a time,
		 * not a swap_pte_batch(). */
		free_swap_and_cache_nr(vma->vm_mm->pmem, pte_swp_offset(ptent), 1);
		ptep_get_and_clear(vma->vm_mm, addr, pte);
		zs->rss[MM_SWAPENTS]--;
		(*zapped)++;
	} else {
		bad_swap_entry(vma->vm_mm, addr, ptent, "free_swap_and_cache");
		ptep_get_and_clear(vma->vm_mm, addr, pte);
	}
	return nr + 1;
}

/* Returns where it stopped: @end, or where zap_pmd_range() resumes. */
static unsigned long zap_pte_range(struct mmu_gather *tlb,
				   struct vm_area_struct *vma, pmd_t *pmd,
				   unsigned long addr, unsigned long end)
{
	struct mm_struct *mm = vma->vm_mm;
	struct zap_state zs = { 0 };
	pte_t *start_pte, *pte;
	unsigned long zapped = 0;
	spinlock_t *ptl;
	unsigned int nr;

	start_pte = pte = pte_offset_map_lock(mm, pmd, addr, &ptl);
	if (!pte)
		return addr;
	do {
		/*
		 * need_resched() before every step; FT-DEVIATION: not before
		 * the first one after the lock, as the cond_resched() before
		 * it has just cleared it (a drawn need_resched could break
		 * there for ever and make no progress).
		 */
		if (pte != start_pte && ft_need_resched(FT_BREAK_ZAP))
			break;
		nr = do_zap_pte_range(tlb, vma, pte, addr, end, &zs, &zapped);
		if (zs.force_break) {
			addr += nr * PAGE_SIZE;
			break;
		}
	} while (pte += nr, addr += nr * PAGE_SIZE, addr != end);
	add_mm_rss_vec(mm, zs.rss);
	count_vm_events(mm->pmem, ZAP_PTE, zapped);
	if (zs.force_flush) {
		/* TLB flush and delayed rmaps before the PTL goes (as upstream). */
		tlb_flush_mmu_tlbonly(tlb);
		tlb_flush_rmaps(tlb, vma);
	}
	pte_unmap_unlock(start_pte, ptl);
	if (zs.force_flush)
		tlb_flush_mmu(tlb);	/* now the references */
	return addr;
}

/* zap_pmd_range() (flattened with unmap_page_range): a table left early
 * is walked again from where it stopped, after cond_resched(). */
void unmap_page_range(struct mmu_gather *tlb, struct vm_area_struct *vma,
		      unsigned long addr, unsigned long end)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long start = addr;

	while (addr < end) {
		unsigned long next = pmd_addr_end(addr, end), stop = next;
		pmd_t *pmd = pmd_off(mm, addr);

		if (pmdp_get_lockless(pmd))
			stop = zap_pte_range(tlb, vma, pmd, addr, next);
		addr = stop;
		/* Broke off: the PTL is free until the walk resumes.  An
		 * exiting mm's (exit_mmap()) lingers for nobody: no process
		 * maps it any more, so nothing can aim at it. */
		if (stop != next) {
			ft_window_open(FT_WIN_ZAP_BREAK, mm, start, end - start, NULL);
			if (!tlb->fullmm)
				ft_window_linger();
		}
		cond_resched();
		if (stop != next)
			ft_window_close();
	}
}

void zap_page_range_single(struct vm_area_struct *vma, unsigned long addr,
			   unsigned long size)
{
	struct mmu_gather tlb;

	vma_assert_locked(vma);		/* the locking mode's table */
	tlb_gather_mmu(&tlb, vma->vm_mm);
	unmap_page_range(&tlb, vma, addr, addr + size);
	tlb_finish_mmu(&tlb);
}
