// SPDX-License-Identifier: GPL-2.0-only
/*
 * The workers of the mm torture run.  A worker is a thread of whichever
 * simulated process it picks for each operation, as if every process ran
 * every worker: user accesses (through the emulated MMU, faulting when it
 * says so), fork (the child joins the population), exit, munmap, mmap
 * (MAP_FIXED over any range), MADV_DONTNEED, mprotect, mremap (MREMAP_FIXED
 * moves, often off block and table boundaries), the rmap walkers
 * (migration, young-bit clearing) and GUP pins held across operations.
 *
 * Every random decision of operation N of worker T comes from streams
 * derived from (seed, T, N): the operation, its arguments, and, through
 * the worker's ft_sched, every break decision inside it.  With one worker
 * a run is a pure function of its options (the trace hash shows it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ft/contpte.h"
#include "ft/lock.h"
#include "torture.h"

#define TT_STREAM_OP	0x6f70ULL	/* "op" */
#define TT_STREAM_BREAK	0x6272ULL	/* "br" */
#define TT_MAX_RUN	16		/* pages per access operation */
#define TT_MAX_RANGE	64		/* pages per unaligned range operation */
#define TT_MAX_BLOCKS	4		/* blocks per aligned range operation */

/* ---- The population ----------------------------------------------------------------- */

static struct tt_proc *proc_alloc(struct torture *t)
{
	struct tt_proc *proc = calloc(1, sizeof(*proc));

	if (!proc)
		return NULL;
	proc->tag = __atomic_add_fetch(&t->next_tag, 1, __ATOMIC_RELAXED);
	proc->shadow = ft_shadow_alloc(proc->tag, TT_VA_BASE, t->nr_pages, t->p.tlb);
	if (!proc->shadow) {
		free(proc);
		return NULL;
	}
	init_rwsem(&proc->move_lock);
	proc->refs = 1;
	return proc;
}

static void proc_free(struct tt_proc *proc)
{
	if (proc->mm)
		mmput(proc->mm);
	ft_shadow_free(proc->shadow);
	free(proc);
}

/* exec: a new process with one read-write VMA over its whole window. */
struct tt_proc *tt_proc_create(struct torture *t)
{
	struct tt_proc *proc = proc_alloc(t);

	if (!proc)
		return NULL;
	proc->mm = mm_alloc(&t->world, t->task_size);
	if (proc->mm)
		proc->mm->hook_data = proc->shadow;
	if (!proc->mm || ft_mmap(proc->mm, TT_VA_BASE, t->p.vma_size, VM_READ | VM_WRITE)) {
		proc_free(proc);
		return NULL;
	}
	proc->mm_id = proc->mm->mm_id;
	return proc;
}

/* The last reference: the process exits (exit_mmap through mmput). */
void tt_proc_put(struct tt_proc *proc)
{
	if (!__atomic_sub_fetch(&proc->refs, 1, __ATOMIC_ACQ_REL))
		proc_free(proc);
}

/* Hand the caller's reference to a free slot; false if there is none. */
bool tt_proc_insert(struct torture *t, struct tt_proc *proc)
{
	for (u64 i = 0; i < t->p.max_mms; i++) {
		struct tt_slot *slot = &t->slots[i];
		bool done = false;

		spin_lock(&slot->lock);
		if (!slot->proc) {
			slot->proc = proc;
			__atomic_fetch_add(&t->nr_procs, 1, __ATOMIC_RELAXED);
			done = true;
		}
		spin_unlock(&slot->lock);
		if (done)
			return true;
	}
	return false;
}

/* Take @proc out of its slot (its slot's reference goes to the caller). */
static bool proc_remove(struct torture *t, struct tt_proc *proc)
{
	for (u64 i = 0; i < t->p.max_mms; i++) {
		struct tt_slot *slot = &t->slots[i];
		bool found;

		spin_lock(&slot->lock);
		found = slot->proc == proc;
		if (found) {
			slot->proc = NULL;
			__atomic_fetch_sub(&t->nr_procs, 1, __ATOMIC_RELAXED);
		}
		spin_unlock(&slot->lock);
		if (found)
			return true;
	}
	return false;
}

static struct tt_proc *slot_get(struct tt_slot *slot)
{
	struct tt_proc *proc;

	spin_lock(&slot->lock);
	proc = slot->proc;
	if (proc)
		__atomic_fetch_add(&proc->refs, 1, __ATOMIC_RELAXED);
	spin_unlock(&slot->lock);
	return proc;
}

