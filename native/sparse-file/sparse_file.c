/*
 * Where a sparse file holds data: lseek(2) with SEEK_DATA and SEEK_HOLE, which Node does not
 * expose. An image file's holes read as zeros, but the kernel makes those zeros page by page;
 * an importer that knows where the holes are makes them itself, at memory speed.
 *
 * dataRanges(fd: number, sizeBytes: number): number[]
 *   [start0, end0, start1, end1, ...]: the byte ranges below sizeBytes that hold data, in order.
 *   A filesystem without hole tracking reports the whole file as data. Throws with `code` the
 *   errno name when lseek fails otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>
#include "addon_errors.h"

static napi_value data_ranges(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  int64_t size;
  napi_value out;
  uint32_t n = 0;
  off_t at = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int64(env, argv[1], &size) != napi_ok) {
    napi_throw_type_error(env, NULL, "dataRanges(fd, sizeBytes) takes two numbers");
    return NULL;
  }
  napi_create_array(env, &out);
  while (at < size) {
    off_t start = lseek(fd, at, SEEK_DATA);
    /* ENXIO: no data at or after `at`, the rest is a hole. */
    if (start < 0 && errno == ENXIO) break;
    if (start < 0) return fail(env, -1, errno, "lseek SEEK_DATA");
    if (start >= size) break;
    off_t end = lseek(fd, start, SEEK_HOLE);
    if (end < 0) return fail(env, -1, errno, "lseek SEEK_HOLE");
    if (end > size) end = size;
    napi_value v;
    napi_create_int64(env, start, &v);
    napi_set_element(env, out, n++, v);
    napi_create_int64(env, end, &v);
    napi_set_element(env, out, n++, v);
    at = end;
  }
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "dataRanges", NAPI_AUTO_LENGTH, data_ranges, NULL, &fn);
  napi_set_named_property(env, exports, "dataRanges", fn);
  return exports;
}
