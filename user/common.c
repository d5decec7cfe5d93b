// SPDX-License-Identifier: MIT OR Apache-2.0
/* Messages, names, environment checks and number parsing for the CLI. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>

#include "pktspec.h"

int pks_verbose;

int pks_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("pktspec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return PKS_EXIT_FAIL;
}

int pks_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("pktspec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'pktspec %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return PKS_EXIT_USAGE;
}

/*
 * libbpf's recent warnings, kept whether or not they are shown, so that a
 * failed load can be explained by what libbpf saw (a pinned map it could not
 * reuse, say) instead of by an errno alone.
 */
static char libbpf_recent[8192];
static size_t libbpf_recent_len;

static void libbpf_remember(const char *msg)
{
	size_t n = strlen(msg), keep;

	if (n >= sizeof(libbpf_recent)) {
		msg += n - (sizeof(libbpf_recent) - 1);
		n = sizeof(libbpf_recent) - 1;
	}
	if (libbpf_recent_len + n >= sizeof(libbpf_recent)) {
		keep = sizeof(libbpf_recent) - 1 - n;
		memmove(libbpf_recent, libbpf_recent + libbpf_recent_len - keep, keep);
		libbpf_recent_len = keep;
	}
	memcpy(libbpf_recent + libbpf_recent_len, msg, n);
	libbpf_recent_len += n;
	libbpf_recent[libbpf_recent_len] = '\0';
}

bool pks_libbpf_said(const char *needle)
{
	return strstr(libbpf_recent, needle) != NULL;
}

void pks_libbpf_forget(void)
{
	libbpf_recent_len = 0;
	libbpf_recent[0] = '\0';
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level != LIBBPF_DEBUG) {
		char msg[1024];
		va_list copy;

		va_copy(copy, ap);
		vsnprintf(msg, sizeof(msg), fmt, copy);
		va_end(copy);
		libbpf_remember(msg);
	}
	if (level == LIBBPF_DEBUG && pks_verbose < 2)
		return 0;
	if (!pks_verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void pks_libbpf_logging(void)
{
	libbpf_set_print(libbpf_print);
}

static const char *const proto_names[] = {
#define PKS_PROTO(sym, id, name, desc) [id] = name,
#include "pktspec/protocols.def"
#undef PKS_PROTO
};

static const char *const encap_names[] = {
#define PKS_ENCAP(sym, id, name, proto, rule, desc) [id] = name,
#include "pktspec/encaps.def"
#undef PKS_ENCAP
};

/* The tunnel kind a flow key names (include/pktspec/encaps.def). */
const char *pks_encap_name(unsigned int id)
{
	if (id < sizeof(encap_names) / sizeof(encap_names[0]) && encap_names[id])
		return encap_names[id];
	return "?";
}

static const char *const rule_names[] = {
#define PKS_RULE(sym, id, name, desc) [id] = name,
#include "pktspec/rules.def"
#undef PKS_RULE
};

static const char *const reason_names[] = {
#define PKS_REASON(sym, id, field, desc) [id] = #field,
#include "pktspec/reasons.def"
#undef PKS_REASON
};

static const char *const reason_descs[] = {
#define PKS_REASON(sym, id, field, desc) [id] = desc,
#include "pktspec/reasons.def"
#undef PKS_REASON
};

static const char *const confidence_names[] = {
	[PKS_C_NONE] = "none",       [PKS_C_PORT] = "port",         [PKS_C_SIGNATURE] = "signature",
	[PKS_C_CONFIRMED] = "confirmed", [PKS_C_EXPECTED] = "expected", [PKS_C_DNS] = "dns",
	[PKS_C_USER] = "user",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *table_name(const char *const *t, size_t n, unsigned int id)
{
	return id < n && t[id] ? t[id] : NULL;
}

static int table_find(const char *const *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (t[i] && !strcasecmp(t[i], name))
			return (int)i;
	return -1;
}

const char *pks_proto_name(unsigned int id)
{
	const char *n = table_name(proto_names, ARRAY_LEN(proto_names), id);

	return n ? n : "unknown";
}

int pks_proto_by_name(const char *name)
{
	return table_find(proto_names, ARRAY_LEN(proto_names), name);
}

const char *pks_confidence_name(unsigned int c)
{
	const char *n = table_name(confidence_names, ARRAY_LEN(confidence_names), c);

	return n ? n : "none";
}

int pks_confidence_by_name(const char *name)
{
	return table_find(confidence_names, ARRAY_LEN(confidence_names), name);
}

const char *pks_rule_name(unsigned int id)
{
	const char *n = table_name(rule_names, ARRAY_LEN(rule_names), id);

	return n ? n : "none";
}

const char *pks_reason_name(unsigned int id)
{
	const char *n = table_name(reason_names, ARRAY_LEN(reason_names), id);

	return n ? n : "unknown";
}

const char *pks_reason_desc(unsigned int id)
{
	const char *n = table_name(reason_descs, ARRAY_LEN(reason_descs), id);

	return n ? n : "";
}

bool pks_have_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (cap < 0 || cap >= 64 || syscall(SYS_capget, &hdr, data) < 0)
		return false;
	return data[cap / 32].effective & (1u << (cap % 32));
}

/*
 * Capabilities, not uid 0: a service running as its own user with these
 * capabilities works as well as root. The bpf() system call needs CAP_BPF
 * (Linux 5.8+); loading a program also needs CAP_PERFMON, without which the
 * verifier refuses the pointer arithmetic every parser does (its Spectre
 * rules for unprivileged users), and XDP and tc programs CAP_NET_ADMIN.
 * CAP_SYS_ADMIN covers all three.
 */
int pks_need_caps(const char *what, unsigned int need)
{
	bool admin = pks_have_cap(CAP_SYS_ADMIN);
	char missing[64] = "";

	if ((need & (PKS_NEED_BPF | PKS_NEED_LOAD)) && !admin && !pks_have_cap(PKS_CAP_BPF))
		strcat(missing, " CAP_BPF");
	if ((need & PKS_NEED_LOAD) && !admin && !pks_have_cap(PKS_CAP_PERFMON))
		strcat(missing, " CAP_PERFMON");
	if ((need & PKS_NEED_NET_ADMIN) && !admin && !pks_have_cap(CAP_NET_ADMIN))
		strcat(missing, " CAP_NET_ADMIN");
	if (!missing[0])
		return 0;
	pks_fail("%s needs %s%s (or CAP_SYS_ADMIN); missing:%s: run it as root (sudo) or grant the "
		 "capabilities (pktspec(8), CAPABILITIES)",
		 what, (need & PKS_NEED_LOAD) ? "CAP_BPF and CAP_PERFMON" : "CAP_BPF",
		 (need & PKS_NEED_NET_ADMIN) ? ", CAP_NET_ADMIN" : "", missing);
	return -EPERM;
}

int pks_need_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) < 0) {
		int err = -errno;

		pks_fail("/sys/fs/bpf is missing (%s): mount a BPF filesystem there with "
			 "'mount -t bpf bpf /sys/fs/bpf'",
			 strerror(errno));
		return err;
	}
	if ((unsigned long)st.f_type != BPF_FS_MAGIC) {
		pks_fail("/sys/fs/bpf is not a BPF filesystem, so pins cannot be kept there; "
			 "'ip netns exec' gives its command a fresh /sys: run pktspec with "
			 "'nsenter --net=/run/netns/NAME' instead, or mount one with "
			 "'mount -t bpf bpf /sys/fs/bpf'");
		return -ENOTSUP;
	}
	return 0;
}

