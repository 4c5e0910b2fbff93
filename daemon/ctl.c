/* SPDX-License-Identifier: MIT */
/*
 * ctl.c - the control socket: one JSON line in, one JSON line out.
 *
 * Server: a listening UNIX stream socket in the event loop and a fixed
 * table of client slots, each with a request buffer capped at
 * CTL_MAX_REQUEST bytes and one deadline covering the whole exchange, so
 * a slow or stuck client costs one slot for CTL_CLIENT_TIMEOUT_MS at most
 * and never blocks the loop.  A client beyond the table gets a "busy"
 * reply at once.  Errors of a single client are logged at debug level
 * only: a misbehaving local tool must not flood the journal.  The
 * client's credentials are read once, at accept (SO_PEERCRED and
 * SO_PEERGROUPS), and handed to the handler with each request;
 * ctl_peer_in_group() and ctl_peer_is_admin() answer the membership
 * questions the handler's access rules (ctlauth.h) ask.  The socket file
 * is 0660; ctl_set_group() gives it to the group whose members may
 * connect.
 *
 * Client: ctl_request() with blocking semantics bounded by poll() and a
 * deadline, for fleetgwctl.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"
#include "ev.h"
#include "log.h"
#include "util.h"

#define CTL_MAX_CLIENTS		8	/* simultaneous connections */
#define CTL_CLIENT_TIMEOUT_MS	2000	/* accept to last byte written */
#define CTL_BACKLOG		16
#define CTL_ACCEPT_PAUSE_MS	100	/* after EMFILE and friends */
#define CTL_SOCKET_MODE		0660
#define CTL_SOCKET_UMASK	0117	/* leaves rw-rw---- */
#define CTL_MAX_REPLY		(1024 * 1024)	/* client side cap */
#define CTL_CONNECT_RETRY_MS	10	/* server backlog full */
#define CTL_NSS_BUF_MIN		1024	/* getpwuid_r/getgrnam_r buffer ... */
#define CTL_NSS_BUF_MAX		(1024 * 1024)	/* ... grown up to this */
#define CTL_GROUPS_MAX		65536	/* the kernel's NGROUPS_MAX */
#define CTL_PEER_GROUPS_FIRST	64	/* SO_PEERGROUPS: first try */

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS		59	/* <asm-generic/socket.h>, Linux 4.13 */
#endif

struct ctl_client {
	struct ctl	*ctl;
	int		 fd;		/* -1: free slot */
	struct ctl_peer	 peer;		/* read at accept */
	gid_t		*groups;	/* peer.groups, owned */
	int		 passed_fd;	/* SCM_RIGHTS with the request, -1 */
	char		 in[CTL_MAX_REQUEST];
	size_t		 inlen;
	char		*out;		/* reply line; NULL while reading */
	size_t		 outlen;
	size_t		 outoff;
	struct ev_timer	 timer;
};

struct ctl {
	struct ev_loop		*loop;
	char			*path;
	int			 fd;
	dev_t			 dev;	/* of our socket file, for ctl_free() */
	ino_t			 ino;
	ctl_handler		*handler;
	void			*arg;
	struct ev_timer		 pause;
	bool			 accept_failing;	/* logged once */
	int			 in_handler;	/* handler calls running */
	bool			 freed;		/* ctl_free() called in one */
	struct ctl_client	 clients[CTL_MAX_CLIENTS];
};

static void	ctl_on_accept(int, short, void *);
static void	ctl_on_client(int, short, void *);
static void	ctl_destroy(struct ctl *);

static json_t *
ctl_error(const char *msg)
{
	char	 clean[256];
	size_t	 i;
	json_t	*o;

	/*
	 * jansson's error text may quote a request byte cut in the middle of
	 * a UTF-8 sequence (the fuzzer's {"\u00e9"}); json_pack would then
	 * refuse the string and the client would get no reply.  Keep
	 * printable ASCII only.
	 */
	for (i = 0; msg[i] != '\0' && i < sizeof(clean) - 1; i++)
		clean[i] = (msg[i] >= 0x20 && msg[i] < 0x7f) ? msg[i] : '?';
	clean[i] = '\0';
	if ((o = json_pack("{s:b, s:s}", "ok", 0, "error", clean)) == NULL)
		fatalx("ctl: out of memory");
	return o;
}

