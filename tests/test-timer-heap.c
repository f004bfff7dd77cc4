/* test-timer-heap.c: many timers on one source
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "vt-timer-heap-private.h"

/* ------------------------------------------------------------------ */
/* Timer heap                                                          */

typedef struct
{
  VtTimer   timer;
  GArray   *fired;   /* guint, shared */
  guint     number;
  VtTimerHeap *heap; /* to free from a callback, when set */
} Probe;

static void
on_fired (gpointer user_data)
{
  Probe *probe = user_data;

  g_array_append_val (probe->fired, probe->number);
  if (probe->heap != NULL)
    vt_timer_heap_free (g_steal_pointer (&probe->heap));
}

static void
run_until (GMainContext *context,
           GArray       *fired,
           guint         n)
{
  while (fired->len < n)
    g_main_context_iteration (context, TRUE);
}

/* Timers run in the order of their due times, whatever the order they
 * were scheduled in; a cancelled one never runs; a moved one runs at its
 * new time. */
static void
test_heap_order (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GArray) fired = g_array_new (FALSE, FALSE, sizeof (guint));
  VtTimerHeap *heap = vt_timer_heap_new (context, "test");
  static const guint order[] = { 7, 2, 9, 0, 5, 3, 8, 1, 6, 4 };
  Probe probes[10];
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < G_N_ELEMENTS (probes); i++)
    {
      probes[i] = (Probe) { .fired = fired, .number = i };
      vt_timer_init (&probes[i].timer, on_fired, &probes[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    vt_timer_heap_schedule (heap, &probes[order[i]].timer, now + 1000 * (order[i] + 1));
  g_assert_cmpuint (vt_timer_heap_size (heap), ==, 10);

  vt_timer_heap_cancel (heap, &probes[3].timer);
  vt_timer_heap_cancel (heap, &probes[3].timer);   /* twice is fine */
  g_assert_false (vt_timer_is_scheduled (&probes[3].timer));
  /* 9 moves to the front, 0 to the back. */
  vt_timer_heap_schedule (heap, &probes[9].timer, now);
  vt_timer_heap_schedule (heap, &probes[0].timer, now + 20000);
  g_assert_cmpuint (vt_timer_heap_size (heap), ==, 9);

  run_until (context, fired, 9);
  g_assert_cmpuint (g_array_index (fired, guint, 0), ==, 9);
  for (guint i = 1, expected = 1; i < 8; i++, expected++)
    {
      if (expected == 3)
        expected++;
      g_assert_cmpuint (g_array_index (fired, guint, i), ==, expected);
    }
  g_assert_cmpuint (g_array_index (fired, guint, 8), ==, 0);
  g_assert_cmpuint (vt_timer_heap_size (heap), ==, 0);

  vt_timer_heap_free (heap);
}

/* Never early: a timer due in 20 ms has not run 20 ms before. */
static void
test_heap_not_early (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GArray) fired = g_array_new (FALSE, FALSE, sizeof (guint));
  VtTimerHeap *heap = vt_timer_heap_new (context, "test");
  Probe probe = { .fired = fired };
  gint64 due;

  vt_timer_init (&probe.timer, on_fired, &probe);
  vt_timer_heap_schedule_in (heap, &probe.timer, 0.02);
  due = probe.timer.due_us;
  run_until (context, fired, 1);
  g_assert_cmpint (g_get_monotonic_time (), >=, due);

  vt_timer_heap_free (heap);
}

/* Thousands of timers, scheduled and moved at random: each runs once,
 * in due order. */
static void
test_heap_many (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GArray) fired = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  VtTimerHeap *heap = vt_timer_heap_new (context, "test");
  guint n = 5000;
  Probe *probes = g_new0 (Probe, n);
  gint64 *due = g_new0 (gint64, n);
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < n; i++)
    {
      probes[i] = (Probe) { .fired = fired, .number = i };
      vt_timer_init (&probes[i].timer, on_fired, &probes[i]);
      due[i] = now + g_rand_int_range (rand, 0, 50000);
      vt_timer_heap_schedule (heap, &probes[i].timer, due[i]);
    }
  for (guint i = 0; i < n; i += 3)
    {
      due[i] = now + g_rand_int_range (rand, 0, 50000);
      vt_timer_heap_schedule (heap, &probes[i].timer, due[i]);
    }

  run_until (context, fired, n);
  for (guint i = 1; i < n; i++)
    g_assert_cmpint (due[g_array_index (fired, guint, i - 1)], <=, due[g_array_index (fired, guint, i)]);

  vt_timer_heap_free (heap);
  g_free (probes);
  g_free (due);
}

/* A callback may free the heap it runs from: the timers still in it are
 * left unscheduled and never run, and nothing is touched after. */
static void
test_heap_free_from_callback (void)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GArray) fired = g_array_new (FALSE, FALSE, sizeof (guint));
  VtTimerHeap *heap = vt_timer_heap_new (context, "test");
  Probe first = { .fired = fired, .number = 1, .heap = heap };
  Probe second = { .fired = fired, .number = 2 };
  gint64 now = g_get_monotonic_time ();

  vt_timer_init (&first.timer, on_fired, &first);
  vt_timer_init (&second.timer, on_fired, &second);
  vt_timer_heap_schedule (heap, &first.timer, now);
  vt_timer_heap_schedule (heap, &second.timer, now);

  run_until (context, fired, 1);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_assert_cmpuint (fired->len, ==, 1);
  g_assert_false (vt_timer_is_scheduled (&second.timer));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/timer-heap/order", test_heap_order);
  g_test_add_func ("/timer-heap/not-early", test_heap_not_early);
  g_test_add_func ("/timer-heap/many", test_heap_many);
  g_test_add_func ("/timer-heap/free-from-callback", test_heap_free_from_callback);

  return g_test_run ();
}
