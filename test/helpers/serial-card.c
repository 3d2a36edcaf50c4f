/*
 * The fleet lab's serial card (issue 16): a FUSE filesystem with one file, /card, backed by a
 * sparse file, where every read and write costs bytes / its rate on ONE clock, as on an SD card
 * (one medium: time = written / write rate + read / read rate, however the two overlap). The
 * cgroup v1 block throttle has a budget for each, so there a read and a write run at full speed
 * at the same time.
 *
 * Single-threaded: the kernel queues requests in arrival order and the next one is taken only
 * when the previous one's time is used up. direct_io: no FUSE page cache, every byte the
 * loop device moves comes through here. flush and fsync cost nothing (the backing file's
 * durability does not matter to a lab). A punched hole (blkdiscard on the loop device) is free.
 *
 * /stats (text: bytes written, bytes read, seconds busy) tells the card's busy time from a
 * program's own pauses. Writing "WRITE_BPS READ_BPS" to /rates changes the card's speeds.
 *
 * Usage: serial-card BACKING MOUNTPOINT WRITE_BPS READ_BPS
 * Prints "ready" on stdout once the kernel has mounted it; unmounting it ends the daemon.
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *CARD = "/card";
static const char *STATS = "/stats";
static const char *RATES = "/rates";
static int backing = -1;
static struct stat backing_st;
static double write_bps, read_bps;
/* chmod is kept (rpi-deploy serve makes its data directory, which may hold the mount, private). */
static mode_t root_mode = 0755, card_mode = 0600;
/* When the card is free for the next operation (CLOCK_MONOTONIC, seconds). */
static double free_at;
/* The kernel's request channel; whether the last request was a card operation, and whether the
 * next one was already waiting when it ended. */
static int fuse_fd = -1;
static int paced_last, next_waiting;
/* What crossed the card and the seconds it was busy, for /stats and the log line at exit. */
static uint64_t bytes_written, bytes_read;
static double busy_s;

/* A rate in bytes per second, or 0 when `text` is not one. */
static double parse_rate(const char *text, char **end) {
  double r = strtod(text, end);
  return *end != text && r > 0 ? r : 0;
}

/* "WRITE_BPS READ_BPS" written to /rates, in one write. */
static int rates_write(const char *buf, size_t size) {
  char text[64], *end;
  if (size >= sizeof text) return -EINVAL;
  memcpy(text, buf, size);
  text[size] = '\0';
  double w = parse_rate(text, &end);
  double r = parse_rate(end, &end);
  if (w == 0 || r == 0 || strspn(end, " \n") != strlen(end)) return -EINVAL;
  write_bps = w;
  read_bps = r;
  return (int)size;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Called as each request (of any kind) ends: if it was a card operation and the next one is
 * already queued, that one starts on the card's clock when this one ended, not when this daemon
 * got round to it. Otherwise the daemon's own wake-up latency after each sleep (milliseconds on a
 * loaded machine) would slow the card: measured 9.3 instead of 10 MB/s with 16 MiB O_DIRECT writes
 * (32 requests queued) at load 17. After any other request the next one's arrival is unknown, so
 * it starts when it is taken: an idle card never gets time back. */
static void settle(void) {
  struct pollfd p = {.fd = fuse_fd, .events = POLLIN};
  next_waiting = paced_last && poll(&p, 1, 0) == 1;
  paced_last = 0;
}

/* Charges bytes / rate to the card's clock and sleeps until the operation's time is used up. An
 * idle card banks no credit: an operation that was not waiting starts when it arrives. */
static void pace(size_t bytes, double rate) {
  double t = now();
  double start = next_waiting || t < free_at ? free_at : t;
  free_at = start + (double)bytes / rate;
  busy_s += (double)bytes / rate;
  paced_last = 1;
  struct timespec until = {.tv_sec = (time_t)free_at, .tv_nsec = (long)((free_at - (double)(time_t)free_at) * 1e9)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR) {
  }
}

static void *card_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
  /* Up to 1 MiB per request (the kernel's limit is 256 pages), not FUSE's default 128 KiB, so the
   * per-request cost stays small next to the card's time; the loop device sends 512 KiB. */
  conn->max_write = 1024 * 1024;
  conn->max_read = 1024 * 1024;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  cfg->attr_timeout = 3600;
  cfg->entry_timeout = 3600;
  printf("ready\n");
  fflush(stdout);
  return NULL;
}

static int card_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
  (void)fi;
  memset(st, 0, sizeof *st);
  if (strcmp(path, "/") == 0) {
    st->st_mode = S_IFDIR | root_mode;
    st->st_nlink = 2;
    return 0;
  }
  if (strcmp(path, STATS) == 0 || strcmp(path, RATES) == 0) {
    st->st_mode = S_IFREG | (strcmp(path, STATS) == 0 ? 0400 : 0200);
    st->st_nlink = 1;
    st->st_size = 4096;
    return 0;
  }
  if (strcmp(path, CARD) != 0) return -ENOENT;
  st->st_mode = S_IFREG | card_mode;
  st->st_nlink = 1;
  st->st_size = backing_st.st_size;
  st->st_blksize = 4096;
  st->st_blocks = backing_st.st_size / 512;
  return 0;
}