static void
ctl_client_close(struct ctl_client *c)
{
	if (c->fd == -1)
		return;
	ev_fd_del(c->ctl->loop, c->fd);
	ev_timer_stop(c->ctl->loop, &c->timer);
	close(c->fd);
	c->fd = -1;
	if (c->passed_fd != -1)
		close(c->passed_fd);
	c->passed_fd = -1;
	c->peer.fd = -1;
	free(c->out);
	c->out = NULL;
	free(c->groups);
	c->groups = NULL;
	c->peer.groups = NULL;
	c->peer.ngroups = 0;
	c->inlen = c->outlen = c->outoff = 0;
}

/* JSON text of reply plus "\n", malloc'd; NULL if it cannot be encoded. */
static char *
ctl_encode(const json_t *reply, size_t *len)
{
	char	*s, *line;
	size_t	 n;

	s = json_dumps(reply, JSON_COMPACT);
	if (s == NULL)
		return NULL;
	n = strlen(s);
	line = xmalloc(n + 2);
	memcpy(line, s, n);
	line[n] = '\n';
	line[n + 1] = '\0';
	free(s);
	*len = n + 1;
	return line;
}

/* One non-blocking attempt to send an error, for clients we drop. */
static void
ctl_send_once(int fd, const char *msg)
{
	json_t	*reply;
	char	*line;
	size_t	 len;

	reply = ctl_error(msg);
	line = ctl_encode(reply, &len);
	json_decref(reply);
	if (line != NULL)
		(void)send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(line);
}

static void
ctl_client_flush(struct ctl_client *c)
{
	ssize_t	n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n >= 0) {
			c->outoff += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			(void)ev_fd_mod(c->ctl->loop, c->fd, POLLOUT);
			return;
		}
		log_debug("ctl: client: send: %s, dropping it",
		    strerror(errno));
		break;
	}
	ctl_client_close(c);
}

/* Takes the reference to reply. */
static void
ctl_client_reply(struct ctl_client *c, json_t *reply)
{
	c->out = ctl_encode(reply, &c->outlen);
	json_decref(reply);
	if (c->out == NULL) {
		log_warnx("ctl: cannot encode reply, dropping client");
		ctl_client_close(c);
		return;
	}
	c->outoff = 0;
	ctl_client_flush(c);
}

static void
ctl_client_request(struct ctl_client *c, size_t len)
{
	struct ctl	*ctl = c->ctl;
	json_error_t	 jerr;
	json_t		*req, *reply;
	char		 msg[256], *line;
	size_t		 linelen;

	req = json_loadb(c->in, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL) {
		snprintf(msg, sizeof(msg), "invalid JSON: %s", jerr.text);
		log_debug("ctl: client: %s", msg);
		ctl_client_reply(c, ctl_error(msg));
		return;
	}
	if (!json_is_object(req)) {
		json_decref(req);
		log_debug("ctl: client: request is not a JSON object");
		ctl_client_reply(c, ctl_error("request is not a JSON object"));
		return;
	}
	c->peer.fd = c->passed_fd;
	ctl->in_handler++;
	reply = ctl->handler(req, &c->peer, ctl->arg);
	ctl->in_handler--;
	json_decref(req);
	/* The handler had it for the call (and dup()ed it to keep it). */
	if (c->passed_fd != -1)
		close(c->passed_fd);
	c->passed_fd = c->peer.fd = -1;
	if (reply == NULL) {
		log_warnx("ctl: handler returned no reply");
		reply = ctl_error("internal error");
	}
	if (ctl->freed && ctl->in_handler == 0) {
		/*
		 * The handler freed us (a reload moved the socket).  The
		 * reply is short and the client waits for it: one
		 * non-blocking send, then the deferred free.
		 */
		if ((line = ctl_encode(reply, &linelen)) != NULL)
			(void)send(c->fd, line, linelen, MSG_NOSIGNAL |
			    MSG_DONTWAIT);
		free(line);
		json_decref(reply);
		ctl_destroy(ctl);
		return;
	}
	ctl_client_reply(c, reply);
}

