// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rmap entry points (mm/rmap.c and the inline half of
 * include/linux/rmap.h, v6.15-v6.18), PTE level.
 *
 * Lock ordering (the part this file takes):
 *   PTL (caller)
 *     large-mapcount lock (inside the model's add/sub)
 *     split_queue_lock (deferred_split_folio, after the model's lock is
 *                       dropped)
 *
 * Ordering rules kept from the kernel (__folio_add_rmap() and
 * __folio_remove_rmap()): an add updates the per-page counters first and
 * the large mapcount last; a remove updates the large mapcount first and
 * the per-page counters after.  A reader of the
 * large mapcount may therefore see fewer mappings than the per-page counts
 * during a remove, never more.
 *
 * FT-DEVIATION: no PMD/PUD mappings exist in the model, so there is no
 * entire-mapping level; folio_add_new_anon_rmap() maps a PMD-sized folio
 * with PTEs like any mTHP, and _entire_mapcount stays -1.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

/* __folio_rmap_sanity_checks(): the batch is inside the folio (I14). */
static void folio_rmap_sanity_checks(struct folio *folio, struct page *page,
				     int nr)
{
	VM_WARN_ON_FOLIO(nr <= 0, folio);
	VM_WARN_ON_FOLIO(page_folio(page) != folio, folio);
	VM_WARN_ON_FOLIO(folio_page_idx(folio, page) + (unsigned long)nr >
			 folio_nr_pages(folio), folio);
	/* Every mapping owns a reference (I1): none left means use after free. */
	VM_WARN_ON_FOLIO(folio_ref_count(folio) <= 0, folio);
}

/*
 * Set folio->mapping and ->index for the first anon mapping: the VMA's own
 * anon_vma if the folio is exclusive to it, else the family's root, which
 * every mapper's VMA reaches.  The index is the linear page index, which
 * mremap keeps when it moves the pages (the new VMA's vm_pgoff).
 */
/* ---- The model's large mapcount, counted for --compare-models --------------------- */

/* One update in this many is timed: two clock reads are not free. */
#define MAPCOUNT_TIMING_PERIOD	64

static __thread unsigned int mapcount_tick;

/* @update is the model's add or sub: its result, counted and maybe timed. */
static int large_mapcount_update(int (*update)(struct folio *, int, struct vm_area_struct *),
				 struct folio *folio, int nr, struct vm_area_struct *vma)
{
	struct ft_pmem *pmem = folio->pmem;
	u64 start;
	int ret;

	count_vm_event(pmem, MAPCOUNT_UPDATE);
	if (++mapcount_tick % MAPCOUNT_TIMING_PERIOD)
		return update(folio, nr, vma);
	start = ft_now_ns();
	ret = update(folio, nr, vma);
	count_vm_event(pmem, MAPCOUNT_UPDATE_TIMED);
	count_vm_events(pmem, MAPCOUNT_UPDATE_TIMED_NS, ft_now_ns() - start);
	return ret;
}

/* folio_add_return_large_mapcount(), through the model. */
static int folio_add_return_large_mapcount(struct folio *folio, int nr,
					   struct vm_area_struct *vma)
{
	return large_mapcount_update(folio_mc(folio)->add, folio, nr, vma);
}

/* folio_sub_return_large_mapcount(), through the model. */
static int folio_sub_return_large_mapcount(struct folio *folio, int nr,
					   struct vm_area_struct *vma)
{
	return large_mapcount_update(folio_mc(folio)->sub, folio, nr, vma);
}

static void __folio_set_anon(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address, bool exclusive)
{
	struct anon_vma *anon_vma = READ_ONCE(vma->anon_vma);

	if (anon_vma && !exclusive)
		anon_vma = anon_vma->root;
	WRITE_ONCE(folio->index, linear_page_index(vma, address));
	WRITE_ONCE(folio->mapping, (unsigned long)anon_vma | PAGE_MAPPING_ANON);
}

/* Small-folio COW reuse makes the folio this VMA's (caller holds its lock). */
void folio_move_anon_rmap(struct folio *folio, struct vm_area_struct *vma)
{
	WRITE_ONCE(folio->mapping, (unsigned long)vma->anon_vma | PAGE_MAPPING_ANON);
}

/**
 * folio_add_new_anon_rmap - map a brand-new folio
 * @folio: the folio, never mapped before, not yet visible to others
 * @vma: the VMA it is mapped into, with folio_nr_pages() PTEs at once
 * @address: the user address of its first page
 * @flags: RMAP_EXCLUSIVE to mark every page AnonExclusive
 *
 * No lock: nobody else can see the folio yet.  The caller holds the
 * references (one per PTE) already.  __folio_add_new_anon_rmap() is the
 * speculative fault's (Android SPF): the VMA may be split under it, so its
 * bounds are not checked; the anon_vma stays right, a split half shares it.
 */
void folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address, rmap_t flags)
{
	VM_WARN_ON_FOLIO(address < vma->vm_start ||
			 address + (folio_nr_pages(folio) << PAGE_SHIFT) > vma->vm_end,
			 folio);
	__folio_add_new_anon_rmap(folio, vma, address, flags);
}

