/* measure.c: runs one command, reports its wall time, CPU (user+sys) and peak RSS; built and used by bench_check.sh. */
/*
 * Usage: measure TIMEOUT_MS RESULT_FILE COMMAND [ARG...]
 * Writes one line "WALL_NS CPU_NS MAXRSS_KIB STATUS" to RESULT_FILE: STATUS is the exit
 * code, 128+N when killed by signal N, or "timeout" (the command was killed after
 * TIMEOUT_MS).  CPU and RSS come from wait4(), so they cover the command and every
 * descendant it waited for.  Why a helper: a child's ru_maxrss starts at the RSS its
 * parent had when it exec'd, so a command spawned straight from the (large) Python
 * runner would report Python's RSS; spawned from this small program it reports its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t expired;

static void on_alarm(int sig)
{
    (void)sig;
    expired = 1;
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: measure TIMEOUT_MS RESULT_FILE COMMAND [ARG...]\n");
        return 2;
    }
    long timeout_ms = strtol(argv[1], NULL, 10);
    FILE *out = fopen(argv[2], "w");
    if (!out) {
        perror(argv[2]);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: wait4 returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { .it_value = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 } };

    pid_t pid;
    long long t0 = now_ns();
    int rc = posix_spawnp(&pid, argv[3], NULL, NULL, &argv[3], environ);
    if (rc != 0) {
        fprintf(stderr, "measure: cannot run %s: %s\n", argv[3], strerror(rc));
        fprintf(out, "0 0 0 127\n");
        fclose(out);
        return 0;
    }
    setitimer(ITIMER_REAL, &it, NULL);
    int status = 0;
    struct rusage ru;
    pid_t w;
    while ((w = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR) {
        if (expired)
            kill(pid, SIGKILL);
    }
    long long t1 = now_ns();
    if (w < 0) {
        perror("measure: wait4");
        return 2;
    }
    long long cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000LL
                    + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000LL;
    if (expired)
        fprintf(out, "%lld %lld %ld timeout\n", t1 - t0, cpu, ru.ru_maxrss);
    else
        fprintf(out, "%lld %lld %ld %d\n", t1 - t0, cpu, ru.ru_maxrss,
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    fclose(out);
    return 0;
}
