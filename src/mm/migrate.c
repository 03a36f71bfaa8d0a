// SPDX-License-Identifier: GPL-2.0-only
/*
 * rmap walkers that race with everything else holding only the PTL (and
 * the folio lock and anon_vma lock, never the mmap_lock): migration
 * (mm/migrate.c, try_to_migrate_one() and remove_migration_pte() of
 * mm/rmap.c and mm/migrate.c) and young-bit clearing (folio_referenced()).
 *
 * Migration restores the mappings one PTE at a time with set_pte_at(), so
 * it can fold a contpte block: the upstream path to the fold-during-fork-
 * break sequence (the spf-midblock scenario's race).
 */
#include <errno.h>

#include "internal.h"

struct migrate_ctx {
	bool failed;
	struct folio *dst;
	/* Restore: the first address restored in the VMA being walked. */
	unsigned long restored;
};

static bool try_to_migrate_one(struct folio *folio, struct vm_area_struct *vma,
			       unsigned long addr, pte_t *ptep, void *arg)
{
	struct migrate_ctx *m = arg;
	struct mm_struct *mm = vma->vm_mm;
	struct page *subpage;
	bool anon_exclusive;
	enum swp_type type;
	pte_t pteval;

	subpage = pfn_to_page(mm->pmem, pte_pfn(ptep_get(ptep)));
	/* Clear and flush (unfolding a contpte block), then decide. */
	pteval = ptep_clear_flush(vma, addr, ptep);
	anon_exclusive = PageAnonExclusive(subpage);
	if (anon_exclusive && folio_try_share_anon_rmap_pte(folio, subpage)) {
		set_pte_at(mm, addr, ptep, pteval);	/* pinned: give up */
		m->failed = true;
		return false;
	}
	type = pte_write(pteval) ? SWP_MIGRATION_WRITE :
	       anon_exclusive ? SWP_MIGRATION_READ_EXCLUSIVE : SWP_MIGRATION_READ;
	set_pte_at(mm, addr, ptep, make_migration_pte(page_to_pfn(subpage), type, pteval));
	folio_remove_rmap_pte(folio, subpage, vma);
	folio_put(folio);			/* that PTE's reference */
	return true;
}

/* remove_migration_pte(): the migration entry becomes a PTE of m->dst. */
static bool remove_migration_pte(struct folio *folio, struct vm_area_struct *vma,
				 unsigned long addr, pte_t *ptep, void *arg)
{
	struct migrate_ctx *m = arg;
	struct mm_struct *mm = vma->vm_mm;
	pte_t entry = ptep_get(ptep), pte;
	struct page *new;
	rmap_t flags = RMAP_NONE;

	if (!is_migration_entry(entry))
		return true;
	new = folio_page(m->dst, pte_pfn(entry) - folio_pfn(folio));
	pte = pfn_pte(page_to_pfn(new), vma_page_prot(vma));
	if (is_migration_entry_dirty(entry))
		pte = pte_mkdirty(pte);
	if (is_writable_migration_entry(entry))
		pte = pte_mkwrite_novma(pte_mkdirty(pte));
	if (pte_soft_dirty(entry))
		pte = pte_mksoft_dirty(pte);
	if (pte_uffd_wp(entry))
		pte = pte_mkuffd_wp(pte);
	if (pte_swp_type(entry) != SWP_MIGRATION_READ)
		flags = RMAP_EXCLUSIVE;
	folio_get(m->dst);
	folio_add_anon_rmap_pte(m->dst, new, vma, addr, flags);
	set_pte_at(mm, addr, ptep, pte);	/* one at a time: may fold */
	if (!m->restored)
		m->restored = addr;
	return true;
}

/*
 * Between one VMA's restore and the next: that MM maps the new folio and
 * may write-fault on it, while the MMs still to come hold migration
 * entries its mapcount does not count yet (B2's window: COW reuse sees
 * the folio exclusive).  A large folio's is published and lingers for an
 * aimer.  Not an interrupt point (no need_resched() draw), so that a run
 * that aims at nothing keeps its schedule.
 */
static void remove_migration_vma_done(struct folio *folio, struct vm_area_struct *vma,
				      void *arg)
{
	struct migrate_ctx *m = arg;
	unsigned long addr = m->restored;

	if (!addr)
		return;
	m->restored = 0;
	if (!folio_test_large(m->dst))
		return;
	ft_window_open(FT_WIN_MIGRATION_RESTORE, vma->vm_mm, addr & CONT_PTE_MASK,
		       CONT_PTE_SIZE, m->dst);
	ft_window_linger();
	ft_window_close();
}

static void remove_migration_ptes(struct folio *src, struct folio *dst,
				  struct anon_vma *anon_vma)
{
	struct migrate_ctx m = { .dst = dst };
	struct rmap_walk_control rwc = {
		.migration = true, .rmap_one = remove_migration_pte,
		.vma_done = remove_migration_vma_done, .arg = &m,
	};

