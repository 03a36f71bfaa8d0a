/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The rmap seam (the kernel's include/linux/rmap.h) and the mapcount models
 * behind it.
 *
 * src/mm/rmap.c implements the kernel's entry points below; everything that
 * does not depend on how a large folio's sharing is tracked lives there
 * (small folios, per-page mapcounts under PAGE_MAPCOUNT, AnonExclusive, the
 * deferred split).  What CONFIG_MM_ID changes (the large mapcount with its
 * owner slots and SHARED bit, "maybe mapped shared", large-folio COW reuse)
 * is a model: an ops table in models/<name>/, chosen by name at run time
 * and reached through folio->pmem->mc.  Nothing in src/ knows which model
 * runs.
 *
 * Locking: callers hold the PTL of the page table whose entries they
 * change (as mm/rmap.c requires); models take their own lock inside
 * (owner_slots: the folio's large-mapcount bit spinlock, innermost;
 * rmap_id: write sections of the folio's atomic seqcount, innermost too).
 */
#ifndef FT_MAPCOUNT_H
#define FT_MAPCOUNT_H

#include "ft/folio.h"
#include "ft/mm.h"

typedef int rmap_t;

#define RMAP_NONE	0
#define RMAP_EXCLUSIVE	BIT(0)

/* ---- The models --------------------------------------------------------------- */

/*
 * Capabilities the oracles must know about (never guessed from the name):
 * ft_audit() holds a model to the claims its caps make, and only to those.
 */
#define FT_MC_TRACKS_OWNER	0x1	/* slots name the mapping MMs */
#define FT_MC_NO_FALSE_NEGATIVE	0x2	/* shared => maybe_mapped_shared (P-c) */
#define FT_MC_EXACT_TWO_MMS	0x4	/* exact while <= 2 MMs map (P-d) */
#define FT_MC_EXACT_NR_PAGES	0x8	/* exact while mapped <= nr_pages times (R3) */

/* A model's view of a large folio, taken under the model's lock. */
struct ft_mapcount_snapshot {
	int mapcount;			/* logical large mapcount */
	bool shared;			/* the maybe-mapped-shared state */
	int nr_slots;			/* 0 for models without owner slots */
	struct {
		mm_id_t id;
		int mapcount;		/* logical: stored + 1 */
	} slot[2];
};

/*
 * A mapcount model: the large-mapcount half of rmap.  @n is a number of
 * PTE mappings, @vma the one they belong to (its mm is the owner).
 */
struct ft_mapcount_ops {
	const char *name;		/* --model=NAME */
	const char *desc;
	unsigned int caps;		/* FT_MC_* */
	const char *lock_class;		/* its lock's class name, for time by cause */
	/* Optional: why folios of @order cannot use the model, or NULL. */
	const char *(*check_order)(unsigned int order);
	/* folio_set_large_mapcount(): a new folio, not yet visible, no lock */
	void (*set)(struct folio *folio, int n, struct vm_area_struct *vma);
	/* folio_add_return_large_mapcount(): the new logical mapcount */
	int (*add)(struct folio *folio, int n, struct vm_area_struct *vma);
	/* folio_sub_return_large_mapcount() */
	int (*sub)(struct folio *folio, int n, struct vm_area_struct *vma);
	/* folio_maybe_mapped_shared() for a large folio mapped >= 2 times */
	bool (*maybe_mapped_shared)(const struct folio *folio);
	/*
	 * Optional: is the large folio mapped by any MM but @mm, for a
	 * model whose answer depends on who asks (the 2023 design's
	 * folio_mapped_shared(folio, mm)); NULL: maybe_mapped_shared().
	 */
	bool (*mapped_shared)(struct folio *folio, struct mm_struct *mm);
	/* __wp_can_reuse_large_anon_folio() (mm/memory.c) */
	bool (*can_reuse_anon)(struct folio *folio, struct vm_area_struct *vma);
	/*
	 * A consistent view, for oracles and dumps; @locked (optional) runs
	 * with the view still stable, under the model's lock, so an oracle
	 * can compare it with state other threads publish.
	 */
	void (*snapshot)(struct folio *folio, struct ft_mapcount_snapshot *snap,
			 void (*locked)(const struct ft_mapcount_snapshot *snap,
					void *arg), void *arg);
	/* prep_compound_head(): the model's fields of a new folio */
	void (*prep)(struct folio *folio);
	/* free_tail_page_prepare() on the model's fields: a reason, or NULL */
	const char *(*free_check)(const struct folio *folio);
	/* dump_page(): the model's fields on one line, read racily */
	void (*print)(FILE *out, const struct folio *folio);
};

/* NULL-terminated registry (models/registry.c). */
extern const struct ft_mapcount_ops *const ft_mapcount_models[];
const struct ft_mapcount_ops *ft_mapcount_model_find(const char *name);

static inline const struct ft_mapcount_ops *folio_mc(const struct folio *folio)
{
	return folio->pmem->mc;
}

/* ---- Read side (include/linux/mm.h) ------------------------------------------------ */

static inline int folio_mapcount(const struct folio *folio)
{
	if (likely(!folio_test_large(folio)))
		return atomic_read(&folio->page->_mapcount) + 1;
	return folio_large_mapcount(folio);
}

static inline bool folio_mapped(const struct folio *folio)
{
	return folio_mapcount(folio) >= 1;
}

static inline bool folio_maybe_mapped_shared(const struct folio *folio)
{
	int mapcount = folio_mapcount(folio);

	if (likely(!folio_test_large(folio)))
		return mapcount > 1;
	/* One mapping is always exclusive, whatever the model says. */
	if (mapcount <= 1)
		return false;
	return folio_mc(folio)->maybe_mapped_shared(folio);
}

/*
 * Is @folio, mapped by @mm, mapped by any other MM as well, as far as the
 * model can tell?  The audit's question (src/check/audit.c).
 */
static inline bool folio_mapped_shared(struct folio *folio, struct mm_struct *mm)
{
	const struct ft_mapcount_ops *mc = folio_mc(folio);

	if (!folio_test_large(folio) || !mc->mapped_shared)
		return folio_maybe_mapped_shared(folio);
	return folio_mapcount(folio) > 1 && mc->mapped_shared(folio, mm);
}

static inline bool folio_uses_page_mapcount(const struct folio *folio)
{
	return !folio->pmem->no_page_mapcount;
}

/* ---- The rmap entry points (src/mm/rmap.c; upstream mm/rmap.c) ---------------------- */

void folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma,
			     unsigned long address, rmap_t flags);
void __folio_add_new_anon_rmap(struct folio *folio, struct vm_area_struct *vma,
			       unsigned long address, rmap_t flags);
void folio_add_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma, unsigned long address,
			      rmap_t flags);