/*
 * recv() that also takes a descriptor the client passed (SCM_RIGHTS):
 * the first one is kept in c->passed_fd, any other is closed.
 */
static ssize_t
ctl_recv_fd(struct ctl_client *c, void *buf, size_t len)
{
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(4 * sizeof(int))];
	}		 cm;
	struct msghdr	 mh;
	struct cmsghdr	*ch;
	struct iovec	 iov;
	ssize_t		 n;
	size_t		 i, nfd;
	int		 fds[4];

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.b;
	mh.msg_controllen = sizeof(cm.b);
	if ((n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC)) < 0)
		return n;
	for (ch = CMSG_FIRSTHDR(&mh); ch != NULL; ch = CMSG_NXTHDR(&mh, ch)) {
		if (ch->cmsg_level != SOL_SOCKET ||
		    ch->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (ch->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfd > 4)
			nfd = 4;
		memcpy(fds, CMSG_DATA(ch), nfd * sizeof(int));
		for (i = 0; i < nfd; i++) {
			if (c->passed_fd == -1)
				c->passed_fd = fds[i];
			else
				close(fds[i]);
		}
	}
	return n;
}

static void
ctl_client_read(struct ctl_client *c)
{
	char	*nl;
	ssize_t	 n;
	char	 msg[64];

	for (;;) {
		n = ctl_recv_fd(c, c->in + c->inlen, sizeof(c->in) - c->inlen);
		if (n > 0) {
			nl = memchr(c->in + c->inlen, '\n', (size_t)n);
			c->inlen += (size_t)n;
			if (nl != NULL) {
				ctl_client_request(c, (size_t)(nl - c->in));
				return;
			}
			if (c->inlen == sizeof(c->in)) {
				snprintf(msg, sizeof(msg), "request longer "
				    "than %d bytes", CTL_MAX_REQUEST);
				log_debug("ctl: client: %s", msg);
				ctl_client_reply(c, ctl_error(msg));
				return;
			}
			continue;
		}
		if (n == 0) {
			/* Half-closed without a newline: take what came. */
			if (c->inlen > 0)
				ctl_client_request(c, c->inlen);
			else
				ctl_client_close(c);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			log_debug("ctl: client: recv: %s, dropping it",
			    strerror(errno));
			ctl_client_close(c);
		}
		return;
	}
}

static void
ctl_on_client(int fd, short revents, void *arg)
{
	struct ctl_client	*c = arg;

	(void)fd;
	(void)revents;
	if (c->out != NULL)
		ctl_client_flush(c);
	else
		ctl_client_read(c);
}

static void
ctl_on_timeout(void *arg)
{
	struct ctl_client	*c = arg;

	log_debug("ctl: client: no complete exchange within %d ms, dropping "
	    "it", CTL_CLIENT_TIMEOUT_MS);
	if (c->out == NULL)
		ctl_send_once(c->fd, "timeout");
	ctl_client_close(c);
}

static void
ctl_on_pause_end(void *arg)
{
	struct ctl	*ctl = arg;

	if (ev_fd_add(ctl->loop, ctl->fd, POLLIN, ctl_on_accept, ctl) == -1)
		ev_timer_set(ctl->loop, &ctl->pause, CTL_ACCEPT_PAUSE_MS);
}

/*
 * The peer's supplementary groups as the kernel recorded them at
 * connect: malloc'd, *n of them; NULL (none known) on failure.
 */