void __folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma,
			       unsigned long address, rmap_t flags)
{
	bool exclusive = flags & RMAP_EXCLUSIVE;
	int nr = (int)folio_nr_pages(folio);

	VM_WARN_ON_FOLIO(folio_ref_count(folio) < nr, folio);
	/* B6's fix: the non-atomic set only when the bit is not set yet. */
	if (!folio_test_swapbacked(folio))
		__folio_set_swapbacked(folio);
	__folio_set_anon(folio, vma, address, exclusive);

	if (likely(!folio_test_large(folio))) {
		atomic_set(&folio->page->_mapcount, 0);
		if (exclusive)
			SetPageAnonExclusive(folio->page);
	} else {
		for (int i = 0; i < nr; i++) {
			struct page *page = folio_page(folio, i);

			if (folio_uses_page_mapcount(folio))
				atomic_set(&page->_mapcount, 0);
			if (exclusive)
				SetPageAnonExclusive(page);
		}
		folio_mc(folio)->set(folio, nr, vma);
		count_vm_event(folio->pmem, MAPCOUNT_UPDATE);
		if (folio_uses_page_mapcount(folio))
			atomic_set(&folio->_nr_pages_mapped, nr);
	}
}

/*
 * __folio_add_rmap(), PTE level: returns the number of pages that became
 * mapped (the kernel's NR_*_MAPPED delta).
 */
static int __folio_add_rmap(struct folio *folio, struct page *page, int nr_pages,
			    struct vm_area_struct *vma)
{
	int first = 0, nr = 0;

	folio_rmap_sanity_checks(folio, page, nr_pages);
	if (likely(!folio_test_large(folio)))
		return atomic_inc_and_test(&page->_mapcount);
	if (!folio_uses_page_mapcount(folio)) {
		int total = folio_add_return_large_mapcount(folio, nr_pages, vma);

		return total == nr_pages ? (int)folio_nr_pages(folio) : 0;
	}
	for (int i = 0; i < nr_pages; i++)
		first += atomic_inc_and_test(&page[i]._mapcount);
	if (first && atomic_add_return_relaxed(first, &folio->_nr_pages_mapped) <
		     ENTIRELY_MAPPED)
		nr = first;
	/* After the per-page counts, as upstream. */
	folio_add_return_large_mapcount(folio, nr_pages, vma);
	return nr;
}

/**
 * folio_add_anon_rmap_ptes - map pages of an anon folio
 * @folio: the anon folio
 * @page: the first page, @nr consecutive pages of @folio
 * @nr: the number of PTEs
 * @vma: the VMA they map into
 * @address: the user address of @page
 * @flags: RMAP_EXCLUSIVE if the pages are exclusive to @vma's mm
 *
 * Caller holds the PTL; @nr references are taken already.
 */
void folio_add_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma, unsigned long address,
			      rmap_t flags)
{
	VM_WARN_ON_FOLIO(!folio_test_anon(folio), folio);
	__folio_add_rmap(folio, page, nr, vma);
	for (int i = 0; i < nr; i++) {
		struct page *p = page + i;

		if (flags & RMAP_EXCLUSIVE)
			SetPageAnonExclusive(p);
		/* An exclusive page is mapped once (the kernel's debug check). */
		VM_WARN_ON_FOLIO(PageAnonExclusive(p) &&
				 ((!folio_test_large(folio) && folio_mapcount(folio) > 1) ||
				  (folio_test_large(folio) &&
				   folio_uses_page_mapcount(folio) &&
				   atomic_read(&p->_mapcount) > 0)), folio);
	}
	/* __page_check_anon_rmap(): the page sits at its own index. */
	VM_WARN_ON_FOLIO(READ_ONCE(folio->index) + folio_page_idx(folio, page) !=
			 linear_page_index(vma, address), folio);
}

/**
 * folio_add_file_rmap_ptes - map pages of a file folio
 * @folio: the file (or shmem) folio
 * @page: the first page
 * @nr: the number of PTEs
 * @vma: the VMA they map into
 *
 * Caller holds the PTL.  An mm may map a file page more than once.
 */
