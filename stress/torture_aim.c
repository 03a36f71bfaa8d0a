// SPDX-License-Identifier: GPL-2.0-only
/*
 * Aimed interference (--aim=P): with probability P a worker takes its next
 * operation's target from a window another worker has open (a dropped
 * lock, an interrupt point inside a critical sequence: include/ft/sched.h)
 * and the operation from what races with that window.  Random targets
 * land in the right 64K block of the right process about once in 500
 * tries; an aimed one is there while the window is.
 *
 * Every draw comes from the operation's seeded stream, so a serial run
 * replays exactly; which windows are open is part of the schedule.
 */
#include <errno.h>

#include "ft/contpte.h"
#include "ft/mm.h"
#include "torture.h"

#define TT_AIM_PAIRS	8

/* An operation that races with a window, and its weight. */
struct tt_aim_pair {
	enum tt_op op;
	u8 weight;
	/* A fault is the racing part, and only speculative faults may run
	 * while the window's owner holds the mmap_lock (fork): spf only. */
	bool spf_only;
};

/*
 * What races with each window, and why it is a real race in the kernel.
 * Pairs the kernel's locking excludes are left out: fork holds the
 * mmap_lock for write, so madvise, mprotect and (outside spf) faults wait
 * for it to finish; only lockless partners (hardware access, GUP-fast,
 * the rmap walkers of migration, young clearing and reclaim) and the
 * mms that share its folios meet fork inside its copy.
 */
