/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * sluiced attaches its XDP program through a bpf_link pinned in the
 * instance's pin directory: the link outlives the daemon (a crash or a
 * restart never detaches), and a restart or upgrade swaps the program in
 * one atomic bpf_link_update, so some version always runs.
 */
#ifndef SLUICE_LINK_H
#define SLUICE_LINK_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Attach @prog_fd to @ifname, or replace the program of the pinned link.
 * On success *@fd_out is the link's fd, for the caller to keep open: it
 * keeps the program attached even if the pin is lost (bpffs unmounted);
 * *@created says the link is new (no pinned link was there before).
 */
int sl_link_attach(int prog_fd, const char *ifname, bool skb_mode,
		   const char *pin_path, int *fd_out, bool *created,
		   char *err, size_t errlen);
/* Detach and unpin; 0 when there was nothing to detach. */
int sl_link_detach(const char *pin_path, char *err, size_t errlen);

#endif /* SLUICE_LINK_H */
