/* config.h: the one configuration model shared by every subcommand (flags now, JSON file later). */
#ifndef BP_CONFIG_H
#define BP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define BP_NAME_MAX 256   /* node names, registered names, mfa strings */
#define BP_LIST_MAX 64    /* entries per repeatable option */

typedef struct {
    size_t n;
    char v[BP_LIST_MAX][BP_NAME_MAX];
} bp_namelist;

typedef enum { BP_PROBE_LIVE = 0, BP_PROBE_READY, BP_PROBE_STARTUP } bp_probe_kind;

typedef struct {
    double warn, fail; /* ratios 0..1; value >= fail fails, >= warn warns */
} bp_ratio;

typedef struct {
    bp_ratio memory;    /* erlang:memory(total) / limit */
    bp_ratio processes; /* process_count / process_limit */
    bp_ratio ports;
    bp_ratio atoms;
    bp_ratio ets;
    /* average normal run-queue length per online scheduler */
    double run_queue_warn, run_queue_fail;
} bp_thresholds;

typedef struct bp_config {
    bp_namelist nodes;             /* targets (--node, repeatable) */
    char cookie_file[1024];        /* "" = ~/.erlang.cookie */
    char cnode_name[64];           /* alive-name prefix of the probe's C node */
    int cnode_pool;                /* how many names name_0..name_{pool-1} may be used */
    char cnode_host[BP_NAME_MAX];  /* host part of our node name; "" = derived */
    char runtime_dir[1024];        /* where name-slot locks live; "" = default */

    int timeout_ms;                /* overall deadline of one probe */
    int governor_timeout_ms;       /* sys:get_state timeout on the target */
    int64_t max_reply_bytes;       /* larger replies are refused */
    int supervisor_depth;          /* nested supervisor levels walked below a root */

    bp_probe_kind probe;
    bp_namelist expect_peers;
    int expect_size;               /* -1 = not set; cluster size including the target */
    int64_t memory_limit;          /* bytes; 0 = from the target's cgroup */
    bp_namelist require_apps;
    bp_namelist supervisors;
    bp_namelist governors;
    bp_namelist governor_fail_states;
    bp_namelist governor_warn_states;
    bp_namelist check_mfas;
    bp_thresholds thresholds;

    int json;                      /* --json */
    int strict;                    /* degraded counts as failing */
    int verbose;
} bp_config;

/* Defaults for everything (documented in --help). */
void bp_config_defaults(bp_config *c);

/*
 * Apply one long option (name without "--", value may be NULL for switches)
 * to the configuration. Used by the argv parser and the config-file loader so
 * both accept the same names. Returns 0, or BP_EUSAGE with a message in err.
 */
int bp_config_set(bp_config *c, const char *name, const char *value, char *err, size_t errlen);

/* Whether option `name` takes a value (1), is a switch (0), or is unknown (-1). */
int bp_config_option_arity(const char *name);

/* Check cross-field consistency after parsing. 0 or BP_EUSAGE with err. */
int bp_config_validate(const bp_config *c, char *err, size_t errlen);

/* Parse a duration such as "1500", "1500ms", "2s", "1m" into milliseconds. 0 or -1. */
int bp_parse_duration_ms(const char *s, int64_t *ms);
/* Parse a size such as "1048576", "512k", "1MiB", "2G" into bytes. 0 or -1. */
int bp_parse_bytes(const char *s, int64_t *bytes);

#endif
