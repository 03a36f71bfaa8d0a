// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_contpte_conc --case=lockless|hw-wrprotect|hw-convert|hw-refill
 *                   [--rounds=N] [--inject=NAME]
 *
 * lockless: a PTL holder keeps repainting one block: folio X clean and old,
 *   faulted in entry by entry (the last one folds), unfolded and refolded,
 *   then flipped between X and folio Y, dirty and young, with whole-block
 *   clears and set_ptes().  Reader threads call ptep_get_lockless() on random entries the
 *   whole time: a value must be none, X's page clean and old, or Y's page
 *   dirty and young.  Anything else (X with dirt from Y) is a torn view.
 *   --inject=lockless-read-no-retry (Z19) must be caught.
 *
 * hw-wrprotect, hw-convert (T6 in doc/invariants.md, no lost dirty): "CPU"
 *   threads write with ft_hw_access() (hardware dirty by CAS) while the
 *   holder, per epoch, makes the range writable and clean, clears young
 *   bits (hw-wrprotect) or unfolds and refolds the block (hw-convert),
 *   write-protects it and waits for the CPUs' accesses in flight: every
 *   write that succeeded in the epoch must have left its dirty bit.
 *   --inject=pte-rmw-not-atomic (Z10) and convert-drops-ad (Z18) must be
 *   caught.
 *
 * hw-refill: the holder maps folio X as a folded block, clears the block
 *   in place as a zap of all of it does, maps one entry alone to a page of
 *   folio Y, clears it and flushes, over and over.  "CPU" threads read
 *   through random entries of the block, the walk taking the block's
 *   translation from any entry: every read must come back with X's page
 *   of that entry, or Y's page through the entry that maps it, or fault.
 *   A walk that mixed X's entry with Y's would compute a pfn neither maps.
 */
#include <pthread.h>
#include <sched.h>

#include "ft/contpte.h"
#include "ft/zoo.h"
#include "mm_test.h"

#define NR_PFNS		(4UL << MAX_PAGE_ORDER)
#define BLOCK_VA	(2 * PMD_SIZE)
#define NR_READERS	2

static struct ft_pmem pmem;
static struct mm_id_space ids;
static struct test_mm t;
static struct folio *x, *y;
static pte_t *block;
static spinlock_t *ptl;
static int stop;
static u64 rounds;
static u64 n_bad, n_reads, n_writes;		/* atomics */
static unsigned long epoch;			/* atomic */
static int inflight;				/* atomic */

static pgprot_t clean_old_rw(void)
{
	return pte_pgprot(pte_mkold(pte_mkclean(pfn_pte(0, PAGE_SHARED))));
}

/* ---- lockless ------------------------------------------------------------------- */

static void paint_x(void)
{
	for (unsigned int i = 0; i < CONT_PTES; i++) {
		spin_lock(ptl);
		set_pte_at(&t.mm, BLOCK_VA + i * PAGE_SIZE, block + i,
			   pfn_pte(folio_pfn(x) + i, clean_old_rw()));
		spin_unlock(ptl);
	}
	spin_lock(ptl);
	/* Unfold with a single set over entry 0, refold through entry 15. */
	set_pte_at(&t.mm, BLOCK_VA, block, __ptep_get(block));
	set_pte_at(&t.mm, BLOCK_VA + 15 * PAGE_SIZE, block + 15, __ptep_get(block + 15));
	spin_unlock(ptl);
}

/* Then whole-block flips between X and Y, the transitions torn views need. */
static void paint_y(void)
{
	pte_t pte = pte_mkyoung(pte_mkdirty(pfn_pte(folio_pfn(y), PAGE_SHARED)));

	spin_lock(ptl);
	for (int i = 0; i < 8; i++) {
		clear_full_ptes(&t.mm, BLOCK_VA, block, CONT_PTES, 0);
		set_ptes(&t.mm, BLOCK_VA, block, pfn_pte(folio_pfn(x), clean_old_rw()),
			 CONT_PTES);
		clear_full_ptes(&t.mm, BLOCK_VA, block, CONT_PTES, 0);
		set_ptes(&t.mm, BLOCK_VA, block, pte, CONT_PTES);
	}
	spin_unlock(ptl);
	sched_yield();
	spin_lock(ptl);
	clear_full_ptes(&t.mm, BLOCK_VA, block, CONT_PTES, 0);
	spin_unlock(ptl);
}

static void stop_readers(pthread_t *th)
{
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < NR_READERS; i++)
		pthread_join(th[i], NULL);
}

