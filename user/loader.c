// SPDX-License-Identifier: MIT OR Apache-2.0
/* Opening, configuring and loading the XDP classifier object. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pktspec.h"
#include "pktspec.skel.h"

/*
 * Gives an object's pks_flows the size of the pinned flow table, which libbpf
 * must reuse (it refuses a pinned map of another size). Returns whether a
 * pinned table exists.
 */
bool pks_flows_adopt_pinned_size(struct bpf_map *flows)
{
	int fd = bpf_obj_get(PKS_PIN_DIR "/" PKS_MAP_FLOWS);
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (fd < 0)
		return false;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		bpf_map__set_max_entries(flows, info.max_entries);
	close(fd);
	return true;
}

/*
 * Opens the skeleton, configures .rodata and map sizes between open and load,
 * and loads it. Pinned: maps are shared through PKS_PIN_DIR (reused when
 * already pinned, pinned when new). Private: no map is pinned, so a replay
 * never touches a live attachment.
 */
int pks_load(const struct pks_load_opts *o, struct pktspec_bpf **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .pin_root_path = PKS_PIN_DIR);
	struct pktspec_bpf *skel;
	struct bpf_map *map;
	int err;

	*out = NULL;
	if (o->pinned && mkdir(PKS_PIN_DIR, 0700) < 0 && errno != EEXIST) {
		err = -errno;
		pks_fail("cannot create %s: %s", PKS_PIN_DIR, strerror(errno));
		return err;
	}
	skel = pktspec_bpf__open_opts(&open_opts);
	if (!skel) {
		err = -errno;
		pks_fail("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	bpf_object__for_each_map(map, skel->obj) {
		if (!o->pinned)
			bpf_map__set_pin_path(map, NULL);
	}
	if (o->max_flows)
		bpf_map__set_max_entries(skel->maps.pks_flows, o->max_flows);
	if (o->inspect_max)
		skel->rodata->pks_cfg.inspect_max = o->inspect_max;

	err = pktspec_bpf__load(skel);
	if (err) {
		if (o->pinned && err == -EINVAL)
			pks_fail("cannot load the classifier: the maps pinned in %s do not match this "
				 "build or --max-flows (detach every interface first, or pass the same "
				 "--max-flows)",
				 PKS_PIN_DIR);
		else if (err == -EPERM)
			pks_fail("cannot load the classifier: permission denied (needs root, CAP_BPF)");
		else
			pks_fail("cannot load the classifier: %s (run with -v for the verifier log)",
				 strerror(-err));
		pktspec_bpf__destroy(skel);
		return err;
	}
	*out = skel;
	return 0;
}