static gid_t *
ctl_peer_groups(int fd, size_t *n)
{
	gid_t		*groups;
	socklen_t	 len;
	size_t		 cap = CTL_PEER_GROUPS_FIRST;
	int		 tries;

	*n = 0;
	for (tries = 0; tries < 2; tries++) {
		groups = xreallocarray(NULL, cap, sizeof(*groups));
		len = (socklen_t)(cap * sizeof(*groups));
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) ==
		    0) {
			*n = len / sizeof(*groups);
			return groups;
		}
		free(groups);
		/* ERANGE: len is the size needed (Linux 4.13 and later). */
		if (errno != ERANGE || len / sizeof(*groups) <= cap ||
		    len / sizeof(*groups) > CTL_GROUPS_MAX)
			break;
		cap = len / sizeof(*groups);
	}
	log_debug("ctl: client: SO_PEERGROUPS: %s", strerror(errno));
	return NULL;
}

/* The client's credentials; an unknown peer gets ids nobody has. */
static void
ctl_peer_read(struct ctl_client *c)
{
	struct ctl_peer	*peer = &c->peer;
	struct ucred	 cred;
	socklen_t	 len = sizeof(cred);

	c->groups = NULL;
	peer->groups = NULL;
	peer->ngroups = 0;
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1 ||
	    len != sizeof(cred)) {
		log_debug("ctl: client: SO_PEERCRED: %s", strerror(errno));
		peer->pid = 0;
		peer->uid = (uid_t)-1;
		peer->gid = (gid_t)-1;
		return;
	}
	peer->pid = cred.pid;
	peer->uid = cred.uid;
	peer->gid = cred.gid;
	c->groups = ctl_peer_groups(c->fd, &peer->ngroups);
	peer->groups = c->groups;
}

static void
ctl_on_accept(int fd, short revents, void *arg)
{
	struct ctl		*ctl = arg;
	struct ctl_client	*c;
	int			 cfd;
	size_t			 i;

	(void)revents;
	for (;;) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* Out of descriptors or memory: back off, don't spin. */
			if (!ctl->accept_failing)
				log_warn("ctl: %s: accept, retrying every %d ms",
				    ctl->path, CTL_ACCEPT_PAUSE_MS);
			ctl->accept_failing = true;
			ev_fd_del(ctl->loop, ctl->fd);
			ev_timer_set(ctl->loop, &ctl->pause,
			    CTL_ACCEPT_PAUSE_MS);
			return;
		}
		if (ctl->accept_failing) {
			log_info("ctl: %s: accepting connections again",
			    ctl->path);
			ctl->accept_failing = false;
		}
		c = NULL;
		for (i = 0; i < CTL_MAX_CLIENTS; i++) {
			if (ctl->clients[i].fd == -1) {
				c = &ctl->clients[i];
				break;
			}
		}
		if (c == NULL) {
			log_debug("ctl: %d clients connected, refusing one",
			    CTL_MAX_CLIENTS);
			ctl_send_once(cfd, "busy");
			close(cfd);
			continue;
		}
		if (ev_fd_add(ctl->loop, cfd, POLLIN, ctl_on_client, c) == -1) {
			ctl_send_once(cfd, "busy");
			close(cfd);
			continue;
		}
		c->fd = cfd;
		c->passed_fd = -1;
		ctl_peer_read(c);
		c->peer.fd = -1;
		c->inlen = c->outlen = c->outoff = 0;
		c->out = NULL;
		ev_timer_set(ctl->loop, &c->timer, CTL_CLIENT_TIMEOUT_MS);
	}
}

