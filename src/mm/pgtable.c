// SPDX-License-Identifier: GPL-2.0-only
/*
 * Page tables: PTE-table allocation under mm->page_table_lock, the split
 * PTL, pte_offset_map_lock(), the raw PTE accessors (arm64's __ptep_*), and
 * the hardware walker.  Upstream: arch/arm64/include/asm/pgtable.h,
 * mm/pgtable-generic.c (__pte_offset_map_lock()).
 *
 * Lock order: mm->page_table_lock and the PTLs never nest with each other
 * here; fork takes the child's PTL, then the parent's nested
 * (SINGLE_DEPTH_NESTING), both of the PTL class.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ft/contpte.h"
#include "ft/report.h"
#include "ft/sched.h"
#include "ft/zoo.h"

/* ---- Tables ------------------------------------------------------------------ */

/* Page tables, as from the per-CPU page lists.  Aligned to the entries'
 * size: ptdesc_of() rounds a PTE pointer down. */
static struct kmem_cache ptdesc_cache =
	KMEM_CACHE_INIT("ptdesc", struct ptdesc, PTRS_PER_PTE * sizeof(pte_t));

/* One init site: every PTL is of one lockdep class, as in the kernel. */
static void ptlock_init(struct ptdesc *ptdesc)
{
	spin_lock_init(&ptdesc->ptl);
}

/* pagetable_dtor()'s part: the PTL's memory goes to another table next. */
static void ptlock_free(struct ptdesc *ptdesc)
{
	spin_lock_destroy(&ptdesc->ptl);
}

static void pte_free(struct ptdesc *ptdesc)
{
	if (!ptdesc)
		return;
	ptlock_free(ptdesc);
	kmem_cache_free(&ptdesc_cache, ptdesc);
}

static struct ptdesc *pte_alloc_one(void)
{
	struct ptdesc *ptdesc = kmem_cache_alloc(&ptdesc_cache);

	if (!ptdesc)
		return NULL;
	memset(ptdesc, 0, sizeof(*ptdesc));
	ptlock_init(ptdesc);
	return ptdesc;
}

static u64 tlb_gen_base;	/* mms ever made */

int mm_pgtables_init(struct mm_struct *mm, struct ft_pmem *pmem,
		     unsigned long task_size)
{
	if (!task_size || task_size % PMD_SIZE)
		return -EINVAL;
	mm->pgd = calloc(task_size >> PMD_SHIFT, sizeof(*mm->pgd));
	if (!mm->pgd)
		return -ENOMEM;
	mm->pmem = pmem;
	mm->task_size = task_size;
	mm->tlb_asid = __atomic_add_fetch(&tlb_gen_base, 1, __ATOMIC_RELAXED);
	mm->tlb_gen = (u64)mm->tlb_asid << 32;
	if (mm->world && mm->world->tlb) {
		mm->tlb_done = calloc(task_size >> PAGE_SHIFT, sizeof(*mm->tlb_done));
		if (!mm->tlb_done) {
			free(mm->pgd);
			mm->pgd = NULL;
			return -ENOMEM;
		}
	}
	spin_lock_init(&mm->page_table_lock);
	return 0;
}

void free_pgtables(struct mm_struct *mm)
{
	for (unsigned long i = 0; i < mm->task_size >> PMD_SHIFT; i++) {
		pte_free(mm->pgd[i].table);
		mm->pgd[i].table = NULL;
	}
	free(mm->pgd);
	mm->pgd = NULL;
	free(mm->tlb_done);
	mm->tlb_done = NULL;
}

/* pmd_install(): publish a new table unless someone else did meanwhile. */
int __pte_alloc(struct mm_struct *mm, pmd_t *pmd, unsigned long addr)
{
	struct ptdesc *new = pte_alloc_one();

	if (!new)
		return -ENOMEM;
	spin_lock(&mm->page_table_lock);
	if (!pmdp_get_lockless(pmd)) {
		new->mm = mm;
		new->addr = addr & PMD_MASK;
		/* Pairs with the acquire in pmdp_get_lockless(). */
		__atomic_store_n(&pmd->table, new, __ATOMIC_RELEASE);
		new = NULL;
	}
	spin_unlock(&mm->page_table_lock);
	pte_free(new);
	return 0;
}

