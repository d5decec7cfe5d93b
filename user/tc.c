// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Attaching the tc policy program (bpf/pktspec_tc.bpf.c) to an interface's
 * clsact hooks, finding it again, and removing it.
 *
 * A tc filter is not a bpf_link on the kernels we support (tcx links are
 * 6.6+), so nothing is pinned for it: the filter itself keeps the program
 * alive. Our filter is the one with handle PKS_TC_HANDLE and priority
 * PKS_TC_PRIO whose program is named pks_tc; status and detach find it with
 * bpf_tc_query, and detach deletes only that filter. The clsact qdisc is
 * shared with the user's own filters: when pktspec had to create it, it leaves
 * a marker directory in bpffs (PKS_LINK_DIR/clsact_<ifindex>_<netns inode>),
 * and detach removes the qdisc only then, and only when no other filter is
 * left on it.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec/policy.h"
#include "pktspec_tc.skel.h"

#define TC_PROG_NAME "pks_tc"

static const struct {
	int dir;
	enum bpf_tc_attach_point point;
	const char *name;
} hooks[] = {
	{ PKS_TC_DIR_INGRESS, BPF_TC_INGRESS, "ingress" },
	{ PKS_TC_DIR_EGRESS, BPF_TC_EGRESS, "egress" },
};

int pks_tc_parse_dirs(const char *s)
{
	if (!s || !strcmp(s, "both"))
		return PKS_TC_DIR_INGRESS | PKS_TC_DIR_EGRESS;
	if (!strcmp(s, "ingress"))
		return PKS_TC_DIR_INGRESS;
	if (!strcmp(s, "egress"))
		return PKS_TC_DIR_EGRESS;
	return -1;
}

static unsigned long netns_inode(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return 0;
	return (unsigned long)st.st_ino;
}

static void clsact_marker(unsigned int ifindex, char *path, size_t len)
{
	snprintf(path, len, "%s/clsact_%u_%lu", PKS_LINK_DIR, ifindex, netns_inode());
}

/* The program ID of our filter on one hook: 0 when there is none. */
static __u32 our_filter(unsigned int ifindex, enum bpf_tc_attach_point point, bool *foreign)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PKS_TC_HANDLE, .priority = PKS_TC_PRIO);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd;

	if (foreign)
		*foreign = false;
	if (bpf_tc_query(&hook, &opts))
		return 0;
	fd = bpf_prog_get_fd_by_id(opts.prog_id);
	if (fd < 0)
		return opts.prog_id; /* cannot tell; it is at our handle and priority */
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strcmp(info.name, TC_PROG_NAME)) {
		close(fd);
		if (foreign)
			*foreign = true;
		return 0;
	}
	close(fd);
	return opts.prog_id;
}

int pks_tc_query(unsigned int ifindex, __u32 *ingress_id, __u32 *egress_id)
{
	*ingress_id = our_filter(ifindex, BPF_TC_INGRESS, NULL);
	*egress_id = our_filter(ifindex, BPF_TC_EGRESS, NULL);
	return (*ingress_id ? PKS_TC_DIR_INGRESS : 0) | (*egress_id ? PKS_TC_DIR_EGRESS : 0);
}

/*
 * Opens the tc object with its maps pinned under PKS_PIN_DIR. pks_flows is
 * the classifier's: take its pinned size, or libbpf refuses to reuse it.
 */
static int tc_open(struct pktspec_tc_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = PKS_PIN_DIR);
	struct pktspec_tc_bpf *skel;
	int err;

	*out = NULL;
	if (mkdir(PKS_PIN_DIR, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		pks_fail("cannot create %s: %s", PKS_PIN_DIR, strerror(errno));
		return err;
	}
	skel = pktspec_tc_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		pks_fail("cannot open the tc policy object: %s", strerror(-err));
		return err;
	}
	pks_flows_adopt_pinned_size(&PKS_FLOW_MAPS(skel));
	*out = skel;
	return 0;
}

/*
 * Pins the policy maps (creating them when missing) without loading the
 * program or creating any other map, so policies can be written before any
 * attachment and after the last detach. Returns a skeleton whose policy map fds are usable.
 */
