/*
 * moat-run: the native `moat run` client, for the common case of a run sent to a running Moat
 * (`moat daemon`, `moat serve`, the app) that owns the data directory. A Node.js CLI spends about
 * 100 ms of CPU starting before it sends anything; this spends about one. bin/moat starts it for
 * `moat run` when it is built (npm run build, where a C compiler exists):
 *
 *   moat-run FALLBACK run [OPTIONS] [-- ARGS...]
 *
 * It handles the options a harness uses (template, file or code, input, limits, environment,
 * target, egress policy and filter, warm, keep, image) and sends the flags and the bytes it read
 * (code, input) to the owner, which builds the request and words the end exactly as the Node CLI
 * does (app/daemon/exec.ts); output, stderr messages and exit status are the same. Anything else
 * runs the Node CLI instead, with the same arguments, before any input is read: any other option,
 * a bare word before `--`, no owner running (the run is then in-process), a socket that is not
 * safe to use (Node says why), a file it cannot read (Node says why). It does that by running
 * `FALLBACK run ARGS...` with MOAT_NATIVE_CLIENT=0 in its environment: FALLBACK is the launcher
 * that started it (bin/moat, or the .deb's /usr/bin/moat), which then runs the Node CLI the way it
 * knows. MOAT_NATIVE_CLIENT=0 always runs the Node CLI.
 *
 * The socket is checked as the Node CLI checks it (app/daemon/client.ts): a socket, ours, mode
 * 0600, in a directory that is ours and 0700; otherwise the code, input and secrets are not sent.
 *
 * Ctrl-C (SIGINT, SIGTERM) before the run was sent ends the command (130); after, it asks the owner
 * to cancel the run, whose end (cancelled, 130) is then reported as usual.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define EXIT_FAILED 125
#define EXIT_CANCELLED 130
#define HELLO_TIMEOUT_MS 5000
#define MAX_FRAME (64u * 1024 * 1024)

static int g_argc;
static char **g_argv;
static volatile sig_atomic_t g_signals = 0;

/* ---- Growable byte buffer */

struct buf {
  char *p;
  size_t n, cap;
};

static void buf_reserve(struct buf *b, size_t more) {
  if (b->n + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->n + more) cap *= 2;
  char *p = realloc(b->p, cap);
  if (!p) {
    fputs("moat: out of memory\n", stderr);
    exit(EXIT_FAILED);
  }
  b->p = p;
  b->cap = cap;
}

static void buf_add(struct buf *b, const void *data, size_t n) {
  buf_reserve(b, n);
  memcpy(b->p + b->n, data, n);
  b->n += n;
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* A JSON string: quote, backslash and control bytes escaped; other bytes as they are (UTF-8). */
static void buf_json(struct buf *b, const char *s) {
  buf_add(b, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\') {
      char e[2] = {'\\', (char)*c};
      buf_add(b, e, 2);
    } else if (*c < 0x20) {
      char e[8];
      snprintf(e, sizeof e, "\\u%04x", *c);
      buf_add(b, e, 6);
    } else {
      buf_add(b, c, 1);
    }
  }
  buf_add(b, "\"", 1);
}

static void buf_base64(struct buf *b, const unsigned char *d, size_t n) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  buf_reserve(b, (n + 2) / 3 * 4 + 2);
  buf_add(b, "\"", 1);
  size_t i = 0;
  char *o = b->p + b->n;
  for (; i + 2 < n; i += 3) {
    uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
    *o++ = A[v >> 18], *o++ = A[v >> 12 & 63], *o++ = A[v >> 6 & 63], *o++ = A[v & 63];
  }
  if (i < n) {
    uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
    *o++ = A[v >> 18], *o++ = A[v >> 12 & 63];
    *o++ = i + 1 < n ? A[v >> 6 & 63] : '=';
    *o++ = '=';
  }
  b->n = (size_t)(o - b->p);
  buf_add(b, "\"", 1);
}

/* ---- Falling back to the Node CLI */

static void hand_back(void) {
  /* FALLBACK run ARGS..., told not to come back here */
  setenv("MOAT_NATIVE_CLIENT", "0", 1);
  execv(g_argv[1], g_argv + 1);
  fprintf(stderr, "moat: cannot start %s: %s\n", g_argv[1], strerror(errno));
  exit(2);
}

/* ---- Options */

enum kind { STRING, LIST, SET_TRUE, SET_FALSE };

struct option_def {
  const char *longname; /* without -- */
  char shortname;       /* 0: none */
  const char *key;      /* RunFlags key */
  enum kind kind;
  const char *choices; /* space-separated, or NULL */
};

