/* vt-test-server.h: spawn the built vt-server for a test and stop it
 *
 * The one helper every integration test uses: C tests call it directly,
 * Python and GJS tests run under vt-with-server, which is built on it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _VtTestServer VtTestServer;

/* Starts vt-server with --port 0 and the given extra arguments (a
 * NULL-terminated list), waits for its announce line and returns.
 * Aborts the test on failure. */
VtTestServer *vt_test_server_start      (const char   *first_arg,
                                         ...) G_GNUC_NULL_TERMINATED;
VtTestServer *vt_test_server_startv     (const char * const *args);
/* "http://127.0.0.1:PORT", no trailing slash */
const char   *vt_test_server_get_url    (VtTestServer *server);
/* Terminates the process and waits for it. */
void          vt_test_server_stop       (VtTestServer *server);
/* Kills the process (SIGKILL: no clean exit, a crash) and waits for it. */
void          vt_test_server_kill       (VtTestServer *server);
/* The server's process id */
GPid          vt_test_server_get_pid    (VtTestServer *server);
/* The vt-server to run: VT_SERVER_PATH in the environment, else the built
 * one; in tests built with -Dinstalled_tests=true, the one on PATH, else
 * the installed one. */
const char   *vt_test_server_get_path   (void);

/* The requests the server counted (GET /metrics) on the given routes
 * (NULL-terminated), summed. The server counts a request once libsoup is
 * done with it, which can be well after the client read the whole answer
 * (a chunked body's last chunk is written by a close that runs in GLib's
 * thread pool): scrapes are repeated until the sum reaches @at_least, for
 * 5 s (scaled) at most; returns the last sum read. */
guint         vt_test_server_count_requests (VtTestServer       *server,
                                             const char * const *routes,
                                             guint               at_least);

/* A gauge of GET /metrics (vt_open_streams, say), scraped until it equals
 * @expected, for 5 s (scaled) at most; returns the last value read. */
guint         vt_test_server_gauge          (VtTestServer       *server,
                                             const char         *name,
                                             guint               expected);

/* The gauge @name of GET /metrics, scraped once (G_MAXUINT if absent). */
guint         vt_test_server_read_gauge     (VtTestServer       *server,
                                             const char         *name);

/* The command that runs a spawned program under valgrind when the tests
 * do (`meson test --setup valgrind` sets VT_VALGRIND), NULL-terminated;
 * empty otherwise. Prepend it to the program's argv. */
const char * const *vt_test_valgrind_argv  (void);

/* Raises RLIMIT_NOFILE to its hard limit, for programs that hold a
 * connection per job (the bench, the soak); servers they spawn inherit
 * it. Warns when it cannot. */
void          vt_test_raise_fd_limit        (void);

/* How much to stretch the times a test gives the server and the client:
 * VT_TEST_TIME_SCALE from the environment (the valgrind setup sets 10),
 * else 1. Slow runs stay correct without slowing the normal one. */
double        vt_test_time_scale        (void);
/* @seconds × the time scale, formatted for a command line. Free it. */
char         *vt_test_seconds_arg       (double seconds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VtTestServer, vt_test_server_stop)

G_END_DECLS
