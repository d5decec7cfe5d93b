// SPDX-License-Identifier: MIT OR Apache-2.0
/*
 * Reading captures for replay: pcap and pcapng through libpcap, every
 * supported link type turned into the Ethernet frame the XDP program parses.
 * Kept apart from libbpf code because <pcap/bpf.h> and <linux/bpf.h> both
 * define struct bpf_insn.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "textfile.h"

#define ETH_HLEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd


/* The link-layer types replay understands; others are rejected by name. */
static int ethertype_of_ip(const u_char *p, size_t len)
{
	if (len < 1)
		return -1;
	switch (p[0] >> 4) {
	case 4:
		return ETHERTYPE_IPV4;
	case 6:
		return ETHERTYPE_IPV6;
	}
	return -1;
}

/* BSD loopback: a 4-byte address family in the capturing host's byte order. */
static int ethertype_of_af(uint32_t af)
{
	uint32_t swapped = __builtin_bswap32(af);

	if (af == 2 || swapped == 2)
		return ETHERTYPE_IPV4;
	/* AF_INET6 differs by OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30. */
	for (int i = 0; i < 2; i++) {
		uint32_t v = i ? swapped : af;

		if (v == 10 || v == 24 || v == 28 || v == 30)
			return ETHERTYPE_IPV6;
	}
	return -1;
}

/*
 * Builds an Ethernet frame from a captured record of the given link type:
 * Ethernet is passed through; other link types get a synthetic Ethernet
 * header carrying the L3 protocol, followed by the L3 packet. Returns the
 * frame length, or 0 when the record has no network-layer packet we know.
 */
static size_t to_ethernet(int linktype, const u_char *pkt, size_t caplen, u_char *frame, size_t max)
{
	const u_char *l3 = NULL;
	size_t l3len = 0;
	int ethertype = -1;

	switch (linktype) {
	case DLT_EN10MB:
		if (caplen > max)
			caplen = max;
		memcpy(frame, pkt, caplen);
		return caplen;
	case DLT_LINUX_SLL: /* 16-byte cooked header, protocol at 14 */
		if (caplen < 16)
			return 0;
		ethertype = pkt[14] << 8 | pkt[15];
		l3 = pkt + 16;
		l3len = caplen - 16;
		break;
	case DLT_LINUX_SLL2: /* 20-byte cooked header, protocol at 0 */
		if (caplen < 20)
			return 0;
		ethertype = pkt[0] << 8 | pkt[1];
		l3 = pkt + 20;
		l3len = caplen - 20;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		l3 = pkt;
		l3len = caplen;
		ethertype = ethertype_of_ip(pkt, caplen);
		break;
	case DLT_NULL:
	case DLT_LOOP: {
		uint32_t af;

		if (caplen < 4)
			return 0;
		memcpy(&af, pkt, 4);
		ethertype = ethertype_of_af(af);
		l3 = pkt + 4;
		l3len = caplen - 4;
		break;
	}
	case DLT_C_HDLC: /* address, control, then an EtherType */
		if (caplen < 4)
			return 0;
		ethertype = pkt[2] << 8 | pkt[3];
		l3 = pkt + 4;
		l3len = caplen - 4;
		break;
	case DLT_PPP:
	case DLT_PPP_SERIAL: {
		/* RFC 1662 3.1: address 0xff and control 0x03 unless compressed away; RFC 1661 2 protocol. */
		size_t off = caplen >= 2 && pkt[0] == 0xff && pkt[1] == 0x03 ? 2 : 0;
		unsigned int proto;

		if (caplen < off + 1)
			return 0;
		if (pkt[off] & 1) { /* protocol field compression: one byte */
			proto = pkt[off];
			off += 1;
		} else {
			if (caplen < off + 2)
				return 0;
			proto = pkt[off] << 8 | pkt[off + 1];
			off += 2;
		}
		ethertype = proto == 0x0021 ? ETHERTYPE_IPV4 : proto == 0x0057 ? ETHERTYPE_IPV6 : -1;
		l3 = pkt + off;
		l3len = caplen - off;
		break;
	}
	default:
		return 0;
	}
	if (ethertype < 0)
		return 0;
	if (l3len > max - ETH_HLEN)
		l3len = max - ETH_HLEN;
	/* Locally administered MACs: the classifier never reads them. */
	memset(frame, 0, 12);
	frame[0] = 0x02;
	frame[6] = 0x02;
	frame[12] = ethertype >> 8;
	frame[13] = ethertype & 0xff;
	memcpy(frame + ETH_HLEN, l3, l3len);
	return ETH_HLEN + l3len;
}

