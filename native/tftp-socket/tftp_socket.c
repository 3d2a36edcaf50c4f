/*
 * The socket of one TFTP transfer, driven from the event loop without dgram.
 *
 * A lock-step transfer is one ACK in, one DATA out, tens of thousands of times per file. Through
 * dgram each datagram cost a request object, a 64 KiB receive allocation, an address object and
 * an event emission; a call into JavaScript per block still cost more than the whole exchange in
 * dnsmasq. Here the descriptor is polled by libuv directly, DATA is sent from the file's bytes
 * (a window in one segmented send where the route takes it, see send_segmented), and an ACK that only moves the transfer on (the common case, see on_ack) is
 * answered here. Everything else (requests, OACK, the last ACK, ERROR, anything malformed,
 * timeouts) goes to TypeScript, whose state machine (transfer.ts) decides and reads back how far
 * the socket got with progress().
 *
 * open(localAddress: string, clientAddress: string, clientPort: number, bufferBytes: number,
 *      bytes: Buffer, blksize: number, windowsize: number,
 *      onDatagram: (msg: Buffer | number | null, errorCode?: string) => void): { handle, port }
 *   A UDP socket bound to localAddress on a fresh port (RFC 1350's transfer identifier), its
 *   buffers set to bufferBytes, connected to the client so the kernel drops datagrams from any
 *   other address or port. `bytes` is the file, kept referenced until close. onDatagram gets each
 *   datagram this side does not answer itself (a 4-byte one as a big-endian number), or null and
 *   an errno name when the socket fails (ECONNREFUSED: the client's port is closed).
 * send(handle, data: Buffer): number         OACK or ERROR.
 * sendBlocks(handle, first, last): number    DATA blocks first..last (absolute, 1-based; the wire
 *   carries their low 16 bits).
 *   Both return 0, or the errno of a failed socket; a full send buffer (EAGAIN, ENOBUFS) is not a
 *   failure: the datagram is lost as on the wire and the retransmission timer recovers it.
 * progress(handle): [acked, sent, ageMs]    the highest block acknowledged and sent, and how long
 *   ago (loop time) DATA last left.
 * close(handle)                              idempotent; no callback runs after it.
 * Errors carry the errno name as `code`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <stdint.h>
#include "addon_errors.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

/* Requests and ACKs are short; anything longer than a DATA packet of the largest block is not TFTP. */
#define DATAGRAM_MAX 65536

typedef struct {
  int fd;
  /* close() was called (or the handle collected): no callback runs any more. */
  int closed;
  /* The struct is freed when both libuv and the garbage collector are done with it. */
  int poll_released;
  int handle_released;
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_ref resource;
  napi_async_context context;
  /* The file and how far its transfer got; acked and sent are absolute block numbers. */
  napi_ref bytes_ref;
  const unsigned char *bytes;
  size_t size;
  int64_t blksize, window, total, acked, sent;
  uint64_t sent_at;
  /* Datagrams one segmented send (UDP GSO) carries; 0 once the socket has refused one. */
  unsigned segments_max;
} transfer_t;

#define OP_DATA 3
#define OP_ACK 4
/* Datagrams per sendmmsg(): a window, or a retransmission of one. */
#define SEND_BATCH_MAX 64
/* The kernel's limit on segments per UDP GSO send, and the largest UDP payload over IPv4. */
#define GSO_SEGMENTS_MAX 64
#define UDP_PAYLOAD_MAX 65507

/* Per thread: the addon may be loaded by several threads (worker_threads), each with its own loop. */
static _Thread_local char datagram[DATAGRAM_MAX];

static void on_closed(uv_handle_t *handle) {
  transfer_t *t = handle->data;
  close(t->fd);
  napi_delete_reference(t->env, t->callback);
  napi_delete_reference(t->env, t->resource);
  napi_delete_reference(t->env, t->bytes_ref);
  napi_async_destroy(t->env, t->context);
  t->poll_released = 1;
  if (t->handle_released) free(t);
}

static void stop(transfer_t *t) {
  if (t->closed) return;
  t->closed = 1;
  uv_poll_stop(&t->poll);
  uv_close((uv_handle_t *)&t->poll, on_closed);
}

static void deliver(transfer_t *t, napi_value *argv, size_t argc) {
  napi_value callback, resource;
  napi_get_reference_value(t->env, t->callback, &callback);
  napi_get_reference_value(t->env, t->resource, &resource);
  /* make_callback runs queued microtasks afterwards, as any libuv callback into JavaScript must. */
  if (napi_make_callback(t->env, t->context, resource, callback, argc, argv, NULL) == napi_pending_exception) {
    napi_value error;
    napi_get_and_clear_last_exception(t->env, &error);
    napi_fatal_exception(t->env, error);
  }
}

