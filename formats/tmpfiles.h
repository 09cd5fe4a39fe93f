// tmpfiles.h: temp files that must not outlive an interrupted command.
// Every writer that builds OUT in "OUT.tmp-..." and renames it into place tracks the temp path
// while it exists; the CLI installs handlers so SIGINT/SIGTERM/SIGHUP remove tracked temp files
// before the process dies. (SIGKILL cannot be caught: the temp name carries the pid instead.)
#pragma once

// Start/stop tracking a temp path (copied). Tracking is best effort: a full table (more than
// LB_TMPFILES_MAX files open at once) only loses the cleanup, never the write.
#define LB_TMPFILES_MAX 16
void lb_tmpfile_track(const char *path);
void lb_tmpfile_untrack(const char *path);

// Install the cleanup for SIGINT, SIGTERM and SIGHUP: unlink every tracked file, then die of
// the same signal (default action), so the exit status still says what happened.
void lb_tmpfile_install_signal_cleanup(void);
