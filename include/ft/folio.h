/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Physical memory and folios: a pfn-indexed array of struct page, folio
 * descriptors, a buddy allocator for orders 0..MAX_PAGE_ORDER, reference
 * counting, GUP pins and the deferred-split queue.
 *
 * Upstream: the fields and bit positions of include/linux/mm_types.h
 * (struct folio, _mm_ids, MM_ID_*), prep_compound_head()'s initial values
 * (mm/internal.h), the read-side queries and pins of include/linux/mm.h
 * (folio_mapcount(), folio_maybe_dma_pinned()), deferred_split_folio()
 * (mm/huge_memory.c) and the free-time checks of mm/page_alloc.c (I15 in
 * doc/invariants.md); refcount >= mapcount is I1 there.
 *
 * FT-DEVIATION: in the kernel a folio overlays its first pages.  Here the
 * per-page state (flags, _mapcount, the content word) lives in struct page
 * and the head-only and page[1]/page[2] fields in a struct folio descriptor
 * kept per head pfn.  The folio's flags are still page[0]'s flags word, so
 * folio flags and page 0's PG_anon_exclusive share a word, as they do in
 * the kernel (bug zoo B6, doc/invariants.md, depends on it).
 */
#ifndef FT_FOLIO_H
#define FT_FOLIO_H

#include <limits.h>
#include <stdio.h>

#include "ft/core.h"
#include "ft/kernel.h"
#include "ft/lock.h"

#if ULONG_MAX != 0xffffffffffffffffUL
#error "the model is 64-bit: _mm_ids packs two 31-bit mm ids and two flags"
#endif

#define PAGE_SHIFT		12
#define PAGE_SIZE		(1UL << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE - 1))
#define PAGE_ALIGN(addr)	(((addr) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define MAX_PAGE_ORDER		9		/* 2M on 4K pages: PMD size */
#define NR_PAGE_ORDERS		(MAX_PAGE_ORDER + 1)

/* Built without NDEBUG: the inline checks cannot be switched off. */
#ifdef NDEBUG
#define FT_DEBUG_BUILD		0
#else
#define FT_DEBUG_BUILD		1
#endif

/* ---- MM ids (include/linux/mm_types.h, the 64-bit values) ---------------- */

typedef u32 mm_id_t;
typedef int mm_id_mapcount_t;

#define MM_ID_DUMMY		0
#define MM_ID_MIN		1
#define MM_ID_BITS		31
#define MM_ID_MASK		((1U << MM_ID_BITS) - 1)
#define MM_ID_MAX		MM_ID_MASK
#define MM_ID_MAPCOUNT_MAX	INT_MAX
/* _mm_ids: id 0 in bits 0-30, lock in 31, id 1 in 32-62, SHARED in 63. */
#define FOLIO_MM_IDS_LOCK_BITNUM	MM_ID_BITS
#define FOLIO_MM_IDS_SHARED_BITNUM	(2 * MM_ID_BITS + 1)

/* _nr_pages_mapped (PAGE_MAPCOUNT): pages mapped, plus this while PMD-mapped. */
#define ENTIRELY_MAPPED		0x800000
#define FOLIO_PAGES_MAPPED	(ENTIRELY_MAPPED - 1)

/* GUP: a pin of a small folio adds this many references (mm/gup.c). */
#define GUP_PIN_COUNTING_BIAS	1024

/* Content of a freed page: a write after free changes it (page poisoning). */
#define PAGE_POISON		0xaaaaaaaaaaaaaaaaUL

/* ---- Page flags ------------------------------------------------------------ */

enum pageflags {
	PG_locked,		/* folio */
	PG_head,		/* page[0] of a large folio */
	PG_lru,			/* folio */
	PG_swapbacked,		/* folio */
	PG_swapcache,		/* folio */
	PG_dirty,		/* folio: content newer than any copy (swap) */
	PG_partially_mapped,	/* folio; queued for a partial unmap */
	PG_anon_exclusive,	/* per page; PG_mappedtodisk's bit in the kernel */
	PG_buddy,		/* head of a free block (a page type in the kernel) */
	PG_bad,			/* leaked after a bad page state report */
};