pte_t *__pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd, unsigned long addr,
			     spinlock_t **ptlp, const struct lock_site *site)
{
	struct ptdesc *table;

again:
	table = pmdp_get_lockless(pmd);
	if (!table)
		return NULL;
	*ptlp = &table->ptl;
	_spin_lock(*ptlp, 0, site);
	/* The table may have been replaced or freed while we waited. */
	if (unlikely(pmdp_get_lockless(pmd) != table)) {
		spin_unlock(*ptlp);
		goto again;
	}
	(void)mm;
	return &table->ptes[pte_index(addr)];
}

pte_t *pte_offset_map_nolock(struct mm_struct *mm, pmd_t *pmd,
			     unsigned long addr, spinlock_t **ptlp)
{
	struct ptdesc *table = pmdp_get_lockless(pmd);

	(void)mm;
	if (!table)
		return NULL;
	*ptlp = &table->ptl;
	return &table->ptes[pte_index(addr)];
}

/* ---- Raw accessors ------------------------------------------------------------ */

static bool pte_try_cmpxchg(pte_t *ptep, pte_t *old, pte_t new)
{
	return __atomic_compare_exchange_n(&ptep->pte, &old->pte, pte_val(new),
					   false, __ATOMIC_ACQ_REL,
					   __ATOMIC_RELAXED);
}

/*
 * Bug zoo Z10: the read-modify-write of a live PTE done as a plain load and
 * store.  A hardware a/d update between the two is lost.
 */
static bool rmw_not_atomic(pte_t *ptep, pte_t old, pte_t new)
{
	if (!ft_injected(FT_INJ_PTE_RMW_NOT_ATOMIC))
		return false;
	/* Between the load and the store. */
	ft_irq_window_exposed(FT_WIN_PTE_RMW, ptdesc_of(ptep)->mm, ptep_addr(ptep),
			      PAGE_SIZE, NULL, pte_may_get_hw_dirty(old));
	__set_pte(ptep, new);
	return true;
}

void pte_note_clear(pte_t *ptep, pte_t old)
{
	struct ptdesc *table = ptdesc_of(ptep);
	struct pte_clear_note *n = &table->cleared[ptep - table->ptes];
	struct ft_actor a = ft_current_actor();

	__atomic_store_n(&n->actor.worker, a.worker, __ATOMIC_RELAXED);
	__atomic_store_n(&n->actor.op_index, a.op_index, __ATOMIC_RELAXED);
	__atomic_store_n(&n->actor.op, a.op, __ATOMIC_RELAXED);
	__atomic_store_n(&n->site, lockdep_held_site(&table->ptl), __ATOMIC_RELAXED);
	__atomic_store_n(&n->old.pte, pte_val(old), __ATOMIC_RELAXED);
}

void pte_print_last_clear(FILE *out, struct mm_struct *mm, unsigned long addr)
{
	struct ptdesc *table = pmdp_get_lockless(pmd_off(mm, addr));
	struct pte_clear_note *n;
	struct ft_actor a;
	const struct lock_site *site;
	pte_t old;

	if (!table) {
		fprintf(out, "no page table there\n");
		return;
	}
	n = &table->cleared[pte_index(addr)];
	a = (struct ft_actor){
		.worker = __atomic_load_n(&n->actor.worker, __ATOMIC_RELAXED),
		.op_index = __atomic_load_n(&n->actor.op_index, __ATOMIC_RELAXED),
		.op = __atomic_load_n(&n->actor.op, __ATOMIC_RELAXED),
	};
	site = __atomic_load_n(&n->site, __ATOMIC_RELAXED);
	old = __pte(__atomic_load_n(&n->old.pte, __ATOMIC_RELAXED));

	if (!pte_val(old)) {
		fprintf(out, "the entry was never cleared\n");
		return;
	}
	fprintf(out, "last cleared by ");
	ft_actor_print(out, &a);
	if (site)
		fprintf(out, ", its PTL taken at %s:%d %s()", site->file, site->line,
			site->func);
	fprintf(out, "; it held ");
	pte_describe(out, old);
	fprintf(out, "\n");
}

