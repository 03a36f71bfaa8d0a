// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_audit --corrupt=KIND: negative controls of the stop-the-world audit
 * (include/ft/check.h).  A parent maps an order-4 folio (one CONT block)
 * and four order-0 folios and forks; the audit is clean.  Then one rule is
 * broken behind the model's back, with raw PTE and field writes (some
 * kinds first make legal changes through the model: a fault, mprotect,
 * MADV_DONTNEED), and the audit must report it:
 *
 *   none            nothing broken: the audit stays clean
 *   extra-ref       a reference nobody owns (I1)
 *   lost-pte        a child PTE cleared without its rmap removal (I2, T10)
 *   writable-shared a shared page made writable in the parent (I11)
 *   cont-broken     CONT cleared on one entry of the child's block (T4)
 *   slot-stale      an owner slot counting a mapping that does not exist
 *   rmap-unlinked   the child's VMA unlinked from the anon_vma, as fork
 *                   without the VMA lock can leave it (Z14)
 *   no-anon-vma     the child's VMA loses its anon_vma, as when a write
 *                   fault on the zero page skipped anon_vma_prepare()
 *   legal           nothing broken, after legal changes that some kinds
 *                   below start from: the audit stays clean
 *   writable-no-vm-write
 *                   a writable entry in a read-only VMA
 *   valid-prot-none a valid entry in a PROT_NONE VMA
 *   free-pfn        an entry mapping a pfn that is free
 *   outside-vma     an entry left behind in an unmapped hole
 *   bad-swap-entry  a none entry write-protected (arm64 sets PTE_RDONLY):
 *                   neither present, a migration entry nor a swap entry
 *   exclusive-shared
 *                   page 3 of the large folio, shared with the child,
 *                   marked AnonExclusive (I11)
 *   nr-pages-mapped _nr_pages_mapped one too high (I2)
 *   shared-clear    both slots taken, SHARED cleared (I6; I7 too if the
 *                   model claims no false negatives)
 *   false-negative  the child's slot freed and SHARED cleared, though the
 *                   child maps the folio (I7, "P-c")
 *   not-exact       SHARED set while the parent alone maps the folio and
 *                   its slot counts every mapping (I9, "P-d")
 *   deferred-small  a small folio, mapped, on the deferred-split queue
 *   deferred-freed  a freed folio on the queue
 *   deferred-dangling
 *                   a freed folio still linked, though not on the queue
 *   deferred-len    split_queue_len one too high
 *   swapped         nothing broken, after reclaim swapped everything out
 *                   (swap entries in both mms, slots shared by fork's
 *                   copies): the audit stays clean
 *   swap-count      a swap slot with a count no swap entry accounts for
 *                   (I17)
 *   swap-cache-lost a slot marked SWAP_HAS_CACHE with no cache folio (I17)
 *   deferred-links  the queued folio's link back to the queue's head lost
 *   rmap-val-off    (rmap_id) the child unmaps the folio, then one rmap
 *                   value is off by one: the parent, alone, is told the
 *                   folio is shared (R3)
 *   rmap-val-false-negative
 *                   (rmap_id) both map part of the folio, 12 mappings, and
 *                   the values say the parent has them all (P-c)
 *
 * --model=NAME runs under that mapcount model (owner_slots); the kinds that
 * break a model's own fields are for that model.  --drop-caps=LIST runs on
 * a copy of the model that claims less (no-false-negative, exact-two-mms,
 * exact-nr-pages: FT_MC_NO_FALSE_NEGATIVE, FT_MC_EXACT_TWO_MMS and
 * FT_MC_EXACT_NR_PAGES cleared), to show that the audit holds a model only
 * to what it claims.
 *
 * The corrupted world is not torn down (it would trip the free-path
 * checks); it stays reachable from globals so LeakSanitizer is quiet.
 */