/* A send that failed for a reason other than a full buffer; 0 if it went (or was merely dropped). */
static int send_failure(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS ? 0 : err;
}

/* Each block as two pieces: its 4-byte header (in heads) and its slice of the file. */
static void describe_blocks(transfer_t *t, int64_t from, unsigned count, unsigned char (*heads)[4], struct iovec *iov) {
  for (unsigned i = 0; i < count; i++) {
    int64_t block = from + i;
    size_t at = (size_t)((block - 1) * t->blksize);
    heads[i][0] = 0;
    heads[i][1] = OP_DATA;
    heads[i][2] = (unsigned char)((block >> 8) & 0xff);
    heads[i][3] = (unsigned char)(block & 0xff);
    iov[2 * i] = (struct iovec){.iov_base = heads[i], .iov_len = 4};
    iov[2 * i + 1] = (struct iovec){.iov_base = (void *)(t->bytes + at), .iov_len = t->size - at < (size_t)t->blksize ? t->size - at : (size_t)t->blksize};
  }
}

/*
 * Several DATA in one sendmsg() with UDP_SEGMENT: the kernel cuts the payload every 4 + blksize
 * bytes, so a window passes through the network stack once instead of once per datagram, and the
 * wire carries the same datagrams (only the last block may be shorter, as GSO allows). Returns 0
 * or the errno.
 */
static int send_segmented(transfer_t *t, struct iovec *iov, unsigned count) {
  union {
    char bytes[CMSG_SPACE(sizeof(uint16_t))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2 * count, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_UDP;
  cm->cmsg_type = UDP_SEGMENT;
  cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
  uint16_t segment = (uint16_t)(4 + t->blksize);
  memcpy(CMSG_DATA(cm), &segment, sizeof segment);
  return sendmsg(t->fd, &msg, MSG_DONTWAIT) < 0 ? errno : 0;
}

/* DATA blocks first..last: segmented where the socket takes it, otherwise a batch per sendmmsg(). */
static int send_blocks(transfer_t *t, int64_t first, int64_t last) {
  struct mmsghdr msgs[SEND_BATCH_MAX];
  struct iovec iov[2 * SEND_BATCH_MAX];
  unsigned char heads[SEND_BATCH_MAX][4];
  int err = 0;
  for (int64_t from = first; from <= last && err == 0;) {
    unsigned batch = t->segments_max > 1 ? t->segments_max : SEND_BATCH_MAX;
    unsigned count = (unsigned)(last - from + 1 < batch ? last - from + 1 : batch);
    describe_blocks(t, from, count, heads, iov);
    from += count;
    if (count > 1 && t->segments_max > 1) {
      int e = send_segmented(t, iov, count);
      /* A route that cannot carry a segment whole (EMSGSIZE, EINVAL) or a path without
         segmentation (EIO: IPsec) refuses at once; datagram by datagram from then on. */
      if (e != EMSGSIZE && e != EIO && e != EINVAL && e != EOPNOTSUPP && e != ENOPROTOOPT) {
        err = send_failure(e);
        continue;
      }
      t->segments_max = 0;
    }
    memset(msgs, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
      msgs[i].msg_hdr.msg_iov = &iov[2 * i];
      msgs[i].msg_hdr.msg_iovlen = 2;
    }
    for (unsigned done = 0; done < count;) {
      int n = sendmmsg(t->fd, msgs + done, count - done, MSG_DONTWAIT);
      if (n < 0) {
        err = send_failure(errno);
        break;
      }
      done += (unsigned)n;
    }
  }
  if (last > t->sent) t->sent = last;
  t->sent_at = uv_now(t->poll.loop);
  return err;
}

static void deliver_error(transfer_t *t, int err) {
  napi_value argv[2];
  napi_get_null(t->env, &argv[0]);
  napi_create_string_utf8(t->env, errno_name(err), NAPI_AUTO_LENGTH, &argv[1]);
  deliver(t, argv, 2);
}

/*
 * transfer.ts's onAck for the data phase, short of its end: an ACK that acknowledges a block sent
 * and not yet acknowledged moves the transfer on and sends the next window; a duplicate or stale
 * one changes nothing and sends nothing. Returns 0 for what the state machine must see itself:
 * anything before the first DATA (OACK phase), the ACK of the last block, any other datagram.
 */
static int on_ack(transfer_t *t, const unsigned char *b, napi_handle_scope *scope) {
  if (t->sent == 0 || b[0] != 0 || b[1] != OP_ACK) return 0;
  int64_t delta = (((int64_t)b[2] << 8 | b[3]) - t->acked) & 0xffff;
  if (delta == 0 || t->acked + delta > t->sent) return 1;
  if (t->acked + delta >= t->total) return 0;
  t->acked += delta;
  int64_t last = t->acked + t->window < t->total ? t->acked + t->window : t->total;
  int err = send_blocks(t, t->acked + 1, last);
  if (err != 0) {
    napi_open_handle_scope(t->env, scope);
    deliver_error(t, err);
    napi_close_handle_scope(t->env, *scope);
  }
  return 1;
}

/*
 * One datagram per readiness event: the poll is level-triggered, so a second queued datagram
 * raises the next event, and a lock-step transfer (one ACK at a time) never pays for a recv()
 * that finds nothing. A 4-byte datagram (an ACK) is handed over as one big-endian number, which
 * spares a Buffer.
 */
static void on_readable(uv_poll_t *poll, int status, int events) {
  transfer_t *t = poll->data;
  (void)events;
  if (t->closed) return;
  ssize_t n = -1;
  int err = EIO;
  if (status < 0) {
    /* libuv reports a socket error (an ICMP port unreachable) this way and stops polling. */
    socklen_t len = sizeof err;
    if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err == 0) err = EIO;
  } else {
    n = recv(t->fd, datagram, sizeof datagram, MSG_DONTWAIT);
    err = errno;
  }
  if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)) return;
  napi_handle_scope scope;
  const unsigned char *b = (const unsigned char *)datagram;
  if (n == 4 && on_ack(t, b, &scope)) return;
  napi_open_handle_scope(t->env, &scope);
  napi_value argv[1];
  if (n == 4) {
    napi_create_uint32(t->env, ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3], &argv[0]);
    deliver(t, argv, 1);
  } else if (n >= 0) {
    void *copy;
    napi_create_buffer_copy(t->env, (size_t)n, datagram, &copy, &argv[0]);
    deliver(t, argv, 1);
  } else {
    deliver_error(t, err);
  }
  napi_close_handle_scope(t->env, scope);
}