void __clear_full_ptes(pte_t *ptep, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		__ptep_get_and_clear(ptep + i);
}

pte_t __get_and_clear_full_ptes(pte_t *ptep, unsigned int nr)
{
	pte_t pte = __ptep_get_and_clear(ptep);

	for (unsigned int i = 1; i < nr; i++) {
		pte_t tmp = __ptep_get_and_clear(ptep + i);

		if (pte_dirty(tmp))
			pte = pte_mkdirty(pte);
		if (pte_young(tmp))
			pte = pte_mkyoung(pte);
	}
	return pte;
}

static void __ptep_set_wrprotect(pte_t *ptep)
{
	pte_t old = __ptep_get(ptep);

	if (rmw_not_atomic(ptep, old, pte_wrprotect(old)))
		return;
	while (!pte_try_cmpxchg(ptep, &old, pte_wrprotect(old)))
		;
}

void __wrprotect_ptes(pte_t *ptep, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		__ptep_set_wrprotect(ptep + i);
}

void __clear_young_dirty_pte(pte_t *ptep)
{
	pte_t old = __ptep_get(ptep);

	if (rmw_not_atomic(ptep, old, pte_mkclean(pte_mkold(old))))
		return;
	while (!pte_try_cmpxchg(ptep, &old, pte_mkclean(pte_mkold(old))))
		;
}

bool __ptep_test_and_clear_young(pte_t *ptep)
{
	pte_t old = __ptep_get(ptep);

	if (rmw_not_atomic(ptep, old, pte_mkold(old)))
		return pte_young(old);
	while (!pte_try_cmpxchg(ptep, &old, pte_mkold(old)))
		;
	return pte_young(old);
}

/*
 * The a/d and write bits of @entry applied to @old, as arm64's
 * __ptep_set_access_flags() does it: RDONLY is "not hardware dirty", so it
 * is flipped, ORed and flipped back.
 */
pte_t pte_apply_access_flags(pte_t old, pte_t entry)
{
	u64 bits = pte_val(entry) & (PTE_RDONLY | PTE_AF | PTE_WRITE | PTE_DIRTY);
	u64 v = pte_val(old);

	bits ^= PTE_RDONLY;
	v ^= PTE_RDONLY;
	v |= bits;
	v ^= PTE_RDONLY;
	return __pte(v);
}

int __ptep_set_access_flags(pte_t *ptep, pte_t entry)
{
	pte_t old = __ptep_get(ptep);

	if (pte_same(old, entry))
		return 0;
	if (rmw_not_atomic(ptep, old, pte_apply_access_flags(old, entry)))
		return 1;
	/* A CAS: the hardware may be updating a/d at the same time. */
	while (!pte_try_cmpxchg(ptep, &old, pte_apply_access_flags(old, entry)))
		;
	return 1;
}

/* ---- The hardware: CPUs, their accesses, and TLB shootdown --------------------- */

/*
 * Each thread that accesses user memory is a CPU.  While an access is in
 * progress its CPU records the mm (active_mm); the end of an access bumps
 * gen.  A TLB flush of an mm waits until every access to it that it could
 * have raced with has ended: after the flush, no access uses a translation
 * that was cleared before it.  Accesses take no lock, so a flush, even one
 * made under the PTL, always completes.  Process-wide, like the hardware.
 */
#define FT_MAX_CPUS	1024

/*
 * A TLB entry: a translation kept after its access, used by later accesses
 * of the same CPU until a flush of its page (or of its mm).  Only a write walk fills a
 * writable entry (the walk set hardware dirty), so a write through a clean
 * entry walks again, as DBM hardware updates the descriptor.
 */
