/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Page tables: arm64 PTE semantics, PTE tables with split PTLs, the
 * raw (double-underscore) PTE accessors, and the hardware that walks them.
 * Upstream: arm64's PTE bits and helpers (arch/arm64/include/asm/pgtable.h,
 * pgtable-hwdef.h), the split PTL and pte_offset_map_lock()
 * (include/linux/mm.h, mm/pgtable-generic.c).  The contpte layer on top is
 * include/ft/contpte.h.
 *
 * Every access to a live PTE is atomic: reads are READ_ONCE, writes
 * release stores (so the page's content is visible before the mapping),
 * and every read-modify-write an xchg or a CAS, because the hardware
 * (ft_hw_access(), any thread) sets AF and hardware dirty without a lock.
 */
#ifndef FT_PGTABLE_H
#define FT_PGTABLE_H

#include "ft/folio.h"
#include "ft/mm.h"
#include "ft/sched.h"

/* ---- The PTE word (arch/arm64/include/asm/pgtable-hwdef.h positions) ---- */

typedef struct {
	u64 pte;
} pte_t;

#define PTE_VALID		BIT(0)
#define PTE_USER		BIT(6)		/* AP[1] */
#define PTE_RDONLY		BIT(7)		/* AP[2]: hardware read-only */
#define PTE_AF			BIT(10)		/* access flag: young */
#define PTE_NG			BIT(11)
#define PTE_ADDR_SHIFT		PAGE_SHIFT
#define PTE_ADDR_MASK		(((1UL << 36) - 1) << PTE_ADDR_SHIFT)
#define PTE_WRITE		BIT(51)		/* DBM: writable, hardware dirty */
#define PTE_CONT		BIT(52)
#define PTE_UXN			BIT(54)
/* Software bits. */
#define PTE_DIRTY		BIT(55)
#define PTE_SPECIAL		BIT(56)
#define PTE_SOFT_DIRTY		BIT(57)		/* FT-DEVIATION: a free sw bit */
#define PTE_UFFD_WP		BIT(58)
#define PTE_PRESENT_INVALID	BIT(59)		/* PROT_NONE: present, not valid */

/* New user PTEs are young (arm64's _PROT_DEFAULT has PTE_AF). */
#define PROT_USER_DEFAULT	(PTE_VALID | PTE_USER | PTE_NG | PTE_AF)
#define PAGE_NONE		((pgprot_t){ PTE_PRESENT_INVALID | PTE_USER | PTE_NG | PTE_RDONLY | PTE_UXN })
#define PAGE_READONLY		((pgprot_t){ PROT_USER_DEFAULT | PTE_RDONLY | PTE_UXN })
/* Writable and clean: hardware clears RDONLY on the first write (DBM). */
#define PAGE_SHARED		((pgprot_t){ PROT_USER_DEFAULT | PTE_RDONLY | PTE_WRITE | PTE_UXN })

static inline u64 pte_val(pte_t pte)
{
	return pte.pte;
}

static inline pte_t __pte(u64 val)
{
	return (pte_t){ val };
}

static inline u64 pgprot_val(pgprot_t prot)
{
	return prot.pgprot;
}

static inline bool pte_same(pte_t a, pte_t b)
{
	return pte_val(a) == pte_val(b);
}

static inline bool pte_none(pte_t pte)
{
	return !pte_val(pte);
}

static inline bool pte_valid(pte_t pte)
{
	return pte_val(pte) & PTE_VALID;
}

static inline bool pte_present(pte_t pte)
{
	return pte_val(pte) & (PTE_VALID | PTE_PRESENT_INVALID);
}

static inline unsigned long pte_pfn(pte_t pte)
{
	return (pte_val(pte) & PTE_ADDR_MASK) >> PTE_ADDR_SHIFT;
}

static inline pgprot_t pte_pgprot(pte_t pte)
{
	return (pgprot_t){ pte_val(pte) & ~PTE_ADDR_MASK };
}

static inline pte_t pfn_pte(unsigned long pfn, pgprot_t prot)
{
	return __pte(((u64)pfn << PTE_ADDR_SHIFT) | pgprot_val(prot));
}

static inline pte_t pte_advance_pfn(pte_t pte, unsigned long nr)
{
	return pfn_pte(pte_pfn(pte) + nr, pte_pgprot(pte));
}

#define PTE_TEST(name, bit)						\
static inline bool pte_##name(pte_t pte) { return pte_val(pte) & (bit); }
PTE_TEST(write, PTE_WRITE)
PTE_TEST(rdonly, PTE_RDONLY)
PTE_TEST(young, PTE_AF)
PTE_TEST(cont, PTE_CONT)
PTE_TEST(special, PTE_SPECIAL)
PTE_TEST(soft_dirty, PTE_SOFT_DIRTY)
PTE_TEST(uffd_wp, PTE_UFFD_WP)
PTE_TEST(sw_dirty, PTE_DIRTY)
#undef PTE_TEST

/* Hardware dirty: writable (DBM) and the hardware cleared RDONLY. */
static inline bool pte_hw_dirty(pte_t pte)
{
	return pte_write(pte) && !pte_rdonly(pte);
}

static inline bool pte_dirty(pte_t pte)
{
	return pte_sw_dirty(pte) || pte_hw_dirty(pte);
}

/*
 * A hardware write through @pte would set its dirty bit: what a
 * non-atomic update of the entry, or of its contpte block, can lose.
 */
static inline bool pte_may_get_hw_dirty(pte_t pte)
{
	return pte_write(pte) && !pte_dirty(pte);
}

static inline bool pte_valid_cont(pte_t pte)
{
	return pte_valid(pte) && pte_cont(pte);
}

static inline pte_t set_pte_bit(pte_t pte, u64 bits)
{
	return __pte(pte_val(pte) | bits);
}

static inline pte_t clear_pte_bit(pte_t pte, u64 bits)
{
	return __pte(pte_val(pte) & ~bits);
}

/* arm64: writable; if already software-dirty, hardware-dirty too. */
static inline pte_t pte_mkwrite_novma(pte_t pte)
{
	pte = set_pte_bit(pte, PTE_WRITE);
	if (pte_sw_dirty(pte))
		pte = clear_pte_bit(pte, PTE_RDONLY);
	return pte;
}

/* arm64: carry hardware dirty into software dirty first (Z9's lesson). */
static inline pte_t pte_wrprotect(pte_t pte)
{
	if (pte_hw_dirty(pte))
		pte = set_pte_bit(pte, PTE_DIRTY);
	pte = clear_pte_bit(pte, PTE_WRITE);
	return set_pte_bit(pte, PTE_RDONLY);
}

static inline pte_t pte_mkclean(pte_t pte)
{
	pte = clear_pte_bit(pte, PTE_DIRTY);
	return set_pte_bit(pte, PTE_RDONLY);
}

static inline pte_t pte_mkdirty(pte_t pte)
{
	pte = set_pte_bit(pte, PTE_DIRTY);
	if (pte_write(pte))
		pte = clear_pte_bit(pte, PTE_RDONLY);
	return pte;
}

#define PTE_MK(name, op, bit)						\
static inline pte_t pte_##name(pte_t pte) { return op(pte, bit); }
PTE_MK(mkold, clear_pte_bit, PTE_AF)
PTE_MK(mkyoung, set_pte_bit, PTE_AF)
PTE_MK(mkcont, set_pte_bit, PTE_CONT)
PTE_MK(mknoncont, clear_pte_bit, PTE_CONT)
PTE_MK(mkspecial, set_pte_bit, PTE_SPECIAL)
PTE_MK(mksoft_dirty, set_pte_bit, PTE_SOFT_DIRTY)
PTE_MK(clear_soft_dirty, clear_pte_bit, PTE_SOFT_DIRTY)
PTE_MK(mkuffd_wp, set_pte_bit, PTE_UFFD_WP)
PTE_MK(clear_uffd_wp, clear_pte_bit, PTE_UFFD_WP)
#undef PTE_MK

/*
 * pte_modify(): new permissions, the state bits kept.  Hardware dirty
 * becomes software dirty first, so clearing WRITE cannot lose it.
 */
static inline pte_t pte_modify(pte_t pte, pgprot_t newprot)
{
	const u64 mask = PTE_USER | PTE_UXN | PTE_RDONLY | PTE_PRESENT_INVALID |
			 PTE_VALID | PTE_WRITE;

	if (pte_hw_dirty(pte))
		pte = set_pte_bit(pte, PTE_DIRTY);
	pte = __pte((pte_val(pte) & ~mask) | (pgprot_val(newprot) & mask));
	/* Writable and software-dirty is hardware-dirty on arm64. */
	if (pte_sw_dirty(pte))
		pte = pte_mkdirty(pte);
	return pte;
}

/* ---- Non-present entries: migration (include/linux/swapops.h) ------------ */

/*
 * Neither VALID nor PRESENT_INVALID: the type in bits 2-6, the pfn (or the
 * swap offset) where a present entry has it.  Migration entries keep the soft-dirty and uffd-wp bits of the entry they
 * replaced, and whether it was dirty (the kernel's SWP_MIG_DIRTY_BIT), so
 * remove_migration_pte() gives the dirty state back.
 */
#define SWP_TYPE_SHIFT		2
#define SWP_TYPE_MASK		(0x1fUL << SWP_TYPE_SHIFT)
#define SWP_MIG_DIRTY		PTE_DIRTY	/* FT-DEVIATION: not an offset bit */

enum swp_type {
	SWP_MIGRATION_READ = 1,
	SWP_MIGRATION_READ_EXCLUSIVE,
	SWP_MIGRATION_WRITE,
	SWP_SWAPFILE,		/* FT-DEVIATION: the one swap device's type */
};

/*
 * pte_swp_exclusive(): the page was AnonExclusive when it was swapped out
 * (include/linux/swapops.h).  FT-DEVIATION: arm64 keeps it in bit 2,
 * which the model's type field uses; a free software bit instead.
 */
#define PTE_SWP_EXCLUSIVE	BIT(60)

static inline bool is_swap_pte(pte_t pte)
{
	return !pte_none(pte) && !pte_present(pte);
}

static inline enum swp_type pte_swp_type(pte_t pte)
{
	return (enum swp_type)((pte_val(pte) & SWP_TYPE_MASK) >> SWP_TYPE_SHIFT);
}

static inline bool is_migration_entry(pte_t pte)
{
	enum swp_type type = pte_swp_type(pte);

	return is_swap_pte(pte) && type >= SWP_MIGRATION_READ &&
	       type <= SWP_MIGRATION_WRITE;
}

static inline bool is_writable_migration_entry(pte_t pte)
{
	return is_migration_entry(pte) && pte_swp_type(pte) == SWP_MIGRATION_WRITE;
}

static inline bool is_readable_exclusive_migration_entry(pte_t pte)
{
	return is_migration_entry(pte) &&
	       pte_swp_type(pte) == SWP_MIGRATION_READ_EXCLUSIVE;
}

/* @from: the present entry it replaces, or the migration entry it converts. */
static inline pte_t make_migration_pte(unsigned long pfn, enum swp_type type,
				       pte_t from)
{
	bool dirty = pte_present(from) ? pte_dirty(from) :
		     (pte_val(from) & SWP_MIG_DIRTY) != 0;

	return __pte(((u64)pfn << PTE_ADDR_SHIFT) |
		     ((u64)type << SWP_TYPE_SHIFT) | (dirty ? SWP_MIG_DIRTY : 0) |
		     (pte_val(from) & (PTE_SOFT_DIRTY | PTE_UFFD_WP)));
}

/* A swap entry: its slot (the swap offset) where a present entry has the pfn. */
static inline bool is_swapfile_entry(pte_t pte)
{
	return is_swap_pte(pte) && pte_swp_type(pte) == SWP_SWAPFILE;
}

static inline unsigned long pte_swp_offset(pte_t pte)
{
	return pte_pfn(pte);
}

/* swp_entry_to_pte(), with @from's soft-dirty and uffd-wp kept. */
static inline pte_t make_swap_pte(unsigned long offset, bool exclusive, pte_t from)
{
	return __pte(((u64)offset << PTE_ADDR_SHIFT) |
		     ((u64)SWP_SWAPFILE << SWP_TYPE_SHIFT) |
		     (exclusive ? PTE_SWP_EXCLUSIVE : 0) |
		     (pte_val(from) & (PTE_SOFT_DIRTY | PTE_UFFD_WP)));
}

static inline bool pte_swp_exclusive(pte_t pte)
{
	return pte_val(pte) & PTE_SWP_EXCLUSIVE;
}

static inline pte_t pte_swp_clear_exclusive(pte_t pte)
{
	return __pte(pte_val(pte) & ~PTE_SWP_EXCLUSIVE);
}

static inline bool is_migration_entry_dirty(pte_t pte)
{
	return pte_val(pte) & SWP_MIG_DIRTY;
}

/* ---- Tables ------------------------------------------------------------------ */

#define PTRS_PER_PTE		512
#define PMD_SHIFT		(PAGE_SHIFT + 9)
#define PMD_SIZE		(1UL << PMD_SHIFT)
#define PMD_MASK		(~(PMD_SIZE - 1))

/*
 * The last time an entry was cleared (taken away with a value in it): which
 * operation did it, under the PTL taken where, and what it held.  Kept for
 * reports, which read it racily; written under the PTL, a few stores and
 * a look at the thread's held locks per clear.
 */
struct pte_clear_note {
	struct ft_actor actor;
	const struct lock_site *site;	/* NULL: the validator is off */
	pte_t old;
};

/*
 * A PTE table page.  The entries come first and the descriptor is aligned
 * to their size, so a PTE pointer finds its table (and PTL) by rounding
 * down, as virt_to_ptdesc() does.
 */
struct ptdesc {
	pte_t ptes[PTRS_PER_PTE];
	spinlock_t ptl;			/* split PTL: protects ptes[] */
	struct mm_struct *mm;
	unsigned long addr;		/* the first address it maps */
	struct pte_clear_note cleared[PTRS_PER_PTE];
};

static inline unsigned long pte_index(unsigned long addr)
{
	return (addr >> PAGE_SHIFT) & (PTRS_PER_PTE - 1);
}

static inline unsigned long pmd_addr_end(unsigned long addr, unsigned long end)
{
	unsigned long boundary = (addr + PMD_SIZE) & PMD_MASK;

	return boundary - 1 < end - 1 ? boundary : end;
}

static inline struct ptdesc *ptdesc_of(pte_t *ptep)
{
	return (struct ptdesc *)((unsigned long)ptep &
				 ~(sizeof(((struct ptdesc *)0)->ptes) - 1));
}

/* The address an entry maps (for window reports: tables never move). */
static inline unsigned long ptep_addr(pte_t *ptep)
{
	struct ptdesc *table = ptdesc_of(ptep);

	return table->addr + (unsigned long)(ptep - table->ptes) * PAGE_SIZE;
}

static inline spinlock_t *pte_lockptr(pte_t *ptep)
{
	return &ptdesc_of(ptep)->ptl;
}

/* The upper-level entry for @addr (the pgd/p4d/pud/pmd walk, flattened). */
static inline pmd_t *pmd_off(struct mm_struct *mm, unsigned long addr)
{
	return &mm->pgd[addr >> PMD_SHIFT];
}

static inline struct ptdesc *pmdp_get_lockless(pmd_t *pmdp)
{
	/* Pairs with the release in pmd_populate(). */
	return __atomic_load_n(&pmdp->table, __ATOMIC_ACQUIRE);
}

/*
 * Set up @mm's page tables for addresses below @task_size (a multiple of
 * PMD_SIZE): 0, -EINVAL or -ENOMEM.  free_pgtables() frees every table;
 * the caller guarantees nobody walks them any more (exit_mmap).
 */
int mm_pgtables_init(struct mm_struct *mm, struct ft_pmem *pmem,
		     unsigned long task_size);
void free_pgtables(struct mm_struct *mm);

/* __pte_alloc(): make sure @pmd has a table.  0 or -ENOMEM. */
int __pte_alloc(struct mm_struct *mm, pmd_t *pmd, unsigned long addr);

/*
 * pte_offset_map_lock(): the PTE for @addr with its PTL held, or NULL if no
 * table is there.  Re-checks the pmd after taking the lock, as
 * mm/pgtable-generic.c's __pte_offset_map_lock() does.  FT-DEVIATION: a
 * macro, so lockdep records the caller's site.
 */
pte_t *__pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
			     spinlock_t **ptlp, const struct lock_site *site);
