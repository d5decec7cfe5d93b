// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * The egress classifier (bpf/pktspec_egress.bpf.c): loading it onto the
 * classifier's pinned maps and attaching it to an interface's clsact egress
 * hook, for end hosts whose replies XDP never sees.
 *
 * Like the tc policy filter it is a plain tc filter (no bpf_link before 6.6),
 * found by handle PKS_TC_HANDLE, priority PKS_EGRESS_PRIO and program name
 * pks_egress. PKS_EGRESS_PRIO is one below the policy filter's priority, so
 * on a hook with both the classifier runs first and the policy program acts
 * on the verdict this very packet produced. The clsact qdisc and its marker
 * are handled by user/tc.c (pks_tc_clsact_ensure, pks_tc_detach).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec/policy.h"
#include "pktspec.skel.h"
#include "pktspec_egress.skel.h"

#define EGRESS_PROG_NAME "pks_egress"

__u32 pks_egress_query(unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PKS_TC_HANDLE, .priority = PKS_EGRESS_PRIO);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd;

	if (bpf_tc_query(&hook, &opts))
		return 0;
	fd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (fd < 0)
		return opts.prog_id;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strcmp(info.name, EGRESS_PROG_NAME)) {
		close(fd);
		return 0; /* someone else's filter at our place */
	}
	close(fd);
	return opts.prog_id;
}

int pks_egress_attach(unsigned int ifindex, const char *ifname, const struct pks_load_opts *lo)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = PKS_PIN_DIR);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PKS_TC_HANDLE, .priority = PKS_EGRESS_PRIO,
		    .flags = BPF_TC_F_REPLACE);
	struct pktspec_egress_bpf *skel;
	int err;

	skel = pktspec_egress_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		pks_fail("cannot open the egress classifier: %s", strerror(-err));
		return err;
	}
	/* The flow table is the XDP classifier's: take its pinned size, or libbpf refuses to reuse it. */
	if (!pks_flows_adopt_pinned_size(&PKS_FLOW_MAPS(skel)) && lo)
		pks_flows_set_size(&PKS_FLOW_MAPS(skel), lo);
	if (lo && lo->inspect_max)
		skel->rodata->pks_cfg.inspect_max = lo->inspect_max;
	if (lo)
		pks_tunnel_ports_apply(lo, &skel->rodata->pks_cfg);
	skel->rodata->pks_cfg.coarse_clock = pks_have_coarse_clock(BPF_PROG_TYPE_SCHED_CLS);
	err = pks_skel_load(skel->skeleton, "the egress classifier");
	if (err)
		goto out;
	err = pks_tc_clsact_ensure(ifindex, ifname);
	if (err)
		goto out;
	if (!pks_egress_query(ifindex)) {
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = PKS_TC_HANDLE, .priority = PKS_EGRESS_PRIO);

		if (bpf_tc_query(&hook, &q) == 0) {
			pks_fail("%s egress already has a filter at pktspec's handle %#x priority %u that is "
				 "not pktspec's; remove it first",
				 ifname, PKS_TC_HANDLE, PKS_EGRESS_PRIO);
			err = -EEXIST;
			goto out;
		}
	}
	opts.prog_fd = bpf_program__fd(skel->progs.pks_egress);
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		pks_fail("cannot attach the egress classifier to %s: %s", ifname, strerror(-err));
out:
	/* The filter holds the program and its maps; the skeleton can go. */
	pktspec_egress_bpf__destroy(skel);
	return err;
}

int pks_egress_detach(unsigned int ifindex, const char *ifname, bool *found)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PKS_TC_HANDLE, .priority = PKS_EGRESS_PRIO);
	int err;

	*found = false;
	if (!pks_egress_query(ifindex))
		return 0;
	*found = true;
	err = bpf_tc_detach(&hook, &opts);
	if (err && err != -ENOENT) {
		pks_fail("cannot remove the egress classifier from %s: %s", ifname, strerror(-err));
		return err;
	}
	return 0;
}
