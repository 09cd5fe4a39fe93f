// test_tmpfiles.c: a command interrupted by SIGINT/SIGTERM while writing must not leave its
// temp file behind. A child opens a GGUF writer (the temp file now exists), writes part of a
// tensor, and signals itself; the parent checks the child died of that signal, that the temp
// file existed mid-write, and that neither it nor the output remains. Control: without the
// cleanup installed, the temp file does stay (so the check can fail).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gguf.h"
#include "kv.h"
#include "lb_types.h"
#include "tmpfiles.h"
#include "test_util.h"

static int exists(const char *p) { struct stat st; return stat(p, &st) == 0; }

// child: start a write, report the temp path through a pipe, then die of `sig`
static void child(const char *out, int sig, int install, int fd) {
    if (install) lb_tmpfile_install_signal_cleanup();
    lb_kvs kv; lb_kvs_init(&kv);
    lb_err err = {{0}};
    lb_kvs_set_str(&kv, "general.architecture", "llama", &err);
    lb_gguf_tensor t; memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "w");
    t.n_dims = 2; t.ne[0] = 64; t.ne[1] = 64; t.ne[2] = t.ne[3] = 1; t.type = LB_TYPE_F32;
    lb_gguf_writer *w = lb_gguf_writer_open(out, &kv, &t, 1, 0, &err);
    if (!w) _exit(3);
    float half[64 * 32] = {0};
    if (lb_gguf_writer_append(w, half, sizeof half, &err)) _exit(4);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)getpid());
    int present = exists(tmp);
    if (write(fd, &present, sizeof present) != sizeof present) _exit(5);
    raise(sig);
    _exit(6);   // not reached when the signal kills us
}

static int run_case(const char *dir, int sig, int install, int *tmp_left, int *tmp_seen) {
    char out[4096];
    snprintf(out, sizeof out, "%s/out-%d-%d.gguf", dir, sig, install);
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid == 0) { close(p[0]); child(out, sig, install, p[1]); }
    close(p[1]);
    int present = 0;
    if (read(p[0], &present, sizeof present) != sizeof present) present = -1;
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != sig) {
        fprintf(stderr, "child did not die of signal %d (status 0x%x)\n", sig, status);
        return -1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out, (long)pid);
    *tmp_seen = present;
    *tmp_left = exists(tmp);
    if (exists(out)) { fprintf(stderr, "%s exists after an interrupted write\n", out); return -1; }
    unlink(tmp);
    return 0;
}

int main(void) {
    char dir[] = "/tmp/lowbit-tmpfiles-XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp failed");
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (int i = 0; i < 3; i++) {
        int left = -1, seen = -1;
        CHECK(run_case(dir, sigs[i], 1, &left, &seen) == 0, "case signal %d", sigs[i]);
        CHECK(seen == 1, "signal %d: the temp file did not exist mid-write", sigs[i]);
        CHECK(left == 0, "signal %d: the temp file was left behind", sigs[i]);
    }
    int left = -1, seen = -1;   // control: no cleanup installed -> the temp file stays
    CHECK(run_case(dir, SIGTERM, 0, &left, &seen) == 0, "control case");
    CHECK(seen == 1 && left == 1, "control: expected the temp file to remain without the handler");
    rmdir(dir);
    printf("tmpfiles: SIGINT/SIGTERM/SIGHUP mid-write leave no temp or output file (control keeps it)\n");
    return 0;
}