void folio_add_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *vma);
void folio_dup_file_rmap_ptes(struct folio *folio, struct page *page, int nr,
			      struct vm_area_struct *dst_vma);
int folio_try_dup_anon_rmap_ptes(struct folio *folio, struct page *page, int nr,
				 struct vm_area_struct *dst_vma,
				 struct vm_area_struct *src_vma);
void folio_remove_rmap_ptes(struct folio *folio, struct page *page, int nr,
			    struct vm_area_struct *vma);

static inline void folio_add_anon_rmap_pte(struct folio *folio, struct page *page,
					   struct vm_area_struct *vma,
					   unsigned long address, rmap_t flags)
{
	folio_add_anon_rmap_ptes(folio, page, 1, vma, address, flags);
}

static inline void folio_add_file_rmap_pte(struct folio *folio, struct page *page,
					   struct vm_area_struct *vma)
{
	folio_add_file_rmap_ptes(folio, page, 1, vma);
}

static inline int folio_try_dup_anon_rmap_pte(struct folio *folio, struct page *page,
					      struct vm_area_struct *dst_vma,
					      struct vm_area_struct *src_vma)
{
	return folio_try_dup_anon_rmap_ptes(folio, page, 1, dst_vma, src_vma);
}

static inline void folio_remove_rmap_pte(struct folio *folio, struct page *page,
					 struct vm_area_struct *vma)
{
	folio_remove_rmap_ptes(folio, page, 1, vma);
}

void folio_move_anon_rmap(struct folio *folio, struct vm_area_struct *vma);

/*
 * The large-folio COW-reuse decision of do_wp_page (mm/memory.c,
 * __wp_can_reuse_large_anon_folio()): true if every reference to @folio
 * comes from @vma's mm's page tables.
 */
static inline bool wp_can_reuse_large_anon_folio(struct folio *folio,
						 struct vm_area_struct *vma)
{
	return folio_mc(folio)->can_reuse_anon(folio, vma);
}

static inline void folio_mapcount_snapshot(struct folio *folio,
					   struct ft_mapcount_snapshot *snap)
{
	folio_mc(folio)->snapshot(folio, snap, NULL, NULL);
}

#endif /* FT_MAPCOUNT_H */