static const struct tt_aim_pair aim_table[NR_FT_WINDOWS][TT_AIM_PAIRS] = {
	/* Fork broke off inside a block (the race raised in the review of
	 * "mm: Batch-copy PTE ranges during fork()", Nov 2023): the parent's
	 * block is refolded meanwhile by remove_migration_ptes() or by a
	 * speculative fault filling it; the entries not yet copied take
	 * hardware a/d updates; GUP-fast must see write_protect_seq odd. */
	[FT_WIN_FORK_BREAK] = {
		{ TT_MIGRATE, 4 }, { TT_WRITE, 3 }, { TT_READ, 2 }, { TT_YOUNG, 1 },
		{ TT_PIN, 2 }, { TT_MEMSET, 4, true },
	},
	/* zap_pte_range() dropped its PTL, the gather maybe not flushed:
	 * accesses through cached translations, faults refilling the range
	 * (MADV_DONTNEED holds the mmap_lock or the VMA lock for read),
	 * another MADV_DONTNEED or MADV_FREE of the range (both hold them
	 * for read: the flush one of them must not skip, Z25), GUP-fast,
	 * rmap walkers on folios whose rmap removal is delayed, fork of the
	 * mm (it waits for MADV_DONTNEED's VMA lock only). */
	[FT_WIN_ZAP_BREAK] = {
		{ TT_WRITE, 3 }, { TT_READ, 2 }, { TT_MEMSET, 2 }, { TT_PIN, 2 },
		{ TT_MIGRATE, 2 }, { TT_FORK, 1 }, { TT_DONTNEED, 2 }, { TT_LAZYFREE, 1 },
	},
	/* copy_present_ptes(): the folio counts as shared, the parent's
	 * entries are still writable: a GUP-fast pin (the check of
	 * folio_try_dup_anon_rmap_ptes() came before it), a hardware dirty
	 * bit set before wrprotect_ptes() (Z26). */
	[FT_WIN_FORK_COPY] = {
		{ TT_PIN, 4 }, { TT_WRITE, 4 }, { TT_READ, 1 },
	},
	/* contpte_convert() cleared the block: hardware a/d updates must
	 * not land in the old entries (Z18); accesses fault and wait for
	 * the PTL; GUP-fast sees empty entries. */
	[FT_WIN_CONVERT] = {
		{ TT_WRITE, 4 }, { TT_READ, 2 }, { TT_PIN, 2 },
	},
	/* Half way through a lockless block read (Z19): a writer that
	 * unfolds the block (contpte_convert() clears it, then repaints it
	 * with the a/d it gathered): migration's unmap, a partial mprotect
	 * (it waits for a fault's VMA lock, not for GUP-fast) or
	 * MADV_DONTNEED.  Hardware a/d updates and young clearing change no
	 * pfn or permission, so no retry could see them. */
	[FT_WIN_LOCKLESS_READ] = {
		{ TT_MIGRATE, 3 }, { TT_MPROTECT, 3 }, { TT_DONTNEED, 2 },
	},
	/* Between a PTE's load and its store (Z10): the hardware's a/d. */
	[FT_WIN_PTE_RMW] = {
		{ TT_WRITE, 4 }, { TT_READ, 2 }, { TT_YOUNG, 1 },
	},
	/* Inside a large-mapcount update (owner slots: the bit lock; rmap_id:
	 * a write section): other updaters spin or, under rmap_id, update
	 * beside it, the lockless readers (the reuse pre-check,
	 * maybe-mapped-shared) see a half-done update: COW faults, and fork,
	 * zap, exit and migration of the mms that map the folio. */
	[FT_WIN_MAPCOUNT] = {
		{ TT_WRITE, 3 }, { TT_FORK, 2 }, { TT_DONTNEED, 2 }, { TT_MIGRATE, 2 },
		{ TT_EXIT, 1 },
	},
	/* __wp_can_reuse_large_anon_folio() between its lockless checks and
	 * the lock (taken under the fault's PTL): migration restoring other
	 * mms' entries (B2); a reference from reclaim's isolation (DAMON's
	 * pageout finds the folio by pfn, without that PTL), a swap cache
	 * lookup or GUP-fast's speculative one (B1); fork mapping the folio
	 * into a child (it write-locks the VMAs first, so only beside a
	 * speculative fault). */
	[FT_WIN_REUSE] = {
		{ TT_MIGRATE, 3 }, { TT_RECLAIM, 4 }, { TT_PIN, 2 }, { TT_FORK, 2, true },
	},
	/* wp_page_copy() copied the page and has not taken the PTL: a store
	 * through a stale translation to the page is lost unless the PTE
	 * recheck catches it (Z14: only while a write-protect's flush is
	 * pending, which the fault's locks must exclude); a pin; migration of
	 * the old folio. */
	[FT_WIN_WP_COPY] = {
		{ TT_WRITE, 4 }, { TT_PIN, 2 }, { TT_MIGRATE, 2 }, { TT_READ, 1 },
	},
	/* A hardware access in flight: the TLB flush of a zap, of a
	 * write-protect (mprotect) or of a migration must wait for it
	 * (madv-flush-miss).  Not fork: it never reached its flush while
	 * the access was held (none of 241 in a fork-race run arrived),
	 * and its write lock on the mmap_lock stopped the very workers
	 * that race with the fork already under way. */
	[FT_WIN_HW_ACCESS] = {
		{ TT_DONTNEED, 2 }, { TT_MPROTECT, 2 }, { TT_MIGRATE, 2 },
		{ TT_LAZYFREE, 1 }, { TT_MUNMAP, 1 },
	},
	/* A store through a writable translation whose entry was write-
	 * protected since (fork, mprotect: the flush comes at the end): a
	 * write fault on the page copies it, and the store must land after
	 * the copy (they meet at wp_page_copy()'s window).  The write-
	 * protecting call holds the VMA write-locked, so only a fault its
	 * locks fail to exclude gets there (Z14). */
	[FT_WIN_STALE_STORE] = {
		{ TT_WRITE, 1 },
	},
	/* Migration entries in place: faults wait for them, fork copies them
	 * read-only, zap drops them, the slow GUP path waits. */
	[FT_WIN_MIGRATION] = {
		{ TT_READ, 2 }, { TT_WRITE, 2 }, { TT_FORK, 2 }, { TT_DONTNEED, 2 },
		{ TT_PIN, 1 },
	},
	/* remove_migration_ptes() restored one MM's entries and walks on
	 * (the anon_vma lock is a sleeping one): that MM's write fault finds
	 * the new folio mapped by it alone, and COW reuse's checks run while
	 * the next MM's entries come back (B2; they meet, the walk does not
	 * wait); young clearing and a pin of the restored range. */
	[FT_WIN_MIGRATION_RESTORE] = {
		{ TT_WRITE, 6 }, { TT_YOUNG, 1 }, { TT_PIN, 1 },
	},
	/* GUP-fast pinned and has not re-read the entry (088b8aa537c2's
	 * protocol): fork's folio_try_dup_anon_rmap_ptes(), migration's and
	 * swap-out's folio_try_share_anon_rmap_pte(). */
	[FT_WIN_GUP_FAST] = {
		{ TT_FORK, 3 }, { TT_MIGRATE, 3 }, { TT_RECLAIM, 2 }, { TT_DONTNEED, 1 },
	},
	/* Reclaim unmapped the folio and is about to free it: a swap-in
	 * finding it in the swap cache, a pin, fork copying swap entries. */
	[FT_WIN_RECLAIM] = {
		{ TT_READ, 3 }, { TT_WRITE, 2 }, { TT_FORK, 1 }, { TT_PIN, 1 },
	},
};

