/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The instance's pins in bpffs (pins.c): which ones this start created
 * (so a failed first start removes exactly those), and keeping them in
 * place while sluiced runs (bpffs unmounted or the pin directory removed:
 * sluiced still holds every map and link fd, says so loudly, and re-pins
 * once bpffs is back).
 */
#ifndef SLUICED_PINS_H
#define SLUICED_PINS_H

#include <stdbool.h>
#include <limits.h>
#include <linux/types.h>

struct bpf_object;
struct sl_lock;

#define SL_PINS_MAX		40
#define SL_PINS_CHECK_MS	1000	/* how often the main loop looks */

struct sl_pin {
	char name[64];		/* map name or "link_IFNAME" */
	int fd;			/* our reference; -1 until known */
	__u32 id;		/* kernel object id: tells our pin from another's */
	bool existed;		/* pinned before this start */
	bool link;		/* a bpf_link (ours to close), else a map (the skeleton's) */
};

struct sl_pins {
	char dir[PATH_MAX];
	bool dir_created;	/* this start created the directory */
	struct sl_pin pin[SL_PINS_MAX];
	unsigned int n;
	bool lost;		/* some pin is missing and cannot be restored now */
	__u64 next_check_ms;
	__u64 repins;		/* pins restored since start */
};

void sl_pins_init(struct sl_pins *p, const char *dir, bool dir_created);
/* Before loading @obj (pin paths set): which of its pins exist already. */
void sl_pins_note_maps(struct sl_pins *p, struct bpf_object *obj);
/* After loading: the map fds and ids, our references. */
void sl_pins_take_maps(struct sl_pins *p, struct bpf_object *obj);
/* A link attached (and pinned as @name) by this start; @fd stays open. A
 * link of that name already held (its interface re-created) is closed
 * and replaced. */
void sl_pins_add_link(struct sl_pins *p, const char *name, int fd, bool created);
/*
 * A first start failed: unpin what this start pinned (maps it created,
 * links it created, which detaches them) and remove the directory if this
 * start created it. Pins a previous run left are kept.
 */
void sl_pins_undo(struct sl_pins *p);
/*
 * From the main loop (rate-limited to SL_PINS_CHECK_MS): are our pins in
 * place? Missing ones are pinned again from our fds (the directory too,
 * once bpffs is back, re-taking the pin-directory lock); a pin naming
 * another object is left alone and reported. Logs on each change of
 * state. Returns true when every pin is ours and in place.
 */
bool sl_pins_check(struct sl_pins *p, struct sl_lock *lock, const char *instance,
		   __u64 now_ms);

/* What runs on @ifindex's XDP hook, asked of the kernel. */
enum sl_xdp_state {
	SL_XDP_GONE, /* no such device, or it cannot be asked */
	SL_XDP_NONE, /* no XDP program at all */
	SL_XDP_OURS, /* the program with the id asked about */
	SL_XDP_OTHER, /* some other program */
};

enum sl_xdp_state sl_xdp_state(unsigned int ifindex, __u32 prog_id);

/* Is the XDP program with id @prog_id the one attached to @ifindex? */
static inline bool sl_xdp_attached(unsigned int ifindex, __u32 prog_id)
{
	return prog_id && sl_xdp_state(ifindex, prog_id) == SL_XDP_OURS;
}

#endif /* SLUICED_PINS_H */
