/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Byte helpers shared by the TCP group's signatures: little-endian loads
 * (MySQL and Zabbix put their fields in that order; offsets constant or
 * masked, like pks_be16()) and the group's cookie tags.
 */
#ifndef PKTSPEC_BPF_SIG_BYTES_H
#define PKTSPEC_BPF_SIG_BYTES_H

#include "sig.h"

static __always_inline __u16 pks_le16(const struct pks_payload *p, __u32 off)
{
	return p->b[off & PKS_WIN_MASK] | ((__u16)p->b[(off + 1) & PKS_WIN_MASK] << 8);
}

static __always_inline __u32 pks_le24(const struct pks_payload *p, __u32 off)
{
	return pks_le16(p, off) | ((__u32)p->b[(off + 2) & PKS_WIN_MASK] << 16);
}

static __always_inline __u32 pks_le32(const struct pks_payload *p, __u32 off)
{
	return pks_le16(p, off) | ((__u32)pks_le16(p, off + 2) << 16);
}

/* Cookies of this group carry a protocol tag in the top byte, so state left by one protocol never passes for another's. */
#define PKS_TAG_COOKIE(tag, v) (((__u32)(tag) << 24) | ((v) & 0xffffff))
#define PKS_COOKIE_TAG(c) ((c) >> 24)

enum pks_tcp_b_tag {
	PKS_TAG_PGSQL_STARTUP = 0xb1,
	PKS_TAG_PGSQL_SSL,
	PKS_TAG_MSSQL,
	PKS_TAG_MQTT,
};

#endif
