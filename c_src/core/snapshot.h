/* snapshot.h: plain C facts collected from one node (no ei types); owned by one arena. */
#ifndef BP_SNAPSHOT_H
#define BP_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/* Outcome of collecting one group of facts. */
typedef enum {
    BP_FACT_UNSET = 0, /* not asked for in this probe */
    BP_FACT_OK,        /* collected */
    BP_FACT_ERROR,     /* asked, but failed: `error` says why */
    BP_FACT_TIMEOUT    /* asked, no answer before the deadline */
} bp_fact_state;

typedef struct {
    bp_fact_state state;
    const char *error; /* arena string or NULL */
} bp_fact;

typedef struct {
    const char **v; /* arena strings */
    size_t n;
} bp_strv;

typedef struct {
    const char *kind; /* "total", "processes", ... as erlang:memory/0 names them */
    int64_t bytes;
} bp_memory_kind;

typedef struct {
    const char *name;
    const char *version;
} bp_app;

#define BP_CHILD_DOWN_MAX 32
typedef struct {
    const char *name;   /* registered name, or "parent/child_id" for nested ones */
    const char *pid;    /* text, NULL if unknown */
    const char *kind;   /* what the process proved to be ("supervisor kernel"), NULL if not proven */
    int depth;          /* 0 for a --supervisor root */
    bp_fact fact;       /* exists, proved a supervisor, answered count_children/which_children */
    int64_t specs, active, supervisors, workers; /* count_children; -1 unknown */
    size_t n_down;      /* children being restarted (pid `restarting`) */
    const char *down[BP_CHILD_DOWN_MAX]; /* "child_id (restarting)"; first BP_CHILD_DOWN_MAX */
    size_t n_stopped;   /* children not running: pid `undefined` (start returned ignore, or
                           terminate_child); kept by the supervisor, not restarted */
    const char *stopped[BP_CHILD_DOWN_MAX]; /* child ids; first BP_CHILD_DOWN_MAX */
    int64_t intensity, period; /* restart intensity and period (s) from the supervisor's state; -1 unknown */
    int64_t recent_restarts;   /* restarts within the last `period` seconds; -1 unknown */
    int children_truncated; /* which_children refused (reply too large) */
} bp_supervisor_snap;

typedef struct {
    const char *name;        /* registered name */
    bp_fact fact;            /* whereis + process_info (the proof of its kind) */
    int alive;               /* registered and alive */
    const char *pid;         /* text */
    const char *kind;        /* what the process proved to be ("gen_statem app_gov"), NULL if not proven */
    int sys_refused;    /* its kind handles no system messages: nothing was sent */
    int64_t message_queue_len; /* -1 unknown */
    int64_t memory;          /* bytes, -1 unknown */
    bp_fact state_fact;      /* sys:get_state under the governor timeout, if its kind handles it */
    const char *state;       /* state name, NULL if unknown */
    const char *unreadable;  /* why the state has no name (a gen_server without --governor-state-field,
                                a field that is absent or no atom), NULL otherwise */
} bp_governor_snap;

/*
 * A family of governors: every child of a supervisor (--governors-under SUP, one per
 * tenant under a simple_one_for_one supervisor, say), or every gproc local name
 * {n, l, {TAG, _}} (--governor gproc:TAG). At most BP_FAMILY_MAX members are inspected.
 */
#define BP_FAMILY_MAX 4096
typedef struct {
    const char *name;          /* the supervisor's registered name, or "gproc:TAG" */
    bp_fact fact;              /* found and listed (supervisor proven, gproc answered) */
    const char *pid, *kind;    /* the supervisor's, NULL for gproc */
    size_t n_total;            /* members found */
    size_t n_members;          /* inspected: min(n_total, BP_FAMILY_MAX) */
    bp_governor_snap *members; /* name: registered name, else the child id or gproc key, else the pid */
} bp_govfamily_snap;

typedef enum { BP_VERDICT_PASS = 0, BP_VERDICT_WARN, BP_VERDICT_FAIL } bp_verdict;

typedef struct {
    const char *mfa;    /* "mod:fun" */
    bp_fact fact;
    bp_verdict verdict;
    const char *detail; /* the returned term, formatted and bounded */
} bp_custom_snap;

/* --top: one process among a category's winners (collect_top.c). */
typedef struct {
    const char *pid;              /* "<0.123.0>" */
    const char *name;             /* registered name, NULL if none */
    const char *current_function; /* "mod:fun/arity", NULL if unknown (gone) */
    const char *initial_call;     /* "mod:fun/arity" (proc_lib's translated), NULL if unknown */
    int64_t value;                /* queue length, bytes, or reductions in the window */
} bp_top_entry;

enum { BP_TOP_QUEUE = 0, BP_TOP_MEMORY, BP_TOP_REDUCTIONS, BP_TOP_CATEGORIES };

