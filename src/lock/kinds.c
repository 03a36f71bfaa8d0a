// SPDX-License-Identifier: GPL-2.0-only
/*
 * The lock kinds as one ops table (locktorture's lock_torture_ops): the
 * lock torture and the validate tests loop over it, selected by --kind.
 */
#include <string.h>

#include "ft/lock.h"

/* ---- spinlock ------------------------------------------------------------ */

static void spin_init(void *l)
{
	static struct lock_class_key key;

	__spin_lock_init(l, "lock_kind_spin", &key);
}

static void spin_lock_op(void *l, const struct lock_site *site)
{
	_spin_lock(l, 0, site);
}

static bool spin_trylock_op(void *l, const struct lock_site *site)
{
	return _spin_trylock(l, site);
}

static void spin_unlock_op(void *l, const struct lock_site *site)
{
	_spin_unlock(l, site);
}

static void spin_assert_held(void *l, const struct lock_site *site)
{
	spinlock_t *lock = l;

	_lockdep_assert_held(&lock->dep_map, &lock->dep_map, -1, site);
}

static const struct ft_lock_kind spin_kind = {
	.name = "spinlock",
	.desc = "spinlock_t: test-and-test-and-set (the PTL, mm->page_table_lock)",
	.size = sizeof(spinlock_t),
	.init = spin_init,
	.lock = spin_lock_op,
	.trylock = spin_trylock_op,
	.unlock = spin_unlock_op,
	.assert_held = spin_assert_held,
};

/* ---- bit_spin_lock ------------------------------------------------------- */

/* Bit 31 of the word, the position of FOLIO_MM_IDS_LOCK_BITNUM
 * (include/linux/mm_types.h); the other bits are free for atomic users
 * (FT_LK_SHARED_WORD). */
DEFINE_BIT_SPIN_CLASS(lock_kind_bit_class, "lock_kind_bit");

static void bit_init(void *l)
{
	*(unsigned long *)l = 0;
}

static void bit_lock_op(void *l, const struct lock_site *site)
{
	_bit_spin_lock(FT_LK_BITNUM, l, &lock_kind_bit_class, site);
}

static bool bit_trylock_op(void *l, const struct lock_site *site)
{
	return _bit_spin_trylock(FT_LK_BITNUM, l, &lock_kind_bit_class, site);
}

static void bit_unlock_op(void *l, const struct lock_site *site)
{
	_bit_spin_unlock(FT_LK_BITNUM, l, &lock_kind_bit_class, site);
}

static void bit_assert_held(void *l, const struct lock_site *site)
{
	_lockdep_assert_held(&lock_kind_bit_class, l, FT_LK_BITNUM, site);
}

static const struct ft_lock_kind bit_kind = {
	.name = "bit_spin_lock",
	.desc = "bit_spin_lock on bit 31 of an unsigned long (the _mm_ids lock)",
	.caps = FT_LK_SHARED_WORD,
	.size = sizeof(unsigned long),
	.init = bit_init,
	.lock = bit_lock_op,
	.trylock = bit_trylock_op,
	.unlock = bit_unlock_op,
	.assert_held = bit_assert_held,
};

/* ---- rw_semaphore ---------------------------------------------------------- */

static void rwsem_init_op(void *l)
{
	static struct lock_class_key key;

	__init_rwsem(l, "lock_kind_rwsem", &key);
}

static void rwsem_down_write(void *l, const struct lock_site *site)
{
	_down_write(l, 0, site);
}

static bool rwsem_down_write_trylock(void *l, const struct lock_site *site)
{
	return _down_write_trylock(l, site);
}

static void rwsem_up_write(void *l, const struct lock_site *site)
{
	_up_write(l, site);
}

static void rwsem_down_read(void *l, const struct lock_site *site)
{
	_down_read(l, 0, site);
}

static bool rwsem_down_read_trylock(void *l, const struct lock_site *site)
{
	return _down_read_trylock(l, site);
}

static void rwsem_up_read(void *l, const struct lock_site *site)
{
	_up_read(l, site);
}

static void rwsem_downgrade(void *l, const struct lock_site *site)
{
	_downgrade_write(l, site);
}

static void rwsem_assert_held(void *l, const struct lock_site *site)
{
	struct rw_semaphore *sem = l;

	_lockdep_assert_held(&sem->dep_map, &sem->dep_map, -1, site);
}

static const struct ft_lock_kind rwsem_kind = {
	.name = "rwsem",
	.desc = "rw_semaphore: FIFO, writer-fair (mmap_lock, the VMA lock)",
	.caps = FT_LK_READERS | FT_LK_DOWNGRADE,
	.size = sizeof(struct rw_semaphore),
	.init = rwsem_init_op,
	.lock = rwsem_down_write,
	.trylock = rwsem_down_write_trylock,
	.unlock = rwsem_up_write,
	.read_lock = rwsem_down_read,
	.read_trylock = rwsem_down_read_trylock,
	.read_unlock = rwsem_up_read,
	.downgrade = rwsem_downgrade,
	.assert_held = rwsem_assert_held,
};

/* ---- busted: BUGGY, do not use in real life!!! ------------------------------- */

/* locktorture's lock_busted_ops: excludes nothing, so that a checker that
 * passes it is shown to be blind. */
static void busted_init(void *l)
{
	(void)l;
}

static void busted_lock(void *l, const struct lock_site *site)
{
	(void)l;
	(void)site;
}

static bool busted_trylock(void *l, const struct lock_site *site)
{
	(void)l;
	(void)site;
	return true;
}

static const struct ft_lock_kind busted_kind = {
	.name = "busted",
	.desc = "negative control: a lock that excludes nothing",
	.caps = FT_LK_BUSTED,
	.size = sizeof(long),
	.init = busted_init,
	.lock = busted_lock,
	.trylock = busted_trylock,
	.unlock = busted_lock,
};

/*
 * busted_bit: excludes, but unlocks with __bit_spin_unlock(), the plain
 * store of the whole word.  A concurrent atomic update of another bit of
 * the word is lost, which is why the kernel uses that unlock only where
 * every writer of the word holds the lock (folio _mm_ids,
 * include/linux/rmap.h).
 */
static void busted_bit_unlock(void *l, const struct lock_site *site)
{
	___bit_spin_unlock(FT_LK_BITNUM, l, &lock_kind_bit_class, site);
}

static const struct ft_lock_kind busted_bit_kind = {
	.name = "busted_bit",
	.desc = "negative control: bit lock whose unlock loses other bits' updates",
	.caps = FT_LK_SHARED_WORD | FT_LK_BUSTED,
	.size = sizeof(unsigned long),
	.init = bit_init,
	.lock = bit_lock_op,
	.trylock = bit_trylock_op,
	.unlock = busted_bit_unlock,
	.assert_held = bit_assert_held,
};

const struct ft_lock_kind *const ft_lock_kinds[] = {
	&spin_kind, &bit_kind, &rwsem_kind, &busted_kind, &busted_bit_kind, NULL,
};

const struct ft_lock_kind *ft_lock_kind_find(const char *name)
{
	for (int i = 0; ft_lock_kinds[i]; i++) {
		if (!strcmp(ft_lock_kinds[i]->name, name))
			return ft_lock_kinds[i];
	}
	return NULL;
}