static int
ctl_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (util_strlcpy(sun->sun_path, path, sizeof(sun->sun_path)) >=
	    sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * Remove path if it is a socket nobody listens on.  0 (gone or never
 * there) or -1 after logging (not a socket, in use, or unusable).
 */
static int
ctl_unlink_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat	st;
	int		fd, rc, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("ctl: %s", path);
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("ctl: %s: exists and is not a socket, not removing "
		    "it", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("ctl: socket");
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	saved = errno;
	close(fd);
	if (rc == 0 || saved == EAGAIN) {
		log_warnx("ctl: %s: another process is listening on it", path);
		return -1;
	}
	if (saved != ECONNREFUSED) {
		errno = saved;
		log_warn("ctl: %s: connect", path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("ctl: %s: unlink stale socket", path);
		return -1;
	}
	log_debug("ctl: %s: removed stale socket", path);
	return 0;
}

struct ctl *
ctl_new(struct ev_loop *loop, const char *path, ctl_handler *handler,
    void *arg)
{
	struct sockaddr_un	 sun;
	struct ctl		*ctl;
	struct stat		 st;
	mode_t			 old;
	size_t			 i;
	int			 fd, rc;

	if (ctl_addr(path, &sun) == -1) {
		log_warnx("ctl: %s: socket path too long (at most %zu bytes)",
		    path, sizeof(sun.sun_path) - 1);
		return NULL;
	}
	if (ctl_unlink_stale(path, &sun) == -1)
		return NULL;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		log_warn("ctl: socket");
		return NULL;
	}
	/* The file is created by bind(): no window with wider permissions. */
	old = umask(CTL_SOCKET_UMASK);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc == -1) {
		log_warn("ctl: %s: bind", path);
		close(fd);
		return NULL;
	}
	if (chmod(path, CTL_SOCKET_MODE) == -1 || listen(fd, CTL_BACKLOG) ==
	    -1 || stat(path, &st) == -1) {
		log_warn("ctl: %s", path);
		unlink(path);
		close(fd);
		return NULL;
	}

	ctl = xcalloc(1, sizeof(*ctl));
	ctl->loop = loop;
	ctl->path = xstrdup(path);
	ctl->fd = fd;
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	ctl->handler = handler;
	ctl->arg = arg;
	ev_timer_init(&ctl->pause, ctl_on_pause_end, ctl);
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		ctl->clients[i].ctl = ctl;
		ctl->clients[i].fd = -1;
		ev_timer_init(&ctl->clients[i].timer, ctl_on_timeout,
		    &ctl->clients[i]);
	}
	if (ev_fd_add(loop, fd, POLLIN, ctl_on_accept, ctl) == -1) {
		unlink(path);
		close(fd);
		free(ctl->path);
		free(ctl);
		return NULL;
	}
	log_debug("ctl: listening on %s", path);
	return ctl;
}

void
ctl_free(struct ctl *ctl)
{
	if (ctl == NULL)
		return;
	/* Inside our own handler: ctl_client_request() finishes the job. */
	if (ctl->in_handler > 0) {
		ctl->freed = true;
		return;
	}
	ctl_destroy(ctl);
}