#include "ft/check.h"
#include "ft/contpte.h"
#include "ft/swap.h"
#include "mm_test.h"
#include "rmap_id/subid.h"

#define NR_PFNS		(4UL << MAX_PAGE_ORDER)
#define TASK_SIZE	(16 * PMD_SIZE)
#define VA		(4 * PMD_SIZE)

static struct ft_pmem pmem;
static struct ft_world w;
static struct mm_struct *parent, *child;

static pte_t *ptep_of(struct mm_struct *mm, unsigned long i)
{
	unsigned long addr = VA + i * PAGE_SIZE;

	return &pmdp_get_lockless(pmd_off(mm, addr))->ptes[pte_index(addr)];
}

static struct folio *folio_of(struct mm_struct *mm, unsigned long i)
{
	struct folio *folio = ft_folio_at(mm, VA + i * PAGE_SIZE);

	folio_put(folio);
	return folio;
}

static void set_up(void)
{
	struct ft_random_state rs;
	unsigned long v = 1;

	ft_random_init(&rs, 1, 0, 0, 0);
	parent = mm_alloc(&w, TASK_SIZE);
	if (!parent || ft_mmap(parent, VA, PMD_SIZE, VM_READ | VM_WRITE))
		abort();
	w.anon_orders = BIT(4);
	ft_user_access(parent, VA, true, &v, &rs);
	w.anon_orders = BIT(0);
	for (unsigned long i = 16; i < 20; i++)
		ft_user_access(parent, VA + i * PAGE_SIZE, true, &v, &rs);
	child = ft_fork(parent);
}

static void raw_and_not(pte_t *ptep, u64 bits)
{
	__set_pte(ptep, __pte(pte_val(__ptep_get(ptep)) & ~bits));
}

static void raw_or(pte_t *ptep, u64 bits)
{
	__set_pte(ptep, __pte(pte_val(__ptep_get(ptep)) | bits));
}

static void unlink_child_vma(void)
{
	struct vm_area_struct *vma = find_vma_speculative(child, VA);
	struct anon_vma_chain *avc;

	list_for_each_entry(avc, &vma->anon_vma_chain, same_vma) {
		down_write(&avc->anon_vma->root->rwsem);
		list_del_init(&avc->same_anon_vma);
		up_write(&avc->anon_vma->root->rwsem);
	}
}

static void extra_ref(void)
{
	folio_get(folio_of(parent, 16));
}

static void lost_pte(void)
{
	raw_and_not(ptep_of(child, 17), ~(u64)0);
}

static void writable_shared(void)
{
	raw_or(ptep_of(parent, 18), PTE_WRITE);
}

static void cont_broken(void)
{
	raw_and_not(ptep_of(child, 5), PTE_CONT);
}

static void slot_stale(void)
{
	folio_of(parent, 0)->_mm_id_mapcount[1]++;
}

static void no_anon_vma(void)
{
	find_vma_speculative(child, VA)->anon_vma = NULL;
}

static void nothing(void)
{
}

/* Page @i of the parent, none so far, faulted in: exclusive, writable. */
static void parent_fault(unsigned long i)
{
	struct ft_random_state rs;
	unsigned long v = 2;

	ft_random_init(&rs, 2, 0, 0, 0);
	if (ft_user_access(parent, VA + i * PAGE_SIZE, true, &v, &rs) != FT_FAULT_OK)
		abort();
}

static void parent_mprotect(unsigned long i, unsigned long vm_flags)
{
	if (ft_mprotect(parent, VA + i * PAGE_SIZE, PAGE_SIZE, vm_flags))
		abort();
}

/*
 * Page 15 unmapped in both mms: the order-4 folio is partially mapped and
 * rmap queues it for a deferred split.  Returns it.
 */
static struct folio *queue_partially_mapped(void)
{
	struct folio *folio = folio_of(parent, 0);

