/* vt-scale-probe.c: CPU, peak RSS and connections of this process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* RUSAGE_THREAD */
#define _GNU_SOURCE

#include "vt-scale-probe.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct _VtScaleProbe
{
  guint16       port;
  gint64        interval_us;
  GThread      *thread;
  GMutex        lock;
  GCond         cond;
  gboolean      stopping;
  gboolean      first_sample_done;

  /* Written by the sampler, read once it is joined (or, for the first
   * sample, under the lock). */
  guint         peak_connections;
  gint64        peak_rss_kib;
  guint         samples;
  double        sampler_cpu_at_start;
  double        sampler_cpu_at_end;

  gboolean      hwm_reset;
  gint64        rss_start_kib;
  double        cpu_at_start;
  gint64        wall_at_start;
};

static double
rusage_seconds (int who)
{
  struct rusage usage;

  if (getrusage (who, &usage) != 0)
    return 0;
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

/* VmRSS or VmHWM from /proc/self/status, in KiB; -1 when unreadable. */
static gint64
read_status_kib (const char *field)
{
  g_autofree char *status = NULL;
  g_autofree char *key = g_strconcat ("\n", field, ":", NULL);
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, key);
  if (line == NULL)
    return -1;
  return g_ascii_strtoll (line + strlen (key), NULL, 10);
}

/* "5" resets the peak RSS (VmHWM) to the current RSS, since Linux 4.0. */
static gboolean
reset_peak_rss (void)
{
  int fd = open ("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  gboolean done;

  if (fd < 0)
    return FALSE;
  done = write (fd, "5", 1) == 1;
  close (fd);
  return done;
}

/* The TCP port a socket is connected to; 0 for anything else (not a
 * socket, not connected yet, closed meanwhile). */
static guint16
peer_port (int fd)
{
  struct sockaddr_storage address;
  socklen_t length = sizeof address;

  if (getpeername (fd, (struct sockaddr *) &address, &length) != 0)
    return 0;
  if (address.ss_family == AF_INET)
    return ntohs (((struct sockaddr_in *) &address)->sin_port);
  if (address.ss_family == AF_INET6)
    return ntohs (((struct sockaddr_in6 *) &address)->sin6_port);
  return 0;
}

/* Walks /proc/self/fd and asks each descriptor its peer: a system call
 * per descriptor, where reading /proc/net/tcp would format every socket
 * of the machine (1.3 µs each: some 25 ms per sample with the 20,000 a
 * run of 10,000 connections on loopback holds). */
guint
vt_scale_count_connections (guint16 port)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *entry;
  guint count = 0;

  if (dir == NULL)
    return 0;
  while ((entry = readdir (dir)) != NULL)
    {
      int fd = atoi (entry->d_name);

      if (fd != dirfd (dir) && g_ascii_isdigit (entry->d_name[0]) && peer_port (fd) == port)
        count++;
    }
  closedir (dir);
  return count;
}

static void
probe_sample (VtScaleProbe *probe)
{
  guint connections = vt_scale_count_connections (probe->port);
  gint64 rss = read_status_kib ("VmRSS");

  probe->peak_connections = MAX (probe->peak_connections, connections);
  probe->peak_rss_kib = MAX (probe->peak_rss_kib, rss);
  probe->samples++;
}

static gpointer
probe_thread (gpointer user_data)
{
  VtScaleProbe *probe = user_data;

  /* A first sample before the phase starts touches the sampler's own
   * stack and tables, so they are not counted as the phase's memory. */
  probe_sample (probe);
  g_mutex_lock (&probe->lock);
  probe->peak_connections = 0;
  probe->peak_rss_kib = 0;
  probe->samples = 0;
  probe->sampler_cpu_at_start = rusage_seconds (RUSAGE_THREAD);
  probe->first_sample_done = TRUE;
  g_cond_broadcast (&probe->cond);

  for (;;)
    {
      gint64 until = g_get_monotonic_time () + probe->interval_us;

      while (!probe->stopping && g_cond_wait_until (&probe->cond, &probe->lock, until))
        ;
      if (probe->stopping)
        break;
      g_mutex_unlock (&probe->lock);
      probe_sample (probe);
      g_mutex_lock (&probe->lock);
    }
  probe->sampler_cpu_at_end = rusage_seconds (RUSAGE_THREAD);
  g_mutex_unlock (&probe->lock);
  return NULL;
}

VtScaleProbe *
vt_scale_probe_start (guint16 port,
                      guint   interval_ms)
{
  VtScaleProbe *probe = g_new0 (VtScaleProbe, 1);

  probe->port = port;
  probe->interval_us = interval_ms * (gint64) 1000;
  g_mutex_init (&probe->lock);
  g_cond_init (&probe->cond);

  g_mutex_lock (&probe->lock);
  probe->thread = g_thread_new ("vt-scale-probe", probe_thread, probe);
  while (!probe->first_sample_done)
    g_cond_wait (&probe->cond, &probe->lock);

  /* Memory freed before the phase goes back to the kernel, so that what
   * the phase allocates shows as growth instead of reusing free lists. */
  malloc_trim (0);
  probe->hwm_reset = reset_peak_rss ();
  probe->rss_start_kib = read_status_kib ("VmRSS");
  probe->cpu_at_start = rusage_seconds (RUSAGE_SELF);
  probe->wall_at_start = g_get_monotonic_time ();
  g_mutex_unlock (&probe->lock);

  return probe;
}

void
vt_scale_probe_stop (VtScaleProbe *probe,
                     VtScaleUsage *usage)
{
  double cpu = rusage_seconds (RUSAGE_SELF);
  gint64 wall = g_get_monotonic_time ();
  gint64 hwm = probe->hwm_reset ? read_status_kib ("VmHWM") : -1;

  g_mutex_lock (&probe->lock);
  probe->stopping = TRUE;
  g_cond_broadcast (&probe->cond);
  g_mutex_unlock (&probe->lock);
  g_thread_join (probe->thread);

  usage->sampler_cpu_seconds = probe->sampler_cpu_at_end - probe->sampler_cpu_at_start;
  usage->cpu_seconds = MAX (0.0, cpu - probe->cpu_at_start - usage->sampler_cpu_seconds);
  usage->wall_seconds = (wall - probe->wall_at_start) / (double) G_USEC_PER_SEC;
  usage->rss_start_kib = probe->rss_start_kib;
  usage->rss_peak_kib = MAX (hwm, probe->peak_rss_kib);
  usage->peak_connections = probe->peak_connections;
  usage->samples = probe->samples;

  g_mutex_clear (&probe->lock);
  g_cond_clear (&probe->cond);
  g_free (probe);
}
