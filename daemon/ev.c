/* SPDX-License-Identifier: MIT */
/*
 * ev.c - the single-threaded poll() loop.
 *
 * With fewer than a few dozen descriptors, rebuilding the pollfd array on
 * every turn costs nothing and makes removal during dispatch safe: each
 * watch carries a generation number, and a slot reused during dispatch is
 * not dispatched with stale revents.  Timers are one-shot, embedded in
 * their owners and kept in a small array of pointers; the poll timeout is
 * the earliest deadline (ntpd's nextaction).
 */
#include <sys/signalfd.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "util.h"

#define EV_MAX_FDS	64
#define EV_MAX_TIMERS	64
#define EV_MAX_PREPARE	16

struct ev_watch {
	int		 fd;		/* -1: free slot */
	short		 events;
	ev_fd_cb	*cb;
	void		*arg;
	uint64_t	 gen;
};

struct ev_loop {
	struct ev_watch	  watches[EV_MAX_FDS];
	uint64_t	  gen;
	struct ev_timer	 *timers[EV_MAX_TIMERS];
	size_t		  ntimers;
	struct {
		ev_prepare_cb	*cb;
		void		*arg;
	}		  prepare[EV_MAX_PREPARE];
	size_t		  nprepare;
	int		  sigfd;
	ev_signal_cb	 *sigcb;
	void		 *sigarg;
	uint64_t	  now_ms;
	uint64_t	  iterations;
	int		  stop;
};

static void	ev_on_signal(int, short, void *);