/* --top N: the target's processes with the longest queues, the most memory, the most reductions. */
typedef struct {
    int asked;                    /* N > 0 was given */
    const char *unavailable;      /* why there is no list (asked only), else NULL */
    int64_t window_ms;            /* the reductions' window */
    int64_t processes;            /* processes seen (the probe's own left out) */
    int64_t probe_memory;         /* bytes of the probe's process on the target at the end */
    bp_top_entry *list[BP_TOP_CATEGORIES];
    size_t n[BP_TOP_CATEGORIES];
} bp_top_snap;

typedef struct bp_snapshot {
    bp_arena *arena;       /* owns every string and array below */
    const char *node;      /* the node's name: as it states it once connected, else as given */
    const char *given_as;  /* the name it was probed by when that differs from node, else NULL */
    int64_t timestamp_ms;  /* Unix time when collection started */
    int64_t duration_us;   /* wall time of the whole probe */
    int round_trips;       /* request/reply rounds after the handshake */
    const char *plan;      /* "one-round" or "multi-round" (NULL in the NIF: no rounds) */
    const char *plan_reason; /* why this plan ran, or NULL (the one-round plan as configured) */
    int plan_auto;         /* the plan was --plan auto's choice */
    int64_t rtt_us;        /* the TCP connect's time: the network's round trip (-1 unknown) */
    int plan_unused;       /* one-round: answers of the target no call of ours used (-1 unknown) */

    bp_fact connect;       /* session: OK when the handshake succeeded */
    int connect_code;      /* BP_E* code when connect failed, else 0 */

    bp_fact identity;
    const char *otp_release, *erts_version;
    int64_t uptime_ms;

    bp_fact membership;
    bp_strv visible, hidden; /* hidden excludes the probe's own C node */

    bp_fact memory;
    size_t n_memory;
    bp_memory_kind memory_kinds[24];

    bp_fact cgroup;            /* target's cgroup files; ERROR/UNSET when absent */
    const char *cgroup_version; /* "v2", "v1" or NULL */
    int64_t cgroup_limit;       /* bytes, -1 unlimited/unknown */
    int64_t cgroup_usage;       /* bytes, -1 unknown */

    bp_fact limits;
    int64_t process_count, process_limit, port_count, port_limit;
    int64_t atom_count, atom_limit, ets_count, ets_limit;
    /* Open file descriptors of the VM's OS process and their limit (RLIMIT_NOFILE soft
     * limit); -1 unknown. Only a snapshot built inside the VM (the NIF) knows them;
     * they are judged by the `limits` check but are not part of the `limits` fact. */
    int64_t open_fds, max_fds;

    bp_fact schedulers;
    int64_t run_queue;           /* total of the normal run queues */
    int64_t dirty_cpu_run_queue, dirty_io_run_queue;
    int64_t schedulers_online, dirty_cpu_schedulers_online, dirty_io_schedulers;

    bp_fact applications;
    size_t n_apps;
    bp_app *apps;

    size_t n_supervisors;
    bp_supervisor_snap *supervisors;
    size_t n_governors;
    bp_governor_snap *governors;
    size_t n_families;
    bp_govfamily_snap *families;
    size_t n_custom;
    bp_custom_snap *custom;

    /* --mnesia: the node's view of its mnesia cluster */
    bp_fact mnesia;                  /* UNSET unless asked */
    const char *mnesia_running;      /* system_info(is_running): "yes", "no", "starting", "stopping";
                                        "not loaded" when the node never loaded mnesia */
    bp_strv mnesia_db_nodes;         /* system_info(db_nodes) */
    bp_strv mnesia_running_nodes;    /* system_info(running_db_nodes) */
    int64_t mnesia_tables;           /* tables, -1 unknown */
    bp_strv mnesia_unloaded;         /* tables with no loaded copy anywhere (where_to_read = nowhere) */

    bp_top_snap top;                 /* --top: diagnostic only, never judged */
} bp_snapshot;

/* New empty snapshot for `node` with its own arena; NULL on OOM. */
bp_snapshot *bp_snapshot_new(const char *node);
/*
 * The node stated its own name `real` (its node()): make it the snapshot's
 * name, keeping the name it was probed by in given_as when that differs.
 * NULL or "" changes nothing. 0 or BP_ENOMEM.
 */
int bp_snapshot_set_node(bp_snapshot *s, const char *real);
/* The name the node was probed by (given_as, or node when they are the same). */
const char *bp_snapshot_target(const bp_snapshot *s);
/*
 * How to name a probed node in a report: the node's own name once its
 * snapshot learned one that differs from the name given; otherwise `given`,
 * or the snapshot's name when given is NULL. s may be NULL.
 */
const char *bp_snapshot_name_or(const bp_snapshot *s, const char *given);
/* Free the snapshot and its arena. NULL is fine. */
void bp_snapshot_free(bp_snapshot *s);
/* Mark a fact failed with a printf-style reason copied into the arena. */
void bp_fact_fail(bp_snapshot *s, bp_fact *f, bp_fact_state state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Bytes of erlang:memory(total), or -1. */
int64_t bp_snapshot_memory(const bp_snapshot *s, const char *kind);

#endif