void folio_add_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma)
{
	VM_WARN_ON_FOLIO(folio_test_anon(folio), folio);
	__folio_add_rmap(folio, page, nr, vma);
}

/* The counting half of dup: never a first mapping, so no _nr_pages_mapped. */
static void __folio_dup_rmap(struct folio *folio, struct page *page, int nr,
			     struct vm_area_struct *dst_vma,
			     struct vm_area_struct *src_vma, bool anon)
{
	folio_rmap_sanity_checks(folio, page, nr);
	if (likely(!folio_test_large(folio))) {
		if (anon && PageAnonExclusive(page))
			ClearPageAnonExclusive(page);
		atomic_inc(&page->_mapcount);
		return;
	}
	for (int i = 0; i < nr; i++) {
		if (anon && PageAnonExclusive(page + i))
			ClearPageAnonExclusive(page + i);
		if (folio_uses_page_mapcount(folio))
			atomic_inc(&page[i]._mapcount);
	}
	/* The child's mm id: dst_vma (v3 series, patch 07/20); B11 used src's. */
	folio_add_return_large_mapcount(folio, nr, ft_injected(FT_INJ_DUP_WITH_PARENT_MM_ID) ?
						    src_vma : dst_vma);
}

/**
 * folio_dup_file_rmap_ptes - fork's duplicate of file PTEs
 * @folio: the file folio
 * @page: the first page
 * @nr: the number of PTEs copied
 * @dst_vma: the child's VMA
 *
 * Caller holds both PTLs and took @nr references first.
 */
void folio_dup_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *dst_vma)
{
	__folio_dup_rmap(folio, page, nr, dst_vma, dst_vma, false);
}

/**
 * folio_try_dup_anon_rmap_ptes - fork's duplicate of anon PTEs
 * @folio: the anon folio
 * @page: the first page
 * @nr: the number of PTEs copied
 * @dst_vma: the child's VMA
 * @src_vma: the parent's VMA
 *
 * Caller holds both PTLs and src mm->write_protect_seq for write, and took
 * @nr references first.  Returns -EBUSY, having changed nothing, when the
 * folio may be pinned and one of the pages is exclusive: the caller drops
 * the references and copies the page instead.  On success the pages are
 * no longer exclusive and must end up read-only in parent and child.
 */
int folio_try_dup_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
				 struct vm_area_struct *dst_vma,
				 struct vm_area_struct *src_vma)
{
	if (folio_needs_cow_for_dma(src_vma, folio)) {
		for (int i = 0; i < nr; i++) {
			if (PageAnonExclusive(page + i))
				return -EBUSY;
		}
	}
	__folio_dup_rmap(folio, page, nr, dst_vma, src_vma, true);
	return 0;
}

/*
 * __folio_remove_rmap(), PTE level: the pages that became unmapped, and
 * whether the folio is now partially mapped.
 */
static int __folio_remove_rmap(struct folio *folio, struct page *page,
			       int nr_pages, struct vm_area_struct *vma,
			       bool *partially_mapped)
{
	int last = 0, nr = 0;

	folio_rmap_sanity_checks(folio, page, nr_pages);
	*partially_mapped = false;
	if (likely(!folio_test_large(folio)))
		return atomic_add_negative(-1, &page->_mapcount);
	if (!folio_uses_page_mapcount(folio)) {
		int total = folio_sub_return_large_mapcount(folio, nr_pages, vma);

		if (total == 0)
			return (int)folio_nr_pages(folio);
		*partially_mapped = total < (int)folio_nr_pages(folio) &&
				    !folio_entire_mapcount(folio);
		return 0;
	}
	/* Before the per-page counts, as upstream. */
	folio_sub_return_large_mapcount(folio, nr_pages, vma);
	for (int i = 0; i < nr_pages; i++)
		last += atomic_add_negative(-1, &page[i]._mapcount);
	if (last && atomic_sub_return_relaxed(last, &folio->_nr_pages_mapped) <
		    ENTIRELY_MAPPED)
		nr = last;
	*partially_mapped = nr && atomic_read(&folio->_nr_pages_mapped);
	return nr;
}

/**
 * folio_remove_rmap_ptes - unmap pages of a folio
 * @folio: the folio
 * @page: the first page
 * @nr: the number of PTEs removed
 * @vma: the VMA they were in
 *
 * Caller holds the PTL, cleared the PTEs first and drops the @nr
 * references afterwards (after the TLB flush, for zap).
 */
void folio_remove_rmap_ptes(struct folio *folio, struct page *page, int nr,
			    struct vm_area_struct *vma)
{
	bool partially_mapped;