static const struct option_def OPTIONS[] = {
    {"template", 't', "template", STRING, NULL},
    {"image", 0, "image", STRING, NULL},
    {"file", 'f', "file", STRING, NULL},
    {"code", 'c', "code", STRING, NULL},
    {"input", 'i', "input", STRING, NULL},
    {"timeout", 0, "timeout", STRING, NULL},
    {"memory", 0, "memory", STRING, NULL},
    {"cpus", 0, "cpus", STRING, NULL},
    {"processes", 0, "processes", STRING, NULL},
    {"output-limit", 0, "outputLimit", STRING, NULL},
    {"on-output-limit", 0, "onOutputLimit", STRING, "stop truncate"},
    {"allow-runc", 0, "allowRunc", SET_TRUE, NULL},
    {"no-warm", 0, "warm", SET_FALSE, NULL},
    {"no-keep", 0, "keep", SET_FALSE, NULL},
    {"on", 0, "on", STRING, NULL},
    {"env", 0, "env", LIST, NULL},
    {"secret-env", 0, "secretEnv", LIST, NULL},
    {"egress-policy", 0, "egressPolicy", STRING, "redact block stop"},
    {"no-egress-filter", 0, "egressFilter", SET_FALSE, NULL},
};
#define N_OPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

struct parsed {
  const char *value[N_OPTIONS]; /* STRING: the last one given; SET_*: non-NULL when given */
  const char **list[N_OPTIONS]; /* LIST: every one given */
  int list_n[N_OPTIONS];
  char **args; /* after -- */
  int args_n;
};

static int in_choices(const char *choices, const char *v) {
  size_t n = strlen(v);
  for (const char *c = choices; *c;) {
    const char *e = strchr(c, ' ');
    size_t len = e ? (size_t)(e - c) : strlen(c);
    if (len == n && strncmp(c, v, n) == 0) return 1;
    if (!e) break;
    c = e + 1;
  }
  return 0;
}

/* Parses argv[3..] (after FALLBACK and "run"); returns 0 when the Node CLI must handle them. */
static int parse(struct parsed *p) {
  memset(p, 0, sizeof *p);
  for (int i = 3; i < g_argc; i++) {
    const char *a = g_argv[i];
    const struct option_def *o = NULL;
    const char *value = NULL;
    if (strcmp(a, "--") == 0) {
      p->args = g_argv + i + 1;
      p->args_n = g_argc - i - 1;
      break;
    }
    if (a[0] != '-' || a[1] == 0) return 0; /* a command word, or "-": Node's parser decides */
    if (a[1] == '-') {
      const char *name = a + 2;
      const char *eq = strchr(name, '=');
      size_t len = eq ? (size_t)(eq - name) : strlen(name);
      for (size_t k = 0; k < N_OPTIONS; k++)
        if (strlen(OPTIONS[k].longname) == len && strncmp(OPTIONS[k].longname, name, len) == 0) o = &OPTIONS[k];
      if (!o) return 0;
      if (eq) {
        if (o->kind == SET_TRUE || o->kind == SET_FALSE) return 0;
        value = eq + 1;
      }
    } else {
      for (size_t k = 0; k < N_OPTIONS; k++)
        if (OPTIONS[k].shortname && OPTIONS[k].shortname == a[1]) o = &OPTIONS[k];
      if (!o) return 0;
      if (a[2]) value = a + 2; /* -fFILE */
    }
    size_t k = (size_t)(o - OPTIONS);
    if (o->kind == SET_TRUE || o->kind == SET_FALSE) {
      p->value[k] = "";
      continue;
    }
    if (!value) {
      if (i + 1 >= g_argc) return 0;
      value = g_argv[++i];
      /* An option's value that looks like an option: leave the reading of it to Node's parser. */
      if (value[0] == '-' && value[1] != 0) return 0;
    }
    if (o->choices && !in_choices(o->choices, value)) return 0;
    if (o->kind == LIST) {
      /* `--secret-env K` takes the value from the CLI's environment: Node's CLI does that. */
      if (strcmp(o->key, "secretEnv") == 0 && !strchr(value, '=')) return 0;
      const char **l = realloc(p->list[k], sizeof *l * (size_t)(p->list_n[k] + 1));
      if (!l) return 0;
      l[p->list_n[k]++] = value;
      p->list[k] = l;
    } else {
      p->value[k] = value;
    }
  }
  return 1;
}

static const char *opt(const struct parsed *p, const char *key) {
  for (size_t k = 0; k < N_OPTIONS; k++)
    if (strcmp(OPTIONS[k].key, key) == 0) return p->value[k];
  return NULL;
}

/* ---- The owner's socket */

static char *socket_path(void) {
  const char *d = getenv("MOAT_DATA_DIR");
  char *dir;
  if (d && *d) {
    dir = strdup(d);
  } else {
    const char *x = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (x && *x) {
      if (asprintf(&dir, "%s/moat", x) < 0) return NULL;
    } else {
      if (!home || !*home) return NULL; /* Node would ask the password database: let it */
      if (asprintf(&dir, "%s/.local/share/moat", home) < 0) return NULL;
    }
  }
  char *path;
  if (!dir || asprintf(&path, "%s/moat.sock", dir) < 0) return NULL;
  free(dir);
  return path;
}