/*
 * The operations that wait for a writer of the process's mmap_lock (fork,
 * munmap, mprotect and mremap hold it for write, and fork write-locks the
 * VMAs too): a worker would sleep in them until the writer is done, and
 * try no interleaving meanwhile.  Accesses count when faults take those
 * locks (not under spf); they lose the unaimed hits on present entries
 * while fork copies, which aiming at fork's windows makes on purpose.
 * Pins (GUP-fast) and the rmap walkers (migration, young clearing) meet
 * the writer inside its work, and are never turned away.
 */
static const bool op_waits_for_writer[NR_TT_OPS] = {
	[TT_FORK] = true, [TT_EXIT] = true, [TT_MUNMAP] = true, [TT_MMAP] = true,
	[TT_DONTNEED] = true, [TT_LAZYFREE] = true, [TT_MPROTECT] = true,
	[TT_MREMAP] = true,
};

static bool op_waits(const struct torture *t, enum tt_op op)
{
	if (op == TT_READ || op == TT_WRITE || op == TT_MEMSET)
		return !t->world.locking->fault_speculative;
	return op_waits_for_writer[op];
}

/* Serial runs keep the first live process, so their schedules stay. */
static bool proc_busy(const struct torture *t, const struct tt_proc *proc, enum tt_op op)
{
	return !ft_serial_on() && op_waits(t, op) && rwsem_has_writer(&proc->mm->mmap_lock);
}

/* The first live process from a random slot on that @op need not wait
 * for, else the first live one. */
struct tt_proc *tt_proc_pick(struct tt_thread *th, enum tt_op op)
{
	struct torture *t = th->t;
	u64 start = ft_random_below(&th->rs, t->p.max_mms);
	struct tt_proc *proc, *busy = NULL;

	for (u64 i = 0; i < t->p.max_mms; i++) {
		proc = slot_get(&t->slots[(start + i) % t->p.max_mms]);
		if (!proc)
			continue;
		if (!proc_busy(t, proc, op)) {
			if (busy)
				tt_proc_put(busy);
			return proc;
		}
		if (busy)
			tt_proc_put(proc);
		else
			busy = proc;
	}
	if (busy)
		return busy;
	proc = tt_proc_create(t);
	if (!proc)
		return NULL;
	proc->refs = 2;			/* the slot's and ours */
	if (!tt_proc_insert(t, proc))
		proc->refs = 1;		/* someone filled them all: ours only */
	return proc;
}

struct tt_proc *tt_proc_find(struct torture *t, u64 start,
			     bool (*match)(const struct tt_proc *, const void *),
			     const void *arg)
{
	for (u64 i = 0; i < t->p.max_mms; i++) {
		struct tt_proc *proc = slot_get(&t->slots[(start + i) % t->p.max_mms]);

		if (proc && match(proc, arg))
			return proc;
		if (proc)
			tt_proc_put(proc);
	}
	return NULL;
}

static bool proc_has_mm(const struct tt_proc *proc, const void *mm)
{
	return proc->mm == mm;
}

struct tt_proc *tt_proc_find_mm(struct torture *t, const void *mm)
{
	return tt_proc_find(t, 0, proc_has_mm, mm);
}

void tt_procs_exit_all(struct torture *t)
{
	for (u64 i = 0; i < t->p.max_mms; i++) {
		struct tt_slot *slot = &t->slots[i];
		struct tt_proc *proc;

		spin_lock(&slot->lock);
		proc = slot->proc;
		slot->proc = NULL;
		spin_unlock(&slot->lock);
		if (proc) {
			__atomic_fetch_sub(&t->nr_procs, 1, __ATOMIC_RELAXED);
			tt_proc_put(proc);
		}
	}
}

/* The mms of the population; only while the workers are parked. */
int tt_procs_mms(struct torture *t, struct mm_struct **mms)
{
	int n = 0;

	for (u64 i = 0; i < t->p.max_mms; i++) {
		struct tt_slot *slot = &t->slots[i];

		spin_lock(&slot->lock);
		if (slot->proc)
			mms[n++] = slot->proc->mm;
		spin_unlock(&slot->lock);
	}
	return n;
}

/* ---- Arguments ---------------------------------------------------------------------- */

static unsigned long page_addr(unsigned long idx)
{
	return TT_VA_BASE + idx * PAGE_SIZE;
}

/* A page: in the aimed window, or anywhere in the process's window. */
static unsigned long pick_page(struct tt_thread *th)
{
	if (th->aim.on)
		return th->aim.first + ft_random_below(&th->rs, th->aim.nr);
	return ft_random_below(&th->rs, th->t->nr_pages);
}