/*
 * Windows whose partners work in the other mms that map the folio, under
 * page-table locks of their own: a mapcount update holds the PTL of the
 * table it changes, so an aimer in the same mm waits for the update to be
 * over.  Fork's child and parent update one folio's mapcount from
 * different tables at once.
 */
static const bool aim_other_mm[NR_FT_WINDOWS] = {
	[FT_WIN_MAPCOUNT] = true,
};

/*
 * Windows whose partner must unfold the block (a conversion clears it):
 * an aimed MADV_DONTNEED or mprotect covers it in part, as one that
 * covers it whole clears and rewrites it in place.
 */
static const bool aim_partial[NR_FT_WINDOWS] = {
	[FT_WIN_LOCKLESS_READ] = true,
};

static bool pair_allowed(const struct torture *t, const struct tt_aim_pair *pair)
{
	return pair->weight && t->p.weights[pair->op] &&
	       (!pair->spf_only || t->world.locking->fault_speculative);
}

/* An operation from @kind's row, or false if none applies to this run. */
static bool aim_op(struct tt_thread *th, enum ft_window_kind kind, enum tt_op *op)
{
	const struct tt_aim_pair *row = aim_table[kind];
	u64 total = 0, r;
	int i;

	for (i = 0; i < TT_AIM_PAIRS; i++)
		if (pair_allowed(th->t, &row[i]))
			total += row[i].weight;
	if (!total)
		return false;
	r = ft_random_below(&th->rs, total);
	for (i = 0; !pair_allowed(th->t, &row[i]) || r >= row[i].weight; i++)
		if (pair_allowed(th->t, &row[i]))
			r -= row[i].weight;
	*op = row[i].op;
	return true;
}

/*
 * The window's pages in the process's window: its range, or the block of
 * its folio (folio->index is the page's address in an anon VMA that mremap
 * did not move: elsewhere it names some other page, which is harmless).
 * find_window() passed over windows that name neither.
 */
static bool aim_range(struct torture *t, const struct ft_window_view *v,
		      unsigned long *first, unsigned long *nr)
{
	unsigned long addr = v->addr, len = v->len;

	if (!len) {
		addr = (READ_ONCE(((const struct folio *)v->folio)->index) << PAGE_SHIFT) &
		       CONT_PTE_MASK;
		len = CONT_PTE_SIZE;
	}
	if (addr < TT_VA_BASE || addr >= TT_VA_BASE + t->nr_pages * PAGE_SIZE)
		return false;
	*first = (addr - TT_VA_BASE) >> PAGE_SHIFT;
	*nr = min(len >> PAGE_SHIFT, t->nr_pages - *first);
	return *nr > 0;
}

