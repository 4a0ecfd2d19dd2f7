/* nif_facts.c: open file descriptors and their limit, read in C from the VM's own process. */
#include "nif/nif_facts.h"

#include <dirent.h>
#include <sys/resource.h>

void bp_nif_local_facts(bp_snapshot *snap)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snap->max_fds = (int64_t)rl.rlim_cur;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    int64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    snap->open_fds = n - 1; /* not counting the descriptor of the directory being read */
}