/* How many pages from @first: up to @max, and not past the aimed window. */
static unsigned long pick_count(struct tt_thread *th, unsigned long first, unsigned long max)
{
	unsigned long end = th->aim.on ? th->aim.first + th->aim.nr : th->t->nr_pages;

	return 1 + ft_random_below(&th->rs, min(end - first, max));
}

/* Half the time whole CONT blocks, else any pages: partial blocks. */
static void pick_range(struct tt_thread *th, unsigned long *first, unsigned long *nr)
{
	unsigned long pages = th->t->nr_pages;

	if (th->aim.on) {
		/* The window's blocks, or part of them. */
		if (!th->aim.partial && ft_random_below(&th->rs, 2)) {
			*first = th->aim.first & ~(CONT_PTES - 1UL);
			*nr = min(ALIGN(th->aim.first + th->aim.nr, CONT_PTES), pages) - *first;
			return;
		}
		*first = pick_page(th);
		*nr = pick_count(th, *first, TT_MAX_RANGE);
		return;
	}
	if (ft_random_below(&th->rs, 2)) {
		unsigned long blocks = pages / CONT_PTES;
		unsigned long b = ft_random_below(&th->rs, blocks);

		*first = b * CONT_PTES;
		*nr = (1 + ft_random_below(&th->rs, min(blocks - b, (unsigned long)TT_MAX_BLOCKS))) *
		      CONT_PTES;
		return;
	}
	*first = pick_page(th);
	*nr = pick_count(th, *first, TT_MAX_RANGE);
}

static enum tt_op pick_op(struct tt_thread *th)
{
	const u32 *w = th->t->p.weights;
	u64 total = 0, r;
	int op;

	for (op = 0; op < NR_TT_OPS; op++)
		total += w[op];
	r = ft_random_below(&th->rs, total);
	for (op = 0; r >= w[op]; op++)
		r -= w[op];
	return (enum tt_op)op;
}

/* ---- Operations: each returns >= 0 done, < 0 refused (-errno) ------------------------ */

/* One access of a word of page @page, checked against the shadow. */
static int access_page(struct tt_thread *th, struct tt_proc *proc, unsigned long page,
		       bool write)
{
	struct ft_shadow *sh = proc->shadow;
	unsigned long w = ft_random_below(&th->rs, th->t->p.page_words);
	unsigned long idx = page * FT_PAGE_WORDS + w, addr;
	struct ft_shadow_write wr;
	enum ft_fault_result r;
	unsigned long v = 0;

	/* Aimed at a page another access has (a fault, a copy): the other
	 * word, if this run's accesses use two. */
	if (!ft_shadow_claim(sh, idx) &&
	    !(th->aim.on && th->t->p.page_words == FT_PAGE_WORDS &&
	      ft_shadow_claim(sh, idx = page * FT_PAGE_WORDS + (w ^ 1)))) {
		WRITE_ONCE(th->n_busy, th->n_busy + 1);
		return 0;
	}
	addr = ft_shadow_addr(sh, idx);
	ft_shadow_check_dirty(sh, idx, proc->mm);
	if (write) {
		ft_shadow_write_begin(sh, idx, &wr);
		v = wr.value;
		r = ft_user_access(proc->mm, addr, true, &v, &th->rs);
		ft_shadow_write_end(sh, idx, &wr, r == FT_FAULT_OK, ft_hw_stale_translation());
		if (r == FT_FAULT_OK)
			ft_shadow_note_write(sh, idx, &wr, proc->mm);
	} else {
		r = ft_user_access(proc->mm, addr, false, &v, &th->rs);
		if (r == FT_FAULT_OK)
			ft_shadow_check_read(sh, idx, v, ft_hw_stale_translation(), proc->mm);
	}
	ft_shadow_release(sh, idx);
	return r == FT_FAULT_OK ? 1 : r == FT_FAULT_SIGSEGV ? -EFAULT : -ENOMEM;
}

/* Pages [@first, @first + @nr) one after the other; how many worked. */
static int access_run(struct tt_thread *th, struct tt_proc *proc, unsigned long first,
		      unsigned long nr, bool write)
{
	int done = 0, ret = 0;

	for (unsigned long i = first; i < first + nr; i++) {
		int r = access_page(th, proc, i, write);

		if (r < 0)
			ret = r;
		else
			done += r;
	}
	return done ? done : ret;
}

/* A run of pages, so that faults fill whole blocks. */
static int op_access(struct tt_thread *th, struct tt_proc *proc, bool write,
		     unsigned long *addr, unsigned long *len)
{
	unsigned long first = pick_page(th);
	unsigned long nr = pick_count(th, first, TT_MAX_RUN);

	*addr = page_addr(first);
	*len = nr * PAGE_SIZE;
	return access_run(th, proc, first, nr, write);
}