/* An open window of another worker, from a random one on: the first that
 * lingers (it waits for an aimer), else the first. */
static bool find_window(struct tt_thread *th, struct ft_window_view *v)
{
	struct torture *t = th->t;
	u64 start = ft_random_below(&th->rs, t->p.threads);
	struct ft_window_view cur;
	bool found = false;

	for (u64 i = 0; i < t->p.threads; i++) {
		struct tt_thread *other = &t->threads[(start + i) % t->p.threads];

		/* One that exposes nothing to race with names no range. */
		if (other == th || !ft_window_read(&other->sched.window, &cur) ||
		    (!cur.len && !cur.folio))
			continue;
		if (!found || cur.lingering)
			*v = cur;
		found = true;
		if (cur.lingering)
			break;
	}
	return found;
}

struct mapper_match {
	const struct ft_window_view *v;
	unsigned long addr;
};

/* Another process than the window's, mapping its folio at @addr. */
static bool maps_window_folio(const struct tt_proc *proc, const void *arg)
{
	const struct mapper_match *m = arg;

	return proc->mm != m->v->mm && ft_folio_peek(proc->mm, m->addr) == m->v->folio;
}

/*
 * A process other than the window's that maps its folio at the aimed
 * page, found by a lockless look at each one's entry there (the block of
 * a fork's parent and child is at the same address), else any other.
 */
static struct tt_proc *other_mapper(struct tt_thread *th, const struct ft_window_view *v,
				    unsigned long addr, enum tt_op op)
{
	struct torture *t = th->t;
	struct mapper_match m = { v, addr };
	struct tt_proc *proc;

	proc = tt_proc_find(t, ft_random_below(&th->rs, t->p.max_mms), maps_window_folio, &m);
	if (proc)
		return proc;
	proc = tt_proc_pick(th, op);
	if (proc && proc->mm == v->mm) {
		tt_proc_put(proc);
		return NULL;
	}
	return proc;
}

bool tt_aim_pick(struct tt_thread *th, enum tt_op *op, struct tt_proc **proc)
{
	struct torture *t = th->t;
	struct tt_aim *aim = &th->aim;
	struct tt_proc *target;
	enum tt_op aimed;

	if (!t->p.aim_ppm || ft_random_below(&th->rs, 1000000) >= t->p.aim_ppm)
		return false;
	if (!find_window(th, &aim->view) || !aim_op(th, aim->view.kind, &aimed) ||
	    !aim_range(t, &aim->view, &aim->first, &aim->nr))
		return false;
	/* A window that names no mm (a folio's): any process may map it. */
	if (aim_other_mm[aim->view.kind] && aim->view.folio)
		target = other_mapper(th, &aim->view, TT_VA_BASE + aim->first * PAGE_SIZE,
				      aimed);
	else
		target = aim->view.mm ? tt_proc_find_mm(t, aim->view.mm) :
					tt_proc_pick(th, aimed);
	if (!target)
		return false;
	if (!ft_window_aim(&aim->view)) {
		tt_proc_put(target);
		return false;
	}
	aim->on = true;
	aim->partial = aim_partial[aim->view.kind];
	aim->busy = th->n_busy;
	*op = aimed;
	*proc = target;
	return true;
}

void tt_aim_done(struct tt_thread *th, int result)
{
	struct tt_aim *aim = &th->aim;
	enum ft_window_kind kind = aim->view.kind;

	if (!aim->on)
		return;
	aim->on = false;
	WRITE_ONCE(th->n_aimed[kind], th->n_aimed[kind] + 1);
	/* Turned away from a page another access had, or found nothing to
	 * do (-EAGAIN: the population full, no folio there): it never got
	 * there. */
	if (ft_window_aim_done(&aim->view) && th->n_busy == aim->busy && result != -EAGAIN)
		WRITE_ONCE(th->n_arrived[kind], th->n_arrived[kind] + 1);
}
