/* SPDX-License-Identifier: (MIT OR Apache-2.0 OR GPL-2.0) */
/*
 * Byte helpers shared by the TCP group's signatures: little-endian loads
 * (MySQL, MongoDB, Zabbix and DNP3 put their fields in that order; offsets
 * constant or masked, like pks_be16()), branch-free byte classes, and the
 * group's cookie tags.
 *
 * Why branch-free: the group is inlined into pks_classify() (no stack is left
 * for a call of its own), so a loop that branches on each byte multiplies the
 * verifier's paths; values computed arithmetically stay unknown to the
 * verifier and the paths of a loop merge again at its head.
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

/* 1 when lo <= c <= hi, else 0, without a branch. */
static __always_inline __u64 pks_in_range(__u32 c, __u32 lo, __u32 hi)
{
	return ((((__u64)((__s64)c - lo)) | ((__u64)((__s64)hi - c))) >> 63) ^ 1;
}

/* 1 when c == v, else 0, without a branch. */
static __always_inline __u64 pks_is(__u32 c, __u32 v)
{
	return ((__u64)(c ^ v) - 1) >> 63;
}

/* 1 when a < b, else 0, without a branch (both below 2^62). */
static __always_inline __u64 pks_lt(__u64 a, __u64 b)
{
	return (a - b) >> 63;
}

/* Cookies of this group carry a protocol tag in the top byte, so state left by one protocol never passes for another's. */
#define PKS_TAG_COOKIE(tag, v) (((__u32)(tag) << 24) | ((v) & 0xffffff))
#define PKS_COOKIE_TAG(c) ((c) >> 24)

enum pks_tcp_b_tag {
	PKS_TAG_PGSQL_STARTUP = 0xb1,
	PKS_TAG_PGSQL_SSL,
	PKS_TAG_MSSQL,
	PKS_TAG_REDIS,
	PKS_TAG_MEMC_TEXT,
	PKS_TAG_MEMC_BIN,
	PKS_TAG_CQL,
	PKS_TAG_ZK_CONNECT,
	PKS_TAG_ZK_4LW,
	PKS_TAG_MQTT,
	PKS_TAG_STOMP,
	PKS_TAG_LDAP,
	PKS_TAG_KRB,
	PKS_TAG_MODBUS,
	PKS_TAG_DNP3,
	PKS_TAG_IEC104,
};

#endif