/*
 * memset() of one contpte block: every page of an aligned 64K run written,
 * as a program fills a buffer.  Random runs rarely cover a block and stop
 * at its end; this writes all of one (COW-reusing each page of a large
 * folio the fork shared) and none of its neighbours.
 */
static int op_memset(struct tt_thread *th, struct tt_proc *proc, unsigned long *addr,
		     unsigned long *len)
{
	unsigned long first = th->aim.on ? th->aim.first & ~(CONT_PTES - 1UL) :
			      ft_random_below(&th->rs, th->t->nr_pages / CONT_PTES) * CONT_PTES;

	*addr = page_addr(first);
	*len = CONT_PTES * PAGE_SIZE;
	return access_run(th, proc, first, CONT_PTES, true);
}

/*
 * proc->move_lock for the operations that mremap must not overlap (fork's
 * shadow events, munmap and mmap changing the layout it inspects); only in
 * runs that do mremap, so that the others keep their schedules.
 */
static void move_lock_read(struct torture *t, struct tt_proc *proc)
{
	if (t->p.weights[TT_MREMAP])
		down_read(&proc->move_lock);
}

static void move_unlock_read(struct torture *t, struct tt_proc *proc)
{
	if (t->p.weights[TT_MREMAP])
		up_read(&proc->move_lock);
}

static int op_fork(struct tt_thread *th, struct tt_proc *parent)
{
	struct torture *t = th->t;
	struct tt_proc *child;
	u32 tag;

	if ((u64)__atomic_load_n(&t->nr_procs, __ATOMIC_RELAXED) >= t->p.max_mms)
		return -EAGAIN;
	child = proc_alloc(t);
	if (!child)
		return -ENOMEM;
	move_lock_read(t, parent);
	ft_shadow_fork_begin(parent->shadow, child->shadow, parent->mm);
	child->mm = ft_fork_hooked(parent->mm, child->shadow);
	if (child->mm)
		ft_shadow_fork_copy(child->shadow, parent->shadow);
	move_unlock_read(t, parent);
	if (!child->mm) {
		proc_free(child);
		return -ENOMEM;
	}
	child->mm_id = child->mm->mm_id;
	tag = child->tag;	/* once inserted, another worker may exit it */
	if (!tt_proc_insert(t, child)) {
		tt_proc_put(child);	/* the population filled up meanwhile */
		return -EAGAIN;
	}
	return (int)tag;
}

static int op_exit(struct tt_thread *th, struct tt_proc *proc)
{
	if (__atomic_load_n(&th->t->nr_procs, __ATOMIC_RELAXED) <= 1 ||
	    !proc_remove(th->t, proc))
		return -EAGAIN;
	tt_proc_put(proc);		/* the slot's; ours goes after the op */
	return 0;
}

/*
 * munmap, mmap (MAP_FIXED: unmap, then map) and MADV_DONTNEED zap;
 * MADV_FREE only cleans (the shadow keeps the values, drops the dirty rule).
 */
static int op_zap(struct tt_thread *th, struct tt_proc *proc, enum tt_op op,
		  unsigned long *addr, unsigned long *len)
{
	struct ft_shadow *sh = proc->shadow;
	unsigned long first, nr;
	int ret;

	pick_range(th, &first, &nr);
	*addr = page_addr(first);
	*len = nr * PAGE_SIZE;
	if (op == TT_LAZYFREE) {
		ft_shadow_clean_begin(sh, first, nr);
		ret = ft_madvise_free(proc->mm, *addr, *len);
		ft_shadow_clean_end(sh, first, nr);
		return ret;
	}
	ft_shadow_zap_begin(sh, first, nr);
	if (op == TT_DONTNEED) {
		ret = ft_madvise_dontneed(proc->mm, *addr, *len);
		ft_shadow_zap_end(sh, first, nr, !ret);
		return ret;
	}
	/* No mremap meanwhile: it must see the layout it moves (op_mremap). */
	move_lock_read(th->t, proc);
	ret = ft_munmap(proc->mm, *addr, *len);
	ft_shadow_zap_end(sh, first, nr, !ret);
	if (!ret && op == TT_MMAP)
		ret = ft_mmap(proc->mm, *addr, *len, VM_READ | VM_WRITE);
	move_unlock_read(th->t, proc);
	return ret;
}

void tt_unmap_hook(struct mm_struct *mm, unsigned long addr, unsigned long nr,
		   enum ft_unmap_kind kind)
{
	struct ft_shadow *sh = mm->hook_data;