/*
 * The lock is the BPF filesystem's own root directory, not a file elsewhere:
 * what it guards (the pins under /sys/fs/bpf/pktspec) belongs to that mount,
 * and another BPF filesystem mounted at /sys/fs/bpf in another mount
 * namespace (a container, each test of tests/) has pins of its own and a lock
 * of its own, instead of waiting for this one's loads.
 */
int pks_lock(void)
{
	int fd = open("/sys/fs/bpf", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		int err = -errno;

		pks_fail("cannot open /sys/fs/bpf: %s", strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX) < 0) {
		int err = -errno;

		pks_fail("cannot lock /sys/fs/bpf: %s", strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

/*
 * The process holding a flock() on the inode of fd, from /proc/locks (the
 * kernel's own record, so no PID file can be stale); 0 when none is found.
 */
static pid_t flock_holder(int fd)
{
	char line[256], type[16];
	unsigned int maj, min;
	unsigned long ino;
	struct stat st;
	pid_t pid = 0;
	int holder;
	FILE *f;

	if (fstat(fd, &st) < 0 || !(f = fopen("/proc/locks", "re")))
		return 0;
	while (!pid && fgets(line, sizeof(line), f)) {
		/* "1: FLOCK  ADVISORY  WRITE 1234 00:2a:5 0 EOF"; waiters are "1: -> FLOCK ...". */
		if (strstr(line, "->") ||
		    sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", type, &holder, &maj, &min, &ino) != 5)
			continue;
		if (!strcmp(type, "FLOCK") && maj == major(st.st_dev) && min == minor(st.st_dev) &&
		    ino == st.st_ino && holder > 0)
			pid = holder;
	}
	fclose(f);
	return pid;
}

/* A process's command line with spaces between the arguments, or "" when unreadable. */
static void proc_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	size_t n = 0;
	int fd;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (len > 1) {
		ssize_t r = read(fd, buf, len - 1);

		n = r > 0 ? (size_t)r : 0;
	}
	close(fd);
	while (n && !buf[n - 1])
		n--;
	buf[n] = 0;
	for (size_t i = 0; i < n; i++)
		if (!buf[i] || buf[i] == '\n')
			buf[i] = ' ';
}

int pks_daemon_lock(bool *created)
{
	char cmd[256];
	pid_t pid;
	int fd;

	*created = false;
	if (mkdir(PKS_PIN_DIR, 0700) == 0)
		*created = true;
	else if (errno != EEXIST) {
		int err = -errno;

		pks_fail("cannot create %s: %s", PKS_PIN_DIR, strerror(errno));
		return err;
	}
	fd = open(PKS_PIN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;

		pks_fail("cannot open %s: %s", PKS_PIN_DIR, strerror(errno));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno != EWOULDBLOCK) {
		int err = -errno;

		pks_fail("cannot lock %s: %s", PKS_PIN_DIR, strerror(errno));
		close(fd);
		return err;
	}
	pid = flock_holder(fd);
	close(fd);
	if (!pid)
		pks_fail("another pktspec run already serves %s (its process is not visible here); "
			 "stop it first", PKS_PIN_DIR);
	else {
		proc_cmdline(pid, cmd, sizeof(cmd));
		pks_fail("another pktspec run already serves %s: PID %d%s%s%s; stop it first", PKS_PIN_DIR,
			 (int)pid, *cmd ? " (" : "", cmd, *cmd ? ")" : "");
	}
	return -EBUSY;
}

pid_t pks_daemon_holder(char *cmd, size_t len)
{
	int fd = open(PKS_PIN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pid_t pid;

	if (len)
		cmd[0] = 0;
	if (fd < 0)
		return 0;
	pid = flock_holder(fd);
	close(fd);
	if (pid && len)
		proc_cmdline(pid, cmd, len);
	return pid;
}

int pks_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int64_t pks_epoch_offset(enum pks_clock clock)
{
	struct timespec mono, real;

	if (clock == PKS_CLOCK_REALTIME)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return ((int64_t)real.tv_sec - mono.tv_sec) * 1000000000 + ((int64_t)real.tv_nsec - mono.tv_nsec);
}

uint64_t pks_epoch_ns(uint64_t ns, enum pks_clock clock)
{
	return pks_epoch_add(ns, pks_epoch_offset(clock));
}

int pks_grow(void *arrp, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t n = *cap ? *cap : (first ? first : 1);
	void *arr, *p;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -ENOMEM;
		n *= 2;
	}
	if (!size || n > SIZE_MAX / size)
		return -ENOMEM;
	/* The caller's pointer, of whatever type, read and written as bytes. */
	memcpy(&arr, arrp, sizeof(arr));
	p = realloc(arr, n * size);
	if (!p)
		return -ENOMEM;
	memcpy(arrp, &p, sizeof(p));
	*cap = n;
	return 0;
}

void pks_json_str(FILE *out, const char *key, const char *s)
{
	fprintf(out, ",\"%s\":\"", key);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

int pks_split_hostport(const char *s, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon;
	unsigned long v;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || end == s + 1 || (size_t)(end - s - 1) >= hlen)
			return -EINVAL;
		memcpy(host, s + 1, end - s - 1);
		host[end - s - 1] = 0;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s || (size_t)(colon - s) >= hlen || memchr(s, ':', colon - s))
			return -EINVAL;
		memcpy(host, s, colon - s);
		host[colon - s] = 0;
	}
	if (strlen(colon + 1) >= plen || strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    pks_parse_uint(colon + 1, 65535, &v) || v == 0)
		return -EINVAL;
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

/*
 * The application list pktspec reads when no --apps FILE is given: the
 * operator's PKS_APPS_ETC when it exists, else the list `make install` puts
 * in PREFIX/share/pktspec beside PREFIX/sbin/pktspec (found from this
 * executable's own path, so any PREFIX works); NULL when neither exists.
 */
const char *pks_apps_default(char *buf, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	if (access(PKS_APPS_ETC, R_OK) == 0) {
		snprintf(buf, len, "%s", PKS_APPS_ETC);
		return buf;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	if ((size_t)snprintf(buf, len, "%s/../share/pktspec/apps", exe) >= len || access(buf, R_OK))
		return NULL;
	return buf;
}