#define pte_offset_map_lock(mm, pmd, addr, ptlp)			\
	__pte_offset_map_lock((mm), (pmd), (addr), (ptlp), LOCK_SITE())
/* The table without its lock (fork's source side takes it nested). */
pte_t *pte_offset_map_nolock(struct mm_struct *mm, pmd_t *pmd,
			     unsigned long addr, spinlock_t **ptlp);

static inline void pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
	(void)pte;
	spin_unlock(ptl);
}

/* The PTL of @ptep's table must be held (every contpte entry point). */
#define assert_ptl_held(ptep)	lockdep_assert_held(pte_lockptr(ptep))

/* ---- The raw accessors (arm64 __ptep_*) ------------------------------------- */

static inline pte_t __ptep_get(pte_t *ptep)
{
	return __pte(__atomic_load_n(&ptep->pte, __ATOMIC_RELAXED));
}

static inline void __set_pte(pte_t *ptep, pte_t pte)
{
	/* Release: the page's content before the translation (the barrier
	 * of do_anonymous_page's __folio_mark_uptodate). */
	__atomic_store_n(&ptep->pte, pte_val(pte), __ATOMIC_RELEASE);
}

static inline void __set_ptes(pte_t *ptep, pte_t pte, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		__set_pte(ptep + i, pte_advance_pfn(pte, i));
}

