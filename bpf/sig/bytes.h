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
	PKS_TAG_REDIS,
	PKS_TAG_CQL,
	PKS_TAG_DNP3,
	PKS_TAG_LDAP,
	PKS_TAG_MEMC_TEXT,
	PKS_TAG_MEMC_BIN,
	PKS_TAG_MODBUS,
	PKS_TAG_STOMP,
	PKS_TAG_ZK_4LW,
	PKS_TAG_ZK_CONNECT,
	PKS_TAG_OVPN_SHA512,
	PKS_TAG_MID, /* bpf/sig/midstream.h: a first mid-session frame */
	PKS_TAG_NTP_CTL, /* bpf/sig/ntp.h: a mode 6 request's sequence and opcode */
	PKS_TAG_TELNET, /* bpf/sig/telnet.h: one lone negotiation seen */
};

/*
 * Branch-free comparisons for bounded scans: each returns 0 or 1 computed
 * with arithmetic, so a loop over the window adds no branch per byte for the
 * verifier to follow (its cost stays linear in the loop length). Arguments
 * are below 2^32, so the 64-bit difference's sign bit is the answer.
 *
 * The difference passes through an empty asm: knowing both arguments are
 * 32-bit, the compiler would see "a < b" in the sign bit and, BPF having no
 * conditional move, bring the branch back (one per byte, and the verifier
 * following every later byte once per outcome of the earlier ones).
 */
static __always_inline __u64 pks_u64_opaque(__u64 v)
{
	asm volatile("" : "+r"(v));
	return v;
}

static __always_inline __u64 pks_lt(__u64 a, __u64 b)
{
	return pks_u64_opaque(a - b) >> 63;
}

static __always_inline __u64 pks_is(__u64 c, __u64 v)
{
	return (pks_u64_opaque(c ^ v) - 1) >> 63;
}

static __always_inline __u64 pks_in_range(__u64 c, __u64 lo, __u64 hi)
{
	return (pks_lt(c, lo) ^ 1) & (pks_lt(hi, c) ^ 1);
}

/* Number of set bits (SWAR: no loop). */
static __always_inline __u32 pks_popcount64(__u64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (x * 0x0101010101010101ULL) >> 56;
}

#endif