int pks_policy_maps_open(struct pktspec_tc_bpf **out)
{
	struct pktspec_tc_bpf *skel;
	struct bpf_map *map;
	int err;

	err = tc_open(&skel);
	if (err)
		return err;
	bpf_program__set_autoload(skel->progs.pks_tc, false);
	/* Only the policy's maps: the flow tables and counters are the attachments' (pinned with them). */
	bpf_object__for_each_map(map, skel->obj)
		if (map != skel->maps.pks_policy && map != skel->maps.pks_pol_state && !bpf_map__is_internal(map))
			bpf_map__set_autocreate(map, false);
	err = pktspec_tc_bpf__load(skel);
	if (err) {
		pks_fail("cannot create the policy maps in %s: %s (the pinned maps may come from "
			 "another pktspec version)",
			 PKS_PIN_DIR, strerror(-err));
		pktspec_tc_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}

/*
 * Makes sure IFACE has a clsact qdisc (for the policy filter and the egress
 * classifier, user/egress.c); when pktspec creates it, a marker says so.
 */
int pks_tc_clsact_ensure(unsigned int ifindex, const char *ifname)
{
	char marker[PATH_MAX];
	int err;

	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	err = bpf_tc_hook_create(&hook);
	if (err == 0) {
		/* We made the clsact qdisc: remember, so detach may take it away again. */
		clsact_marker(ifindex, marker, sizeof(marker));
		if (mkdir(PKS_LINK_DIR, 0700) < 0 && errno != EEXIST)
			pks_fail("cannot create %s: %s", PKS_LINK_DIR, strerror(errno));
		else if (mkdir(marker, 0700) < 0 && errno != EEXIST)
			pks_fail("cannot record the clsact qdisc at %s: %s", marker, strerror(errno));
	} else if (err == -EEXIST) {
		__u32 in_id, eg_id;

		/*
		 * A clsact we made earlier carries a filter of ours still. A
		 * marker without one is stale (its interface went away and the
		 * index was reused): this clsact is someone else's.
		 */
		clsact_marker(ifindex, marker, sizeof(marker));
		if (!pks_tc_query(ifindex, &in_id, &eg_id) && !pks_egress_query(ifindex))
			rmdir(marker);
	} else {
		pks_fail("cannot create a clsact qdisc on %s: %s", ifname, strerror(-err));
		return err;
	}
	return 0;
}


int pks_tc_attach(unsigned int ifindex, const char *ifname, int dirs, const struct pks_load_opts *lo)
{
	struct pktspec_tc_bpf *skel = NULL;
	int attached = 0, err, ret = -EINVAL;

	err = tc_open(&skel);
	if (err)
		return err;
	/* The tunnels it opens are the classifier's (--tunnel-port). */
	pks_tunnel_ports_apply(lo, &skel->rodata->pks_cfg);
	err = pks_skel_load(skel->skeleton, "the tc policy program");
	if (err) {
		ret = err;
		goto out;
	}

	err = pks_tc_clsact_ensure(ifindex, ifname);
	if (err) {
		ret = err;
		goto out;
	}

	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PKS_TC_HANDLE, .priority = PKS_TC_PRIO,
			    .prog_fd = bpf_program__fd(skel->progs.pks_tc));
		bool foreign;

		if (!(dirs & hooks[i].dir))
			continue;
		hook.attach_point = hooks[i].point;
		our_filter(ifindex, hooks[i].point, &foreign);
		if (foreign) {
			pks_fail("%s %s already has a filter at pktspec's handle %#x priority %u that is not "
				 "pktspec's; remove it first",
				 ifname, hooks[i].name, PKS_TC_HANDLE, PKS_TC_PRIO);
			ret = -EEXIST;
			goto undo;
		}
		/* REPLACE: an older pktspec_tc of ours at the same place is updated. */
		opts.flags = BPF_TC_F_REPLACE;
		err = bpf_tc_attach(&hook, &opts);
		if (err) {
			pks_fail("cannot attach the tc policy program to %s %s: %s", ifname, hooks[i].name,
				 strerror(-err));
			ret = err;
			goto undo;
		}
		attached |= hooks[i].dir;
	}
	ret = 0;
	goto out;
undo:
	if (attached) {
		bool found;

		pks_tc_detach(ifindex, ifname, &found);
	}
out:
	/* The filters hold the program and its maps; the skeleton can go. */
	pktspec_tc_bpf__destroy(skel);
	return ret;
}