void pte_note_clear(pte_t *ptep, pte_t old);
/* Who last cleared @mm's entry for @addr, for a report: a line to @out. */
void pte_print_last_clear(FILE *out, struct mm_struct *mm, unsigned long addr);

static inline pte_t __ptep_get_and_clear(pte_t *ptep)
{
	pte_t old = __pte(__atomic_exchange_n(&ptep->pte, 0UL, __ATOMIC_ACQ_REL));

	if (pte_val(old))
		pte_note_clear(ptep, old);
	return old;
}

void __clear_full_ptes(pte_t *ptep, unsigned int nr);
/* Clear @nr entries; the first one's value with every a/d ORed in. */
pte_t __get_and_clear_full_ptes(pte_t *ptep, unsigned int nr);
void __wrprotect_ptes(pte_t *ptep, unsigned int nr);
bool __ptep_test_and_clear_young(pte_t *ptep);
/* MADV_FREE's: old and clean (write-protected for the hardware's DBM). */
void __clear_young_dirty_pte(pte_t *ptep);
int __ptep_set_access_flags(pte_t *ptep, pte_t entry);
/* What __ptep_set_access_flags() would make of @old: the no-op test. */
pte_t pte_apply_access_flags(pte_t old, pte_t entry);

/* ---- The hardware (an MMU walking the tables of any thread) ---------------- */

