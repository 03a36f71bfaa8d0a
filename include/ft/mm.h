/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Simulated address spaces and the operations on them: mm_struct, VMAs with
 * per-VMA locks, anon_vmas, the mm id allocator, and fault, fork, munmap,
 * MADV_DONTNEED, mprotect, exit, migration and young-bit walkers, GUP pins.
 * Upstream: mm/memory.c (fork's copy_page_range(), zap_pte_range(), the
 * faults, do_wp_page()), mm/mprotect.c, mm/madvise.c, mm/vma.c and
 * mm/mmap_lock.c (which lock each operation takes), kernel/fork.c (mm ids,
 * mm_alloc_id()); refcount before mapcount on the way up and after it on
 * the way down (I1, doc/invariants.md).
 *
 * Lock ordering (mm/rmap.c's tree, for the model):
 *   mmap_lock (child's nested in fork)
 *     vma lock (per-VMA, read by faults and MADV_DONTNEED; "write" is a
 *               state ended by mmap_write_unlock/downgrade)
 *       anon_vma->root->rwsem
 *         mm->page_table_lock
 *         PTL (child's, then the parent's nested in fork)
 *           large-mapcount lock (folio->_mm_ids)
 *           split_queue_lock
 *   zone_lock, mm id lock: leaves
 */
#ifndef FT_MM_H
#define FT_MM_H

#include "ft/folio.h"
#include "ft/lock.h"

struct ptdesc;
struct ft_world;
struct ft_tlb_done;

typedef struct {
	u64 pgprot;
} pgprot_t;

/* An upper-level page-table entry: the PTE table it points to, or none. */
typedef struct {
	struct ptdesc *table;
} pmd_t;

/* mm->flags */
#define MMF_HAS_PINNED	0	/* some page of this mm was ever FOLL_PIN'ed */

/* rss counters (mm->rss_stat) */
enum {
	MM_FILEPAGES,
	MM_ANONPAGES,
	MM_SWAPENTS,
	MM_SHMEMPAGES,
	NR_MM_COUNTERS
};

/* vm_flags */
#define VM_READ		0x1UL
#define VM_WRITE	0x2UL
#define VM_SHARED	0x8UL
#define VM_MAYREAD	0x10UL
#define VM_MAYWRITE	0x20UL

#define MAX_VMAS	64	/* per mm: the model's max_map_count */

struct anon_vma {
	struct ft_world *world;		/* whose pool it returns to */
	struct anon_vma *root;		/* the family's root: its rwsem is used */
	struct rw_semaphore rwsem;	/* only the root's is taken */
	atomic_t refcount;		/* VMAs linked, children, walkers */
	/*
	 * For anon_vma_clone()'s reuse (7a3ef208e662, 2555283eb40d), under
	 * the root's rwsem: the anon_vma this one was forked from (itself for
	 * a root), how many anon_vmas name it as parent (a root counts
	 * itself), and how many VMAs have it as their ->anon_vma.  One with
	 * no VMA and at most one child is reused by the next fork below it,
	 * which bounds a family's chains however many generations fork.
	 */
	struct anon_vma *parent;
	unsigned long num_children;
	unsigned long num_active_vmas;
	struct list_head head;		/* anon_vma_chains of linked VMAs */
	struct list_head pool_link;	/* the world's pool while unused */
	struct list_head all_link;	/* every anon_vma ever made */
};

/* Links a VMA with every anon_vma whose pages it may map (mm/rmap.c). */
struct anon_vma_chain {
	struct vm_area_struct *vma;
	struct anon_vma *anon_vma;
	struct list_head same_vma;	/* vma->anon_vma_chain */
	struct list_head same_anon_vma;	/* anon_vma->head */
};

struct vm_area_struct {
	struct mm_struct *vm_mm;
	/* READ_ONCE outside the mmap lock: lockless lookups recheck them
	 * under the VMA lock (lock_vma_under_rcu). */
	unsigned long vm_start, vm_end;
	/* The page offset of vm_start: an anon VMA's is the page number of
	 * the address it was created at, and mremap keeps it, so that a
	 * moved folio's ->index still finds its pages (linear_page_index). */
	unsigned long vm_pgoff;
	unsigned long vm_flags;
	pgprot_t vm_page_prot;
	struct anon_vma *anon_vma;
	struct list_head anon_vma_chain;
	/* The per-VMA lock (v6.4-6.11 form): readers trylock vm_lock; a
	 * writer takes it once and then marks vm_lock_seq, which keeps
	 * readers out until mmap_write_unlock/downgrade bumps mm_lock_seq. */
	struct rw_semaphore vm_lock;
	unsigned int vm_lock_seq;
	int attached;			/* atomic */
	/* SPF (Android speculative faults): bumped around every change of
	 * the VMA, checked by a lockless fault under the PTL. */
	seqcount_t vm_seq;
};

/* Flags and protection as read without the VMA lock (SPF, rmap walkers):
 * mprotect changes them under the VMA write lock only. */
static inline unsigned long vma_flags(struct vm_area_struct *vma)
{
	return READ_ONCE(vma->vm_flags);
}

static inline pgprot_t vma_page_prot(struct vm_area_struct *vma)
{
	return (pgprot_t){ READ_ONCE(vma->vm_page_prot.pgprot) };
}

/* The linear page index of @addr in @vma (include/linux/pagemap.h). */
static inline unsigned long linear_page_index(struct vm_area_struct *vma,
					      unsigned long addr)
{
	return ((addr - READ_ONCE(vma->vm_start)) >> PAGE_SHIFT) +
	       READ_ONCE(vma->vm_pgoff);
}

#define FT_TLB_VA_GENS	64

struct mm_struct {
	mm_id_t mm_id;
	unsigned long flags;		/* MMF_*, atomic bitops */
	seqcount_t write_protect_seq;	/* odd while fork write-protects */
	struct ft_world *world;
	struct ft_pmem *pmem;		/* world->pmem, for the hot paths */
	atomic_t mm_users;		/* the last mmput() runs exit_mmap() */
	struct rw_semaphore mmap_lock;
	unsigned int mm_lock_seq;	/* ends VMA write locks when bumped */
	/* Page tables (include/ft/pgtable.h): one upper-level entry per
	 * PMD_SIZE below task_size.  page_table_lock serializes populating
	 * them (pmd_install); each table has its own PTL. */
	spinlock_t page_table_lock;
	pmd_t *pgd;
	unsigned long task_size;
	/* The TLB generation: unique to this mm in the high half, bumped by
	 * every whole-mm flush; a cached translation of another one is
	 * stale.  A range flush bumps the generations of its pages instead
	 * (hashed: page vpn uses tlb_va_gen[vpn % FT_TLB_VA_GENS]). */
	u64 tlb_gen;
	u64 tlb_va_gen[FT_TLB_VA_GENS];
	u32 tlb_asid;			/* the high half: the TLB's index */
	/* mmu_gathers in progress (inc/dec_tlb_flush_pending): two at once
	 * make tlb_finish_mmu() flush everything (mm_tlb_flush_nested). */
	atomic_t tlb_flush_pending;
	/* The TLB oracle (--tlb, include/ft/pgtable.h): per page below
	 * task_size, when the last call that has returned and must have
	 * flushed the page began; one for fork, which covers every page. */
	struct ft_tlb_done *tlb_done;
	u64 tlb_wrprotect_all_ns;	/* atomic */
	/* VMA slots, type-stable (SLAB_TYPESAFE_BY_RCU's idea): a lockless
	 * lookup may find a slot being reused and rechecks after locking. */
	struct vm_area_struct vmas[MAX_VMAS];
	long rss_stat[NR_MM_COUNTERS];	/* atomics */
	void *hook_data;		/* the world's hooks' (set before mapping) */
};

static inline void mm_set_has_pinned_flag(struct mm_struct *mm)
{
	if (!test_bit(MMF_HAS_PINNED, &mm->flags))
		set_bit(MMF_HAS_PINNED, &mm->flags);
}

static inline void add_mm_counter(struct mm_struct *mm, int member, long value)
{
	__atomic_fetch_add(&mm->rss_stat[member], value, __ATOMIC_RELAXED);
}

static inline long get_mm_counter(struct mm_struct *mm, int member)
{
	return __atomic_load_n(&mm->rss_stat[member], __ATOMIC_RELAXED);
}

static inline bool is_cow_mapping(unsigned long flags)
{
	return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

/* ---- The mm id space ------------------------------------------------------------- */

/*
 * The kernel's IDA over [MM_ID_MIN, MM_ID_MAX].  Hands out the lowest free
 * id, as ida_alloc_range() does, and never one in use.  @max can be lowered
 * for tests that exhaust it.
 */
struct mm_id_space {
	spinlock_t lock;	/* protects everything below */
	mm_id_t max;
	mm_id_t next;		/* ids >= next were never handed out */
	unsigned long *in_use;	/* bitmap of [0, next) */
	size_t map_longs;
	mm_id_t *free;		/* min-heap of released ids below next */
	size_t nr_free, cap_free;
	unsigned long nr_in_use;
};

int mm_id_space_init(struct mm_id_space *ids, mm_id_t max);
void mm_id_space_destroy(struct mm_id_space *ids);
/* The kernel's mm_alloc_id()/mm_free_id(): 0 or -ENOSPC / -ENOMEM. */
int mm_alloc_id(struct mm_id_space *ids, struct mm_struct *mm);
void mm_free_id(struct mm_id_space *ids, struct mm_struct *mm);

/* ---- Locking modes (upstream's, and Android's speculative faults) ---------------------- */

/* Which lock each operation takes; the operations assert it. */
struct ft_locking_mode {
	const char *name;		/* --locking=NAME */
	const char *desc;
	bool fault_vma_lock;		/* faults try the per-VMA read lock */
	bool fault_speculative;		/* faults take no lock (SPF) */
	bool dontneed_vma_lock;		/* MADV_DONTNEED tries the VMA lock */
};

extern const struct ft_locking_mode *const ft_locking_modes[];	/* NULL-ended */
const struct ft_locking_mode *ft_locking_mode_find(const char *name);

/* What reclaim (or MADV_FREE) did to a range: the world's unmap_hook. */
enum ft_unmap_kind {
	FT_UNMAP_DISCARD,	/* a clean lazyfree folio (or swapped-out
				 * data MADV_FREE dropped): reads zero now */
	FT_UNMAP_SWAPOUT,	/* now swap entries: the content is kept,
				 * the dirty state moved to the folio */
};

/* ---- The world: what all mms share --------------------------------------------------- */

struct ft_world {
	struct ft_pmem *pmem;
	struct mm_id_space ids;
	const struct ft_locking_mode *locking;
	unsigned long anon_orders;	/* enabled mTHP orders, bit n = order n */
	unsigned int gather_capacity;	/* mmu_gather entries before "full" */
	bool no_gather;			/* MMU_GATHER_NO_GATHER (s390) */
	bool tlb;			/* CPUs cache translations (pgtable.h) */
	/* GUP-fast with RCU (MMU_GATHER_RCU_TABLE_FREE: a TLB flush does
	 * not wait for it), not with interrupts off (a flush's IPI waits). */
	bool gup_fast_rcu;
	struct folio *zero_folio;	/* the shared zero page */
	/*
	 * Reclaim took [@addr, @addr + @nr pages) of @mm away (@kind):
	 * called under the PTL, after the entries were changed, before a
	 * fault can map the range again.  NULL: nobody listens.  The shadow
	 * memory's (src/check/shadow.c) source of "this may read zero now"
	 * besides zaps, and of "this entry was cleaned" for the dirty rule.
	 */
	void (*unmap_hook)(struct mm_struct *mm, unsigned long addr,
			   unsigned long nr, enum ft_unmap_kind kind);
	/*
	 * anon_vmas are type-stable (SLAB_TYPESAFE_BY_RCU in the kernel): a
	 * folio->mapping may point to one that was freed and reused, and
	 * folio_get_anon_vma() rechecks.  Unused ones wait in the pool; all
	 * are freed with the world.  The lock protects both lists.
	 */
	spinlock_t anon_vma_pool_lock;
	struct list_head anon_vma_pool;
	struct list_head anon_vma_all;
};

int ft_world_init(struct ft_world *w, struct ft_pmem *pmem,
		  const struct ft_locking_mode *locking);
void ft_world_destroy(struct ft_world *w);

/* ---- mm lifecycle ------------------------------------------------------------------ */

/* A new, empty mm with one user.  NULL on -ENOMEM or no mm id left. */
struct mm_struct *mm_alloc(struct ft_world *w, unsigned long task_size);
/* fork: a child mm, a copy of @oldmm (dup_mmap).  NULL on failure. */
struct mm_struct *ft_fork(struct mm_struct *oldmm);
/* The same, the child's hook_data set before anything is copied. */
struct mm_struct *ft_fork_hooked(struct mm_struct *oldmm, void *hook_data);
bool mmget_not_zero(struct mm_struct *mm);
void mmget(struct mm_struct *mm);
/* The last user gone: exit_mmap(), free the tables and the mm. */
void mmput(struct mm_struct *mm);

/* ---- mmap_lock and VMA locks ---------------------------------------------------------- */

#define mmap_read_lock(mm)	down_read(&(mm)->mmap_lock)
#define mmap_read_trylock(mm)	down_read_trylock(&(mm)->mmap_lock)
#define mmap_read_unlock(mm)	up_read(&(mm)->mmap_lock)
#define mmap_write_lock(mm)	down_write(&(mm)->mmap_lock)
#define mmap_write_lock_nested(mm, sub) down_write_nested(&(mm)->mmap_lock, (sub))
/* Both end every VMA write lock (vma_end_write_all). */
void mmap_write_unlock(struct mm_struct *mm);
void mmap_write_downgrade(struct mm_struct *mm);
#define mmap_assert_locked(mm)	lockdep_assert_held(&(mm)->mmap_lock)
void mmap_assert_write_locked(struct mm_struct *mm);

bool vma_start_read(struct vm_area_struct *vma);
#define vma_end_read(vma)	up_read(&(vma)->vm_lock)
/* Caller holds mmap_lock for write; waits for the VMA's readers. */
void vma_start_write(struct vm_area_struct *vma);
void vma_assert_write_locked(struct vm_area_struct *vma);
/* The VMA cannot change: read-locked, or the mmap_lock is held. */
void vma_assert_locked(struct vm_area_struct *vma);

/* Under the mmap_lock: the VMA containing @addr, or NULL. */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);
/* Without the mmap_lock: the VMA containing @addr, read-locked, or NULL. */
struct vm_area_struct *lock_vma_under_rcu(struct mm_struct *mm, unsigned long addr);
/* Under the mmap_lock: the attached VMAs in address order; how many. */
int mm_vmas_sorted(struct mm_struct *mm, struct vm_area_struct **out);
/* Without any lock (SPF): the VMA containing @addr, maybe stale. */
struct vm_area_struct *find_vma_speculative(struct mm_struct *mm, unsigned long addr);

/* ---- anon_vma (mm/rmap.c) ---------------------------------------------------------------- */

/* The fault path: give @vma an anon_vma.  0 or -ENOMEM. */
int anon_vma_prepare(struct vm_area_struct *vma);
/* A folio's anon_vma with a reference, or NULL if the folio is unmapped. */
struct anon_vma *folio_get_anon_vma(struct folio *folio);
void put_anon_vma(struct anon_vma *anon_vma);
void anon_vma_lock_read(struct anon_vma *anon_vma);
void anon_vma_unlock_read(struct anon_vma *anon_vma);

/* ---- The operations ------------------------------------------------------------------------ */

enum ft_fault_result {
	FT_FAULT_OK,		/* the access can be retried */
	FT_FAULT_SIGSEGV,	/* no VMA, or it does not permit the access */
	FT_FAULT_OOM,
};

/*
 * A user access to @addr of @mm by the calling thread, as a CPU and the
 * kernel's fault handler do it together: the hardware access (loading or
 * storing *@data), a fault if needed (locked per the world's locking mode),
 * and the access again.  @rs draws the hardware's choices.
 */
enum ft_fault_result ft_user_access(struct mm_struct *mm, unsigned long addr,
				    bool write, unsigned long *data,
				    struct ft_random_state *rs);

/* mmap(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE): 0 or -errno. */
int ft_mmap(struct mm_struct *mm, unsigned long start, unsigned long len,
	    unsigned long vm_flags);
int ft_munmap(struct mm_struct *mm, unsigned long start, unsigned long len);

#define MREMAP_MAYMOVE	1
#define MREMAP_FIXED	2
/*
 * mremap(2) of private anonymous memory: 0 or -errno.  Without
 * MREMAP_FIXED it shrinks or grows in place; with it (and MREMAP_MAYMOVE)
 * it moves [@addr, @addr + @old_len) to @new_addr, @new_len long, across
 * VMAs too when the lengths are equal (v6.17's remap_move()).
 */
int ft_mremap(struct mm_struct *mm, unsigned long addr, unsigned long old_len,
	      unsigned long new_len, unsigned long flags, unsigned long new_addr);
int ft_mprotect(struct mm_struct *mm, unsigned long start, unsigned long len,
		unsigned long vm_flags);
int ft_madvise_dontneed(struct mm_struct *mm, unsigned long start,
			unsigned long len);
/* MADV_FREE: this MM's own anon folios in the range become old and clean. */
int ft_madvise_free(struct mm_struct *mm, unsigned long start, unsigned long len);
/*
 * pin_user_pages_fast() (mm/gup.c) of @mm's pages from @start: GUP-fast,
 * then the slow path for what it left.  @gup_flags: FOLL_WRITE,
 * FOLL_LONGTERM.  How many were pinned (pages[]), or -errno.
 * FT-DEVIATION: the kernel pins current->mm's; here the caller names it
 * and keeps it alive, as current does for its own mm.
 */
long pin_user_pages_fast(struct mm_struct *mm, unsigned long start, int nr_pages,
			 unsigned int gup_flags, struct page **pages);
/* FOLL_PIN|FOLL_WRITE|FOLL_LONGTERM of the page at @addr, the slow path
 * only (made exclusive first): the folio, or NULL. */
struct folio *ft_pin_user_page(struct mm_struct *mm, unsigned long addr);
void ft_unpin_user_page(struct folio *folio);
void unpin_user_page(struct page *page);
/* After writing through pins: each folio marked dirty first if @make_dirty. */
void unpin_user_pages_dirty_lock(struct page **pages, unsigned long npages,
				 bool make_dirty);
/* The folio mapped at @addr in @mm, with a reference, or NULL (takes the PTL). */
struct folio *ft_folio_at(struct mm_struct *mm, unsigned long addr);
/*
 * The folio mapped at @addr in @mm, read as GUP-fast reads it (no PTL, no
 * reference, no interrupt window): a hint, stale at once, for a caller
 * that only compares it.  NULL if nothing is mapped there.
 */
const struct folio *ft_folio_peek(struct mm_struct *mm, unsigned long addr);

/*
 * rmap walkers: the PTL only, as reclaim and migration take it (the folio
 * lock and the anon_vma lock, not the mmap_lock).  Each picks the folio
 * mapped at @addr of @mm (which the caller keeps alive with mmget).
 */
/* Migrate that folio to a new one: 0, or -EAGAIN/-EBUSY/-ENOMEM. */
int ft_migrate_at(struct mm_struct *mm, unsigned long addr, struct ft_random_state *rs);
/* folio_referenced(): clear the young bits of every mapping; how many. */
int ft_clear_young_at(struct mm_struct *mm, unsigned long addr);

/*
 * kswapd's place (mm/vmscan.c): isolate up to @nr folios from the LRU's
 * tail and run shrink_folio_list() on them.  How many were reclaimed.
 */
unsigned long ft_shrink_lru(struct ft_world *w, unsigned long nr);
/*
 * damon_pa_pageout() of one folio: by its pfn, no page table or its lock
 * held, isolate @folio (any folio slot, maybe free) and reclaim it.  1 if
 * it was freed.
 */
unsigned long ft_pageout_folio(struct folio *folio);

#endif /* FT_MM_H */