	if (ft_madvise_dontneed(child, VA + 15 * PAGE_SIZE, PAGE_SIZE) ||
	    ft_madvise_dontneed(parent, VA + 15 * PAGE_SIZE, PAGE_SIZE) ||
	    !folio_on_deferred_list(folio))
		abort();
	return folio;
}

/* What the other kinds start from, all legal: a read-only page that was
 * writable, a PROT_NONE page (present, not valid) and a queued folio. */
static void legal(void)
{
	parent_fault(20);
	parent_mprotect(20, VM_READ);
	parent_mprotect(19, 0);
	queue_partially_mapped();
}

/* An exclusive page, mapped once: only the VMA forbids the write. */
static void writable_no_vm_write(void)
{
	parent_fault(20);
	parent_mprotect(20, VM_READ);
	raw_or(ptep_of(parent, 20), PTE_WRITE);
}

/* A PROT_NONE entry made valid: read-only, so only the VMA forbids it. */
static void valid_prot_none(void)
{
	parent_mprotect(19, 0);
	raw_and_not(ptep_of(parent, 19), PTE_PRESENT_INVALID);
	raw_or(ptep_of(parent, 19), PTE_VALID);
}

/* A folio of @order, allocated and freed again: its pfns are free. */
static struct folio *freed_folio(unsigned int order)
{
	struct folio *folio = folio_alloc(&pmem, order, NULL);

	if (!folio)
		abort();
	folio_put(folio);
	return folio;
}

/* A read-only entry, in the VMA, of a pfn no folio holds. */
static void free_pfn(void)
{
	__set_pte(ptep_of(parent, 20),
		  pfn_pte(folio_pfn(freed_folio(0)), PAGE_READONLY));
}

/* A hole unmapped, and a copy of a live entry left in it: the folio's
 * counts do not include it, so only the VMA rule sees it. */
static void outside_vma(void)
{
	if (ft_munmap(parent, VA + 21 * PAGE_SIZE, PAGE_SIZE))
		abort();
	__set_pte(ptep_of(parent, 21), __ptep_get(ptep_of(parent, 19)));
}

/* What fork's write-protect of a hole in its batch leaves (batch-over-hole). */
static void bad_swap_entry(void)
{
	__set_pte(ptep_of(parent, 22), pte_wrprotect(__pte(0)));
}

/* A page shared with the child, read-only in both, marked exclusive. */
/* A page inside the large folio: the dump must show that page. */
static void exclusive_shared(void)
{
	SetPageAnonExclusive(folio_page(folio_of(parent, 0), 3));
}

static void nr_pages_mapped(void)
{
	atomic_inc(&folio_of(parent, 0)->_nr_pages_mapped);
}

/* The order-4 folio's slot that @mm holds. */
static int slot_of(struct folio *folio, struct mm_struct *mm)
{
	int idx = folio_mm_id(folio, 0) == mm->mm_id ? 0 : 1;

	if (folio_mm_id(folio, idx) != mm->mm_id)
		abort();
	return idx;
}

/* Both slots taken (parent and child), SHARED cleared (I6). */
static void shared_clear(void)
{
	clear_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio_of(parent, 0)->_mm_ids);
}

/*
 * The child's slot freed, as if it had been untracked all along (a legal
 * state), and SHARED cleared: a false negative with no slot rule broken.
 */
static void false_negative(void)
{
	struct folio *folio = folio_of(parent, 0);
	int idx = slot_of(folio, child);

	folio->_mm_ids &= ~((unsigned long)MM_ID_MASK << (32 * idx));
	folio->_mm_id_mapcount[idx] = -1;
	clear_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio->_mm_ids);
}

/* The child unmaps the folio (SHARED is cleared, the parent's slot counts
 * all 16 mappings), then SHARED is set again: a false positive. */
static void not_exact(void)
{
	if (ft_madvise_dontneed(child, VA, 16 * PAGE_SIZE))
		abort();
	set_bit(FOLIO_MM_IDS_SHARED_BITNUM, &folio_of(parent, 0)->_mm_ids);
}