struct ft_pmem;

#define FT_PAGE_WORDS	2

struct page {
	unsigned long flags;		/* PG_*, atomic bitops */
	atomic_t _mapcount;		/* -1 based, PAGE_MAPCOUNT only for large */
	/* The simulated content, READ/WRITE_ONCE: two words, so that two
	 * threads can use one page at once (a write through a stale TLB
	 * entry racing a COW fault on the other word, bug zoo Z14). */
	unsigned long data[FT_PAGE_WORDS];
	struct folio *folio;		/* compound head; NULL while free */
	unsigned long pfn;
	unsigned int buddy_order;	/* with PG_buddy, under zone_lock */
	struct list_head buddy_list;	/* with PG_buddy, under zone_lock */
};

struct folio {
	struct page *page;		/* page[0] */
	struct ft_pmem *pmem;
	unsigned int order;
	atomic_t _refcount;		/* not -1 based */
	unsigned long mapping;		/* anon_vma | PAGE_MAPPING_ANON, or file */
	unsigned long index;		/* READ/WRITE_ONCE, like mapping */
	unsigned long swap;		/* PG_swapcache: its first swap slot */
	/* page[1] */
	atomic_t _large_mapcount;	/* -1 based */
	atomic_t _nr_pages_mapped;	/* PAGE_MAPCOUNT only */
	atomic_t _entire_mapcount;	/* -1 based; no PMD mappings modeled */
	atomic_t _pincount;
	mm_id_mapcount_t _mm_id_mapcount[2];	/* -1 based; under the bit lock */
	unsigned long _mm_ids;		/* ids, lock bit, SHARED bit */
	/* The rmap_id model's (models/rmap_id/): the values are atomics,
	 * updated inside the seqcount's write sections. */
	raw_atomic_seqcount_t _rmap_atomic_seqcount;
	unsigned long _rmap_val[2];
	struct list_head lru;		/* with PG_lru, under lru_lock */
	/* page[2] */
	struct list_head _deferred_list;	/* under split_queue_lock */
};

#define PAGE_MAPPING_ANON	0x1UL

/* ---- Geometry ------------------------------------------------------------------ */

/* READ_ONCE: a stale pointer may look at a folio being reallocated. */
static inline unsigned int folio_order(const struct folio *folio)
{
	return READ_ONCE(folio->order);
}

static inline unsigned long folio_nr_pages(const struct folio *folio)
{
	return 1UL << folio_order(folio);
}

static inline bool folio_test_large(const struct folio *folio)
{
	return folio_order(folio) > 0;
}

static inline unsigned long folio_pfn(const struct folio *folio)
{
	return folio->page->pfn;
}

static inline struct page *folio_page(struct folio *folio, unsigned long n)
{
	return folio->page + n;
}

static inline unsigned long folio_page_idx(const struct folio *folio,
					   const struct page *page)
{
	return (unsigned long)(page - folio->page);
}

static inline struct folio *page_folio(const struct page *page)
{
	return READ_ONCE(page->folio);
}

static inline unsigned long page_to_pfn(const struct page *page)
{
	return page->pfn;
}

/* copy_highpage(): the content only. */
static inline void copy_page_data(struct page *dst, const struct page *src)
{
	for (int i = 0; i < FT_PAGE_WORDS; i++)
		WRITE_ONCE(dst->data[i], READ_ONCE(src->data[i]));
}

static inline void fill_page_data(struct page *page, unsigned long v)
{
	for (int i = 0; i < FT_PAGE_WORDS; i++)
		WRITE_ONCE(page->data[i], v);
}

/* ---- Flags ------------------------------------------------------------------------ */