	if (!sh || addr < TT_VA_BASE)
		return;
	if (kind == FT_UNMAP_DISCARD)
		ft_shadow_discard(sh, (addr - TT_VA_BASE) >> PAGE_SHIFT, nr);
	else
		ft_shadow_swapout(sh, (addr - TT_VA_BASE) >> PAGE_SHIFT, nr);
}

static int op_mprotect(struct tt_thread *th, struct tt_proc *proc,
		       unsigned long *addr, unsigned long *len)
{
	unsigned long first, nr;
	unsigned long prot = ft_random_below(&th->rs, 2) ? VM_READ : VM_READ | VM_WRITE;

	pick_range(th, &first, &nr);
	*addr = page_addr(first);
	*len = nr * PAGE_SIZE;
	return ft_mprotect(proc->mm, *addr, *len, prot);
}

/*
 * Where a range of @nr pages goes: a CONT block boundary, any page, or
 * across a PMD boundary (a table boundary: a folio's entries end up in two
 * tables).  Not overlapping [@first, @first + @nr); false if none was found.
 */
static bool pick_destination(struct tt_thread *th, unsigned long first,
			     unsigned long nr, unsigned long *to)
{
	unsigned long pages = th->t->nr_pages, tables = pages * PAGE_SIZE / PMD_SIZE;

	for (int tries = 0; tries < 4; tries++) {
		switch (ft_random_below(&th->rs, 3)) {
		case 0:
			*to = ft_random_below(&th->rs, pages / CONT_PTES) * CONT_PTES;
			break;
		case 1:
			*to = ft_random_below(&th->rs, pages);
			break;
		default:
			if (tables < 2 || nr < 2)
				continue;
			*to = (1 + ft_random_below(&th->rs, tables - 1)) * (PMD_SIZE / PAGE_SIZE) -
			      1 - ft_random_below(&th->rs, nr - 1);
			break;
		}
		if (*to + nr <= pages && (*to >= first + nr || first >= *to + nr))
			return true;
	}
	return false;
}

/*
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of a range to another place of the
 * window, replacing what was mapped there; the shadow moves the values.
 * Returns the destination's page index.  Refused (-EAGAIN) in an mm near
 * its VMA limit: a move there can fail with -ENOMEM half done (the split
 * of the destination, the new VMA, a later piece), after which the shadow
 * knows neither range and can only widen both to anything.
 */
static int op_mremap(struct tt_thread *th, struct tt_proc *proc, unsigned long *addr,
		     unsigned long *len)
{
	struct vm_area_struct *vmas[MAX_VMAS];
	bool gap[TT_MAX_RANGE], crowded;
	struct ft_shadow_move *m;
	unsigned long first, nr, to;
	int ret;

	pick_range(th, &first, &nr);
	*addr = page_addr(first);
	*len = nr * PAGE_SIZE;
	if (!pick_destination(th, first, nr, &to))
		return -EAGAIN;
	down_write(&proc->move_lock);
	/* The layout holds still: munmap and mmap of this mm take move_lock. */
	mmap_read_lock(proc->mm);
	for (unsigned long i = 0; i < nr; i++)
		gap[i] = !find_vma(proc->mm, page_addr(first + i));
	crowded = mm_vmas_sorted(proc->mm, vmas) > MAX_VMAS - TT_MREMAP_VMA_ROOM;
	mmap_read_unlock(proc->mm);
	m = crowded ? NULL : ft_shadow_move_begin(proc->shadow, first, to, nr, gap);
	if (!m) {
		up_write(&proc->move_lock);
		return crowded ? -EAGAIN : -ENOMEM;
	}
	ret = ft_mremap(proc->mm, *addr, *len, *len, MREMAP_MAYMOVE | MREMAP_FIXED,
			page_addr(to));
	ft_shadow_move_end(proc->shadow, m, ret);
	up_write(&proc->move_lock);
	return ret ? ret : (int)to;
}

/* Claim every word of page @page, or none. */
static bool claim_page(struct ft_shadow *sh, unsigned long page)
{
	for (unsigned long w = 0; w < FT_PAGE_WORDS; w++) {
		if (!ft_shadow_claim(sh, page * FT_PAGE_WORDS + w)) {
			while (w--)
				ft_shadow_release(sh, page * FT_PAGE_WORDS + w);
			return false;
		}
	}
	return true;
}

/*
 * pin_user_pages_fast(FOLL_PIN | FOLL_LONGTERM), FOLL_WRITE three times in
 * four, of one page, held until an unpin.  Under the page's claim: the
 * slow path may unshare it (a clean copy), and the zap counts around the
 * call tell whether the pin oracle can apply to it.
 */
