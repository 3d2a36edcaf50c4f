/*
 * What the addons throw: a JavaScript Error whose `code` is the errno name (EACCES,
 * EADDRINUSE, ECONNREFUSED, ...) and whose message names the step that failed. Header-only, so
 * each addon stays one compilation unit.
 */
#ifndef RPI_DEPLOY_ADDON_ERRORS_H
#define RPI_DEPLOY_ADDON_ERRORS_H

#include <errno.h>
#include <node_api.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline const char *errno_name(int err) {
  switch (err) {
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENODEV: return "ENODEV";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EAGAIN: return "EAGAIN";
    case EIO: return "EIO";
    case EBADF: return "EBADF";
    case ESPIPE: return "ESPIPE";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOBUFS: return "ENOBUFS";
    case EMSGSIZE: return "EMSGSIZE";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    default: return "EUNKNOWN";
  }
}

/* Closes `fd` (if open) and throws; returns NULL for the caller to return. */
static inline napi_value fail(napi_env env, int fd, int err, const char *step) {
  char message[160];
  if (fd >= 0) close(fd);
  snprintf(message, sizeof message, "%s: %s", step, strerror(err));
  napi_throw_error(env, errno_name(err), message);
  return NULL;
}

#endif
