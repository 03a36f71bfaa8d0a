/* SPDX-License-Identifier: GPL-2.0-only */
/* Private to models/: the ops table each model exports. */
#ifndef FT_MODELS_H
#define FT_MODELS_H

#include "ft/mapcount.h"

extern const struct ft_mapcount_ops owner_slots_ops;
extern const struct ft_mapcount_ops owner_slots_v1_ops;
extern const struct ft_mapcount_ops rmap_id_ops;

#endif /* FT_MODELS_H */