static void
ctl_destroy(struct ctl *ctl)
{
	struct stat	st;
	size_t		i;

	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		ctl_client_close(&ctl->clients[i]);
	ev_timer_stop(ctl->loop, &ctl->pause);
	ev_fd_del(ctl->loop, ctl->fd);
	close(ctl->fd);
	/* Only our own socket: another instance may have replaced it. */
	if (stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
	    st.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

/* Administrators. */

static size_t
ctl_nss_bufsize(int name)
{
	long	n = sysconf(name);

	if (n < CTL_NSS_BUF_MIN || n > CTL_NSS_BUF_MAX)
		return CTL_NSS_BUF_MIN;
	return (size_t)n;
}

/*
 * Look up group name: 1 found (*gid, *member true when user, may be
 * NULL, is in its member list), 0 not found or failed.
 */
static int
ctl_group_lookup(const char *name, const char *user, gid_t *gid,
    bool *member)
{
	struct group	 gr, *res;
	char		*buf;
	char		**m;
	size_t		 size;
	int		 rc, found = 0;

	size = ctl_nss_bufsize(_SC_GETGR_R_SIZE_MAX);
	for (;;) {
		buf = xmalloc(size);
		rc = getgrnam_r(name, &gr, buf, size, &res);
		if (rc != ERANGE || size >= CTL_NSS_BUF_MAX)
			break;
		free(buf);
		size *= 2;
	}
	if (rc == 0 && res != NULL) {
		found = 1;
		*gid = gr.gr_gid;
		*member = false;
		for (m = gr.gr_mem; user != NULL && m != NULL && *m != NULL;
		    m++)
			if (strcmp(*m, user) == 0)
				*member = true;
	} else if (rc != 0)
		log_debug("ctl: group %s: %s", name, strerror(rc));
	free(buf);
	return found;
}

/* Is gid among the groups of user (primary pw_gid)?  Bounded list. */
static bool
ctl_user_in_group(const char *user, gid_t pw_gid, gid_t gid)
{
	gid_t	*groups;
	int	 n, i, cap = 64;
	bool	 in = false;

	for (;;) {
		groups = xreallocarray(NULL, (size_t)cap, sizeof(*groups));
		n = cap;
		if (getgrouplist(user, pw_gid, groups, &n) != -1)
			break;
		free(groups);
		/* n is now the number needed (glibc); never beyond the cap. */
		if (n <= cap || n > CTL_GROUPS_MAX)
			return false;
		cap = n;
	}
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			in = true;
	free(groups);
	return in;
}

/* Is gid the process's primary or one of its supplementary groups? */
static bool
ctl_peer_has_gid(const struct ctl_peer *peer, gid_t gid)
{
	size_t	i;

	if (peer->gid == gid)
		return true;
	for (i = 0; peer->groups != NULL && i < peer->ngroups; i++)
		if (peer->groups[i] == gid)
			return true;
	return false;
}

bool
ctl_peer_in_group(const struct ctl_peer *peer, const char *group)
{
	struct passwd	 pw, *res;
	char		*buf;
	size_t		 size;
	gid_t		 gid;
	bool		 member = false, in = false;
	int		 rc;

	if (peer == NULL || peer->uid == (uid_t)-1 || group == NULL ||
	    *group == '\0')
		return false;

	size = ctl_nss_bufsize(_SC_GETPW_R_SIZE_MAX);
	for (;;) {
		buf = xmalloc(size);
		rc = getpwuid_r(peer->uid, &pw, buf, size, &res);
		if (rc != ERANGE || size >= CTL_NSS_BUF_MAX)
			break;
		free(buf);
		size *= 2;
	}
	if (rc != 0 || res == NULL)
		res = NULL;	/* no such user: the process's groups only */
	if (!ctl_group_lookup(group, res != NULL ? pw.pw_name : NULL,
	    &gid, &member))
		goto out;
	if (ctl_peer_has_gid(peer, gid) || member)
		in = true;
	else if (res != NULL)
		in = pw.pw_gid == gid ||
		    ctl_user_in_group(pw.pw_name, pw.pw_gid, gid);
out:
	free(buf);
	return in;
}

bool
ctl_peer_is_admin(const struct ctl_peer *peer, const char *admin_group)
{
	if (peer == NULL)
		return false;
	if (peer->uid == 0 || peer->uid == geteuid())
		return true;
	return ctl_peer_in_group(peer, admin_group);
}

int
ctl_set_group(struct ctl *ctl, const char *group)
{
	struct stat	 st;
	const char	*name = group;
	gid_t		 gid;
	bool		 member;

	if (group == NULL || *group == '\0') {
		gid = getegid();
		name = "of the daemon";
	} else if (!ctl_group_lookup(group, NULL, &gid, &member)) {
		log_info("ctl: %s: group %s does not exist, its members cannot "
		    "connect", ctl->path, group);
		return -1;
	}
	/* Only our own socket file, never what replaced it. */
	if (lstat(ctl->path, &st) == -1 || st.st_dev != ctl->dev ||
	    st.st_ino != ctl->ino) {
		log_warnx("ctl: %s: no longer our socket, group %s not set",
		    ctl->path, name);
		return -1;
	}
	if (st.st_gid == gid)
		return 0;
	if (lchown(ctl->path, (uid_t)-1, gid) == -1) {
		log_warn("ctl: %s: cannot give the socket to group %s (the "
		    "daemon's user must be a member of it), its members cannot "
		    "connect", ctl->path, name);
		return -1;
	}
	log_debug("ctl: %s: socket group %s (gid %ld), mode %04o", ctl->path,
	    name, (long)gid, CTL_SOCKET_MODE);
	return 0;
}

/* Client side. */

static void
ctl_cerr(const char *path, const char *what, int err)
{
	if (err != 0)
		fprintf(stderr, "%s: %s: %s: %s\n", program_invocation_short_name,
		    path, what, strerror(err));
	else
		fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name,
		    path, what);
}

/* Milliseconds left until deadline, 0 when passed. */
static int
ctl_left_ms(uint64_t deadline)
{
	uint64_t	now = util_mono_ms();

	if (now >= deadline)
		return 0;
	return deadline - now > INT32_MAX ? INT32_MAX : (int)(deadline - now);
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int
ctl_wait(int fd, short events, uint64_t deadline)
{
	struct pollfd	pfd;
	int		r;

	for (;;) {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, ctl_left_ms(deadline));
		if (r == -1 && errno == EINTR)
			continue;
		return r > 0 ? 1 : r;
	}
}

static int
ctl_connect(int fd, const char *path, const struct sockaddr_un *sun,
    uint64_t deadline)
{
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) ==
		    0)
			return 0;
		if (errno == EINTR)
			continue;
		/* A UNIX socket with a full backlog: try again shortly. */
		if (errno == EAGAIN && ctl_left_ms(deadline) > 0) {
			(void)poll(NULL, 0, CTL_CONNECT_RETRY_MS);
			continue;
		}
		if (errno == EAGAIN)
			ctl_cerr(path, "server busy", 0);
		else if (errno == ENOENT || errno == ECONNREFUSED)
			ctl_cerr(path, "connect (is fleetgwd running?)", errno);
		else
			ctl_cerr(path, "connect", errno);
		return -1;
	}
}