static int ipv4(napi_env env, napi_value value, struct in_addr *out) {
  char text[INET_ADDRSTRLEN];
  size_t len;
  if (napi_get_value_string_utf8(env, value, text, sizeof text, &len) != napi_ok) return 0;
  return inet_pton(AF_INET, text, out) == 1;
}

static void finalize(napi_env env, void *data, void *hint) {
  transfer_t *t = data;
  (void)env;
  (void)hint;
  t->handle_released = 1;
  if (t->poll_released) free(t);
  else stop(t);
}

static napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  struct sockaddr_in local = {.sin_family = AF_INET}, client = {.sin_family = AF_INET};
  int32_t client_port, buffer_bytes, blksize, window;
  void *bytes;
  size_t size;
  napi_valuetype callback_type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8 || !ipv4(env, argv[0], &local.sin_addr) ||
      !ipv4(env, argv[1], &client.sin_addr) || napi_get_value_int32(env, argv[2], &client_port) != napi_ok ||
      napi_get_value_int32(env, argv[3], &buffer_bytes) != napi_ok || napi_get_buffer_info(env, argv[4], &bytes, &size) != napi_ok ||
      napi_get_value_int32(env, argv[5], &blksize) != napi_ok || napi_get_value_int32(env, argv[6], &window) != napi_ok ||
      napi_typeof(env, argv[7], &callback_type) != napi_ok || callback_type != napi_function || client_port < 1 || client_port > 65535 ||
      buffer_bytes < 0 || blksize < 8 || blksize > 65464 || window < 1 || window > 65535) {
    napi_throw_type_error(env, "EINVAL",
                          "open(localAddress: IPv4, clientAddress: IPv4, clientPort: 1-65535, bufferBytes: number, bytes: Buffer, blksize: 8-65464, "
                          "windowsize: 1-65535, onDatagram: function)");
    return NULL;
  }
  client.sin_port = htons((uint16_t)client_port);

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(env, -1, errno, "socket");
  if (buffer_bytes > 0) {
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer_bytes, sizeof buffer_bytes) != 0) return fail(env, fd, errno, "SO_RCVBUF");
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer_bytes, sizeof buffer_bytes) != 0) return fail(env, fd, errno, "SO_SNDBUF");
  }
  if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0) return fail(env, fd, errno, "bind");
  socklen_t len = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &len) != 0) return fail(env, fd, errno, "getsockname");
  if (connect(fd, (struct sockaddr *)&client, sizeof client) != 0) return fail(env, fd, errno, "connect");

  uv_loop_t *loop;
  transfer_t *t = calloc(1, sizeof *t);
  if (!t) return fail(env, fd, ENOMEM, "calloc");
  t->fd = fd;
  t->env = env;
  t->bytes = bytes;
  t->size = size;
  t->blksize = blksize;
  t->window = window;
  t->total = (int64_t)(size / (size_t)blksize) + 1;
  t->segments_max = UDP_PAYLOAD_MAX / (4 + (unsigned)blksize) < GSO_SEGMENTS_MAX ? UDP_PAYLOAD_MAX / (4 + (unsigned)blksize) : GSO_SEGMENTS_MAX;
  napi_value handle, port, result, name;
  napi_get_uv_event_loop(env, &loop);
  if (uv_poll_init(loop, &t->poll, fd) != 0) {
    free(t);
    return fail(env, fd, EINVAL, "uv_poll_init");
  }
  t->poll.data = t;
  napi_create_external(env, t, finalize, NULL, &handle);
  napi_create_reference(env, argv[7], 1, &t->callback);
  napi_create_reference(env, argv[4], 1, &t->bytes_ref);
  napi_create_reference(env, handle, 0, &t->resource);
  napi_create_string_utf8(env, "TftpTransfer", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, handle, name, &t->context);
  uv_poll_start(&t->poll, UV_READABLE, on_readable);

  napi_create_object(env, &result);
  napi_create_int32(env, ntohs(local.sin_port), &port);
  napi_set_named_property(env, result, "handle", handle);
  napi_set_named_property(env, result, "port", port);
  return result;
}

