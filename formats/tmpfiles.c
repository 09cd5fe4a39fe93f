// tmpfiles.c: see tmpfiles.h. The handler only calls unlink/signal/raise (async-signal-safe)
// and reads a fixed table, so it is safe at any point of a write.
#include "tmpfiles.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

static char g_paths[LB_TMPFILES_MAX][4096];
static volatile sig_atomic_t g_used[LB_TMPFILES_MAX];

void lb_tmpfile_track(const char *path) {
    if (!path || strlen(path) >= sizeof g_paths[0]) return;
    for (int i = 0; i < LB_TMPFILES_MAX; i++) {
        if (g_used[i]) continue;
        memcpy(g_paths[i], path, strlen(path) + 1);
        g_used[i] = 1;   // set after the path is complete: the handler never sees half a name
        return;
    }
}

void lb_tmpfile_untrack(const char *path) {
    if (!path) return;
    for (int i = 0; i < LB_TMPFILES_MAX; i++)
        if (g_used[i] && strcmp(g_paths[i], path) == 0) { g_used[i] = 0; return; }
}

static void on_signal(int sig) {
    for (int i = 0; i < LB_TMPFILES_MAX; i++)
        if (g_used[i]) unlink(g_paths[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void lb_tmpfile_install_signal_cleanup(void) {
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}