enum ft_hw_result {
	FT_HW_OK,
	FT_HW_FAULT_NONE,	/* no table, or the entry is not valid */
	FT_HW_FAULT_PERM,	/* a write to a read-only entry */
};

/*
 * One user access by a CPU: walk @mm's tables locklessly, set AF (and
 * hardware dirty for a write through a DBM-writable entry) with a CAS, as
 * arm64 hardware does, and return the pfn accessed in @pfn.  For a CONT
 * entry the TLB may use any entry of the block (Arm ARM D8.7.1), so the
 * translation, the permission check and the a/d update use an entry drawn
 * from @rs: a misprogrammed block shows.
 */
enum ft_hw_result ft_hw_access(struct mm_struct *mm, unsigned long addr,
			       bool write, struct ft_random_state *rs,
			       unsigned long *pfn);

/*
 * A user load or store of one of the page's content words (*@data; the
 * word at @addr's offset in the page).  With world->tlb (--tlb) through the
 * CPU's TLB: a translation cached since @mm's last flush is used as it is,
 * whatever the PTE says now; otherwise the walk above, whose result is
 * cached.  The translation
 * and the data access are one unit that a TLB flush of @mm waits for, as a
 * TLB shootdown waits for the other CPUs.  So a page whose last reference
 * is dropped only after the flush can never be written through a stale
 * translation; one dropped before it can (bug zoo Z1, Z11), and a PTE
 * write-protected without a flush stays writable for a CPU that cached it
 * (fork until its flush_tlb_mm(), Z14).
 */