static bool linktype_supported(int lt)
{
	switch (lt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_C_HDLC:
	case DLT_PPP:
	case DLT_PPP_SERIAL:
		return true;
	}
	return false;
}

struct pks_capture {
	pcap_t *pc;
	int linktype;
	unsigned long long record; /* records read, for messages */
	u_char frame[PKS_CAPTURE_FRAME_MAX];
};

int pks_capture_open(const char *path, struct pks_capture **out, char *err, size_t errlen)
{
	char pcap_err[PCAP_ERRBUF_SIZE] = "";
	struct pks_capture *c;
	FILE *in;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!strcmp(path, "-")) {
		/* stdin: a pipe is fine, libpcap reads a capture front to back. */
		in = stdin;
		path = "stdin";
	} else {
		/* A regular file: a directory or a device is refused by name, not read as garbage. */
		int fd = pks_input_open(path, err, errlen);

		if (fd < 0) {
			free(c);
			return fd;
		}
		in = fdopen(fd, "rb");
		if (!in) {
			int e = errno;

			close(fd);
			free(c);
			snprintf(err, errlen, "cannot read capture %s: %s", path, strerror(e));
			return -e;
		}
	}
	c->pc = pcap_fopen_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_NANO, pcap_err);
	if (!c->pc) {
		snprintf(err, errlen, "cannot read capture %s: %s", path, pcap_err);
		if (in != stdin)
			fclose(in);
		free(c);
		return -EINVAL;
	}
	c->linktype = pcap_datalink(c->pc);
	if (!linktype_supported(c->linktype)) {
		const char *name = pcap_datalink_val_to_name(c->linktype);

		snprintf(err, errlen,
			 "capture %s has link type %s (%d), which replay does not read (Ethernet, Linux "
			 "SLL/SLL2, raw IP, BSD loopback, Cisco HDLC, PPP)",
			 path, name ? name : "unknown", c->linktype);
		pcap_close(c->pc);
		free(c);
		return -EPROTONOSUPPORT;
	}
	*out = c;
	return 0;
}

int pks_capture_next(struct pks_capture *c, struct pks_frame *f, char *err, size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *pkt;
	int rc = pcap_next_ex(c->pc, &hdr, &pkt);

	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc != 1) {
		snprintf(err, errlen, "%s", pcap_geterr(c->pc));
		return -EIO;
	}
	c->record++;
	/*
	 * A record cannot hold more bytes than the packet had, nor more than the
	 * file's snapshot length: such a record is malformed, and its sizes must
	 * not be subtracted (len - caplen would wrap to about 4 GB).
	 */
	if (hdr->caplen > hdr->len) {
		snprintf(err, errlen, "record %llu is malformed: %u bytes captured of a %u-byte packet", c->record,
			 hdr->caplen, hdr->len);
		return -EBADMSG;
	}
	if (pcap_snapshot(c->pc) > 0 && hdr->caplen > (unsigned int)pcap_snapshot(c->pc)) {
		snprintf(err, errlen, "record %llu is malformed: %u bytes captured, more than the snapshot length %d",
			 c->record, hdr->caplen, pcap_snapshot(c->pc));
		return -EBADMSG;
	}
	f->len = to_ethernet(c->linktype, pkt, hdr->caplen, c->frame, sizeof(c->frame));
	f->data = c->frame;
	f->ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000ull + (uint64_t)hdr->ts.tv_usec;
	f->cut = f->len >= ETH_HLEN && c->linktype == DLT_EN10MB && f->len < hdr->caplen;
	/* Frame bytes on the wire; other link types count as if they had been Ethernet. */
	if (c->linktype == DLT_EN10MB || f->len < ETH_HLEN)
		f->wire_len = hdr->len;
	else
		f->wire_len = hdr->len - hdr->caplen + f->len;
	return 1;
}

int pks_capture_linktype(const struct pks_capture *c)
{
	return c->linktype;
}

void pks_capture_close(struct pks_capture *c)
{
	if (!c)
		return;
	pcap_close(c->pc);
	free(c);
}
