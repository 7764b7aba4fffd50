/*
 * moat-netfwd: the forwarder inside a sandbox with network egress. The sandbox has no network
 * device; it can reach one unix socket, bind-mounted from the host, where Moat's filtering proxy
 * listens. This program offers that socket on loopback inside the sandbox, so that programs can
 * use it as their HTTP(S)/SOCKS5 proxy: every TCP connection accepted on ADDR:PORT is connected
 * to the unix socket and bytes are pumped both ways (half-close passed on). It knows nothing of
 * the protocols; every decision is the proxy's.
 *
 *   moat-netfwd [-f] [ADDR:]PORT SOCKET
 *
 * Once it listens it forks into the background (the parent exits 0, so a shell can start it and
 * go on knowing the port is open); -f stays in the foreground. One process, poll(): it costs the
 * sandbox one process of its limit whatever the number of connections.
 *
 * Build: gcc -static -O2 -o moat-netfwd moat-netfwd.c (scripts/build-netfwd.sh).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_PAIRS 256
#define BUF_SIZE 16384

struct dir {
  char buf[BUF_SIZE];
  size_t len;   /* bytes waiting to be written */
  int rd_eof;   /* the source sent EOF */
  int wr_shut;  /* EOF passed on to the sink */
};

struct pair {
  int fd[2];      /* 0: the TCP client, 1: the unix socket */
  struct dir d[2]; /* d[0]: from fd[0] to fd[1]; d[1]: from fd[1] to fd[0] */
};

static struct pair *pairs[MAX_PAIRS];
static int npairs;
static const char *sock_path;

static void die(const char *what) {
  fprintf(stderr, "moat-netfwd: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL, 0);
  if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void drop(int i) {
  close(pairs[i]->fd[0]);
  close(pairs[i]->fd[1]);
  free(pairs[i]);
  pairs[i] = pairs[--npairs];
}

static void accept_one(int lfd) {
  int c = accept(lfd, NULL, NULL);
  if (c < 0) return;
  if (npairs >= MAX_PAIRS) {
    close(c);
    return;
  }
  int u = socket(AF_UNIX, SOCK_STREAM, 0);
  if (u < 0) {
    close(c);
    return;
  }
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strncpy(sa.sun_path, sock_path, sizeof sa.sun_path - 1);
  if (connect(u, (struct sockaddr *)&sa, sizeof sa) < 0) {
    close(u);
    close(c);
    return;
  }
  struct pair *p = calloc(1, sizeof *p);
  if (!p) {
    close(u);
    close(c);
    return;
  }
  nonblock(c);
  nonblock(u);
  p->fd[0] = c;
  p->fd[1] = u;
  pairs[npairs++] = p;
}

/* Moves bytes for one direction; returns -1 when the pair is broken. */
static int pump_read(struct pair *p, int k) {
  struct dir *d = &p->d[k];
  if (d->rd_eof || d->len == BUF_SIZE) return 0;
  ssize_t n = read(p->fd[k], d->buf + d->len, BUF_SIZE - d->len);
  if (n > 0) d->len += (size_t)n;
  else if (n == 0) d->rd_eof = 1;
  else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
  return 0;
}

static int pump_write(struct pair *p, int k) {
  struct dir *d = &p->d[k];
  int sink = p->fd[1 - k];
  if (d->len > 0) {
    ssize_t n = write(sink, d->buf, d->len);
    if (n > 0) {
      memmove(d->buf, d->buf + n, d->len - (size_t)n);
      d->len -= (size_t)n;
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return -1;
  }
  if (d->rd_eof && d->len == 0 && !d->wr_shut) {
    shutdown(sink, SHUT_WR);
    d->wr_shut = 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int foreground = 0;
  int a = 1;
  if (a < argc && strcmp(argv[a], "-f") == 0) {
    foreground = 1;
    a++;
  }
  if (argc - a != 2) {
    fprintf(stderr, "usage: moat-netfwd [-f] [ADDR:]PORT SOCKET\n");
    return 2;
  }
  char addr[64] = "127.0.0.1";
  const char *portstr = argv[a];
  const char *colon = strrchr(argv[a], ':');
  if (colon) {
    size_t n = (size_t)(colon - argv[a]);
    if (n == 0 || n >= sizeof addr) {
      fprintf(stderr, "moat-netfwd: bad address %s\n", argv[a]);
      return 2;
    }
    memcpy(addr, argv[a], n);
    addr[n] = 0;
    portstr = colon + 1;
  }
  int port = atoi(portstr);
  sock_path = argv[a + 1];
  if (port < 1 || port > 65535 || strlen(sock_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
    fprintf(stderr, "moat-netfwd: bad port or socket path\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
    fprintf(stderr, "moat-netfwd: bad address %s\n", addr);
    return 2;
  }
  if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) < 0) die("bind");
  if (listen(lfd, 128) < 0) die("listen");
  nonblock(lfd);

  if (!foreground) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid > 0) _exit(0);
    setsid();
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
      dup2(nul, 0);
      dup2(nul, 1);
      dup2(nul, 2);
      if (nul > 2) close(nul);
    }
  }

  static struct pollfd pfd[1 + 2 * MAX_PAIRS];
  for (;;) {
    int n = 0;
    pfd[n].fd = lfd;
    pfd[n].events = npairs < MAX_PAIRS ? POLLIN : 0;
    pfd[n].revents = 0;
    n++;
    for (int i = 0; i < npairs; i++) {
      struct pair *p = pairs[i];
      for (int k = 0; k < 2; k++) {
        short ev = 0;
        if (!p->d[k].rd_eof && p->d[k].len < BUF_SIZE) ev |= POLLIN;
        if (p->d[1 - k].len > 0) ev |= POLLOUT;
        pfd[n].fd = p->fd[k];
        pfd[n].events = ev;
        pfd[n].revents = 0;
        n++;
      }
    }
    if (poll(pfd, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    /* Pairs first (their slots in pfd follow the listener's, in order), then new connections. */
    for (int i = npairs - 1; i >= 0; i--) {
      struct pair *p = pairs[i];
      int broken = 0;
      for (int k = 0; k < 2 && !broken; k++) {
        short re = pfd[1 + 2 * i + k].revents;
        if (re & (POLLIN | POLLHUP | POLLERR))
          if (pump_read(p, k) < 0) broken = 1;
      }
      for (int k = 0; k < 2 && !broken; k++)
        if (pump_write(p, k) < 0) broken = 1;
      if (!broken) {
        /* POLLERR with nothing readable left, or both directions finished */
        int done = p->d[0].wr_shut && p->d[1].wr_shut;
        for (int k = 0; k < 2; k++) {
          short re = pfd[1 + 2 * i + k].revents;
          if ((re & POLLERR) && !(re & POLLIN)) done = 1;
          /* k hung up (both ways) and all it sent was passed on: nothing more can reach it */
          if ((re & POLLHUP) && p->d[k].rd_eof && p->d[k].wr_shut) done = 1;
        }
        if (done) broken = 1;
      }
      if (broken) drop(i);
    }
    if (pfd[0].revents & POLLIN) {
      for (int j = 0; j < 16 && npairs < MAX_PAIRS; j++) {
        int before = npairs;
        accept_one(lfd);
        if (npairs == before && errno == EAGAIN) break;
      }
    }
  }
}
