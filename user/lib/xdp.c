// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* libxdp attach/detach/find for sluice's programs (see xdp.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>

#include "xdp.h"

static int lib_verbose;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	if (!lib_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int xdp_print_fn(enum libxdp_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	if (!lib_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void sl_lib_verbose(int verbose)
{
	lib_verbose = verbose;
	libbpf_set_print(print_fn);
	libxdp_set_print(xdp_print_fn);
}

static void set_err(char *err, size_t errlen, const char *what,
		    const char *ifname, int rc)
{
	char buf[128];

	libxdp_strerror(rc, buf, sizeof(buf));
	snprintf(err, errlen, "%s %s: %s", what, ifname, buf);
}

/*
 * The attached program called @name on @ifindex into *@pp (NULL: none;
 * caller closes *@mpp): 0, or why the interface's programs could not be
 * read. libxdp finds them by id, which the kernel allows only with
 * CAP_SYS_ADMIN: without it this is -EPERM, never "none", so that a
 * detach or a scrape does not report success while it did nothing.
 */
static int find_prog(int ifindex, const char *name, struct xdp_multiprog **mpp,
		     struct xdp_program **pp)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	int rc = libxdp_get_error(mp);

	*mpp = NULL;
	*pp = NULL;
	if (rc == -ENOENT) /* no XDP program on the interface at all */
		return 0;
	if (rc)
		return rc;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && strcmp(xdp_program__name(p), name))
			p = NULL;
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			if (!strcmp(xdp_program__name(p), name))
				break;
	}
	*mpp = mp;
	*pp = p;
	return 0;
}

/* @err for a failed find_prog(): the likely cause when it is EPERM. */
static void set_find_err(char *err, size_t errlen, const char *ifname, int rc)
{
	const char *hint = "";
	char buf[128];

	if (rc == -EPERM)
		hint = " (finding a program by id needs CAP_SYS_ADMIN)";
	libxdp_strerror(rc, buf, sizeof(buf));
	snprintf(err, errlen, "cannot read the XDP programs on %s: %s%s",
		 ifname, buf, hint);
}

/* The netlink flag of libxdp's @mode. */
static __u32 mode_flag(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return XDP_FLAGS_DRV_MODE;
	case XDP_MODE_SKB:
		return XDP_FLAGS_SKB_MODE;
	case XDP_MODE_HW:
		return XDP_FLAGS_HW_MODE;
	default:
		return 0;
	}
}

/*
 * Program @prog_fd in the place of @old, which runs alone (no libxdp
 * dispatcher), in @mp's mode: one atomic swap, so no packet meets the
 * interface without either (libxdp refuses it: "unload first").
 */
static int replace_legacy(int prog_fd, struct xdp_program *old,
			  struct xdp_multiprog *mp, int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts,
		    .old_prog_fd = xdp_program__fd(old));
	__u32 flags = mode_flag(xdp_multiprog__attach_mode(mp));

	/* A negative fd would detach the old program and attach nothing. */
	if (prog_fd < 0 || opts.old_prog_fd < 0)
		return -EBADF;
	return bpf_xdp_attach(ifindex, prog_fd, flags | XDP_FLAGS_REPLACE,
			      &opts);
}

int sl_xdp_attach(struct bpf_object *obj, const char *prog_name,
		  const char *ifname, enum xdp_attach_mode mode,
		  char *err, size_t errlen)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = obj,
			    .prog_name = prog_name);
	struct bpf_program *bp =
		bpf_object__find_program_by_name(obj, prog_name);
	int new_fd = bp ? bpf_program__fd(bp) : -ENOENT;
	struct xdp_program *prog = NULL, *old;
	struct xdp_multiprog *mp;
	int ifindex = if_nametoindex(ifname);
	int rc;

	if (!ifindex) {
		snprintf(err, errlen, "no interface %s", ifname);
		return -ENODEV;
	}
	/* An older copy of the same program: replace it in one swap when it
	 * runs alone, else detach it after the new one is in (libxdp swaps
	 * the dispatcher); either way some version always runs. */
	rc = find_prog(ifindex, prog_name, &mp, &old);
	if (rc) {
		set_find_err(err, errlen, ifname, rc);
		return rc;
	}
	if (old && xdp_multiprog__is_legacy(mp)) {
		rc = replace_legacy(new_fd, old, mp, ifindex);
		if (rc)
			set_err(err, errlen,
				"cannot replace the XDP program on", ifname,
				rc);
		goto out;
	}
	/* libxdp's handle, for its attach only: a replace needs none. */
	prog = xdp_program__create(&opts);
	rc = libxdp_get_error(prog);
	if (rc) {
		prog = NULL;
		set_err(err, errlen, "cannot prepare XDP program for", ifname,
			rc);
		goto out;
	}
	rc = xdp_program__attach(prog, ifindex, mode, 0);
	if (rc) {
		set_err(err, errlen, "cannot attach XDP program to", ifname, rc);
		goto out;
	}
	if (old) {
		rc = xdp_program__detach(old, ifindex, xdp_multiprog__attach_mode(mp), 0);
		if (rc)
			set_err(err, errlen, "cannot detach old XDP program from",
				ifname, rc);
	}
out:
	if (mp)
		xdp_multiprog__close(mp);
	if (prog)
		xdp_program__close(prog);
	return rc;
}

int sl_xdp_detach(const char *ifname, const char *prog_name,
		  char *err, size_t errlen)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int ifindex = if_nametoindex(ifname);
	int rc = 0;

	if (!ifindex) {
		snprintf(err, errlen, "no interface %s", ifname);
		return -ENODEV;
	}
	rc = find_prog(ifindex, prog_name, &mp, &p);
	if (rc) {
		set_find_err(err, errlen, ifname, rc);
	} else if (p) {
		rc = xdp_program__detach(p, ifindex,
					 xdp_multiprog__attach_mode(mp), 0);
		if (rc)
			set_err(err, errlen, "cannot detach XDP program from",
				ifname, rc);
	}
	if (mp)
		xdp_multiprog__close(mp);
	return rc;
}

int sl_xdp_find(const char *ifname, const char *prog_name)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int ifindex = if_nametoindex(ifname);
	int rc, fd = -ENOENT;

	if (!ifindex)
		return -ENODEV;
	rc = find_prog(ifindex, prog_name, &mp, &p);
	if (rc) {
		fd = rc;
	} else if (p) {
		fd = dup(xdp_program__fd(p));
		if (fd < 0)
			fd = -errno;
	}
	if (mp)
		xdp_multiprog__close(mp);
	return fd;
}

int sl_prog_map_fd(int prog_fd, const char *map_name)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), ids[64], i;
	int fd;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	for (i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi);

		fd = bpf_map_get_fd_by_id(ids[i]);
		if (fd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) &&
		    !strcmp(mi.name, map_name))
			return fd;
		close(fd);
	}
	return -ENOENT;
}
