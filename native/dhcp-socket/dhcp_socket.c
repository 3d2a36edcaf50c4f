/*
 * Native piece one of two (the other is native/tftp-socket): a UDP socket bound to one network interface.
 *
 * Node's dgram cannot set SO_BINDTODEVICE, and a DHCP server that is not bound to its interface
 * answers on every network the host is attached to. This opens the socket, binds it to the
 * device *before* binding the port (so no packet from another interface is ever queued on it),
 * and returns the descriptor for dgram to adopt with socket.bind({ fd }).
 *
 * openDeviceSocket(ifname: string, port: number, shared: boolean): number
 * `shared` sets SO_REUSEADDR, so other programs bound to the same port (a DHCP client on port 68)
 * keep working; without it a second server on the same interface and port gets EADDRINUSE.
 * Errors carry the errno name as `code` (EACCES, EPERM, ENODEV, EADDRINUSE, ...).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include "addon_errors.h"
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static napi_value OpenDeviceSocket(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char ifname[IFNAMSIZ + 1];
  size_t ifname_len = 0;
  int32_t port = -1;
  bool shared = false;

  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 ||
      napi_get_value_string_utf8(env, argv[0], ifname, sizeof ifname, &ifname_len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || napi_get_value_bool(env, argv[2], &shared) != napi_ok) {
    napi_throw_type_error(env, "EINVAL", "openDeviceSocket(ifname: string, port: number, shared: boolean)");
    return NULL;
  }
  /* A name that filled the buffer was cut short: refuse it rather than bind to a prefix. */
  if (ifname_len == 0 || ifname_len >= IFNAMSIZ || strlen(ifname) != ifname_len || port < 0 || port > 65535) {
    napi_throw_range_error(env, "EINVAL", "interface name must be 1-15 characters and port 0-65535");
    return NULL;
  }

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(env, -1, errno, "socket");
  int one = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)(ifname_len + 1)) != 0) return fail(env, fd, errno, "SO_BINDTODEVICE");
  if (shared && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) return fail(env, fd, errno, "SO_REUSEADDR");
  if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) return fail(env, fd, errno, "SO_BROADCAST");

  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0) return fail(env, fd, errno, "bind");

  napi_value result;
  napi_create_int32(env, fd, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "openDeviceSocket", NAPI_AUTO_LENGTH, OpenDeviceSocket, NULL, &fn);
  napi_set_named_property(env, exports, "openDeviceSocket", fn);
  return exports;
}
