// Socket descriptors Node cannot make itself: the main thread binds and listens once per address (bindSocket +
// listenFd) and hands each accepted connection to a worker as a dup of its descriptor (dupFd), so no worker owns a
// listening socket and request bytes never pass through the main thread. Earlier designs (one SO_REUSEPORT socket
// per worker, then one accept queue shared by dups) are described in docs/architecture.md.
#include <node_api.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netdb.h>
#include <unistd.h>
#include <string.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  const char *code = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "ESOCKET";
  napi_throw_error(env, code, msg);
  return NULL;
}

// bindSocket(host: string, port: number) -> [fd, boundPort]: bound, not yet listening; exclusive (no SO_REUSEPORT)
static napi_value BindSocket(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  char host[256];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, args[0], host, sizeof host, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "host must be a string");
    return NULL;
  }
  int32_t port = 0;
  if (napi_get_value_int32(env, args[1], &port) != napi_ok || port < 0 || port > 65535) {
    napi_throw_type_error(env, NULL, "port must be an integer 0-65535");
    return NULL;
  }
  char portstr[16];
  snprintf(portstr, sizeof portstr, "%d", port);
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  int gai = getaddrinfo(len ? host : NULL, portstr, &hints, &res);
  if (gai != 0) {
    napi_throw_error(env, "ENOTFOUND", gai_strerror(gai));
    return NULL;
  }
  int fd = -1, err = 0;
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) { err = errno; continue; }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
      err = errno;
      close(fd);
      fd = -1;
      continue;
    }
    break;
  }
  freeaddrinfo(res);
  if (fd < 0) return throw_errno(env, "bind", err ? err : EADDRNOTAVAIL);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int bound = port;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
    char serv[16];
    if (getnameinfo((struct sockaddr *)&ss, sl, NULL, 0, serv, sizeof serv, NI_NUMERICSERV) == 0) bound = atoi(serv);
  }
  napi_value out, vfd, vport;
  napi_create_array_with_length(env, 2, &out);
  napi_create_int32(env, fd, &vfd);
  napi_create_int32(env, bound, &vport);
  napi_set_element(env, out, 0, vfd);
  napi_set_element(env, out, 1, vport);
  return out;
}

// closeFd(fd): release a socket that was reserved but never handed to Node.
static napi_value CloseFd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd = -1;
  napi_get_value_int32(env, args[0], &fd);
  if (fd >= 0) close(fd);
  return NULL;
}

// listenFd(fd, backlog): start listening on a bound socket. The main thread accepts from it and hands each
// accepted connection's descriptor to a worker (dupFd), so the accept queue outlives any single worker.
static napi_value ListenFd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd = -1, backlog = 511;
  napi_get_value_int32(env, args[0], &fd);
  if (argc > 1) napi_get_value_int32(env, args[1], &backlog);
  if (listen(fd, backlog) < 0) return throw_errno(env, "listen", errno);
  return NULL;
}

// dupFd(fd) -> fd: a private descriptor of the same socket for one worker; closing it leaves the socket open.
static napi_value DupFd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t fd = -1;
  napi_get_value_int32(env, args[0], &fd);
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return throw_errno(env, "dup", errno);
  napi_value out;
  napi_create_int32(env, copy, &out);
  return out;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"bindSocket", NULL, BindSocket, NULL, NULL, NULL, napi_default, NULL},
    {"closeFd", NULL, CloseFd, NULL, NULL, NULL, napi_default, NULL},
    {"listenFd", NULL, ListenFd, NULL, NULL, NULL, napi_default, NULL},
    {"dupFd", NULL, DupFd, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 4, props);
  return exports;
}

NAPI_MODULE_INIT() { return Init(env, exports); }