	__folio_remove_rmap(folio, page, nr, vma, &partially_mapped);
	/* The only place rmap touches the deferred-split queue. */
	if (partially_mapped && folio_test_anon(folio) &&
	    !folio_test_partially_mapped(folio))
		deferred_split_folio(folio, true);
	/* folio->mapping stays: a racing add may have set it already. */
}

/* ---- anon_vma (mm/rmap.c) ------------------------------------------------------ */

static struct kmem_cache anon_vma_chain_cachep =
	KMEM_CACHE_INIT("anon_vma_chain", struct anon_vma_chain, 0);

static struct anon_vma_chain *anon_vma_chain_alloc(void)
{
	return kmem_cache_alloc(&anon_vma_chain_cachep);
}

static void anon_vma_chain_free(struct anon_vma_chain *avc)
{
	kmem_cache_free(&anon_vma_chain_cachep, avc);
}

/*
 * An anon_vma and every VMA that may map its pages are linked by
 * anon_vma_chains; a fork links the child's VMA to all of the parent VMA's
 * anon_vmas and to one of its own (a new one, or a dead ancestor's that
 * anon_vma_clone() reuses), so an rmap walk from a folio's anon_vma
 * reaches every mapping, in every mm of the family.  All anon_vmas of a
 * family share the root's rwsem.  Refcount: one per linked VMA, one per
 * child anon_vma on its root, one per walker.
 */
static struct anon_vma *anon_vma_alloc(struct ft_world *w)
{
	struct anon_vma *av = NULL;

	spin_lock(&w->anon_vma_pool_lock);
	if (!list_empty(&w->anon_vma_pool)) {
		av = list_first_entry(&w->anon_vma_pool, struct anon_vma, pool_link);
		list_del_init(&av->pool_link);
	}
	spin_unlock(&w->anon_vma_pool_lock);
	if (!av) {
		av = calloc(1, sizeof(*av));
		if (!av)
			return NULL;
		/* Once, as the slab constructor does: a stale walker may take
		 * it even while the object is reused. */
		init_rwsem(&av->rwsem);
		INIT_LIST_HEAD(&av->pool_link);
		spin_lock(&w->anon_vma_pool_lock);
		list_add_tail(&av->all_link, &w->anon_vma_all);
		spin_unlock(&w->anon_vma_pool_lock);
	}
	av->world = w;
	/* Atomic, as the walkers read it: see anon_vma_lock_read(). */
	WRITE_ONCE(av->root, av);
	av->parent = av;
	av->num_children = 0;
	av->num_active_vmas = 0;
	INIT_LIST_HEAD(&av->head);
	atomic_set(&av->refcount, 0);
	return av;
}

static void anon_vma_free(struct anon_vma *av)
{
	struct ft_world *w = av->world;

	spin_lock(&w->anon_vma_pool_lock);
	list_add_tail(&av->pool_link, &w->anon_vma_pool);
	spin_unlock(&w->anon_vma_pool_lock);
}

void ft_anon_vma_pool_destroy(struct ft_world *w)
{
	while (!list_empty(&w->anon_vma_all)) {
		struct anon_vma *av = list_first_entry(&w->anon_vma_all,
						       struct anon_vma, all_link);

		list_del_init(&av->all_link);
		free(av);
	}
}

void put_anon_vma(struct anon_vma *av)
{
	struct anon_vma *root = READ_ONCE(av->root);

	if (!atomic_dec_and_test(&av->refcount))
		return;
	anon_vma_free(av);
	if (root != av)
		put_anon_vma(root);
}

void anon_vma_lock_write(struct anon_vma *anon_vma)
{
	down_write(&anon_vma->root->rwsem);
}

void anon_vma_unlock_write(struct anon_vma *anon_vma)
{
	up_write(&anon_vma->root->rwsem);
}

/*
 * The rmap walkers' lock.  Their anon_vma came from a folio's ->mapping,
 * read without a lock: the object may have been reused since (it is
 * type-stable), or its set-up be ordered before the walk only by the
 * kernel's address dependency, which C11 does not have.
 * folio_lock_anon_vma_read() reads the root with READ_ONCE() for that, and
 * so do we: ThreadSanitizer reported the plain read racing
 * anon_vma_alloc()'s write (a serial zoo replay, after anon_vma reuse).
 */
void anon_vma_lock_read(struct anon_vma *anon_vma)
{
	down_read(&READ_ONCE(anon_vma->root)->rwsem);
}

void anon_vma_unlock_read(struct anon_vma *anon_vma)
{
	up_read(&READ_ONCE(anon_vma->root)->rwsem);
}