#define FOLIO_FLAG(name, bit)						\
static inline bool folio_test_##name(const struct folio *f)		\
{									\
	return test_bit(bit, &f->page->flags);				\
}									\
static inline void folio_set_##name(struct folio *f)			\
{									\
	set_bit(bit, &f->page->flags);					\
}									\
static inline void __folio_set_##name(struct folio *f)			\
{									\
	__set_bit(bit, &f->page->flags);				\
}									\
static inline void folio_clear_##name(struct folio *f)			\
{									\
	clear_bit(bit, &f->page->flags);				\
}

FOLIO_FLAG(locked, PG_locked)
FOLIO_FLAG(lru, PG_lru)
FOLIO_FLAG(swapbacked, PG_swapbacked)
FOLIO_FLAG(swapcache, PG_swapcache)
FOLIO_FLAG(dirty, PG_dirty)
FOLIO_FLAG(partially_mapped, PG_partially_mapped)
#undef FOLIO_FLAG

static inline bool folio_test_anon(const struct folio *folio)
{
	return READ_ONCE(folio->mapping) & PAGE_MAPPING_ANON;
}

static inline bool PageAnonExclusive(const struct page *page)
{
	return test_bit(PG_anon_exclusive, &page->flags);
}

static inline void SetPageAnonExclusive(struct page *page)
{
	set_bit(PG_anon_exclusive, &page->flags);
}

static inline void ClearPageAnonExclusive(struct page *page)
{
	clear_bit(PG_anon_exclusive, &page->flags);
}

/* ---- Mapcount fields (owner slots: include/linux/rmap.h, folio_mm_id()) ------------- */

static inline int folio_large_mapcount(const struct folio *folio)
{
	return atomic_read(&folio->_large_mapcount) + 1;
}

static inline int folio_entire_mapcount(const struct folio *folio)
{
	return atomic_read(&folio->_entire_mapcount) + 1;
}

static inline mm_id_t folio_mm_id(const struct folio *folio, int idx)
{
	return (READ_ONCE(folio->_mm_ids) >> (32 * idx)) & MM_ID_MASK;
}

static inline bool folio_test_large_maybe_mapped_shared(const struct folio *folio)
{
	return test_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids);
}

/* ---- References ---------------------------------------------------------------------- */

static inline int folio_ref_count(const struct folio *folio)
{
	return atomic_read(&folio->_refcount);
}

/* Misuse of a folio's references: counted and dumped (src/mm/page_alloc.c). */
void folio_ref_bug(struct folio *folio, const char *what);
void __folio_put(struct folio *folio);

static inline void folio_ref_add(struct folio *folio, int nr)
{
	/* Only a holder may take more: a zero count means use after free. */
	if (unlikely(atomic_add_return(nr, &folio->_refcount) <= nr))
		folio_ref_bug(folio, "reference taken on a free folio");
}