enum ft_hw_result ft_hw_access_data(struct mm_struct *mm, unsigned long addr,
				    bool write, struct ft_random_state *rs,
				    unsigned long *data);

/*
 * Make every cached translation of @mm in [@start, @end) stale, then wait
 * until every access to @mm that started before has finished (counted as
 * VM_TLB_FLUSH).  As arm64's __flush_tlb_range(): by page, or the whole mm
 * from FT_TLB_VA_GENS pages up.  FT-DEVIATION: a page's generation is
 * shared by the pages congruent to it modulo FT_TLB_VA_GENS, so a range
 * flush also makes those stale (a TLB may always lose an entry); and the
 * wait is for every access to @mm, in the range or not.
 */
void flush_tlb_range(struct mm_struct *mm, unsigned long start, unsigned long end);
/*
 * Interrupts off on the calling CPU while it walks @mm's tables without a
 * lock (IPI GUP-fast): a flush_tlb_range() of @mm waits until
 * ft_cpu_irq_restore(), as an IPI waits for a CPU with interrupts off.
 */
void ft_cpu_irq_save(struct mm_struct *mm);
void ft_cpu_irq_restore(void);

static inline void flush_tlb_mm(struct mm_struct *mm)
{
	flush_tlb_range(mm, 0, mm->task_size);
}