struct ft_tlb_entry {
	const struct mm_struct *mm;
	unsigned long vpn, pfn;
	u64 tlb_gen, va_gen;		/* mm's and the page's, at the fill */
	u64 fill_ns;			/* after the walk (the gens before it) */
	bool write;
};

#define FT_TLB_ENTRIES	256

/* Each CPU on lines of its own: every access writes gen, active_mm and
 * last_stale, and a neighbour's stores there would cost each access a
 * miss (false sharing, as DEFINE_PER_CPU_ALIGNED avoids). */
struct ft_cpu {
	int in_use;
	struct mm_struct *active_mm;
	u64 gen;
	bool last_stale;		/* ft_hw_stale_translation() */
	bool last_wrprotected;		/* a write cached over a write-protect */
	struct ft_tlb_entry tlb[FT_TLB_ENTRIES];	/* this CPU's only */
} ____cacheline_aligned;

static struct ft_cpu cpus[FT_MAX_CPUS];
static int nr_cpus;			/* highest slot ever used + 1 */
static _Thread_local struct ft_cpu *this_cpu;
static pthread_key_t cpu_key;
static pthread_once_t cpu_key_once = PTHREAD_ONCE_INIT;

static void cpu_exit(void *arg)
{
	struct ft_cpu *cpu = arg;

	__atomic_store_n(&cpu->in_use, 0, __ATOMIC_RELEASE);
}

static void make_cpu_key(void)
{
	pthread_key_create(&cpu_key, cpu_exit);
}

/*
 * A maximum, not a store: two threads that take slots at once must not
 * lower it, or no flush would ever wait for the higher one's accesses.
 */