static transfer_t *transfer_of(napi_env env, napi_value value) {
  void *t = NULL;
  if (napi_get_value_external(env, value, &t) != napi_ok || !t) napi_throw_type_error(env, "EINVAL", "not a TFTP transfer handle");
  return t;
}

static napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  void *data;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || napi_get_buffer_info(env, argv[1], &data, &length) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "send(handle, data: Buffer)");
    return NULL;
  }
  transfer_t *t = transfer_of(env, argv[0]);
  if (!t) return NULL;
  int err = t->closed ? EBADF : send(t->fd, data, length, MSG_DONTWAIT) < 0 ? send_failure(errno) : 0;
  napi_create_int32(env, err, &result);
  return result;
}

static napi_value SendBlocks(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], result;
  int64_t first, last;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 || napi_get_value_int64(env, argv[1], &first) != napi_ok ||
      napi_get_value_int64(env, argv[2], &last) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "sendBlocks(handle, first: number, last: number)");
    return NULL;
  }
  transfer_t *t = transfer_of(env, argv[0]);
  if (!t) return NULL;
  if (first < 1 || last < first || last > t->total) {
    napi_throw_range_error(env, "EINVAL", "sendBlocks: blocks must satisfy 1 <= first <= last <= the file's block count");
    return NULL;
  }
  napi_create_int32(env, t->closed ? EBADF : send_blocks(t, first, last), &result);
  return result;
}

static napi_value Progress(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result, value;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
    napi_throw_type_error(env, "EINVAL", "progress(handle)");
    return NULL;
  }
  transfer_t *t = transfer_of(env, argv[0]);
  if (!t) return NULL;
  napi_create_array_with_length(env, 3, &result);
  napi_create_int64(env, t->acked, &value);
  napi_set_element(env, result, 0, value);
  napi_create_int64(env, t->sent, &value);
  napi_set_element(env, result, 1, value);
  napi_create_int64(env, t->sent == 0 ? 0 : (int64_t)(uv_now(t->poll.loop) - t->sent_at), &value);
  napi_set_element(env, result, 2, value);
  return result;
}

static napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1) {
    napi_throw_type_error(env, "EINVAL", "close(handle)");
    return NULL;
  }
  transfer_t *t = transfer_of(env, argv[0]);
  if (t) stop(t);
  return NULL;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor fns[] = {
      {"open", NULL, Open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, Send, NULL, NULL, NULL, napi_default, NULL},
      {"sendBlocks", NULL, SendBlocks, NULL, NULL, NULL, napi_default, NULL},
      {"progress", NULL, Progress, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}