/* Hold @anon_vma's root's rwsem, given that @root's is held (or NULL):
 * the walks below take each family's lock once, not once per link. */
static struct anon_vma *lock_anon_vma_root(struct anon_vma *root,
					   struct anon_vma *anon_vma)
{
	struct anon_vma *new_root = anon_vma->root;

	if (new_root != root) {
		if (root)
			up_write(&root->rwsem);
		root = new_root;
		down_write(&root->rwsem);
	}
	return root;
}

static void unlock_anon_vma_root(struct anon_vma *root)
{
	if (root)
		up_write(&root->rwsem);
}

/* Caller holds the root's rwsem for write. */
static void anon_vma_chain_link(struct vm_area_struct *vma,
				struct anon_vma_chain *avc,
				struct anon_vma *anon_vma)
{
	avc->vma = vma;
	avc->anon_vma = anon_vma;
	list_add_tail(&avc->same_vma, &vma->anon_vma_chain);
	list_add_tail(&avc->same_anon_vma, &anon_vma->head);
	atomic_inc(&anon_vma->refcount);
}

int anon_vma_prepare(struct vm_area_struct *vma)
{
	struct mm_struct *mm = vma->vm_mm;
	struct anon_vma_chain *avc;
	struct anon_vma *av;

	if (likely(smp_load_acquire(&vma->anon_vma)))
		return 0;
	avc = anon_vma_chain_alloc();
	av = anon_vma_alloc(mm->world);
	if (!avc || !av) {
		anon_vma_chain_free(avc);
		if (av)
			anon_vma_free(av);
		return -ENOMEM;
	}
	anon_vma_lock_write(av);
	/* Faults of the VMA race here; page_table_lock picks the winner. */
	spin_lock(&mm->page_table_lock);
	if (likely(!vma->anon_vma)) {
		anon_vma_chain_link(vma, avc, av);
		av->num_children++;	/* a root is its own parent */
		av->num_active_vmas++;
		/* Lockless readers: vmf_anon_prepare(). */
		smp_store_release(&vma->anon_vma, av);
		avc = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	anon_vma_unlock_write(av);
	if (avc) {
		anon_vma_chain_free(avc);
		anon_vma_free(av);
	}
	return 0;
}

/*
 * Link @dst to every anon_vma of @src, oldest first.  A caller that gives
 * @dst its own anon_vma (fork) leaves dst->anon_vma NULL; then the first
 * anon_vma on the way that no VMA uses any more and that has at most one
 * child becomes dst's, instead of a new one: without that, a process
 * that forks, whose child forks and exits, and so on, grows every
 * descendant's chain by one per generation.  A root is never reused: it
 * counts itself as a child, and it has the one @src descends from.
 */
int anon_vma_clone(struct vm_area_struct *dst, struct vm_area_struct *src)
{
	struct anon_vma_chain *pavc;
	struct anon_vma *root = NULL;

	list_for_each_entry(pavc, &src->anon_vma_chain, same_vma) {
		struct anon_vma *anon_vma = pavc->anon_vma;
		struct anon_vma_chain *avc = anon_vma_chain_alloc();

		if (!avc) {
			unlock_anon_vma_root(root);
			dst->anon_vma = NULL;
			unlink_anon_vmas(dst);
			return -ENOMEM;
		}
		root = lock_anon_vma_root(root, anon_vma);
		anon_vma_chain_link(dst, avc, anon_vma);
		if (!dst->anon_vma && src->anon_vma &&
		    anon_vma->num_children < 2 && anon_vma->num_active_vmas == 0)
			WRITE_ONCE(dst->anon_vma, anon_vma);
	}
	if (dst->anon_vma)
		dst->anon_vma->num_active_vmas++;
	unlock_anon_vma_root(root);
	return 0;
}

int anon_vma_fork(struct vm_area_struct *vma, struct vm_area_struct *pvma)
{
	struct anon_vma_chain *avc;
	struct anon_vma *av;
	int ret;

	/* Nothing to share: the parent has no anon pages here yet. */
	if (!READ_ONCE(pvma->anon_vma))
		return 0;
	vma->anon_vma = NULL;	/* reuse one, or make our own */
	ret = anon_vma_clone(vma, pvma);
	if (ret || vma->anon_vma)
		return ret;
	av = anon_vma_alloc(vma->vm_mm->world);
	avc = anon_vma_chain_alloc();
	if (!av || !avc) {
		anon_vma_chain_free(avc);
		if (av)
			anon_vma_free(av);
		unlink_anon_vmas(vma);
		return -ENOMEM;
	}
	WRITE_ONCE(av->root, pvma->anon_vma->root);
	av->parent = pvma->anon_vma;
	av->num_active_vmas++;
	atomic_inc(&av->root->refcount);
	anon_vma_lock_write(av);
	anon_vma_chain_link(vma, avc, av);
	av->parent->num_children++;
	WRITE_ONCE(vma->anon_vma, av);
	anon_vma_unlock_write(av);
	return 0;
}

/*
 * Unlink @vma from its anon_vmas, newest first.  One left with no VMA is
 * dead: its parent loses a child, so that a later clone may reuse the
 * parent.  The references go after the lock is dropped, because the last
 * one may free the root whose rwsem this holds.
 */
void unlink_anon_vmas(struct vm_area_struct *vma)
{
	struct anon_vma_chain *avc, *next;
	struct anon_vma *root = NULL;

	list_for_each_entry_reverse(avc, &vma->anon_vma_chain, same_vma) {
		struct anon_vma *anon_vma = avc->anon_vma;

		root = lock_anon_vma_root(root, anon_vma);
		list_del_init(&avc->same_anon_vma);
		if (list_empty(&anon_vma->head))
			anon_vma->parent->num_children--;
	}
	if (vma->anon_vma)
		vma->anon_vma->num_active_vmas--;
	unlock_anon_vma_root(root);
	list_for_each_entry_safe(avc, next, &vma->anon_vma_chain, same_vma) {
		list_del_init(&avc->same_vma);
		put_anon_vma(avc->anon_vma);
		anon_vma_chain_free(avc);
	}
	WRITE_ONCE(vma->anon_vma, NULL);
}

/* The caller holds a reference on @folio (so it cannot be freed). */
struct anon_vma *folio_get_anon_vma(struct folio *folio)
{
	unsigned long mapping = READ_ONCE(folio->mapping);
	struct anon_vma *av = (struct anon_vma *)(mapping & ~PAGE_MAPPING_ANON);
	int v;

	if (!(mapping & PAGE_MAPPING_ANON) || !av || !folio_mapped(folio))
		return NULL;
	v = atomic_read(&av->refcount);
	do {
		if (v <= 0)
			return NULL;
	} while (!__atomic_compare_exchange_n(&av->refcount.counter, &v, v + 1, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	/* Still mapped: then @av is still its anon_vma (type-stable reuse). */
	if (!folio_mapped(folio)) {
		put_anon_vma(av);
		return NULL;
	}
	return av;
}


/* ---- rmap walk --------------------------------------------------------------------- */

static bool pte_maps_folio(struct folio *folio, pte_t pte, bool migration)
{
	unsigned long pfn = folio_pfn(folio);

	if (!pte_present(pte) && !(migration && is_migration_entry(pte)))
		return false;
	return pte_pfn(pte) >= pfn && pte_pfn(pte) < pfn + folio_nr_pages(folio);
}

/*
 * page_vma_mapped_walk() over one VMA: the folio's range, a table at a time.
 * vma_address(): where the folio's linear index lies in @vma, clamped to it
 * (the VMA's range and offset are stable under the anon_vma lock).
 */
static bool rmap_walk_vma(struct folio *folio, struct vm_area_struct *vma,
			  struct rmap_walk_control *rwc)
{
	unsigned long pgoff = READ_ONCE(folio->index), nr = folio_nr_pages(folio);
	unsigned long vm_pgoff = vma->vm_pgoff;
	unsigned long vm_pages = (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;
	struct mm_struct *mm = vma->vm_mm;
	unsigned long addr, next, start, end;

	if (pgoff + nr <= vm_pgoff || pgoff >= vm_pgoff + vm_pages)
		return true;
	start = vma->vm_start + ((max(pgoff, vm_pgoff) - vm_pgoff) << PAGE_SHIFT);
	end = vma->vm_start + ((min(pgoff + nr, vm_pgoff + vm_pages) - vm_pgoff) << PAGE_SHIFT);
	for (addr = start; addr < end; addr = next) {
		spinlock_t *ptl;
		pte_t *pte = pte_offset_map_lock(mm, pmd_off(mm, addr), addr, &ptl);
		bool more = true;

		next = pmd_addr_end(addr, end);
		if (!pte)
			continue;
		for (unsigned int step; addr < next && more;
		     addr += step * PAGE_SIZE, pte += step) {
			/* rmap_one may handle a batch of entries (try_to_unmap_one). */
			rwc->nr_pages = step = 1;
			if (pte_maps_folio(folio, ptep_get(pte), rwc->migration)) {
				more = rwc->rmap_one(folio, vma, addr, pte, rwc->arg);
				step = rwc->nr_pages;
			}
		}
		spin_unlock(ptl);
		if (!more)
			return false;
	}
	return true;
}

void rmap_walk_anon(struct folio *folio, struct anon_vma *anon_vma,
		    struct rmap_walk_control *rwc)
{
	struct anon_vma_chain *avc;

	anon_vma_lock_read(anon_vma);
	list_for_each_entry(avc, &anon_vma->head, same_anon_vma) {
		if (!rmap_walk_vma(folio, avc->vma, rwc))
			break;
		if (rwc->vma_done)
			rwc->vma_done(folio, avc->vma, rwc->arg);
	}
	anon_vma_unlock_read(anon_vma);
}

/* ---- try_to_unmap (mm/rmap.c) ------------------------------------------------------ */

/*
 * B4: can_batch_unmap_folio_ptes() as 354dffd29575 ("mm: support batched
 * unmap for lazyfree large folios during reclamation") had it until
 * Lance Yang's fix: all or nothing from the folio's first page, max_nr
 * the folio's size, bounded by neither the VMA nor the page table.
 */
static unsigned int can_batch_unmap_folio_ptes(struct folio *folio, pte_t *ptep,
					       pte_t pte)
{
	unsigned int max_nr = (unsigned int)folio_nr_pages(folio);

	if (!folio_test_anon(folio) || folio_test_swapbacked(folio))
		return 1;
	if (pte_pfn(pte) != folio_pfn(folio))
		return 1;
	return folio_pte_batch(folio, ptep, pte, max_nr) == max_nr ? max_nr : 1;
}

/*
 * folio_unmap_pte_batch(): only a lazyfree large folio is unmapped in
 * batches, and only within one VMA and one page table (B4's fix,
 * Lance Yang 2025: the bound was the folio's size).  The batch respects
 * the write and soft-dirty bits (B14's fix, 29f40594a281, "mm/rmap: fix
 * incorrect pte restoration for lazyfree folios", after v6.18): a failed
 * discard sets the batch back from its first entry, which made read-only
 * entries of pages that are not AnonExclusive writable (I11; a write pin
 * then lost coherence).
 */
static unsigned int folio_unmap_pte_batch(struct folio *folio,
					  struct vm_area_struct *vma,
					  unsigned long addr, pte_t *ptep, pte_t pte)
{
	unsigned long end_addr;
	unsigned int max_nr;

	if (!folio_test_large(folio))
		return 1;
	if (ft_injected(FT_INJ_LAZYFREE_BATCH_CROSSES_TABLE))
		return can_batch_unmap_folio_ptes(folio, ptep, pte);
	end_addr = pmd_addr_end(addr, vma->vm_end);
	max_nr = (unsigned int)((end_addr - addr) >> PAGE_SHIFT);
	if (!folio_test_anon(folio) || folio_test_swapbacked(folio))
		return 1;
	if (ft_injected(FT_INJ_LAZYFREE_RESTORE_IGNORES_WRITE))
		return folio_pte_batch(folio, ptep, pte, max_nr);
	return folio_pte_batch_flags(folio, ptep, &pte, max_nr,
				     FPB_RESPECT_WRITE | FPB_RESPECT_SOFT_DIRTY);
}

struct unmap_ctx {
	struct rmap_walk_control *rwc;
};

/* The reclaim of @nr entries failed: they map the folio again. */
static bool unmap_abort(struct mm_struct *mm, unsigned long addr, pte_t *ptep,
			pte_t pteval, unsigned int nr)
{
	set_ptes(mm, addr, ptep, pteval, nr);
	return false;
}

/*
 * B13, before 6c8e2a256915: only the dirty flag was asked.  A page that
 * direct IO (or any GUP user) had a reference on was unmapped and, when
 * reclaim's freeze then failed on that reference, left behind: the DMA
 * went to a page the process no longer mapped, which read zero.
 */
static bool lazyfree_can_discard_no_ref_check(struct folio *folio)
{
	if (folio_test_dirty(folio)) {
		folio_set_swapbacked(folio);
		count_vm_event(folio->pmem, PGLAZYFREE_REDIRTIED);
		return false;
	}
	return true;
}

/*
 * The lazyfree check (after 6c8e2a256915, "mm: fix race between MADV_FREE
 * reclaim and blkdev direct IO read"): a folio written again, through a
 * PTE (the dirty bit the clear returned) or a GUP reference, becomes
 * swap-backed again; any reference beyond the mappings' and reclaim's own
 * keeps it.  Returns true to discard.
 */
static bool lazyfree_can_discard(struct folio *folio)
{
	int ref_count, map_count;

	if (ft_injected(FT_INJ_LAZYFREE_NO_REF_CHECK))
		return lazyfree_can_discard_no_ref_check(folio);
	smp_mb();	/* The PTEs are cleared: pairs with GUP-fast's barrier. */
	ref_count = folio_ref_count(folio);
	map_count = folio_mapcount(folio);
	smp_rmb();	/* The counts before the dirty flag (__remove_mapping()). */
	if (folio_test_dirty(folio)) {
		folio_set_swapbacked(folio);
		count_vm_event(folio->pmem, PGLAZYFREE_REDIRTIED);
		return false;
	}
	return ref_count == 1 + map_count;
}

/*
 * A swap cache folio's entry becomes a swap entry: one more reference to
 * its slot, exclusivity remembered in the entry (the page is no longer
 * AnonExclusive: a pin taken meanwhile makes it -EBUSY).  False to abort.
 */
static bool unmap_to_swap_entry(struct folio *folio, struct page *subpage,
				struct vm_area_struct *vma, unsigned long addr,
				pte_t *ptep, pte_t pteval, bool anon_exclusive)
{
	struct mm_struct *mm = vma->vm_mm;
	unsigned long entry = READ_ONCE(folio->swap) + folio_page_idx(folio, subpage);

	swap_duplicate(mm->pmem, entry);
	if (anon_exclusive && folio_try_share_anon_rmap_pte(folio, subpage)) {
		swap_free_nr(mm->pmem, entry, 1);
		return unmap_abort(mm, addr, ptep, pteval, 1);
	}
	add_mm_counter(mm, MM_ANONPAGES, -1);
	add_mm_counter(mm, MM_SWAPENTS, 1);
	set_pte_at(mm, addr, ptep, make_swap_pte(entry, anon_exclusive, pteval));
	if (mm->world->unmap_hook)
		mm->world->unmap_hook(mm, addr, 1, FT_UNMAP_SWAPOUT);
	return true;
}

/*
 * try_to_unmap_one(), for an anon folio under the PTL: the entries
 * cleared and flushed (a batch for a lazyfree large folio), their dirty
 * state moved to the folio as the contpte layer returns it (the batch's
 * gathered a/d, or the single entry after the unfold spread the block's);
 * a lazyfree folio discarded, a swap cache one left behind swap entries.
 */
static bool try_to_unmap_one(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long addr, pte_t *ptep, void *arg)
{
	struct unmap_ctx *u = arg;
	struct mm_struct *mm = vma->vm_mm;
	pte_t pte = ptep_get(ptep), pteval;
	struct page *subpage = pfn_to_page(mm->pmem, pte_pfn(pte));
	bool anon_exclusive = PageAnonExclusive(subpage);
	unsigned int nr = folio_unmap_pte_batch(folio, vma, addr, ptep, pte);

	pteval = nr == 1 ? ptep_get_and_clear(mm, addr, ptep) :
			   get_and_clear_full_ptes(mm, addr, ptep, nr, 0);
	/* FT-DEVIATION: flushed now, not batched to try_to_unmap_flush(). */
	flush_tlb_range(mm, addr, addr + nr * PAGE_SIZE);
	if (pte_dirty(pteval))
		folio_mark_dirty(folio);
	if (VM_WARN_ON_FOLIO(folio_test_swapbacked(folio) !=
			     folio_test_swapcache(folio), folio))
		return unmap_abort(mm, addr, ptep, pteval, nr);
	if (folio_test_swapbacked(folio)) {
		if (!unmap_to_swap_entry(folio, subpage, vma, addr, ptep, pteval,
					 anon_exclusive))
			return false;
	} else {
		if (!lazyfree_can_discard(folio))
			return unmap_abort(mm, addr, ptep, pteval, nr);
		add_mm_counter(mm, MM_ANONPAGES, -(long)nr);
		if (mm->world->unmap_hook)
			mm->world->unmap_hook(mm, addr, nr, FT_UNMAP_DISCARD);
	}
	folio_remove_rmap_ptes(folio, subpage, (int)nr, vma);
	folio_put_refs(folio, (int)nr);
	u->rwc->nr_pages = nr;
	return true;
}

void try_to_unmap(struct folio *folio)
{
	struct rmap_walk_control rwc = { .rmap_one = try_to_unmap_one };
	struct unmap_ctx u = { .rwc = &rwc };
	struct anon_vma *anon_vma = folio_get_anon_vma(folio);

	if (!anon_vma)
		return;
	rwc.arg = &u;
	rmap_walk_anon(folio, anon_vma, &rwc);
	put_anon_vma(anon_vma);
}
