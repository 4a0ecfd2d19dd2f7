/* config.h: the one configuration model shared by every subcommand (flags now, JSON file later). */
#ifndef BP_CONFIG_H
#define BP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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
    bp_ratio fds;       /* open file descriptors / RLIMIT_NOFILE (known inside the VM only) */
    /* average normal run-queue length per online scheduler */
    double run_queue_warn, run_queue_fail;
} bp_thresholds;

typedef struct bp_config {
    bp_namelist nodes;             /* targets (--node, repeatable) */
    char cookie_file[1024];        /* "" = ~/.erlang.cookie */
    char cnode_name[64];           /* alive-name prefix of the probe's C node */
    int cnode_pool;                /* how many names name_0..name_{pool-1} may be used */
    char cnode_host[BP_NAME_MAX];  /* host part of our node name; "" = derived */

    int dist_tls;                  /* --dist-tls: the distribution runs inside TLS */
    char tls_cafile[1024], tls_certfile[1024], tls_keyfile[1024];
    char tls_verify[8];            /* "peer" or "none" */
    char tls_server_name[BP_NAME_MAX];
    int inet6;                     /* --inet6 */

    int timeout_ms;                /* overall deadline of one probe */
    int governor_timeout_ms;       /* sys:get_state timeout on the target */
    int64_t max_reply_bytes;       /* larger replies are refused */
    int supervisor_depth;          /* nested supervisor levels walked below a root */
    int top;                       /* --top N: list the N busiest processes (0 = off; check only) */
    int top_window_ms;             /* --top-window: the reductions' sampling window */

    bp_probe_kind probe;
    bp_namelist expect_peers;
    int expect_size;               /* -1 = not set; cluster size including the target */
    int64_t memory_limit;          /* bytes; 0 = from the target's cgroup */
    bp_namelist require_apps;
    bp_namelist supervisors;
    int supervisor_strict;         /* children not running (pid undefined) fail */
    int mnesia;                    /* --mnesia: check the node's mnesia cluster */
    char plan[16];                 /* "auto" (default), "one-round" (one erl_eval request) or "multi-round" */
    bp_namelist governors;
    bp_namelist governor_fail_states;
    bp_namelist governor_warn_states;
    bp_namelist governor_families;  /* --governors-under: supervisors whose children are governors */
    char governor_state_field[256]; /* --governor-state-field: map key or 1-based element, "" = none */
    bp_namelist check_mfas;
    bp_thresholds thresholds;

    /* cluster and discovery */
    bp_namelist expect_nodes;      /* what "whole" means; default: the probed nodes */
    int wait_ms;                   /* cluster --wait */
    int allow_degraded;
    int ready_requires_quorum;     /* serve */
    char epmd_host[256];
    char dns_name[256];
    char node_basename[256];
    int dns_by_hostname;
    char dns_server[256];
    char k8s_endpoints[256];
    char k8s_api[512];
    char k8s_token_file[1024];
    char k8s_ca_file[1024];
    char k8s_cluster_domain[256];  /* pod DNS names: <host>.<svc>.<ns>.svc.<domain> */
    char k8s_names[16];            /* "auto" (host name when the address has one) or "ip" */
    char k8s_source[16];           /* "auto", "slices" or "endpoints" */

    /* serve */
    char config_file[1024];        /* --config: JSON settings, reloaded on SIGHUP */
    char listen[256];              /* ADDR:PORT */
    int interval_ms;               /* probe period per target */
    int rediscover_ms;             /* ask the discovery sources again this often; 0 never */
    int max_age_ms;                /* 0 = 3 x interval + timeout */
    int max_connections;
    int idle_timeout_ms;
    int header_timeout_ms;         /* a request head must arrive within this */
    char tls_cert[1024], tls_key[1024], tls_client_ca[1024];
    char auth_token_file[1024];
    char log_format[8];            /* "text" or "json" */
    int access_log;
    int history_size;              /* transitions kept per node (serve, in-VM server) */
    int peer_series_max;           /* beamprobe_peer_connected series per node */

    /* notifications (serve; docs/NOTIFY.md) */
    bp_namelist alertmanagers;     /* --alertmanager: Alertmanager base URLs */
    char alertmanager_ca_file[1024];
    char alertmanager_token_file[1024];
    int alert_resend_interval_ms;  /* firing alerts are posted again this often */
    char external_url[BP_NAME_MAX]; /* serve's own URL for generatorURL; "" = from --listen */
    bp_namelist notify_webhooks;   /* --notify-webhook: one POST per transition */
    char notify_secret_file[1024]; /* HMAC key of X-Beamprobe-Signature */
    int notify_queue_size;         /* pending notifications at most (oldest dropped) */

    int json;                      /* --json */
    char format[8];                /* cluster --format: "text", "json", "svg"; "" unset (then --json decides) */
    int strict;                    /* degraded counts as failing */

    /* Which options were given since bp_config_defaults (bit i = entry i of
     * bp_config_options()); maintained by bp_config_set. Query it with
     * bp_config_is_given. */
    uint64_t given[2];
} bp_config;