struct ev_loop *
ev_new(void)
{
	struct ev_loop	*loop;
	sigset_t	 set;
	size_t		 i;

	loop = xcalloc(1, sizeof(*loop));
	for (i = 0; i < EV_MAX_FDS; i++)
		loop->watches[i].fd = -1;
	loop->now_ms = util_mono_ms();

	/* libgps writes with plain write(); a dead gpsd must not kill us. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("ev: signal(SIGPIPE)");
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		fatal("ev: sigprocmask");
	if ((loop->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		fatal("ev: signalfd");
	if (ev_fd_add(loop, loop->sigfd, POLLIN, ev_on_signal, loop) == -1)
		fatalx("ev: cannot watch signalfd");
	return loop;
}

void
ev_free(struct ev_loop *loop)
{
	sigset_t	set;

	if (loop == NULL)
		return;
	close(loop->sigfd);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	free(loop);
}

void
ev_signal_set(struct ev_loop *loop, ev_signal_cb *cb, void *arg)
{
	loop->sigcb = cb;
	loop->sigarg = arg;
}

static void
ev_on_signal(int fd, short revents, void *arg)
{
	struct ev_loop			*loop = arg;
	struct signalfd_siginfo		 si;
	ssize_t				 n;

	(void)revents;
	for (;;) {
		n = read(fd, &si, sizeof(si));
		if (n != (ssize_t)sizeof(si))
			break;
		if (loop->sigcb != NULL)
			loop->sigcb((int)si.ssi_signo, loop->sigarg);
		else if (si.ssi_signo != SIGHUP)
			ev_break(loop);
	}
}

static struct ev_watch *
ev_find(struct ev_loop *loop, int fd)
{
	size_t	i;

	for (i = 0; i < EV_MAX_FDS; i++)
		if (loop->watches[i].fd == fd)
			return &loop->watches[i];
	return NULL;
}

int
ev_fd_add(struct ev_loop *loop, int fd, short events, ev_fd_cb *cb,
    void *arg)
{
	struct ev_watch	*w;

	if (fd < 0 || ev_find(loop, fd) != NULL) {
		log_warnx("ev: fd %d: invalid or already watched", fd);
		return -1;
	}
	if ((w = ev_find(loop, -1)) == NULL) {
		log_warnx("ev: fd %d: too many watched descriptors", fd);
		return -1;
	}
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	w->gen = ++loop->gen;
	return 0;
}

int
ev_fd_mod(struct ev_loop *loop, int fd, short events)
{
	struct ev_watch	*w;

	if (fd < 0 || (w = ev_find(loop, fd)) == NULL)
		return -1;
	w->events = events;
	return 0;
}

void
ev_fd_del(struct ev_loop *loop, int fd)
{
	struct ev_watch	*w;

	if (fd < 0 || (w = ev_find(loop, fd)) == NULL)
		return;
	w->fd = -1;
	w->cb = NULL;
	w->arg = NULL;
}

void
ev_timer_init(struct ev_timer *t, ev_timer_cb *cb, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->cb = cb;
	t->arg = arg;
}

void
ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	size_t	i;

	if (!t->armed)
		return;
	for (i = 0; i < loop->ntimers; i++) {
		if (loop->timers[i] == t) {
			loop->timers[i] = loop->timers[--loop->ntimers];
			break;
		}
	}
	t->armed = false;
}

void
ev_timer_set(struct ev_loop *loop, struct ev_timer *t, uint64_t delay_ms)
{
	ev_timer_stop(loop, t);
	if (loop->ntimers == EV_MAX_TIMERS)
		fatalx("ev: too many timers");
	t->deadline_ms = loop->now_ms + delay_ms;
	t->armed = true;
	loop->timers[loop->ntimers++] = t;
}

bool
ev_timer_pending(const struct ev_timer *t)
{
	return t->armed;
}

void
ev_prepare_add(struct ev_loop *loop, ev_prepare_cb *cb, void *arg)
{
	if (loop->nprepare == EV_MAX_PREPARE)
		fatalx("ev: too many prepare hooks");
	loop->prepare[loop->nprepare].cb = cb;
	loop->prepare[loop->nprepare].arg = arg;
	loop->nprepare++;
}

void
ev_prepare_del(struct ev_loop *loop, ev_prepare_cb *cb, void *arg)
{
	size_t	i;

	for (i = 0; i < loop->nprepare; i++) {
		if (loop->prepare[i].cb != cb || loop->prepare[i].arg != arg)
			continue;
		memmove(&loop->prepare[i], &loop->prepare[i + 1],
		    (loop->nprepare - i - 1) * sizeof(loop->prepare[0]));
		loop->nprepare--;
		return;
	}
}

uint64_t
ev_now_ms(const struct ev_loop *loop)
{
	return loop->now_ms;
}

uint64_t
ev_iterations(const struct ev_loop *loop)
{
	return loop->iterations;
}

void
ev_break(struct ev_loop *loop)
{
	loop->stop = 1;
}

/* Fire every expired timer; a callback may re-arm its own timer. */
static void
ev_run_timers(struct ev_loop *loop)
{
	struct ev_timer	*t;
	size_t		 i;
	int		 fired;

	do {
		fired = 0;
		for (i = 0; i < loop->ntimers; i++) {
			t = loop->timers[i];
			if (t->deadline_ms > loop->now_ms)
				continue;
			ev_timer_stop(loop, t);
			t->cb(t->arg);
			fired = 1;
			break;	/* the array changed; rescan */
		}
	} while (fired && !loop->stop);
}

static int
ev_timeout_ms(const struct ev_loop *loop)
{
	uint64_t	earliest = UINT64_MAX;
	size_t		i;

	for (i = 0; i < loop->ntimers; i++)
		if (loop->timers[i]->deadline_ms < earliest)
			earliest = loop->timers[i]->deadline_ms;
	if (earliest == UINT64_MAX)
		return -1;
	if (earliest <= loop->now_ms)
		return 0;
	if (earliest - loop->now_ms > INT32_MAX)
		return INT32_MAX;
	return (int)(earliest - loop->now_ms);
}

int
ev_run(struct ev_loop *loop)
{
	struct pollfd	 pfd[EV_MAX_FDS];
	size_t		 slot[EV_MAX_FDS];
	uint64_t	 gen[EV_MAX_FDS];
	struct ev_watch	*w;
	size_t		 i, n;
	int		 r;

	loop->stop = 0;
	while (!loop->stop) {
		loop->now_ms = util_mono_ms();
		ev_run_timers(loop);
		if (loop->stop)
			break;
		for (i = 0; i < loop->nprepare; i++)
			loop->prepare[i].cb(loop->prepare[i].arg);
		if (loop->stop)
			break;

		n = 0;
		for (i = 0; i < EV_MAX_FDS; i++) {
			w = &loop->watches[i];
			if (w->fd < 0)
				continue;
			pfd[n].fd = w->fd;
			pfd[n].events = w->events;
			pfd[n].revents = 0;
			slot[n] = i;
			gen[n] = w->gen;
			n++;
		}
		r = poll(pfd, n, ev_timeout_ms(loop));
		loop->now_ms = util_mono_ms();
		loop->iterations++;
		if (r == -1) {
			if (errno == EINTR)
				continue;
			log_warn("ev: poll");
			return -1;
		}
		for (i = 0; i < n && r > 0 && !loop->stop; i++) {
			if (pfd[i].revents == 0)
				continue;
			r--;
			w = &loop->watches[slot[i]];
			/* Removed or replaced by an earlier callback. */
			if (w->fd != pfd[i].fd || w->gen != gen[i])
				continue;
			w->cb(w->fd, pfd[i].revents, w->arg);
		}
	}
	return 0;
}
