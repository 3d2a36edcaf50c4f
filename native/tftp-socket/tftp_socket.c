/*
 * The socket of one TFTP transfer, driven from the event loop without dgram.
 *
 * A lock-step transfer is one ACK in, one DATA out, tens of thousands of times per file. Through
 * dgram each datagram costs a request object, a 64 KiB receive allocation, an address object and
 * an event emission, which is most of the server's CPU. Here the descriptor is polled by libuv
 * directly: datagrams are read with recv() into a fixed buffer and handed to JavaScript as small
 * Buffers (an ACK as a number), and send() is a plain system call on the connected socket. What a datagram means stays
 * in TypeScript (codec, state machine).
 *
 * open(localAddress: string, clientAddress: string, clientPort: number, bufferBytes: number,
 *      onDatagram: (msg: Buffer | number | null, errorCode?: string) => void): { handle, port }
 *   A UDP socket bound to localAddress on a fresh port (RFC 1350's transfer identifier), its
 *   buffers set to bufferBytes, connected to the client so the kernel drops datagrams from any
 *   other address or port. onDatagram gets each datagram (a 4-byte one as a big-endian number),
 *   or null and an errno name when the socket fails (ECONNREFUSED: the client's port is closed).
 * send(handle, data: Buffer): number   0, or the errno of a datagram that was not sent (EAGAIN:
 *   the send buffer is full; the transfer's retransmission timer recovers it).
 * close(handle)                          idempotent; no callback runs after it.
 * Errors carry the errno name as `code`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include "addon_errors.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
} transfer_t;

/* Per thread: the addon may be loaded by several threads (worker_threads), each with its own loop. */
static _Thread_local char datagram[DATAGRAM_MAX];

static void on_closed(uv_handle_t *handle) {
  transfer_t *t = handle->data;
  close(t->fd);
  napi_delete_reference(t->env, t->callback);
  napi_delete_reference(t->env, t->resource);
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

/*
 * One datagram per readiness event: the poll is level-triggered, so a second queued datagram
 * raises the next event, and a lock-step transfer (one ACK at a time) never pays for a recv()
 * that finds nothing. A 4-byte datagram (an ACK) is handed over as one big-endian number, which
 * spares a Buffer per block.
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
  napi_open_handle_scope(t->env, &scope);
  napi_value argv[2];
  if (n == 4) {
    const unsigned char *b = (const unsigned char *)datagram;
    napi_create_uint32(t->env, ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3], &argv[0]);
    deliver(t, argv, 1);
  } else if (n >= 0) {
    void *copy;
    napi_create_buffer_copy(t->env, (size_t)n, datagram, &copy, &argv[0]);
    deliver(t, argv, 1);
  } else {
    napi_get_null(t->env, &argv[0]);
    napi_create_string_utf8(t->env, errno_name(err), NAPI_AUTO_LENGTH, &argv[1]);
    deliver(t, argv, 2);
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
  size_t argc = 5;
  napi_value argv[5];
  struct sockaddr_in local = {.sin_family = AF_INET}, client = {.sin_family = AF_INET};
  int32_t client_port, buffer_bytes;
  napi_valuetype callback_type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 || !ipv4(env, argv[0], &local.sin_addr) ||
      !ipv4(env, argv[1], &client.sin_addr) || napi_get_value_int32(env, argv[2], &client_port) != napi_ok ||
      napi_get_value_int32(env, argv[3], &buffer_bytes) != napi_ok || napi_typeof(env, argv[4], &callback_type) != napi_ok ||
      callback_type != napi_function || client_port < 1 || client_port > 65535 || buffer_bytes < 0) {
    napi_throw_type_error(env, "EINVAL", "open(localAddress: IPv4, clientAddress: IPv4, clientPort: 1-65535, bufferBytes: number, onDatagram: function)");
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
  napi_value handle, port, result, name;
  napi_get_uv_event_loop(env, &loop);
  if (uv_poll_init(loop, &t->poll, fd) != 0) {
    free(t);
    return fail(env, fd, EINVAL, "uv_poll_init");
  }
  t->poll.data = t;
  napi_create_external(env, t, finalize, NULL, &handle);
  napi_create_reference(env, argv[4], 1, &t->callback);
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
  int err = t->closed ? EBADF : send(t->fd, data, length, MSG_DONTWAIT) < 0 ? errno : 0;
  napi_create_int32(env, err, &result);
  return result;
}

/* sendMany(handle, datagrams: Buffer[]): number — one sendmmsg() for a window of DATA. */
#define SEND_BATCH_MAX 256
static napi_value SendMany(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], result;
  uint32_t count;
  bool is_array;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[1], &count) != napi_ok || count > SEND_BATCH_MAX) {
    napi_throw_type_error(env, "EINVAL", "sendMany(handle, datagrams: Buffer[]) with at most 256 datagrams");
    return NULL;
  }
  transfer_t *t = transfer_of(env, argv[0]);
  if (!t) return NULL;
  struct mmsghdr msgs[SEND_BATCH_MAX];
  struct iovec iov[SEND_BATCH_MAX];
  memset(msgs, 0, sizeof(struct mmsghdr) * count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    if (napi_get_element(env, argv[1], i, &item) != napi_ok || napi_get_buffer_info(env, item, &iov[i].iov_base, &iov[i].iov_len) != napi_ok) {
      napi_throw_type_error(env, "EINVAL", "sendMany: every datagram must be a Buffer");
      return NULL;
    }
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int err = 0;
  for (uint32_t done = 0; done < count && !t->closed;) {
    int n = sendmmsg(t->fd, msgs + done, count - done, MSG_DONTWAIT);
    if (n < 0) {
      err = errno;
      break;
    }
    done += (uint32_t)n;
  }
  napi_create_int32(env, t->closed ? EBADF : err, &result);
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
      {"sendMany", NULL, SendMany, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, Close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof fns / sizeof fns[0], fns);
  return exports;
}