/* Each value of @folio set to @count times @mm's sub-ID (rmap_id). */
static void rmap_vals_claim(struct folio *folio, struct mm_struct *mm, int count)
{
	struct rmap_id_layout l;
	const char *why;

	if (rmap_id_layout(folio_order(folio), &l, &why))
		abort();
	for (int x = 0; x < l.nr_values; x++)
		folio->_rmap_val[x] = rmap_id_subid(&l, rmap_id_of(mm->mm_id), x) *
				      (u64)count;
}

/* rmap_id: the child unmaps the folio, then a value is off by one: the
 * parent alone maps it 16 times and is told it is shared (R3). */
static void rmap_val_off(void)
{
	if (ft_madvise_dontneed(child, VA, 16 * PAGE_SIZE))
		abort();
	folio_of(parent, 0)->_rmap_val[0]++;
}

/* rmap_id: 12 mappings left, 4 the parent's and 8 the child's, and values
 * that say the parent has all 12: a false negative (P-c). */
static void rmap_val_false_negative(void)
{
	if (ft_madvise_dontneed(parent, VA, 12 * PAGE_SIZE) ||
	    ft_madvise_dontneed(child, VA, 8 * PAGE_SIZE))
		abort();
	rmap_vals_claim(folio_of(parent, 12), parent, 12);
}

/* Onto the deferred-split queue, past deferred_split_folio()'s rules. */
static void raw_queue(struct folio *folio)
{
	struct deferred_split *ds = &pmem.ds;

	spin_lock(&ds->split_queue_lock);
	list_add_tail(&folio->_deferred_list, &ds->split_queue);
	ds->split_queue_len++;
	spin_unlock(&ds->split_queue_lock);
}

/* A small folio, mapped and live, queued. */
static void deferred_small(void)
{
	raw_queue(folio_of(parent, 16));
}

/* A folio freed while queued: the free path did not unqueue it. */
static void deferred_freed(void)
{
	raw_queue(freed_folio(2));
}

/* A freed folio taken off the queue by list_del() without the re-init:
 * its link still names its old neighbours. */
static void deferred_dangling(void)
{
	struct folio *folio = freed_folio(2);

	folio->_deferred_list.next = &pmem.ds.split_queue;
	folio->_deferred_list.prev = &pmem.ds.split_queue;
}

static void deferred_len(void)
{
	queue_partially_mapped();
	pmem.ds.split_queue_len++;
}

/* The queued folio's link back to the queue's head lost. */
static void deferred_links(void)
{
	struct folio *folio = queue_partially_mapped();

	folio->_deferred_list.prev = &folio->_deferred_list;
}

/* Reclaim, three passes: the young bits, the swap cache, the frees. */
static void swapped(void)
{
	for (int pass = 0; pass < 3; pass++)
		ft_shrink_lru(&w, 64);
}

/* A free slot given a count behind the device's back. */
static void swap_count(void)
{
	swapped();
	pmem.si->swap_map[pmem.si->max - 1] = 1;
	pmem.si->inuse_pages++;
}

static void swap_cache_lost(void)
{
	swapped();
	pmem.si->swap_map[pmem.si->max - 1] = SWAP_HAS_CACHE;
	pmem.si->inuse_pages++;
}