/* Send line; stops early and quietly if the server already closed. */
static int
ctl_send_all(int fd, const char *path, const char *line, size_t len,
    uint64_t deadline)
{
	size_t	off = 0;
	ssize_t	n;
	int	r;

	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			return 0;	/* its reply may be waiting */
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ctl_cerr(path, "send", errno);
			return -1;
		}
		if ((r = ctl_wait(fd, POLLOUT, deadline)) <= 0) {
			ctl_cerr(path, r == 0 ? "timed out sending the request"
			    : "poll", r == 0 ? 0 : errno);
			return -1;
		}
	}
	return 0;
}

/* Read the reply line into a malloc'd buffer; its length in *len. */
static char *
ctl_recv_line(int fd, const char *path, size_t *len, uint64_t deadline)
{
	char	*buf = NULL;
	size_t	 size = 0, used = 0;
	ssize_t	 n;
	int	 r;

	for (;;) {
		if (used == size) {
			if (size == CTL_MAX_REPLY) {
				ctl_cerr(path, "reply too long", 0);
				break;
			}
			size = size == 0 ? 4096 : size * 2;
			if (size > CTL_MAX_REPLY)
				size = CTL_MAX_REPLY;
			buf = xreallocarray(buf, size, 1);
		}
		n = recv(fd, buf + used, size - used, 0);
		if (n > 0) {
			if (memchr(buf + used, '\n', (size_t)n) != NULL) {
				used += (size_t)n;
				*len = (size_t)((char *)memchr(buf, '\n',
				    used) - buf);
				return buf;
			}
			used += (size_t)n;
			continue;
		}
		if (n == 0 || (errno == ECONNRESET && used > 0)) {
			if (used == 0) {
				ctl_cerr(path, "connection closed without a "
				    "reply", 0);
				break;
			}
			*len = used;
			return buf;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ctl_cerr(path, "recv", errno);
			break;
		}
		if ((r = ctl_wait(fd, POLLIN, deadline)) <= 0) {
			ctl_cerr(path, r == 0 ? "timed out waiting for the "
			    "reply" : "poll", r == 0 ? 0 : errno);
			break;
		}
	}
	free(buf);
	return NULL;
}

