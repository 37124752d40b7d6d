/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Attaching sluice's XDP programs with libxdp, and finding them again. */
#ifndef SLUICE_USER_XDP_H
#define SLUICE_USER_XDP_H

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

/*
 * Attach @prog_name of a loaded @obj to @ifname, replacing a program of the
 * same name already there (an upgrade) in one atomic step. Fills @err.
 */
int sl_xdp_attach(struct bpf_object *obj, const char *prog_name,
		  const char *ifname, enum xdp_attach_mode mode,
		  char *err, size_t errlen);
/* Detach the program called @prog_name from @ifname (0 if not attached). */
int sl_xdp_detach(const char *ifname, const char *prog_name,
		  char *err, size_t errlen);
/* fd of the program called @prog_name attached to @ifname, or -errno. */
int sl_xdp_find(const char *ifname, const char *prog_name);
/* fd of the map called @map_name used by program @prog_fd, or -errno. */
int sl_prog_map_fd(int prog_fd, const char *map_name);
/* Route libbpf/libxdp chatter to stderr only when @verbose. */
void sl_lib_verbose(int verbose);

#endif /* SLUICE_USER_XDP_H */