/* Whether the socket and its directory are ours and open to nobody else (as app/daemon/client.ts). */
static int socket_safe(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return 0;
  uid_t uid = getuid();
  if (!S_ISSOCK(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) return 0;
  char *dir = strdup(path);
  if (!dir) return 0;
  char *slash = strrchr(dir, '/');
  if (slash == dir) slash[1] = 0;
  else if (slash) *slash = 0;
  else strcpy(dir, ".");
  int ok = lstat(dir, &st) == 0 && st.st_uid == uid && (st.st_mode & 077) == 0;
  free(dir);
  return ok;
}

static int connect_owner(const char *path) {
  struct sockaddr_un sa;
  if (strlen(path) >= sizeof sa.sun_path) return -1;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  strcpy(sa.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int write_all(int fd, const void *data, size_t n) {
  const char *p = data;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* The owner's hello line, within the timeout; 0 when it does not answer as an owner. */
static int hello(int fd) {
  static const char msg[] = "{\"type\":\"hello\"}\n";
  if (write_all(fd, msg, sizeof msg - 1) != 0) return 0;
  char line[64];
  size_t got = 0;
  for (;;) {
    struct pollfd pf = {fd, POLLIN, 0};
    int r = poll(&pf, 1, HELLO_TIMEOUT_MS);
    if (r < 0 && errno == EINTR) {
      if (g_signals) return -1;
      continue;
    }
    if (r <= 0) return 0;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return 0;
    if (got < sizeof line - 1) line[got++] = c;
    if (c == '\n') break;
  }
  line[got] = 0;
  return strncmp(line, "{\"type\":\"hello\"", 15) == 0;
}

/* ---- Reading the code and the input */

/* Reads a whole file (fd 0 for "-"); 0 on failure (errno set). */
static int read_file(const char *name, struct buf *out) {
  int fd = strcmp(name, "-") == 0 ? 0 : open(name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  for (;;) {
    buf_reserve(out, 65536);
    ssize_t n = read(fd, out->p + out->n, out->cap - out->n);
    if (n < 0) {
      if (errno == EINTR) {
        if (g_signals) break;
        continue;
      }
      if (fd != 0) close(fd);
      return 0;
    }
    if (n == 0) break;
    out->n += (size_t)n;
  }
  if (fd != 0) close(fd);
  return 1;
}

static void on_signal(int sig) {
  (void)sig;
  g_signals++;
}

static void cancelled_before_start(void) {
  fputs("moat: cancelled before the run started\n", stderr);
  exit(EXIT_CANCELLED);
}

int main(int argc, char **argv) {
  g_argc = argc;
  g_argv = argv;
  if (argc < 3 || strcmp(argv[2], "run") != 0) {
    fputs("usage: moat-run FALLBACK run [OPTIONS] [-- ARGS...] (started by bin/moat)\n", stderr);
    return 2;
  }
  const char *native = getenv("MOAT_NATIVE_CLIENT");
  if (native && strcmp(native, "0") == 0) hand_back();

  struct parsed p;
  if (!parse(&p)) hand_back();
  const char *file = opt(&p, "file");
  const char *code = opt(&p, "code");
  const char *input = opt(&p, "input");

  char *path = socket_path();
  if (!path || !socket_safe(path)) hand_back();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: a blocking call returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int fd = connect_owner(path);
  if (fd < 0) hand_back(); /* refused: a socket left by an owner that was killed */
  int h = hello(fd);
  if (h < 0) cancelled_before_start();
  if (h == 0) {
    close(fd);
    hand_back();
  }

  /* What Node's CLI would read: the code file, then the input (not both from stdin: the owner
   * says so, as the Node CLI does). A file that cannot be read: Node says why. */
  struct buf codebuf = {0}, inbuf = {0};
  if (file && !read_file(file, &codebuf)) {
    close(fd);
    hand_back();
  }
  int read_input = input && !(strcmp(input, "-") == 0 && file && strcmp(file, "-") == 0);
  if (read_input && !read_file(input, &inbuf)) {
    close(fd);
    hand_back();
  }
  if (g_signals) cancelled_before_start();

  struct buf m = {0};
  buf_str(&m, "{\"type\":\"exec\",\"flags\":{");
  int first = 1;
  for (size_t k = 0; k < N_OPTIONS; k++) {
    const struct option_def *o = &OPTIONS[k];
    if (o->kind == LIST ? p.list_n[k] == 0 : p.value[k] == NULL) continue;
    if (!first) buf_str(&m, ",");
    first = 0;
    buf_json(&m, o->key);
    buf_str(&m, ":");
    if (o->kind == SET_TRUE) buf_str(&m, "true");
    else if (o->kind == SET_FALSE) buf_str(&m, "false");
    else if (o->kind == STRING) buf_json(&m, p.value[k]);
    else {
      buf_str(&m, "[");
      for (int j = 0; j < p.list_n[k]; j++) {
        if (j) buf_str(&m, ",");
        buf_json(&m, p.list[k][j]);
      }
      buf_str(&m, "]");
    }
  }
  buf_str(&m, "},\"argv\":[");
  for (int j = 0; j < p.args_n; j++) {
    if (j) buf_str(&m, ",");
    buf_json(&m, p.args[j]);
  }
  buf_str(&m, "]");
  if (file) {
    buf_str(&m, ",\"codeBase64\":");
    buf_base64(&m, (unsigned char *)codebuf.p, codebuf.n);
  }
  (void)code; /* --code travels as a flag */
  if (read_input) {
    buf_str(&m, ",\"inputBase64\":");
    buf_base64(&m, (unsigned char *)inbuf.p, inbuf.n);
  }
  buf_str(&m, "}\n");
  free(codebuf.p);
  free(inbuf.p);
  if (write_all(fd, m.p, m.n) != 0) {
    fprintf(stderr, "moat: the Moat owner went away\n");
    return EXIT_FAILED;
  }
  free(m.p);

  /* The first answer is the `accepted` frame; an owner older than this client answers `exec` with
   * a JSON error line instead. Then Node's CLI takes the run, unless stdin was already read. */
  {
    unsigned char first_byte;
    ssize_t n;
    do n = recv(fd, &first_byte, 1, MSG_PEEK);
    while (n < 0 && errno == EINTR && !g_signals);
    if (n == 1 && first_byte != 0) {
      int stdin_read = (file && strcmp(file, "-") == 0) || (read_input && strcmp(input, "-") == 0);
      close(fd);
      if (!stdin_read) hand_back();
      fputs("moat: the running Moat is older than this `moat` (it does not take runs from the native client); "
            "restart it (moat daemon stop; moat daemon start), or run with MOAT_NATIVE_CLIENT=0\n",
            stderr);
      return EXIT_FAILED;
    }
  }

  /* Frames until the end. The signals are let through only while waiting (pselect), so that one
   * arriving just before the wait is not missed until the next output. */
  char owner[256] = "the Moat owner";
  char run_id[128] = "";
  int cancels_sent = 0;
  struct buf in = {0};
  sigset_t block, waiting;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &waiting);
  sigdelset(&waiting, SIGINT);
  sigdelset(&waiting, SIGTERM);
  for (;;) {
    while (cancels_sent < g_signals) {
      static const char c[] = "{\"type\":\"cancel\"}\n";
      write_all(fd, c, sizeof c - 1);
      cancels_sent++;
    }
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    if (pselect(fd + 1, &rd, NULL, NULL, NULL, &waiting) < 0) continue; /* EINTR: a signal */
    buf_reserve(&in, 65536);
    ssize_t n = read(fd, in.p + in.n, in.cap - in.n);
    if (n < 0) {
      if (errno == EINTR) continue;
      n = 0;
    }
    if (n == 0) {
      if (run_id[0])
        fprintf(stderr, "moat: %s went away during run %s; see `moat history`\n", owner, run_id);
      else
        fprintf(stderr, "moat: %s went away\n", owner);
      return EXIT_FAILED;
    }
    in.n += (size_t)n;
    size_t at = 0;
    while (in.n - at >= 5) {
      const unsigned char *f = (const unsigned char *)in.p + at;
      uint32_t len = (uint32_t)f[1] << 24 | (uint32_t)f[2] << 16 | (uint32_t)f[3] << 8 | f[4];
      if (len > MAX_FRAME) {
        fprintf(stderr, "moat: %s sent a frame this client does not understand\n", owner);
        return EXIT_FAILED;
      }
      if (in.n - at < 5 + (size_t)len) {
        buf_reserve(&in, 5 + (size_t)len);
        break;
      }
      const char *body = in.p + at + 5;
      switch (f[0]) {
        case 0:
          snprintf(owner, sizeof owner, "%.*s", (int)len, body);
          break;
        case 1:
          write_all(1, body, len);
          break;
        case 2:
          write_all(2, body, len);
          break;
        case 3:
          snprintf(run_id, sizeof run_id, "%.*s", (int)len, body);
          break;
        case 4:
          if (len > 1) write_all(2, body + 1, len - 1);
          return len > 0 ? (unsigned char)body[0] : EXIT_FAILED;
        default:
          break; /* a kind added later: ignored */
      }
      at += 5 + (size_t)len;
    }
    memmove(in.p, in.p + at, in.n - at);
    in.n -= at;
  }
}