static void *reader_fn(void *arg)
{
	struct ft_random_state rs;

	ft_random_init(&rs, 9, (u64)(long)arg, 0, 0);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned int i = (unsigned int)ft_random_below(&rs, CONT_PTES);
		pte_t r = ptep_get_lockless(block + i);
		bool ok = pte_none(r) ||
			  (pte_pfn(r) == folio_pfn(x) + i && !pte_dirty(r) && !pte_young(r)) ||
			  (pte_pfn(r) == folio_pfn(y) + i && pte_dirty(r) && pte_young(r));

		if (!ok && __atomic_add_fetch(&n_bad, 1, __ATOMIC_RELAXED) <= 3) {
			printf("# torn view of entry %u: ", i);
			pte_describe(stdout, r);
			printf("\n");
		}
		__atomic_add_fetch(&n_reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void run_lockless(struct ft_ktap *k)
{
	pthread_t r[NR_READERS];

	for (long i = 0; i < NR_READERS; i++)
		pthread_create(&r[i], NULL, reader_fn, (void *)i);
	/* Fail fast: the negative controls give a large budget and stop at
	 * the first torn view. */
	for (u64 n = 0; n < rounds && !__atomic_load_n(&n_bad, __ATOMIC_RELAXED); n++) {
		paint_x();
		paint_y();
	}
	stop_readers(r);
	ft_ktap_result(k, !n_bad && n_reads, "%llu lockless reads during up to %llu "
		       "repaints: %llu torn", (unsigned long long)n_reads,
		       (unsigned long long)rounds, (unsigned long long)n_bad);
}

/* ---- hw-ad ---------------------------------------------------------------------- */

/*
 * hw-wrprotect uses an unfolded range (one entry off block alignment) so a
 * write dirties exactly the entry it targets and the check is per entry;
 * hw-convert uses a folded block, where a write may land on any entry, and
 * checks the block.
 */
static bool folded;
static unsigned long base_va;
static unsigned long dirty_tag[CONT_PTES];	/* atomics: epoch of a write */

/* cpu_relax()es over which hw-convert spreads its write (measured: the
 * unfold and refold take about that long on the 2-core machine). */
#define CONVERT_SPREAD	64

static unsigned long go;	/* atomic: hw-convert's epoch window is open */
static unsigned long ack;	/* atomic: the CPU is about to write in it */

/* One write; true if it succeeded (and is tagged with epoch @e). */
static bool cpu_write(struct ft_random_state *rs, unsigned long e)
{
	unsigned int i = (unsigned int)ft_random_below(rs, CONT_PTES);
	unsigned long pfn;

	if (ft_hw_access(&t.mm, base_va + i * PAGE_SIZE, true, rs, &pfn) != FT_HW_OK)
		return false;
	__atomic_store_n(&dirty_tag[folded ? 0 : i], e, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&n_writes, 1, __ATOMIC_RELAXED);
	return true;
}

static void *cpu_fn(void *arg)
{
	struct ft_random_state rs;
	unsigned long seen = 0;

	ft_random_init(&rs, 11, (u64)(long)arg, 0, 0);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned long e;

		/* In flight before reading the epoch: the holder waits for us. */
		__atomic_add_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
		if (folded) {
			/*
			 * hw-convert: one write per epoch, as soon as the block
			 * turns writable, so it lands among the converts and a
			 * lost dirty bit cannot hide behind another write.
			 */
			e = __atomic_load_n(&go, __ATOMIC_SEQ_CST);
			if (e != seen) {
				seen = e;
				__atomic_store_n(&ack, e, __ATOMIC_SEQ_CST);
				/* Spread the write over the converts' duration. */
				for (u64 d = ft_random_below(&rs, CONVERT_SPREAD); d; d--)
					cpu_relax();
				cpu_write(&rs, e);
			}
		} else {
			e = __atomic_load_n(&epoch, __ATOMIC_SEQ_CST);
			__atomic_store_n(&ack, e, __ATOMIC_SEQ_CST);
			cpu_write(&rs, e);
		}
		__atomic_sub_fetch(&inflight, 1, __ATOMIC_SEQ_CST);
		for (u64 d = ft_random_below(&rs, 64); d && !folded; d--)
			cpu_relax();
	}
	return NULL;
}

/*
 * Wait (bounded) until a CPU thread works in epoch @e: under load it may
 * not be running at all, and an epoch without writes checks nothing.
 */
static void wait_for_cpu(unsigned long e)
{
	u64 deadline = ft_now_ns() + 10 * NSEC_PER_MSEC;

	while (__atomic_load_n(&ack, __ATOMIC_SEQ_CST) != e && ft_now_ns() < deadline)
		sched_yield();
}

static void lost_dirty(unsigned long e, unsigned int i)
{
	if (__atomic_add_fetch(&n_bad, 1, __ATOMIC_RELAXED) <= 3)
		printf("# epoch %lu: a write to entry %u succeeded, it is clean\n", e, i);
}

/*
 * One epoch, all under the PTL: make the range writable and clean, then at
 * once (the CPUs write from that moment on) unfold and refold it or clear
 * its young bits, write-protect it, wait for the CPUs' accesses in flight,
 * and check that every successful write left its dirty bit.
 */
static void hw_epoch(unsigned long e)
{
	pte_t *ptep = block + (folded ? 0 : 1), old;

	spin_lock(ptl);
	__atomic_store_n(&epoch, e, __ATOMIC_SEQ_CST);
	if (!folded)
		wait_for_cpu(e);
	old = modify_prot_start_ptes(&t.vma, base_va, ptep, CONT_PTES);
	modify_prot_commit_ptes(&t.vma, base_va, ptep, old,
				pte_mkclean(pte_modify(old, PAGE_SHARED)), CONT_PTES);
	if (folded) {
		/* Open the window; the CPU's write races with the converts. */
		__atomic_store_n(&go, e, __ATOMIC_SEQ_CST);
		wait_for_cpu(e);
		/*
		 * Unfold and refold the way the kernel does it (migration,
		 * COW): take the entry away, then set it; a set over a live
		 * entry would overwrite a/d the hardware set meanwhile.
		 */
		old = ptep_get_and_clear(&t.mm, base_va, ptep);		/* unfolds */
		set_pte_at(&t.mm, base_va, ptep, old);
		old = ptep_get_and_clear(&t.mm, base_va + 15 * PAGE_SIZE, ptep + 15);
		set_pte_at(&t.mm, base_va + 15 * PAGE_SIZE, ptep + 15, old); /* refolds */
	} else {
		for (unsigned int i = 0; i < CONT_PTES; i++)
			ptep_test_and_clear_young(&t.vma, base_va + i * PAGE_SIZE,
						  ptep + i);
	}
	wrprotect_ptes(&t.mm, base_va, ptep, CONT_PTES);
	while (__atomic_load_n(&inflight, __ATOMIC_SEQ_CST))
		sched_yield();
	for (unsigned int i = 0; i < (folded ? 1 : CONT_PTES); i++) {
		pte_t now = folded ? ptep_get(ptep) : __ptep_get(ptep + i);

		if (__atomic_load_n(&dirty_tag[i], __ATOMIC_SEQ_CST) == e &&
		    !pte_dirty(now))
			lost_dirty(e, i);
	}
	spin_unlock(ptl);
}

static void run_hw_ad(struct ft_ktap *k, bool fold_it)
{
	int nr_cpus = fold_it ? 1 : 2;
	pthread_t c[2];

	folded = fold_it;
	base_va = BLOCK_VA + (folded ? 0 : PAGE_SIZE);
	/* Read-only until the first epoch opens it: a write before the epoch's
	 * "make clean" would be cleaned legitimately. */
	spin_lock(ptl);
	set_ptes(&t.mm, base_va, block + (folded ? 0 : 1),
		 pfn_pte(folio_pfn(x), PAGE_READONLY), CONT_PTES);
	spin_unlock(ptl);
	for (long i = 0; i < nr_cpus; i++)
		pthread_create(&c[i], NULL, cpu_fn, (void *)i);
	for (u64 e = 1; e <= rounds && !__atomic_load_n(&n_bad, __ATOMIC_RELAXED); e++)
		hw_epoch(e);
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < nr_cpus; i++)
		pthread_join(c[i], NULL);
	ft_ktap_result(k, !n_bad && n_writes, "%s: up to %llu epochs, %llu hardware "
		       "writes: %llu lost dirty", folded ? "convert" : "wrprotect",
		       (unsigned long long)rounds, (unsigned long long)n_writes,
		       (unsigned long long)n_bad);
	spin_lock(ptl);
	clear_full_ptes(&t.mm, base_va, block + (folded ? 0 : 1), CONT_PTES, 0);
	spin_unlock(ptl);
}