static void raise_nr_cpus(int n)
{
	int old = __atomic_load_n(&nr_cpus, __ATOMIC_RELAXED);

	while (old < n && !__atomic_compare_exchange_n(&nr_cpus, &old, n, false,
						       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		;
}

static struct ft_cpu *get_cpu(void)
{
	if (likely(this_cpu))
		return this_cpu;
	pthread_once(&cpu_key_once, make_cpu_key);
	for (int i = 0; i < FT_MAX_CPUS; i++) {
		int free_slot = 0;

		if (!__atomic_compare_exchange_n(&cpus[i].in_use, &free_slot, 1, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		raise_nr_cpus(i + 1);
		pthread_setspecific(cpu_key, &cpus[i]);
		this_cpu = &cpus[i];
		return this_cpu;
	}
	/* More threads than the hardware table holds: a harness bug. */
	fprintf(stderr, "BUG: more than %d threads access user memory\n", FT_MAX_CPUS);
	ft_die(FT_EXIT_USAGE);
}

static void access_begin(struct ft_cpu *cpu, struct mm_struct *mm)
{
	__atomic_store_n(&cpu->active_mm, mm, __ATOMIC_SEQ_CST);
	smp_mb();	/* Pairs with smp_mb() in flush_tlb_range(): the walk
			 * below sees the clear, or the flush sees us. */
}

static void access_end(struct ft_cpu *cpu)
{
	__atomic_add_fetch(&cpu->gen, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&cpu->active_mm, NULL, __ATOMIC_RELEASE);
}

/*
 * local_irq_save()/local_irq_restore() around IPI GUP-fast: to the flush
 * below, a CPU walking @mm's tables with interrupts off is one in the
 * middle of an access of @mm, whose IPI it acknowledges only at the end.
 */
void ft_cpu_irq_save(struct mm_struct *mm)
{
	access_begin(get_cpu(), mm);
}

void ft_cpu_irq_restore(void)
{
	access_end(this_cpu);
}

/* A flush waits for each CPU inside an access of @mm to finish it. */
struct cpu_wait {
	struct ft_cpu *cpu;
	struct mm_struct *mm;
	u64 gen;
};

static bool cpu_left_access(const void *arg)
{
	const struct cpu_wait *w = arg;

	return __atomic_load_n(&w->cpu->active_mm, __ATOMIC_ACQUIRE) != w->mm ||
	       __atomic_load_n(&w->cpu->gen, __ATOMIC_ACQUIRE) != w->gen;
}

void flush_tlb_range(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	unsigned long vpn = start >> PAGE_SHIFT, end_vpn = PAGE_ALIGN(end) >> PAGE_SHIFT;
	int n = __atomic_load_n(&nr_cpus, __ATOMIC_ACQUIRE);

	count_vm_event(mm->pmem, VM_TLB_FLUSH);
	/* The range's cached translations are stale from now on. */
	if (end_vpn - vpn >= FT_TLB_VA_GENS)
		__atomic_fetch_add(&mm->tlb_gen, 1, __ATOMIC_SEQ_CST);
	else
		for (; vpn < end_vpn; vpn++)
			__atomic_fetch_add(&mm->tlb_va_gen[vpn % FT_TLB_VA_GENS], 1,
					   __ATOMIC_SEQ_CST);
	smp_mb();	/* The PTE changes before the flush, then the scan. */
	for (int i = 0; i < n; i++) {
		struct ft_cpu *cpu = &cpus[i];
		struct cpu_wait w = { .cpu = cpu, .mm = mm };

		if (cpu == this_cpu ||
		    __atomic_load_n(&cpu->active_mm, __ATOMIC_ACQUIRE) != mm)
			continue;
		w.gen = __atomic_load_n(&cpu->gen, __ATOMIC_ACQUIRE);
		ft_wait_until(cpu_left_access, &w, "a CPU's TLB flush acknowledgement",
			      FT_TIME_TLB);
	}
}

/* The walk and the a/d update of one access; @pfn: the page accessed. */
static enum ft_hw_result hw_translate(struct mm_struct *mm, unsigned long addr,
				      bool write, struct ft_random_state *rs,
				      unsigned long *pfn)
{
	struct ptdesc *table;
	pte_t *ptep;

	if (addr >= mm->task_size)
		return FT_HW_FAULT_NONE;
	table = pmdp_get_lockless(pmd_off(mm, addr));
	if (!table)
		return FT_HW_FAULT_NONE;
	ptep = &table->ptes[pte_index(addr)];
	for (;;) {
		pte_t pte = __ptep_get(ptep), tlb = pte, new;
		pte_t *entryp = ptep;
		unsigned long out;

		if (!pte_valid(pte))
			return FT_HW_FAULT_NONE;
		out = pte_pfn(pte);
		if (pte_cont(pte) && rs) {
			/* The TLB entry for the block may come from any entry. */
			unsigned int j = (unsigned int)ft_random_below(rs, CONT_PTES);

			entryp = contpte_align_down(ptep) + j;
			tlb = __ptep_get(entryp);
			if (!pte_valid(tlb))
				return FT_HW_FAULT_NONE;
			/* Two reads are one walk only if the first entry did not
			 * change meanwhile: a zap clears a whole block in place
			 * and a fault may refill entry j before its flush, and
			 * the two together name a page neither maps. */
			if (!pte_same(__ptep_get(ptep), pte))
				continue;
			out = pte_pfn(tlb) - j + contpte_index(ptep);
		}
		if (write && !pte_write(tlb))
			return FT_HW_FAULT_PERM;
		new = pte_mkyoung(tlb);
		if (write)	/* DBM: the hardware clears RDONLY */
			new = clear_pte_bit(new, PTE_RDONLY);
		ft_sched_point(FT_SP_PTE);	/* the walk done, the update next */
		if (pte_same(new, tlb) || pte_try_cmpxchg(entryp, &tlb, new)) {
			*pfn = out;
			return FT_HW_OK;
		}
	}
}

enum ft_hw_result ft_hw_access(struct mm_struct *mm, unsigned long addr,
			       bool write, struct ft_random_state *rs,
			       unsigned long *pfn)
{
	struct ft_cpu *cpu = get_cpu();
	enum ft_hw_result ret;

	access_begin(cpu, mm);
	ret = hw_translate(mm, addr, write, rs, pfn);
	access_end(cpu);
	return ret;
}

/*
 * Direct-mapped, indexed by page and address space (mm->tlb_asid): a
 * thread that alternates between parent and child does not evict one's
 * entry of a page with the other's, as ASID-tagged entries live side by
 * side on the hardware.
 */
static struct ft_tlb_entry *tlb_entry(struct ft_cpu *cpu, const struct mm_struct *mm,
				      unsigned long addr)
{
	unsigned long asid = mm->tlb_asid;

	return &cpu->tlb[((addr >> PAGE_SHIFT) + asid * 61) % FT_TLB_ENTRIES];
}

/* The entry that maps @addr now (none if there is no table). */
static pte_t pte_now(struct mm_struct *mm, unsigned long addr)
{
	struct ptdesc *table = pmdp_get_lockless(pmd_off(mm, addr));

	return table ? __ptep_get(&table->ptes[pte_index(addr)]) : __pte(0);
}

static const char *const tlb_done_names[] = {
	[FT_TLB_UNMAPPED] = "munmap or MADV_DONTNEED",
	[FT_TLB_WRPROTECTED] = "MADV_FREE, mprotect or fork",
};

static void report_missed_flush(struct ft_cpu *cpu, struct mm_struct *mm,
				const struct ft_tlb_entry *e, bool write,
				enum ft_tlb_done_kind kind, u64 since_ns)
{
	unsigned long addr = e->vpn << PAGE_SHIFT;

	if (!ft_report_begin("tlb"))
		return;
	ft_report_msg("BUG: CPU %d %s %#lx of mm id %u through a %stranslation to pfn "
		"%#lx cached %llu ns before a %s of the page began, and that call has "
		"returned: a TLB flush was missed\n", (int)(cpu - cpus),
		write ? "wrote" : "read", addr, mm->mm_id, e->write ? "writable " : "",
		e->pfn, (unsigned long long)(since_ns - e->fill_ns), tlb_done_names[kind]);
	fprintf(stderr, "pte at %#lx now: ", addr);
	pte_describe(stderr, pte_now(mm, addr));
	fprintf(stderr, "\n");
	ft_report_end();
}

/* The TLB oracle (include/ft/pgtable.h) on a hit of @e. */
static void tlb_check_done(struct ft_cpu *cpu, struct mm_struct *mm,
			   const struct ft_tlb_entry *e, bool write)
{
	const struct ft_tlb_done *d = &mm->tlb_done[e->vpn];
	u64 unmapped = __atomic_load_n(&d->since_ns[FT_TLB_UNMAPPED], __ATOMIC_RELAXED);
	u64 wrprotected = max(__atomic_load_n(&d->since_ns[FT_TLB_WRPROTECTED],
					      __ATOMIC_RELAXED),
			      __atomic_load_n(&mm->tlb_wrprotect_all_ns, __ATOMIC_RELAXED));

	/* Relaxed is enough: a call flushes before it records, and its
	 * flush waits until this access has ended. */
	if (e->fill_ns < unmapped)
		report_missed_flush(cpu, mm, e, write, FT_TLB_UNMAPPED, unmapped);
	else if (write && e->fill_ns < wrprotected)
		report_missed_flush(cpu, mm, e, write, FT_TLB_WRPROTECTED, wrprotected);
}

/* A translation of @addr cached since @mm's last flush, or a walk. */
static enum ft_hw_result tlb_translate(struct ft_cpu *cpu, struct mm_struct *mm,
				       unsigned long addr, bool write,
				       struct ft_random_state *rs, unsigned long *pfn)
{
	struct ft_tlb_entry *e = tlb_entry(cpu, mm, addr);
	unsigned long vpn = addr >> PAGE_SHIFT;
	enum ft_hw_result ret;
	u64 gen, va_gen, fill_ns;
	pte_t pte;

	if (!mm->world->tlb)
		return hw_translate(mm, addr, write, rs, pfn);
	/* Before the walk: a flush after these reads makes the fill stale. */
	gen = __atomic_load_n(&mm->tlb_gen, __ATOMIC_SEQ_CST);
	va_gen = __atomic_load_n(&mm->tlb_va_gen[vpn % FT_TLB_VA_GENS], __ATOMIC_SEQ_CST);
	if (e->mm == mm && e->vpn == vpn && e->tlb_gen == gen && e->va_gen == va_gen &&
	    (e->write || !write)) {
		if (mm->tlb_done)
			tlb_check_done(cpu, mm, e, write);
		/* A contpte conversion's moment of none counts as stale too:
		 * the shadow then accepts a little more, never less. */
		pte = pte_now(mm, addr);
		cpu->last_stale = !pte_present(pte) || pte_pfn(pte) != e->pfn;
		cpu->last_wrprotected = write && !cpu->last_stale && !pte_write(pte);
		*pfn = e->pfn;
		return FT_HW_OK;
	}
	ret = hw_translate(mm, addr, write, rs, pfn);
	if (ret != FT_HW_OK)
		return ret;
	/*
	 * The fill's time, after the walk (the TLB oracle's argument): a
	 * call that begins later finds the entry the walk found, or a change
	 * to it whose flush is still due, and flushes after the gens above
	 * were read, so this entry is dead for it.  Read before the walk,
	 * the time would blame a call that began while this CPU was delayed
	 * and found the entry none, for an entry mapped after it.
	 */
	fill_ns = mm->tlb_done ? ft_now_ns() : 0;
	*e = (struct ft_tlb_entry){ mm, vpn, *pfn, gen, va_gen, fill_ns, write };
	return ret;
}

static void atomic_max_u64(u64 *p, u64 v)
{
	u64 old = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_RELAXED,
						       __ATOMIC_RELAXED))
		;
}

void ft_tlb_done(struct mm_struct *mm, unsigned long start, unsigned long end,
		 enum ft_tlb_done_kind kind, u64 since_ns)
{
	unsigned long vpn = start >> PAGE_SHIFT;
	unsigned long end_vpn = PAGE_ALIGN(min(end, mm->task_size)) >> PAGE_SHIFT;

	if (!mm->tlb_done)
		return;
	if (kind == FT_TLB_WRPROTECTED && !start && end >= mm->task_size) {
		atomic_max_u64(&mm->tlb_wrprotect_all_ns, since_ns);
		return;
	}
	for (; vpn < end_vpn; vpn++)
		atomic_max_u64(&mm->tlb_done[vpn].since_ns[kind], since_ns);
}

bool ft_hw_stale_translation(void)
{
	return this_cpu && this_cpu->last_stale;
}

enum ft_hw_result ft_hw_access_data(struct mm_struct *mm, unsigned long addr,
				    bool write, struct ft_random_state *rs,
				    unsigned long *data)
{
	struct ft_cpu *cpu = get_cpu();
	enum ft_hw_result ret;
	unsigned long pfn;

	access_begin(cpu, mm);
	cpu->last_stale = false;
	cpu->last_wrprotected = false;
	ret = tlb_translate(cpu, mm, addr, write, rs, &pfn);
	if (ret == FT_HW_OK) {
		struct page *page = pfn_to_page(mm->pmem, pfn);
		unsigned long w = (addr & (PAGE_SIZE - 1)) / sizeof(long) % FT_PAGE_WORDS;

		/*
		 * In flight, the translation holds until a flush waits us out.
		 * A store that a write-protect has not flushed yet (fork's,
		 * mprotect's) lingers: a COW fault that the write-protecting
		 * call's locks fail to exclude copies the page meanwhile, and
		 * the store lands in the old page (Z14).
		 */
		if (cpu->last_wrprotected)
			ft_irq_window_linger(FT_WIN_STALE_STORE, mm, addr & PAGE_MASK,
					     PAGE_SIZE, NULL, true);
		else
			ft_irq_window(FT_WIN_HW_ACCESS, mm, addr & PAGE_MASK, PAGE_SIZE, NULL);
		if (write)
			WRITE_ONCE(page->data[w], *data);
		else
			*data = READ_ONCE(page->data[w]);
	}
	access_end(cpu);
	return ret;
}
