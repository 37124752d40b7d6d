/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The instance lock (lock.c): one sluiced per state directory and per pin
 * directory, held from before the first read until the process exits.
 */
#ifndef SLUICED_LOCK_H
#define SLUICED_LOCK_H

#include <stddef.h>

#define SL_LOCK_FILE	"sluiced.lock"

struct sl_lock {
	int state_fd;		/* STATE_DIR/sluiced.lock, flock()ed */
	int pin_fd;		/* the pin directory, flock()ed */
};

void sl_lock_init(struct sl_lock *l);
/*
 * Take the lock; -EBUSY with @err naming the holder's PID when another
 * sluiced has it, another -errno when the lock cannot be taken at all.
 * The directory must exist. The lock lasts until the process exits.
 */
int sl_lock_state_dir(struct sl_lock *l, const char *state_dir, const char *instance,
		      char *err, size_t errlen);
int sl_lock_pin_dir(struct sl_lock *l, const char *pin_dir, const char *instance,
		    char *err, size_t errlen);

#endif /* SLUICED_LOCK_H */