static int op_pin(struct tt_thread *th, struct tt_proc *proc, unsigned long page)
{
	unsigned int flags = FOLL_LONGTERM | (ft_random_below(&th->rs, 4) ? FOLL_WRITE : 0);
	struct page *pinned;
	bool busy_before, busy_after;
	u64 zaps;
	long n;

	if (th->nr_pins == TT_MAX_PINS)
		return -EAGAIN;
	if (!claim_page(proc->shadow, page))
		return -EBUSY;
	zaps = ft_shadow_zaps(proc->shadow, page, &busy_before);
	n = pin_user_pages_fast(proc->mm, page_addr(page), 1, flags, &pinned);
	for (unsigned long w = 0; w < FT_PAGE_WORDS; w++) {
		/* Maybe an unshare: a clean copy. */
		ft_shadow_forget_dirty(proc->shadow, page * FT_PAGE_WORDS + w);
		ft_shadow_release(proc->shadow, page * FT_PAGE_WORDS + w);
	}
	if (n != 1)
		return n < 0 ? (int)n : -EFAULT;
	th->pins[th->nr_pins++] = (struct tt_pin){
		.page = pinned, .tag = proc->tag, .idx = page, .flags = flags,
		.zaps = ft_shadow_zaps(proc->shadow, page, &busy_after),
	};
	th->pins[th->nr_pins - 1].checkable = !busy_before && !busy_after &&
					      th->pins[th->nr_pins - 1].zaps == zaps;
	return 0;
}

static bool proc_has_tag(const struct tt_proc *proc, const void *tag)
{
	return proc->tag == *(const u32 *)tag;
}

/* The live process of tag @tag, with a reference, or NULL if it exited. */
static struct tt_proc *proc_find(struct torture *t, u32 tag)
{
	return tt_proc_find(t, 0, proc_has_tag, &tag);
}

/* No zap of the pinned page has begun since the pin. */
static bool pin_unzapped(struct ft_shadow *sh, const struct tt_pin *pin)
{
	bool busy;

	return ft_shadow_zaps(sh, pin->idx, &busy) == pin->zaps && !busy;
}

/*
 * Use a pin as DMA would: read a word of the pinned page, which must be
 * what the process would read (the shadow), then, for a FOLL_WRITE pin,
 * write one that the process must read back.  Only while the pin oracle
 * says the process still maps the pinned page, under the word's claim.
 */
static void pin_access(struct tt_thread *th, const struct tt_pin *pin)
{
	struct tt_proc *proc = proc_find(th->t, pin->tag);
	struct ft_shadow *sh;
	struct ft_shadow_write wr;
	unsigned long idx, addr, w, v;

	if (!proc)
		return;		/* it exited: the pin outlives the mapping */
	sh = proc->shadow;
	idx = pin->idx * FT_PAGE_WORDS + ft_random_below(&th->rs, th->t->p.page_words);
	addr = ft_shadow_addr(sh, idx);
	w = (addr & (PAGE_SIZE - 1)) / sizeof(long) % FT_PAGE_WORDS;
	if (!ft_shadow_claim(sh, idx)) {
		WRITE_ONCE(th->n_busy, th->n_busy + 1);
		goto put;
	}
	if (pin->checkable && pin_unzapped(sh, pin)) {
		pte_t pte;

		/* A zap that began during the look excuses what it saw. */
		if (!ft_pin_coherent(proc->mm, addr, pin->page, &pte)) {
			if (pin_unzapped(sh, pin))
				ft_pin_report(proc->mm, addr, pin->page, pte);
			goto release;
		}
		v = READ_ONCE(pin->page->data[w]);
		ft_shadow_check_read(sh, idx, v, false, proc->mm);
		if (pin->flags & FOLL_WRITE) {
			ft_shadow_write_begin(sh, idx, &wr);
			WRITE_ONCE(pin->page->data[w], wr.value);
			ft_shadow_write_end(sh, idx, &wr, true, false);
		}
	}
release:
	ft_shadow_release(sh, idx);
put:
	tt_proc_put(proc);
}

static int op_unpin(struct tt_thread *th)
{
	struct tt_pin *pin;

	if (!th->nr_pins)
		return -EAGAIN;
	pin = &th->pins[--th->nr_pins];
	pin_access(th, pin);
	/* A write pin was written through: dirty, as a driver unpins it. */
	unpin_user_pages_dirty_lock(&pin->page, 1, pin->flags & FOLL_WRITE);
	return 0;
}

void tt_unpin_all(struct tt_thread *th)
{
	while (th->nr_pins)
		unpin_user_page(th->pins[--th->nr_pins].page);
}