/* Subcommands an option applies to (bit mask; bp_config_option.subcommands). */
#define BP_SUB_CHECK   (1u << 0)
#define BP_SUB_SERVE   (1u << 1)
#define BP_SUB_CLUSTER (1u << 2)
#define BP_SUB_ALL     (BP_SUB_CHECK | BP_SUB_SERVE | BP_SUB_CLUSTER)

/* How an option's value is written and stored. */
typedef enum {
    BP_OPT_SWITCH,   /* int 0/1; no value on argv; "true"/"false"/"yes"/"no"/"on"/"off"/"1"/"0" */
    BP_OPT_STRING,   /* char[size]; non-empty */
    BP_OPT_INT,      /* int; decimal digits, range min..max */
    BP_OPT_DURATION, /* int milliseconds; bp_parse_duration_ms, range min..max ms */
    BP_OPT_BYTES,    /* int64_t; bp_parse_bytes, range min..max */
    BP_OPT_RATIO,    /* double in (0, 1]; "0.8" or "80%" */
    BP_OPT_NUMBER,   /* double; non-negative decimal ("10", "2.5"), at most max */
    BP_OPT_LIST,     /* bp_namelist; comma-separated, repeatable, duplicates dropped */
    BP_OPT_PROBE,    /* bp_probe_kind; live|ready|startup */
    BP_OPT_REFUSED   /* takes a value but is always rejected (--cookie) */
} bp_option_kind;

#define BP_OPTF_HIDDEN  1u /* not shown in --help */
#define BP_OPTF_REPLACE 2u /* LIST: the first use replaces the default entries */
#define BP_OPTF_UNSET   4u /* INT: -1 means "not set" (default, accepted by validate) */

/* One entry of the option table that drives argv, the config file and --help. */
typedef struct bp_config_option {
    const char *name;       /* long option without "--"; also the config-file key */
    char short_name;        /* -x, or 0 */
    bp_option_kind kind;
    size_t offset;          /* of the field in bp_config */
    size_t size;            /* STRING: size of the char array (value < size bytes) */
    int64_t min, max;       /* INT, DURATION (ms), BYTES, NUMBER: inclusive range (INT and
                               DURATION are stored in an int: keep the range within one) */
    /* STRING values and LIST entries: 0 if acceptable, else -1 with a reason in why. */
    int (*check)(const char *value, char *why, size_t whylen);
    unsigned flags;         /* BP_OPTF_* */
    unsigned subcommands;   /* BP_SUB_* mask */
    const char *group;      /* heading in --help; entries of a group are adjacent */
    const char *metavar;    /* "NODE", "DURATION", ...; NULL for switches */
    const char *def;        /* default: applied by bp_config_defaults, shown in --help */
    const char *def_text;   /* shown in --help instead of def (NULL = def) */
    const char *help;       /* one line */
} bp_config_option;

/* The option table (static storage) and its length. */
const bp_config_option *bp_config_options(size_t *count);
/* The table entry named `name` (long name, no "--"), or NULL. */
const bp_config_option *bp_config_option_find(const char *name);