/*
 * Did the calling CPU's last ft_hw_access_data() that worked use a cached
 * translation whose page the PTE no longer maps (--tlb only)?  Its store
 * went to a page that a zap in flight is taking away (or a migration is
 * about to copy); its load saw that page.
 */
bool ft_hw_stale_translation(void);

/*
 * The TLB oracle (T11 in doc/invariants.md: when munmap or MADV_DONTNEED
 * returns, no CPU holds a translation of the range; when MADV_FREE,
 * mprotect or fork returns, no CPU holds a writable one).  Each such call
 * flushes what it changed, and one that finds an entry already changed by
 * a call still in flight flushes everything (tlb_finish_mmu()'s
 * mm_tlb_flush_nested()).  So a translation cached before such a call
 * began and used after it returned is a missed flush, reported (oracle
 * "tlb") when a CPU uses it.  With --tlb only: without it no translation
 * outlives its access.
 */
enum ft_tlb_done_kind {
	FT_TLB_UNMAPPED,	/* every translation of the range */
	FT_TLB_WRPROTECTED,	/* the writable ones */
};

struct ft_tlb_done {
	u64 since_ns[2];	/* by ft_tlb_done_kind; atomic */
};

/* When a call that ends with ft_tlb_done() begins: 0 without --tlb. */
static inline u64 ft_tlb_call_begin(struct mm_struct *mm)
{
	return mm->tlb_done ? ft_now_ns() : 0;
}

/* The call that began at @since_ns (ft_tlb_call_begin()) has done its
 * flushes for [@start, @end) of @mm and returns. */
void ft_tlb_done(struct mm_struct *mm, unsigned long start, unsigned long end,
		 enum ft_tlb_done_kind kind, u64 since_ns);

#endif /* FT_PGTABLE_H */