static int run_op(struct tt_thread *th, enum tt_op op, struct tt_proc *proc,
		  unsigned long *addr, unsigned long *len)
{
	unsigned long idx = pick_page(th);

	*addr = page_addr(idx);
	*len = PAGE_SIZE;
	switch (op) {
	case TT_READ:
	case TT_WRITE:
		return op_access(th, proc, op == TT_WRITE, addr, len);
	case TT_FORK:
		return op_fork(th, proc);
	case TT_EXIT:
		return op_exit(th, proc);
	case TT_MUNMAP:
	case TT_MMAP:
	case TT_DONTNEED:
	case TT_LAZYFREE:
		return op_zap(th, proc, op, addr, len);
	case TT_MPROTECT:
		return op_mprotect(th, proc, addr, len);
	case TT_MIGRATE:
		return ft_migrate_at(proc->mm, *addr, &th->rs);
	case TT_YOUNG:
		return ft_clear_young_at(proc->mm, *addr);
	case TT_PIN:
		return op_pin(th, proc, idx);
	case TT_UNPIN:
		return op_unpin(th);
	case TT_RECLAIM:
		/* Aimed at a window's folio: by pfn, as DAMON's pageout
		 * reaches it, not waiting for the PTL the window's owner
		 * may hold. */
		if (th->aim.on && th->aim.view.folio)
			return (int)ft_pageout_folio((struct folio *)th->aim.view.folio);
		return (int)ft_shrink_lru(&th->t->world, TT_RECLAIM_BATCH);
	case TT_MREMAP:
		return op_mremap(th, proc, addr, len);
	case TT_MEMSET:
		return op_memset(th, proc, addr, len);
	default:
		return -EINVAL;
	}
}

#define TT_HOLD_SLICE_NS	(50 * NSEC_PER_MSEC)

/*
 * The hold's sleep, in slices: a run that stops (SIGINT, the end) joins
 * its workers, and must not wait for the rest of a hold to do so.
 */
static void hold_sleep(struct torture *t)
{
	u64 now = ft_now_ns(), end = now + t->p.long_hold_ns, start = ft_time_start();

	for (; now < end && !__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE); now = ft_now_ns())
		ft_sleep_ns(min(end - now, TT_HOLD_SLICE_NS));
	ft_time_add_perturb(FT_PERTURB_HOLD, start);
}

/*
 * locktorture's long_hold for the mm: a PTL held across a sleep, as by a
 * holder preempted in the middle of its critical section.  Faults, fork
 * and zap of that table wait; the watchdog must notice a hold beyond
 * --stall-timeout.
 */
static void long_hold(struct tt_thread *th, struct tt_proc *proc)
{
	unsigned long addr = page_addr(ft_random_below(&th->rs, th->t->nr_pages));
	struct mm_struct *mm = proc->mm;
	spinlock_t *ptl;
	pte_t *pte;

	mmap_read_lock(mm);
	pte = pte_offset_map_lock(mm, pmd_off(mm, addr), addr, &ptl);
	if (pte) {
		hold_sleep(th->t);
		pte_unmap_unlock(pte, ptl);
	}
	mmap_read_unlock(mm);
}

/* ---- The worker loop ------------------------------------------------------------------ */

static void record(struct tt_thread *th, u64 index, enum tt_op op,
		   const struct tt_proc *proc, unsigned long addr, unsigned long len,
		   int result, bool done)
{
	struct tt_record *r = &th->rec[index % TT_RECORDER];

	WRITE_ONCE(r->done, 0);
	WRITE_ONCE(r->index, index);
	WRITE_ONCE(r->op, (u32)op);
	WRITE_ONCE(r->tag, proc ? proc->tag : 0);
	WRITE_ONCE(r->mm_id, proc ? proc->mm_id : 0);
	WRITE_ONCE(r->addr, addr);
	WRITE_ONCE(r->len, len);
	WRITE_ONCE(r->result, result);
	WRITE_ONCE(r->done, done);
}