static int card_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi,
                        enum fuse_readdir_flags flags) {
  (void)off, (void)fi, (void)flags;
  if (strcmp(path, "/") != 0) return -ENOENT;
  fill(buf, ".", NULL, 0, 0);
  fill(buf, "..", NULL, 0, 0);
  fill(buf, CARD + 1, NULL, 0, 0);
  fill(buf, STATS + 1, NULL, 0, 0);
  fill(buf, RATES + 1, NULL, 0, 0);
  return 0;
}

static int card_open(const char *path, struct fuse_file_info *fi) {
  if (strcmp(path, CARD) != 0 && strcmp(path, STATS) != 0 && strcmp(path, RATES) != 0) return -ENOENT;
  fi->direct_io = 1;
  fi->keep_cache = 0;
  return 0;
}

/* /stats costs no card time: it can be read as often as wanted. */
static int stats_read(char *buf, size_t size, off_t off) {
  char text[256];
  int n = snprintf(text, sizeof text, "written %" PRIu64 "\nread %" PRIu64 "\nbusy %.6f\n", bytes_written, bytes_read,
                   busy_s);
  if (off >= n) return 0;
  if ((off_t)size > n - off) size = (size_t)(n - off);
  memcpy(buf, text + off, size);
  return (int)size;
}

static int card_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  if (strcmp(path, STATS) == 0) return stats_read(buf, size, off);
  if (off >= backing_st.st_size) return 0;
  if ((off_t)size > backing_st.st_size - off) size = (size_t)(backing_st.st_size - off);
  ssize_t n = pread(backing, buf, size, off);
  if (n < 0) return -errno;
  pace((size_t)n, read_bps);
  bytes_read += (uint64_t)n;
  return (int)n;
}

static int card_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
  (void)fi;
  if (strcmp(path, RATES) == 0) return rates_write(buf, size);
  if (strcmp(path, CARD) != 0) return -EACCES;
  if (off >= backing_st.st_size) return -ENOSPC;
  if ((off_t)size > backing_st.st_size - off) size = (size_t)(backing_st.st_size - off);
  ssize_t n = pwrite(backing, buf, size, off);
  if (n < 0) return -errno;
  pace((size_t)n, write_bps);
  bytes_written += (uint64_t)n;
  return (int)n;
}

static int card_flush(const char *path, struct fuse_file_info *fi) {
  (void)path, (void)fi;
  return 0;
}

static int card_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
  (void)path, (void)datasync, (void)fi;
  return 0;
}

static int card_fallocate(const char *path, int mode, off_t off, off_t len, struct fuse_file_info *fi) {
  (void)path, (void)fi;
  /* A card is a fixed size: only punching holes (discard) is meaningful. */
  if (!(mode & FALLOC_FL_PUNCH_HOLE)) return -EOPNOTSUPP;
  return fallocate(backing, mode, off, len) < 0 ? -errno : 0;
}

static int card_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
  (void)fi;
  if (strcmp(path, "/") == 0)
    root_mode = mode & 07777;
  else if (strcmp(path, CARD) == 0)
    card_mode = mode & 07777;
  else
    return -ENOENT;
  return 0;
}

static int card_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
  (void)fi;
  /* Opening /rates for writing truncates it; the card is a fixed size. */
  if (strcmp(path, RATES) == 0) return 0;
  return size == backing_st.st_size ? 0 : -EPERM;
}

static const struct fuse_operations ops = {
    .init = card_init,
    .getattr = card_getattr,
    .readdir = card_readdir,
    .open = card_open,
    .read = card_read,
    .write = card_write,
    .flush = card_flush,
    .fsync = card_fsync,
    .fallocate = card_fallocate,
    .truncate = card_truncate,
    .chmod = card_chmod,
};


int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: serial-card BACKING MOUNTPOINT WRITE_BPS READ_BPS\n");
    return 2;
  }
  backing = open(argv[1], O_RDWR);
  if (backing < 0 || fstat(backing, &backing_st) < 0) {
    fprintf(stderr, "serial-card: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  char *end;
  write_bps = parse_rate(argv[3], &end);
  read_bps = parse_rate(argv[4], &end);
  if (write_bps == 0 || read_bps == 0) {
    fprintf(stderr, "serial-card: rates %s %s: expected bytes per second > 0\n", argv[3], argv[4]);
    return 2;
  }
  char *fuse_argv[] = {argv[0], "-o", "fsname=serial-card,max_read=1048576", NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
  struct fuse *fuse = fuse_new(&args, &ops, sizeof ops, NULL);
  if (fuse == NULL) return 1;
  struct fuse_session *se = fuse_get_session(fuse);
  if (fuse_set_signal_handlers(se) != 0 || fuse_mount(fuse, argv[2]) != 0) return 1;
  fuse_fd = fuse_session_fd(se);
  /* fuse_loop, one request at a time, with settle() after each. */
  struct fuse_buf buf = {0};
  int code = 0;
  while (!fuse_session_exited(se)) {
    int n = fuse_session_receive_buf(se, &buf);
    if (n == -EINTR) continue;
    if (n <= 0) {
      code = n < 0 ? 1 : 0;
      break;
    }
    fuse_session_process_buf(se, &buf);
    settle();
  }
  free(buf.mem);
  fuse_session_reset(se);
  fuse_remove_signal_handlers(se);
  fuse_unmount(fuse);
  fuse_destroy(fuse);
  fprintf(stderr, "serial-card: %" PRIu64 " bytes written, %" PRIu64 " bytes read\n", bytes_written, bytes_read);
  return code;
}