/*
 * Defaults for everything (documented in --help). Every default that has a
 * textual form lives in the option table and is applied through the same
 * setter as user input, so --help cannot drift from the real defaults:
 * timeout 1s, governor-timeout 200ms, max-reply 1MiB, supervisor-depth 3,
 * cnode-name beamprobe, cnode-pool 4, probe ready, expect-size -1 (unset),
 * memory-limit 0 (= the target's cgroup limit), governor-fail-states
 * refusing, governor-warn-states degraded,intervening, ratio thresholds warn
 * 0.8 / fail 0.9, run-queue warn 10 / fail 50. Clears `given`.
 */
void bp_config_defaults(bp_config *c);

/*
 * Apply one long option (name without "--", value may be NULL for switches)
 * to the configuration. Used by the argv parser and the config-file loader so
 * both accept the same names. Scalars: the last value wins. Lists: the value
 * is split on commas (blanks around entries ignored, empty entries refused),
 * each entry is checked, duplicates are dropped, and the entries are appended
 * (BP_OPTF_REPLACE lists start over on their first use). A failed call leaves
 * the configuration unchanged. The subcommand mask is not consulted here.
 * "cookie" is refused with a message that never contains the value.
 * Returns 0, or BP_EUSAGE with a message in err (err may be NULL).
 */
int bp_config_set(bp_config *c, const char *name, const char *value, char *err, size_t errlen);

/*
 * Whether option `name` takes a value (1), is a switch (0), or is unknown (-1).
 * The refused "cookie" reports 1, so that a scanner skips (and never shows) its value.
 */
int bp_config_option_arity(const char *name);

/* Whether option `name` was set by bp_config_set since bp_config_defaults. */
int bp_config_is_given(const bp_config *c, const char *name);

/*
 * Check every field against the table (ranges, name syntax, list sizes,
 * termination) and the cross-field rules: warn <= fail for each threshold
 * pair, governor-timeout < timeout, fail and warn governor states disjoint.
 * Whether a target is required depends on the subcommand: the CLI checks that.
 * 0 or BP_EUSAGE with err.
 */
int bp_config_validate(const bp_config *c, char *err, size_t errlen);

/*
 * Parse argv (argv[0], the program or subcommand name, is skipped, as with
 * getopt) for a subcommand given as a BP_SUB_* mask: "--name value",
 * "--name=value", "-x value", "-xvalue", clustered short switches ("-jv"),
 * and "--" ending the options. Other arguments are target nodes, appended to
 * c->nodes like --node. A value that begins with '-' must use "--name=value".
 * --help/-h and --version are not handled here. Does not call validate.
 * 0, or BP_EUSAGE with a message in err that names the option.
 */
int bp_config_parse_argv(bp_config *c, unsigned subcommand_mask, int argc, char **argv,
                         char *err, size_t errlen);

/*
 * Derive what depends on other settings, after parsing and before validate:
 * a --governor-timeout left at its default is lowered to half of a short
 * --timeout (an explicit one must be shorter than --timeout).
 */
void bp_config_finish(bp_config *c);

/* Print the options section of --help for a subcommand mask, from the table. */
void bp_config_print_help(FILE *f, unsigned subcommand_mask);

/*
 * Parse a duration into milliseconds: a non-negative decimal number with an
 * optional unit ms (default), s, m, h (any case): "1500", "1500ms", "2s",
 * "1.5s", "1m". The result must be a whole number of milliseconds. No signs,
 * blanks or exponents. 0, or -1 on garbage or overflow.
 */
int bp_parse_duration_ms(const char *s, int64_t *ms);

/*
 * Parse a size into bytes: a non-negative decimal number with an optional
 * unit (any case): none or B = 1; k, KiB = 1024; M, MiB = 1024^2; G, GiB =
 * 1024^3; T, TiB = 1024^4; KB = 1000; MB = 1000^2; GB = 1000^3; TB = 1000^4.
 * So "512k" = "512KiB" = 524288, "1M" = "1MiB" = 1048576, "2GB" = 2000000000.
 * Fractions must give whole bytes ("0.5k" = 512). 0, or -1 on garbage or overflow.
 */
int bp_parse_bytes(const char *s, int64_t *bytes);

#endif