static void do_one_op(struct tt_thread *th)
{
	struct torture *t = th->t;
	u64 index = th->op_index;
	unsigned long addr = 0, len = 0;
	struct tt_proc *proc;
	enum tt_op op;
	int result;

	ft_random_init(&th->rs, t->p.seed, TT_STREAM_OP, (u64)th->id, index);
	ft_random_init(&th->sched.rs, t->p.seed, TT_STREAM_BREAK, (u64)th->id, index);
	op = pick_op(th);
	if (!tt_aim_pick(th, &op, &proc))
		proc = tt_proc_pick(th, op);
	if (!proc) {
		result = -ENOMEM;
	} else {
		record(th, index, op, proc, 0, 0, 0, false);
		ft_set_actor(th->id, index, tt_op_names[op]);
		result = run_op(th, op, proc, &addr, &len);
		if (op == TT_WRITE && t->p.long_hold_ns && !ft_random_below(&th->rs, 4096))
			long_hold(th, proc);
	}
	record(th, index, op, proc, addr, len, result, true);
	th->trace_hash = ft_mix64(th->trace_hash ^ ft_mix64(index << 8 | op) ^
				  ((u64)(proc ? proc->tag : 0) << 32 | (u32)result) ^
				  ft_mix64(addr ^ len << 1));
	WRITE_ONCE(th->n_ops[op], th->n_ops[op] + 1);
	if (result < 0)
		WRITE_ONCE(th->n_fail[op], th->n_fail[op] + 1);
	tt_aim_done(th, result);
	if (proc)
		tt_proc_put(proc);
	WRITE_ONCE(th->op_index, index + 1);
}

/* Quiescent point for the audit: the main thread's park generation is odd
 * while it wants the workers still; each acknowledges that generation. */
static void park_here(struct tt_thread *th)
{
	int gen = __atomic_load_n(&th->t->park, __ATOMIC_ACQUIRE);
	u64 start;

	if (!(gen & 1))
		return;
	start = ft_time_start();
	__atomic_store_n(&th->parked, gen, __ATOMIC_RELEASE);
	for (u32 step = 0; __atomic_load_n(&th->t->park, __ATOMIC_ACQUIRE) == gen; step++)
		ft_wait_step(step);
	ft_time_add(FT_TIME_AUDIT, start);
}

/*
 * Serial mode's audit, at a step count rather than a time, so that it
 * replays: the first worker at its quiescent point after the count parks
 * the others (each at its own quiescent point), audits and lets them go.
 */
struct park_wait {
	struct torture *t;
	int gen;
};

static bool park_over(const void *arg)
{
	const struct park_wait *w = arg;

	return __atomic_load_n(&w->t->park, __ATOMIC_ACQUIRE) != w->gen;
}

static bool others_parked(const void *arg)
{
	const struct park_wait *w = arg;

	for (u64 i = 0; i < w->t->p.threads; i++) {
		int parked = __atomic_load_n(&w->t->threads[i].parked, __ATOMIC_ACQUIRE);

		if (parked != w->gen && parked != -1)
			return false;
	}
	return true;
}

static void serial_park_here(struct tt_thread *th)
{
	struct torture *t = th->t;
	struct park_wait w = { t, __atomic_load_n(&t->park, __ATOMIC_ACQUIRE) };

	if (!(w.gen & 1) && ft_serial_steps() < t->next_audit_step)
		return;
	if (w.gen & 1) {
		__atomic_store_n(&th->parked, w.gen, __ATOMIC_RELEASE);
		ft_wait_until(park_over, &w, "the end of an audit", FT_TIME_AUDIT);
		return;
	}
	w.gen = __atomic_add_fetch(&t->park, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&th->parked, w.gen, __ATOMIC_RELEASE);
	ft_wait_until(others_parked, &w, "the other workers' quiescent points",
		      FT_TIME_AUDIT);
	tt_audit(t);
	t->next_audit_step = ft_serial_steps() + t->p.audit_steps;
	__atomic_add_fetch(&t->park, 1, __ATOMIC_ACQ_REL);
}

void *tt_worker(void *arg)
{
	struct tt_thread *th = arg;
	struct torture *t = th->t;
	char name[16];

	snprintf(name, sizeof(name), "ft-%d", th->id);
	pthread_setname_np(pthread_self(), name);
	ft_sched_set_current(&th->sched);
	if (t->p.serial)
		ft_serial_enter(th->id);
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		if (t->p.serial)
			serial_park_here(th);
		else
			park_here(th);
		if (t->p.max_ops && th->op_index >= t->p.max_ops)
			break;
		do_one_op(th);
		lockdep_sys_exit();
	}
	/* Parked for good: the audits need not wait for this worker (in
	 * serial mode before it leaves, or an auditor could wait forever). */
	__atomic_store_n(&th->parked, -1, __ATOMIC_RELEASE);
	if (t->p.serial)
		ft_serial_exit();
	ft_sched_set_current(NULL);
	/*
	 * Returned threads are joined only at the end of the run.  A worker
	 * that fails meanwhile ends the process from its own thread, and
	 * TSan reports every returned thread not yet joined as a thread leak:
	 * an outcome of its own, which hid the failure from the minimizer.
	 */
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
		ft_sleep_ns(NSEC_PER_MSEC);
	return NULL;
}