/*
 * Send the whole line, the first byte carrying pass_fd (SCM_RIGHTS)
 * when it is not -1.  0 or -1 (printed).
 */
static int
ctl_send_fd(int fd, const char *path, const char *line, size_t len,
    int pass_fd, uint64_t deadline)
{
	union {
		struct cmsghdr	 h;
		char		 b[CMSG_SPACE(sizeof(int))];
	}		 cm;
	struct msghdr	 mh;
	struct cmsghdr	*ch;
	struct iovec	 iov;
	ssize_t		 n;
	int		 r;

	if (pass_fd == -1)
		return ctl_send_all(fd, path, line, len, deadline);
	for (;;) {
		memset(&mh, 0, sizeof(mh));
		memset(&cm, 0, sizeof(cm));
		iov.iov_base = (void *)line;
		iov.iov_len = 1;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(ch), &pass_fd, sizeof(int));
		if ((n = sendmsg(fd, &mh, MSG_NOSIGNAL)) == 1)
			break;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = ctl_wait(fd, POLLOUT, deadline)) <= 0) {
				ctl_cerr(path, r == 0 ? "timed out sending the "
				    "request" : "poll", r == 0 ? 0 : errno);
				return -1;
			}
			continue;
		}
		ctl_cerr(path, "sendmsg", errno);
		return -1;
	}
	return ctl_send_all(fd, path, line + 1, len - 1, deadline);
}

json_t *
ctl_request(const char *path, const json_t *req, int timeout_ms)
{
	return ctl_request_fd(path, req, -1, timeout_ms);
}

json_t *
ctl_request_fd(const char *path, const json_t *req, int pass_fd,
    int timeout_ms)
{
	struct sockaddr_un	 sun;
	json_error_t		 jerr;
	json_t			*reply = NULL;
	uint64_t		 deadline;
	char			*line = NULL, *buf = NULL, msg[256];
	size_t			 len, rlen;
	int			 fd = -1;

	deadline = util_mono_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	if (ctl_addr(path, &sun) == -1) {
		ctl_cerr(path, "socket path too long", 0);
		return NULL;
	}
	if ((line = ctl_encode(req, &len)) == NULL) {
		ctl_cerr(path, "cannot encode the request", 0);
		return NULL;
	}
	if (len > CTL_MAX_REQUEST) {
		snprintf(msg, sizeof(msg), "request longer than %d bytes",
		    CTL_MAX_REQUEST);
		ctl_cerr(path, msg, 0);
		goto out;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		ctl_cerr(path, "socket", errno);
		goto out;
	}
	if (ctl_connect(fd, path, &sun, deadline) == -1 ||
	    ctl_send_fd(fd, path, line, len, pass_fd, deadline) == -1 ||
	    (buf = ctl_recv_line(fd, path, &rlen, deadline)) == NULL)
		goto out;
	reply = json_loadb(buf, rlen, 0, &jerr);
	if (reply == NULL) {
		snprintf(msg, sizeof(msg), "invalid reply: %s", jerr.text);
		ctl_cerr(path, msg, 0);
	} else if (!json_is_object(reply)) {
		ctl_cerr(path, "invalid reply: not a JSON object", 0);
		json_decref(reply);
		reply = NULL;
	}
out:
	if (fd != -1)
		close(fd);
	free(line);
	free(buf);
	return reply;
}