/* ---- hw-refill ------------------------------------------------------------------ */

#define REFILL_ENTRY	3

static void *refill_cpu_fn(void *arg)
{
	struct ft_random_state rs;

	ft_random_init(&rs, 11, (u64)(long)arg, 0, 0);
	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		unsigned int i = (unsigned int)ft_random_below(&rs, CONT_PTES);
		unsigned long pfn = 0;
		enum ft_hw_result r = ft_hw_access(&t.mm, BLOCK_VA + i * PAGE_SIZE, false,
						   &rs, &pfn);
		bool ok = r != FT_HW_OK || pfn == folio_pfn(x) + i ||
			  (i == REFILL_ENTRY && pfn == folio_pfn(y));

		if (!ok && __atomic_add_fetch(&n_bad, 1, __ATOMIC_RELAXED) <= 3)
			printf("# entry %u read pfn %#lx: X's is %#lx, Y's %#lx\n", i, pfn,
			       folio_pfn(x) + i, folio_pfn(y));
		__atomic_add_fetch(&n_reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void run_hw_refill(struct ft_ktap *k)
{
	pte_t *one = block + REFILL_ENTRY;
	pthread_t c[NR_READERS];

	/* With the holder, more threads than cores: a walk preempted between
	 * its two reads is the one that sees the block change under it. */
	for (long i = 0; i < NR_READERS; i++)
		pthread_create(&c[i], NULL, refill_cpu_fn, (void *)i);
	for (u64 n = 0; n < rounds && !__atomic_load_n(&n_bad, __ATOMIC_RELAXED); n++) {
		spin_lock(ptl);
		set_ptes(&t.mm, BLOCK_VA, block, pfn_pte(folio_pfn(x), PAGE_READONLY),
			 CONT_PTES);
		clear_full_ptes(&t.mm, BLOCK_VA, block, CONT_PTES, 0);
		set_pte_at(&t.mm, BLOCK_VA + REFILL_ENTRY * PAGE_SIZE, one,
			   pfn_pte(folio_pfn(y), PAGE_READONLY));
		ptep_get_and_clear(&t.mm, BLOCK_VA + REFILL_ENTRY * PAGE_SIZE, one);
		spin_unlock(ptl);
		flush_tlb_range(&t.mm, BLOCK_VA, BLOCK_VA + CONT_PTE_SIZE);
	}
	stop_readers(c);
	ft_ktap_result(k, !n_bad && n_reads, "%llu walks during up to %llu refills: %llu "
		       "through a block mixed from two mappings", (unsigned long long)n_reads,
		       (unsigned long long)rounds, (unsigned long long)n_bad);
}

int main(int argc, char **argv)
{
	const char *name = ft_test_arg(argc, argv, "--case", "lockless");
	const char *inject = ft_test_arg(argc, argv, "--inject", NULL);
	struct ft_ktap k = { 0 };
	pmd_t *pmd;

	rounds = ft_test_arg_u64(argc, argv, "--rounds", 20000);
	if ((inject && ft_inject_enable(inject)) ||
	    ft_pmem_init(&pmem, NR_PFNS, ft_mapcount_model_find("owner_slots"), false) ||
	    mm_id_space_init(&ids, MM_ID_MAX) || test_mm_init(&t, &ids) ||
	    mm_pgtables_init(&t.mm, &pmem, 8 * PMD_SIZE))
		return FT_EXIT_USAGE;
	x = folio_alloc(&pmem, 4, NULL);
	y = folio_alloc(&pmem, 4, NULL);
	pmd = pmd_off(&t.mm, BLOCK_VA);
	__pte_alloc(&t.mm, pmd, BLOCK_VA);
	block = pte_offset_map_nolock(&t.mm, pmd, BLOCK_VA, &ptl);
	ft_ktap_start(2);
	if (!strcmp(name, "lockless"))
		run_lockless(&k);
	else if (!strcmp(name, "hw-wrprotect"))
		run_hw_ad(&k, false);
	else if (!strcmp(name, "hw-convert"))
		run_hw_ad(&k, true);
	else if (!strcmp(name, "hw-refill"))
		run_hw_refill(&k);
	else
		return FT_EXIT_USAGE;
	ft_ktap_result(&k, ft_report_failures() == 0, "no oracle fired (%llu)",
		       (unsigned long long)ft_report_failures());
	folio_put(x);
	folio_put(y);
	free_pgtables(&t.mm);
	mm_id_space_destroy(&ids);
	ft_pmem_destroy(&pmem);
	return ft_ktap_finish(&k);
}