/* Filters on one clsact hook other than ours, by an RTM_GETTFILTER dump: count or -errno. */
static int other_filters(unsigned int ifindex, __u32 parent)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg tc;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETTFILTER,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.tc = { .tcm_family = AF_UNSPEC, .tcm_ifindex = (int)ifindex, .tcm_parent = parent },
	};
	char buf[16384];
	int fd, n, count = 0, err = 0;
	bool done = false;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		err = -errno;
		goto out;
	}
	while (!done && (n = recv(fd, buf, sizeof(buf), 0)) > 0) {
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned int)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				err = e->error ? e->error : -EIO;
				done = true;
				break;
			}
			if (h->nlmsg_type == RTM_NEWTFILTER) {
				struct tcmsg *t = NLMSG_DATA(h);

				if (!(t->tcm_handle == PKS_TC_HANDLE && TC_H_MAJ(t->tcm_info) >> 16 == PKS_TC_PRIO))
					count++;
			}
		}
	}
out:
	close(fd);
	return err ? err : count;
}

int pks_tc_detach(unsigned int ifindex, const char *ifname, bool *found)
{
	char marker[PATH_MAX];
	struct stat st;
	int ret = 0;

	*found = false;
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = hooks[i].point);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = PKS_TC_HANDLE, .priority = PKS_TC_PRIO);
		int err;

		if (!our_filter(ifindex, hooks[i].point, NULL))
			continue;
		*found = true;
		err = bpf_tc_detach(&hook, &opts);
		if (err && err != -ENOENT) {
			pks_fail("cannot remove the tc policy filter from %s %s: %s", ifname, hooks[i].name,
				 strerror(-err));
			ret = err;
		}
	}
	clsact_marker(ifindex, marker, sizeof(marker));
	if (stat(marker, &st) == 0) {
		int in = other_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS));
		int eg = other_filters(ifindex, TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS));

		if (in == 0 && eg == 0) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
				    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);

			bpf_tc_hook_destroy(&hook);
		}
		/* Either gone now or in use by others since: it is not ours any more. */
		rmdir(marker);
	}
	return ret;
}

/* One line (or JSON object) per tc attachment in this network namespace. */
int pks_tc_status(bool json, FILE *out)
{
	struct if_nameindex *ifs = if_nameindex();
	int n = 0;

	if (!ifs)
		return -errno;
	for (struct if_nameindex *i = ifs; i->if_index; i++) {
		__u32 in_id, eg_id, cl_id = pks_egress_query(i->if_index);

		if (cl_id) {
			/* The egress classifier (user/egress.c), listed with the tc filters. */
			if (json)
				fprintf(out, "%s{\"ifname\":\"%s\",\"ifindex\":%u,\"hook\":\"egress\",\"program\":"
					     "\"classifier\",\"prog_id\":%u,\"handle\":%u,\"priority\":%u}",
					n ? "," : "", i->if_name, i->if_index, cl_id, PKS_TC_HANDLE, PKS_EGRESS_PRIO);
			else
				fprintf(out, "%s%-16s %-8u %-8s %4x:%-7x %u (classifier)\n",
					n ? "" : "\ntc (this network namespace)\n"
						 "INTERFACE        IFINDEX  HOOK     HANDLE:PRIO  PROG\n",
					i->if_name, i->if_index, "egress", PKS_TC_HANDLE, PKS_EGRESS_PRIO, cl_id);
			n++;
		}
		if (!pks_tc_query(i->if_index, &in_id, &eg_id))
			continue;
		for (size_t h = 0; h < sizeof(hooks) / sizeof(hooks[0]); h++) {
			__u32 id = hooks[h].dir == PKS_TC_DIR_INGRESS ? in_id : eg_id;

			if (!id)
				continue;
			if (json)
				fprintf(out, "%s{\"ifname\":\"%s\",\"ifindex\":%u,\"hook\":\"%s\",\"prog_id\":%u,"
					     "\"handle\":%u,\"priority\":%u}",
					n ? "," : "", i->if_name, i->if_index, hooks[h].name, id, PKS_TC_HANDLE,
					PKS_TC_PRIO);
			else
				fprintf(out, "%s%-16s %-8u %-8s %4x:%-7x %u\n",
					n ? "" : "\ntc (this network namespace)\n"
						 "INTERFACE        IFINDEX  HOOK     HANDLE:PRIO  PROG\n",
					i->if_name, i->if_index, hooks[h].name, PKS_TC_HANDLE, PKS_TC_PRIO, id);
			n++;
		}
	}
	if_freenameindex(ifs);
	return n;
}