static const struct {
	const char *kind;
	void (*corrupt)(void);
} kinds[] = {
	{ "none", nothing },
	{ "extra-ref", extra_ref },
	{ "lost-pte", lost_pte },
	{ "writable-shared", writable_shared },
	{ "cont-broken", cont_broken },
	{ "slot-stale", slot_stale },
	{ "rmap-unlinked", unlink_child_vma },
	{ "no-anon-vma", no_anon_vma },
	{ "legal", legal },
	{ "writable-no-vm-write", writable_no_vm_write },
	{ "valid-prot-none", valid_prot_none },
	{ "free-pfn", free_pfn },
	{ "outside-vma", outside_vma },
	{ "bad-swap-entry", bad_swap_entry },
	{ "exclusive-shared", exclusive_shared },
	{ "nr-pages-mapped", nr_pages_mapped },
	{ "shared-clear", shared_clear },
	{ "false-negative", false_negative },
	{ "not-exact", not_exact },
	{ "deferred-small", deferred_small },
	{ "deferred-freed", deferred_freed },
	{ "deferred-dangling", deferred_dangling },
	{ "deferred-len", deferred_len },
	{ "deferred-links", deferred_links },
	{ "swapped", swapped },
	{ "swap-count", swap_count },
	{ "swap-cache-lost", swap_cache_lost },
	{ "rmap-val-off", rmap_val_off },
	{ "rmap-val-false-negative", rmap_val_false_negative },
};

static const struct {
	const char *name;
	unsigned int cap;
} caps[] = {
	{ "no-false-negative", FT_MC_NO_FALSE_NEGATIVE },
	{ "exact-two-mms", FT_MC_EXACT_TWO_MMS },
	{ "exact-nr-pages", FT_MC_EXACT_NR_PAGES },
};

/* Model @name, less the caps named in @list; NULL for an unknown name. */
static const struct ft_mapcount_ops *model_without(const char *model_name,
						   const char *list)
{
	const struct ft_mapcount_ops *mc = ft_mapcount_model_find(model_name);
	static struct ft_mapcount_ops model;
	char buf[128], *save = NULL;

	if (!mc) {
		fprintf(stderr, "--model: unknown model '%s'\n", model_name);
		return NULL;
	}
	model = *mc;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *name = strtok_r(buf, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		size_t i = 0;

		while (i < ARRAY_SIZE(caps) && strcmp(name, caps[i].name))
			i++;
		if (i == ARRAY_SIZE(caps)) {
			fprintf(stderr, "--drop-caps: unknown cap '%s'\n", name);
			return NULL;
		}
		model.caps &= ~caps[i].cap;
	}
	return &model;
}

/* Break one rule; false for an unknown @kind. */
static bool corrupt(const char *kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (!strcmp(kind, kinds[i].kind)) {
			kinds[i].corrupt();
			return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	const char *kind = ft_test_arg(argc, argv, "--corrupt", "none");
	const struct ft_mapcount_ops *mc;
	struct ft_ktap k = { 0 };
	struct ft_audit_stats st;
	int clean, bad;

	mc = model_without(ft_test_arg(argc, argv, "--model", "owner_slots"),
			   ft_test_arg(argc, argv, "--drop-caps", ""));
	if (!mc)
		return FT_EXIT_USAGE;
	if (ft_pmem_init(&pmem, NR_PFNS, mc, false) ||
	    ft_world_init(&w, &pmem, ft_locking_mode_find("upstream"))) {
		fprintf(stderr, "test_audit: out of memory setting up the world\n");
		return FT_EXIT_INVARIANT;
	}
	set_up();
	clean = ft_audit(&w, (struct mm_struct *[]){ parent, child }, 2, &st);
	if (!corrupt(kind)) {
		fprintf(stderr, "--corrupt: unknown kind '%s'\n", kind);
		return FT_EXIT_USAGE;
	}
	ft_ktap_start(2);
	ft_ktap_result(&k, !clean && st.ptes == 40 && st.folios == 5 && st.cont_blocks == 2,
		       "before: %llu PTEs, %llu folios, %llu CONT blocks, %d problems",
		       (unsigned long long)st.ptes, (unsigned long long)st.folios,
		       (unsigned long long)st.cont_blocks, clean);
	bad = ft_audit(&w, (struct mm_struct *[]){ parent, child }, 2, NULL);
	ft_ktap_result(&k, !bad, "after corrupt=%s: %d problems", kind, bad);
	return ft_ktap_finish(&k);
}