/* A speculative reference: fails on a folio being freed (refcount 0). */
static inline bool folio_try_get(struct folio *folio)
{
	int v = atomic_read(&folio->_refcount);

	ft_sb_drain();		/* a fully ordered RMW */
	do {
		if (v <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(&folio->_refcount.counter, &v, v + 1,
					      false, __ATOMIC_ACQ_REL,
					      __ATOMIC_RELAXED));
	return true;
}

/* folio_ref_try_add(): @nr speculative references, unless it is free. */
static inline bool folio_ref_try_add(struct folio *folio, int nr)
{
	int v = atomic_read(&folio->_refcount);

	ft_sb_drain();		/* a fully ordered RMW */
	do {
		if (v <= 0)
			return false;
	} while (!__atomic_compare_exchange_n(&folio->_refcount.counter, &v, v + nr,
					      false, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	return true;
}

static inline void folio_get(struct folio *folio)
{
	folio_ref_add(folio, 1);
}

/* Drop @nr references; free the folio on the last.  true if freed. */
static inline bool folio_put_refs(struct folio *folio, int nr)
{
	int v = atomic_sub_return(nr, &folio->_refcount);

	if (likely(v > 0))
		return false;
	if (unlikely(v < 0)) {
		folio_ref_bug(folio, "refcount underflow");
		return false;
	}
	__folio_put(folio);
	return true;
}

static inline void folio_put(struct folio *folio)
{
	folio_put_refs(folio, 1);
}

/* folio_ref_freeze(): from exactly @count to 0, or nothing (reclaim). */
static inline bool folio_ref_freeze(struct folio *folio, int count)
{
	int v = count;

	ft_sb_drain();		/* a fully ordered RMW */
	return __atomic_compare_exchange_n(&folio->_refcount.counter, &v, 0, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Drop references the caller knows are not the last (fork's -EBUSY). */
static inline void folio_ref_sub(struct folio *folio, int nr)
{
	if (unlikely(atomic_sub_return(nr, &folio->_refcount) <= 0))
		folio_ref_bug(folio, "folio_ref_sub dropped the last reference");
}

/* ---- Physical memory ------------------------------------------------------------------ */

struct deferred_split {
	spinlock_t split_queue_lock;	/* protects the queue and its length */
	struct list_head split_queue;
	unsigned long split_queue_len;
};

/*
 * The LRU (mm/swap.c, include/linux/mm_inline.h), one list for the whole
 * machine.  A folio with PG_lru is on it; reclaim isolates a folio by
 * taking a reference and clearing PG_lru under the lock, the free path
 * takes a folio still on it off.  FT-DEVIATION: no active/inactive or
 * anon/file lists, no per-CPU batches (folio_add_lru() adds at once).
 */
struct lruvec {
	spinlock_t lru_lock;		/* protects the list, PG_lru, nr */
	struct list_head list;		/* head: newest, tail: oldest */
	unsigned long nr;
};

struct ft_mapcount_ops;

struct ft_pmem_stats {
	u64 n_alloc[NR_PAGE_ORDERS];
	u64 n_alloc_fail[NR_PAGE_ORDERS];	/* injected or out of memory */
	u64 n_free[NR_PAGE_ORDERS];
	u64 n_bad;				/* folios leaked as bad */
};

/*
 * Event counters of the machine (the kernel's vm_event_item): what the
 * status lines and figures report.  Relaxed atomics.
 */
enum vm_event_item {
	PGFAULT,			/* do_page_fault calls */
	THP_FAULT_ALLOC,		/* anon faults that mapped order > 0 */
	COW_COPY,			/* wp_page_copy: a new page */
	COW_REUSE,			/* do_wp_page reused the page */
	FORK_PTE_COPY,			/* entries copied by copy_pte_range */
	ZAP_PTE,			/* entries zapped by zap_pte_range */
	PGMIGRATE_SUCCESS,
	PGMIGRATE_FAIL,
	CONTPTE_FOLD,
	CONTPTE_UNFOLD_SET_PTE,		/* single set_pte over a CONT entry */
	CONTPTE_UNFOLD_CLEAR,		/* single clear of a CONT entry */
	CONTPTE_UNFOLD_CLEAR_PARTIAL,	/* clear_full_ptes of part of a block */
	CONTPTE_UNFOLD_WRPROTECT,	/* single write-protect */
	CONTPTE_UNFOLD_WRPROTECT_PARTIAL, /* wrprotect_ptes of part of a block */
	CONTPTE_UNFOLD_ACCESS_FLAGS,	/* ptep_set_access_flags changing write */
	CONTPTE_UNFOLD_MPROTECT_PARTIAL, /* modify_prot_start of part of a block */
	CONTPTE_CONVERT,		/* contpte_convert calls */
	VM_TLB_FLUSH,
	GUP_FAST_PIN,			/* pages GUP-fast pinned (no kernel event) */
	GUP_SLOW_PIN,			/* pages the slow path pinned (likewise) */
	PGSCAN,				/* folios reclaim isolated */
	PGLAZYFREE,			/* MADV_FREE marked a folio lazyfree */
	PGLAZYFREED,			/* reclaim discarded a lazyfree folio */
	PGLAZYFREE_REDIRTIED,		/* reclaim found it written again */
	PSWPOUT,			/* pages reclaim swapped out and freed */
	PSWPIN,				/* pages read back from swap */
	SWAP_REUSE_LARGE,		/* a large swap cache folio reused by COW */
	/* The mapcount model, for --compare-models (no kernel events): */
	MAPCOUNT_UPDATE,		/* large-mapcount set, add or sub calls */
	MAPCOUNT_UPDATE_TIMED,		/* the ones timed (one in 64) */
	MAPCOUNT_UPDATE_TIMED_NS,	/* their time, lock waits included */
	COW_LARGE_REUSE,		/* a write fault reused a large folio */
	COW_LARGE_COPY,			/* the model said no: copied */
	COW_LARGE_COPY_AVOIDABLE,	/* ... though this MM alone mapped it */
	MAPCOUNT_READ_RETRY,		/* a model's lock-free reader retried or gave up */
	NR_VM_EVENTS
};

/* Their names, as in /proc/vmstat (lower case). */
extern const char *const vm_event_names[NR_VM_EVENTS];

struct ft_pmem {
	unsigned long nr_pfns;
	struct page *pages;
	struct folio *folios;		/* descriptors, by head pfn */
	/* zone->lock: the free lists, PG_buddy and buddy_order. */
	spinlock_t zone_lock;
	struct list_head free_area[NR_PAGE_ORDERS];
	unsigned long nr_free_pages;	/* under zone_lock */
	u32 fail_ppm[NR_PAGE_ORDERS];	/* injected failures, per million */
	struct ft_pmem_stats stats;	/* atomics */
	u64 vm_events[NR_VM_EVENTS];	/* atomics */
	struct deferred_split ds;
	struct lruvec lruvec;
	struct swap_info_struct *si;	/* the swap device (include/ft/swap.h) */
	const struct ft_mapcount_ops *mc;	/* the mapcount model */
	bool no_page_mapcount;		/* CONFIG_NO_PAGE_MAPCOUNT */
	bool debug_vm;			/* inline checks (always in debug builds) */
};

/*
 * Set up @nr_pfns pages (a multiple of 1 << MAX_PAGE_ORDER) of physical
 * memory whose folios use mapcount model @mc.  0, -EINVAL or -ENOMEM.
 */
int ft_pmem_init(struct ft_pmem *pmem, unsigned long nr_pfns,
		 const struct ft_mapcount_ops *mc, bool no_page_mapcount);
void ft_pmem_destroy(struct ft_pmem *pmem);
/* Pages not free and not leaked as bad: a leak check for tests. */
unsigned long ft_pmem_nr_used_pages(struct ft_pmem *pmem);

static inline void count_vm_events(struct ft_pmem *pmem, enum vm_event_item item,
				   u64 delta)
{
	__atomic_fetch_add(&pmem->vm_events[item], delta, __ATOMIC_RELAXED);
}

static inline void count_vm_event(struct ft_pmem *pmem, enum vm_event_item item)
{
	count_vm_events(pmem, item, 1);
}

static inline u64 ft_vm_event(const struct ft_pmem *pmem, enum vm_event_item item)
{
	return __atomic_load_n(&pmem->vm_events[item], __ATOMIC_RELAXED);
}

static inline bool ft_debug_vm(const struct ft_pmem *pmem)
{
	return IS_ENABLED(FT_DEBUG_BUILD) || READ_ONCE(pmem->debug_vm);
}

static inline struct page *pfn_to_page(struct ft_pmem *pmem, unsigned long pfn)
{
	return &pmem->pages[pfn];
}

/*
 * Allocate a naturally aligned folio of 2^@order pages with one reference
 * and zeroed content.  NULL when memory is exhausted or when the per-order
 * failure injection (fail_ppm, drawn from @rs; NULL: never) says so.
 * FT-DEVIATION: the kernel's folio_alloc(gfp, order) has one global memory.
 */
struct folio *folio_alloc(struct ft_pmem *pmem, unsigned int order,
			  struct ft_random_state *rs);

/* ---- GUP pins (mm/gup.c, folio_maybe_dma_pinned()) -------------------------------------- */

#define FOLL_GET	0x1
#define FOLL_PIN	0x2
#define FOLL_WRITE	0x4
#define FOLL_LONGTERM	0x8

struct mm_struct;
struct vm_area_struct;

/* try_grab_folio(FOLL_PIN): _pincount and refcount (large), or 1024 refs. */
int try_grab_folio(struct folio *folio, int refs, unsigned int flags);
void gup_put_folio(struct folio *folio, int refs, unsigned int flags);
bool folio_maybe_dma_pinned(const struct folio *folio);
/*
 * folio_try_share_anon_rmap_pte() (include/linux/rmap.h): before a PTE of
 * an exclusive anon page becomes a non-exclusive entry (migration,
 * swap-out), with the PTE already cleared and flushed: -EBUSY if the
 * folio may be pinned, else @page is no longer AnonExclusive.  The barrier
 * pair with GUP-fast is in here (src/mm/gup.c).
 */
int folio_try_share_anon_rmap_pte(struct folio *folio, struct page *page);
/* Caller holds src mm->write_protect_seq for write (asserted). */
bool folio_needs_cow_for_dma(struct vm_area_struct *vma, struct folio *folio);

/* The folio lock (PG_locked) as a trylock: the model never sleeps on it. */
static inline bool folio_trylock(struct folio *folio)
{
	return !test_and_set_bit(PG_locked, &folio->page->flags);
}

static inline void folio_unlock(struct folio *folio)
{
	/* Release: pairs with the acquire of the next folio_trylock(). */
	__atomic_fetch_and(&folio->page->flags, ~BIT(PG_locked), __ATOMIC_RELEASE);
}

/* ---- The LRU (mm/swap.c; src/mm/swap.c) ------------------------------------------------ */

void lruvec_init(struct lruvec *lruvec);
/* The swap device (src/mm/swapfile.c): 0 or -ENOMEM. */
int ft_swap_init(struct ft_pmem *pmem);
void ft_swap_destroy(struct ft_pmem *pmem);
/* A new folio, mapped: on the list (no reference is taken for it). */
void folio_add_lru(struct folio *folio);
/* Reclaim kept an isolated folio: back on the list, isolation ref dropped. */
void folio_putback_lru(struct folio *folio);
/* The free path: off the list if still on it. */
void __page_cache_release(struct folio *folio);
/* MADV_FREE: an anon folio on the list loses PG_swapbacked (lazyfree). */
void folio_mark_lazyfree(struct folio *folio);

/* folio_mark_dirty() of an anon folio: its content is newer than any copy. */
static inline void folio_mark_dirty(struct folio *folio)
{
	if (!folio_test_dirty(folio))
		folio_set_dirty(folio);
}

/* ---- Deferred split (mm/huge_memory.c) ------------------------------------------------- */

void deferred_split_folio(struct folio *folio, bool partially_mapped);
/* true if it was queued; the free path calls it with refcount 0. */
bool folio_unqueue_deferred_split(struct folio *folio);
bool folio_on_deferred_list(struct folio *folio);

/* ---- Debugging (mm/debug.c) ------------------------------------------------------------- */

void dump_page(FILE *out, struct page *page, const char *reason);
void dump_folio(FILE *out, struct folio *folio, const char *reason);

/* An mm oracle failed on @folio: report it (ft_report) with a dump. */
void ft_folio_bug(struct folio *folio, const char *oracle, const char *cond,
		  const char *file, int line);

/*
 * VM_WARN_ON_FOLIO: an invariant the kernel checks under CONFIG_DEBUG_VM.
 * A failure is an oracle failure (counted, dumped, fatal in the torture).
 */
#define VM_WARN_ON_FOLIO(cond, folio)					\
	({								\
		bool __c = !!(cond);					\
		if (unlikely(__c))					\
			ft_folio_bug((folio), "VM_WARN_ON_FOLIO", #cond,	\
				     __FILE__, __LINE__);		\
		__c;							\
	})

#endif /* FT_FOLIO_H */