	rmap_walk_anon(src, anon_vma, &rwc);
}

/* Copy what belongs to the folio, not to a mapping: content and anon_vma. */
static void folio_migrate_copy(struct folio *dst, struct folio *src)
{
	for (unsigned long i = 0; i < folio_nr_pages(src); i++)
		copy_page_data(folio_page(dst, i), folio_page(src, i));
	WRITE_ONCE(dst->index, READ_ONCE(src->index));
	/* folio_migrate_flags(): a lazyfree folio stays lazyfree. */
	if (folio_test_swapbacked(src))
		__folio_set_swapbacked(dst);
	if (folio_test_dirty(src))
		__folio_set_dirty(dst);
	WRITE_ONCE(dst->mapping, READ_ONCE(src->mapping));
}

/* Unmap @src to migration entries, copy, and map @dst; or restore @src. */
static int migrate_folio_locked(struct folio *src, struct anon_vma *anon_vma,
				struct ft_random_state *rs)
{
	struct folio *dst = folio_alloc(src->pmem, folio_order(src), rs);
	struct migrate_ctx m = { 0 };
	struct rmap_walk_control rwc = { .rmap_one = try_to_migrate_one, .arg = &m };
	int ret = 0;

	if (!dst)
		return -ENOMEM;
	/*
	 * Locked before any entry maps it, until all do (migrate_folio_unmap()
	 * takes it): half restored, its mapcount counts only the entries
	 * restored so far, and MADV_FREE would take one MM's for all of them.
	 */
	__set_bit(PG_locked, &dst->page->flags);
	rmap_walk_anon(src, anon_vma, &rwc);
	/* Faults wait, fork copies the entries, zap drops them. */
	ft_window_open(FT_WIN_MIGRATION, NULL, 0, 0, src);
	ft_window_linger();
	ft_window_close();
	/* Only our reference may be left: anything else (a pin, a gather
	 * not flushed yet, another walker) means it is in use. */
	if (m.failed || folio_mapped(src) || folio_ref_count(src) != 1) {
		remove_migration_ptes(src, src, anon_vma);
		ret = m.failed ? -EBUSY : -EAGAIN;
		count_vm_event(src->pmem, PGMIGRATE_FAIL);
	} else {
		folio_migrate_copy(dst, src);
		folio_add_lru(dst);
		remove_migration_ptes(src, dst, anon_vma);
		count_vm_event(src->pmem, PGMIGRATE_SUCCESS);
	}
	folio_unlock(dst);
	folio_put(dst);				/* the allocation's reference */
	return ret;
}

int ft_migrate_at(struct mm_struct *mm, unsigned long addr, struct ft_random_state *rs)
{
	struct folio *folio = ft_folio_at(mm, addr);
	struct anon_vma *anon_vma;
	int ret = -EAGAIN;

	if (!folio)
		return -EAGAIN;
	/* FT-DEVIATION: a swap cache folio is not migrated (upstream moves
	 * its cache entries to the new folio); its references fail the
	 * refcount check below anyway. */
	if (!folio_test_anon(folio) || folio_test_swapcache(folio) ||
	    !folio_trylock(folio))
		goto put;
	anon_vma = folio_get_anon_vma(folio);
	if (anon_vma) {
		ret = migrate_folio_locked(folio, anon_vma, rs);
		put_anon_vma(anon_vma);
	}
	folio_unlock(folio);
put:
	folio_put(folio);	/* frees the source after a migration */
	return ret;
}

struct referenced_ctx {
	int referenced;
};

static bool folio_referenced_one(struct folio *folio, struct vm_area_struct *vma,
				 unsigned long addr, pte_t *ptep, void *arg)
{
	struct referenced_ctx *r = arg;

	(void)folio;
	if (pte_present(ptep_get(ptep)) && ptep_test_and_clear_young(vma, addr, ptep))
		r->referenced++;
	return true;
}

int folio_referenced(struct folio *folio)
{
	struct referenced_ctx r = { 0 };
	struct rmap_walk_control rwc = { .rmap_one = folio_referenced_one, .arg = &r };
	struct anon_vma *anon_vma;

	anon_vma = folio_test_anon(folio) ? folio_get_anon_vma(folio) : NULL;
	if (anon_vma) {
		rmap_walk_anon(folio, anon_vma, &rwc);
		put_anon_vma(anon_vma);
	}
	return r.referenced;
}

int ft_clear_young_at(struct mm_struct *mm, unsigned long addr)
{
	struct folio *folio = ft_folio_at(mm, addr);
	int referenced;

	if (!folio)
		return 0;
	referenced = folio_referenced(folio);
	folio_put(folio);
	return referenced;
}
