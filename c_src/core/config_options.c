/* config_options.c: the option table behind argv, the config file and --help, with its value checks. */
#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "core/config.h"

static int is_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static int is_alive_char(char ch)
{
    return is_alnum(ch) || ch == '_' || ch == '-';
}

static int is_atom_char(char ch)
{
    return is_alnum(ch) || ch == '_' || ch == '@' || ch == '.';
}

/* Copy a reason into why (bounded, always terminated) and return -1. */
static int why_set(char *why, size_t whylen, const char *text)
{
    if (why && whylen > 0) {
        size_t n = strlen(text);
        if (n >= whylen)
            n = whylen - 1;
        memcpy(why, text, n);
        why[n] = '\0';
    }
    return -1;
}

/* The alive part of a node name: letters, digits, '_' and '-'. */
static int check_alive_part(const char *s, size_t n, char *why, size_t whylen)
{
    if (n == 0)
        return why_set(why, whylen, "the name before '@' is empty");
    for (size_t i = 0; i < n; i++)
        if (!is_alive_char(s[i]))
            return why_set(why, whylen, "the name may contain only letters, digits, '_' and '-'");
    return 0;
}

/* A host name or address: labels of letters, digits, '_' and '-' separated by single dots. */
/* An IPv6 address literal (long names of -proto_dist inet6_tcp nodes: app@::1, app@fd00::5). */
static int is_ipv6_literal(const char *s, size_t n)
{
    char buf[INET6_ADDRSTRLEN];
    struct in6_addr a;
    if (n == 0 || n >= sizeof buf || !memchr(s, ':', n))
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET6, buf, &a) == 1;
}

static int check_host_part(const char *s, size_t n, char *why, size_t whylen)
{
    if (n == 0)
        return why_set(why, whylen, "the host after '@' is empty");
    if (is_ipv6_literal(s, n))
        return 0;
    if (s[0] == '.' || s[n - 1] == '.')
        return why_set(why, whylen, "the host must not begin or end with '.'");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return why_set(why, whylen, "the host contains an empty label ('..')");
        } else if (!is_alive_char(s[i])) {
            return why_set(why, whylen, "the host may contain only letters, digits, '.', '_' and '-' "
                                        "(or be an IPv6 address)");
        }
    }
    return 0;
}

/* Erlang node names are atoms, so at most 255 characters. */
#define NODE_NAME_MAX 255

static int check_node(const char *v, char *why, size_t whylen)
{
    const char *at = strchr(v, '@');
    size_t len = strlen(v);

    if (!at)
        return why_set(why, whylen, "expected a node name like alive@host");
    if (strchr(at + 1, '@'))
        return why_set(why, whylen, "a node name has exactly one '@'");
    if (len > NODE_NAME_MAX)
        return why_set(why, whylen, "a node name is at most 255 characters");
    if (check_alive_part(v, (size_t)(at - v), why, whylen) < 0)
        return -1;
    return check_host_part(at + 1, len - (size_t)(at - v) - 1, why, whylen);
}

static int check_alive(const char *v, char *why, size_t whylen)
{
    if (!*v)
        return why_set(why, whylen, "the name is empty");
    for (const char *p = v; *p; p++)
        if (!is_alive_char(*p))
            return why_set(why, whylen, "the name may contain only letters, digits, '_' and '-'");
    return 0;
}

/* A node to probe: alive@host, or a bare alive name, the node of that name on this host. */
static int check_target(const char *v, char *why, size_t whylen)
{
    if (strchr(v, '@'))
        return check_node(v, why, whylen);
    if (strlen(v) > NODE_NAME_MAX)
        return why_set(why, whylen, "a node name is at most 255 characters");
    if (v[0] != '-' && check_alive(v, why, whylen) == 0) /* "-x" alone reads as a mistyped flag */
        return 0;
    return why_set(why, whylen, "expected a node name like alive@host, or the alive name of a node on this host");
}

static int check_host(const char *v, char *why, size_t whylen)
{
    return check_host_part(v, strlen(v), why, whylen);
}

/* An atom written without quotes: letters, digits, '_', '@' and '.' (Elixir.Mod.Name). */
static int check_atom_part(const char *s, size_t n, char *why, size_t whylen)
{
    if (n == 0)
        return why_set(why, whylen, "the name is empty");
    if (n > 255)
        return why_set(why, whylen, "an atom is at most 255 characters");
    for (size_t i = 0; i < n; i++)
        if (!is_atom_char(s[i]))
            return why_set(why, whylen, "an atom may contain only letters, digits, '_', '@' and '.'");
    return 0;
}

static int check_atom(const char *v, char *why, size_t whylen)
{
    return check_atom_part(v, strlen(v), why, whylen);
}

/* ADDR:PORT, [V6]:PORT or :PORT with a port 0..65535. */
static int check_listen(const char *v, char *why, size_t whylen)
{
    const char *colon = strrchr(v, ':');
    if (!colon || !colon[1])
        return why_set(why, whylen, "expected ADDR:PORT, e.g. 0.0.0.0:8080 or :8080");
    long port = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9' || port > 65535)
            return why_set(why, whylen, "the port must be a number 0..65535");
        port = port * 10 + (*p - '0');
    }
    if (port > 65535)
        return why_set(why, whylen, "the port must be a number 0..65535");
    return 0;
}

static int check_log_format(const char *v, char *why, size_t whylen)
{
    if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0)
        return 0;
    return why_set(why, whylen, "expected text or json");
}

static int check_cluster_format(const char *v, char *why, size_t whylen)
{
    if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0 || strcmp(v, "svg") == 0)
        return 0;
    return why_set(why, whylen, "expected text, json or svg");
}

static int check_k8s_names(const char *v, char *why, size_t whylen)
{
    if (strcmp(v, "auto") == 0 || strcmp(v, "ip") == 0)
        return 0;
    return why_set(why, whylen, "expected auto (pod host names when known, else addresses) or ip");
}

static int check_tls_verify(const char *v, char *why, size_t whylen)
{
    if (strcmp(v, "peer") == 0 || strcmp(v, "none") == 0)
        return 0;
    return why_set(why, whylen, "expected peer (check the node's certificate and name) or none");
}

static int check_plan(const char *v, char *why, size_t whylen)
{
    if (strcmp(v, "auto") == 0 || strcmp(v, "one-round") == 0 || strcmp(v, "multi-round") == 0)
        return 0;
    return why_set(why, whylen, "expected auto, one-round or multi-round");
}

static int check_k8s_source(const char *v, char *why, size_t whylen)
{
    if (strcmp(v, "auto") == 0 || strcmp(v, "slices") == 0 || strcmp(v, "endpoints") == 0)
        return 0;
    return why_set(why, whylen, "expected auto, slices or endpoints");
}

/* mod:fun, both atoms; the function may end in '?' or '!' (Elixir). */
/* NAME, global:NAME or gproc:TAG, each an atom. */
static int check_governor(const char *v, char *why, size_t whylen)
{
    const char *colon = strchr(v, ':');
    if (!colon)
        return check_atom(v, why, whylen);
    size_t n = (size_t)(colon - v);
    if (!((n == 6 && strncmp(v, "global", 6) == 0) || (n == 5 && strncmp(v, "gproc", 5) == 0)))
        return why_set(why, whylen, "expected NAME, global:NAME or gproc:TAG");
    return check_atom(colon + 1, why, whylen);
}

static int check_mfa(const char *v, char *why, size_t whylen)
{
    const char *colon = strchr(v, ':');
    size_t flen;

    if (!colon || strchr(colon + 1, ':'))
        return why_set(why, whylen, "expected module:function (one ':'), called with no arguments");
    if (check_atom_part(v, (size_t)(colon - v), why, whylen) < 0)
        return -1;
    flen = strlen(colon + 1);
    if (flen > 1 && (colon[flen] == '?' || colon[flen] == '!'))
        flen--;
    return check_atom_part(colon + 1, flen, why, whylen);
}

/* An http:// or https:// URL with a host, no blanks, control characters or commas. */
static int check_url(const char *v, char *why, size_t whylen)
{
    size_t skip = strncmp(v, "http://", 7) == 0 ? 7 : strncmp(v, "https://", 8) == 0 ? 8 : 0;
    if (skip == 0)
        return why_set(why, whylen, "expected an http:// or https:// URL");
    if (v[skip] == '\0' || v[skip] == '/')
        return why_set(why, whylen, "the URL has no host");
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == ',')
            return why_set(why, whylen, "a URL may not contain blanks, control characters or commas");
    return 0;
}

#define OFF(field) offsetof(bp_config, field)

#define G_TARGET "Targets and connection"
#define G_DIST "Distribution transport (TLS, IPv6)"
#define G_LIMITS "Time and size limits"
#define G_CHECKS "Checks"
#define G_THRESH "Thresholds (a check warns at or above -warn, fails at or above -fail)"
#define G_OUTPUT "Output"
#define G_SERVE "HTTP server"
#define G_CLUSTER "Cluster and discovery"
#define G_NOTIFY "Notifications (docs/NOTIFY.md)"

#define SUB_NODE BP_SUB_ALL /* per-node health checks: cluster runs them on every node too */
#define SUB_REPORT (BP_SUB_CHECK | BP_SUB_CLUSTER) /* commands that print a report */

/* NOLINTBEGIN(bugprone-macro-parentheses): fld is a member name (OFF(fld), ->fld) and the others are
   designated initializers' values; neither can be, or needs to be, parenthesized */
#define RATIO(nm, fld, dflt, what)                                                      \
    { .name = nm, .kind = BP_OPT_RATIO, .offset = OFF(fld), .subcommands = SUB_NODE, \
      .group = G_THRESH, .metavar = "RATIO", .def = dflt, .help = what }

#define PATH(nm, fld, grp, sub, mv, what)                                                 \
    { .name = nm, .kind = BP_OPT_STRING, .offset = OFF(fld), .size = sizeof(((bp_config *)0)->fld), \
      .subcommands = sub, .group = grp, .metavar = mv, .help = what }

#define LIST(nm, fld, chk, fl, sub, grp, mv, dflt, what)                                  \
    { .name = nm, .kind = BP_OPT_LIST, .offset = OFF(fld), .check = chk, .flags = fl,  \
      .subcommands = sub, .group = grp, .metavar = mv, .def = dflt, .help = what }
/* NOLINTEND(bugprone-macro-parentheses) */

static const bp_config_option options[] = {
    /* Targets and connection */
    { .name = "node", .short_name = 'n', .kind = BP_OPT_LIST, .offset = OFF(nodes),
      .check = check_target, .subcommands = BP_SUB_ALL, .group = G_TARGET, .metavar = "NODE",
      .help = "target node alive@host, or alive for the node of that name on this host (reported "
              "by its own name); repeatable, comma-separated; also positional" },
    { .name = "cookie-file", .kind = BP_OPT_STRING, .offset = OFF(cookie_file),
      .size = sizeof(((bp_config *)0)->cookie_file), .subcommands = BP_SUB_ALL,
      .group = G_TARGET, .metavar = "FILE",
      .def_text = "~/.erlang.cookie",
      .help = "file holding the cookie, not group or world readable; overrides "
              "$BEAMPROBE_COOKIE" },
    { .name = "cnode-name", .kind = BP_OPT_STRING, .offset = OFF(cnode_name),
      .size = sizeof(((bp_config *)0)->cnode_name), .check = check_alive,
      .subcommands = BP_SUB_ALL, .group = G_TARGET, .metavar = "NAME", .def = "beamprobe",
      .help = "alive-name prefix of the probe's own node (NAME_0, NAME_1, ...)" },
    { .name = "cnode-pool", .kind = BP_OPT_INT, .offset = OFF(cnode_pool), .min = 1, .max = 64,
      .subcommands = BP_SUB_ALL, .group = G_TARGET, .metavar = "N", .def = "4",
      .help = "how many probe node names may be in use at once (1..64)" },
    { .name = "cnode-host", .kind = BP_OPT_STRING, .offset = OFF(cnode_host),
      .size = sizeof(((bp_config *)0)->cnode_host), .check = check_host,
      .subcommands = BP_SUB_ALL, .group = G_TARGET, .metavar = "HOST",
      .def_text = "from the target names", .help = "host part of the probe's own node name" },
    /* The cookie never comes from argv: these exist only to refuse it clearly. */
    { .name = "cookie", .kind = BP_OPT_REFUSED, .flags = BP_OPTF_HIDDEN,
      .subcommands = BP_SUB_ALL, .group = G_TARGET, .metavar = "COOKIE", .help = "refused" },
    { .name = "setcookie", .kind = BP_OPT_REFUSED, .flags = BP_OPTF_HIDDEN,
      .subcommands = BP_SUB_ALL, .group = G_TARGET, .metavar = "COOKIE", .help = "refused" },

    /* Distribution transport */
    { .name = "dist-tls", .kind = BP_OPT_SWITCH, .offset = OFF(dist_tls), .subcommands = BP_SUB_ALL,
      .group = G_DIST, .help = "the nodes use TLS distribution (-proto_dist inet_tls): speak TLS 1.2+ after EPMD" },
    PATH("tls-cafile", tls_cafile, G_DIST, BP_SUB_ALL, "FILE",
         "PEM CA bundle the nodes' certificates must chain to (default: the system's CAs)"),
    PATH("tls-certfile", tls_certfile, G_DIST, BP_SUB_ALL, "FILE",
         "client certificate (PEM) for nodes that require one (fail_if_no_peer_cert)"),
    PATH("tls-keyfile", tls_keyfile, G_DIST, BP_SUB_ALL, "FILE", "key of --tls-certfile (unencrypted PEM)"),
    { .name = "tls-verify", .kind = BP_OPT_STRING, .offset = OFF(tls_verify),
      .size = sizeof(((bp_config *)0)->tls_verify), .check = check_tls_verify, .subcommands = BP_SUB_ALL,
      .group = G_DIST, .metavar = "peer|none", .def = "peer",
      .help = "peer: the node's certificate must verify and name its host; none: accept any" },
    PATH("tls-server-name", tls_server_name, G_DIST, BP_SUB_ALL, "NAME",
         "name the node's certificate must carry (default: the host part of the node name)"),
    { .name = "inet6", .kind = BP_OPT_SWITCH, .offset = OFF(inet6), .subcommands = BP_SUB_ALL, .group = G_DIST,
      .help = "reach the nodes over IPv6 only (-proto_dist inet6_tcp); automatic for hosts with IPv6 addresses only" },

    /* Time and size limits */
    { .name = "timeout", .short_name = 't', .kind = BP_OPT_DURATION, .offset = OFF(timeout_ms),
      .min = 1, .max = 600000, .subcommands = BP_SUB_ALL, .group = G_LIMITS,
      .metavar = "DURATION", .def = "1s",
      .help = "overall deadline of one probe, e.g. 1500ms, 2s (1ms..10m)" },
    { .name = "governor-timeout", .kind = BP_OPT_DURATION, .offset = OFF(governor_timeout_ms),
      .min = 1, .max = 600000, .subcommands = SUB_NODE, .group = G_LIMITS,
      .metavar = "DURATION", .def = "200ms",
      .help = "sys:get_state timeout on the target; below --timeout" },
    { .name = "max-reply", .kind = BP_OPT_BYTES, .offset = OFF(max_reply_bytes),
      .min = 1024, .max = (int64_t)1 << 30, .subcommands = BP_SUB_ALL, .group = G_LIMITS,
      .metavar = "BYTES", .def = "1MiB",
      .help = "refuse replies larger than this, e.g. 512k, 4MiB (1KiB..1GiB)" },
    { .name = "plan", .kind = BP_OPT_STRING, .offset = OFF(plan), .size = sizeof(((bp_config *)0)->plan),
      .check = check_plan, .subcommands = SUB_NODE, .group = G_LIMITS, .metavar = "PLAN",
      .def = "auto",
      .help = "one-round: one request the node evaluates (erl_eval) answers every check; multi-round: a "
              "round per step (also the fallback when the node refuses the one request); auto: one-round "
              "when the TCP connect to the node takes 0.5 ms or more, else multi-round (on a fast link "
              "faster, and cheaper for the node)" },
    { .name = "supervisor-depth", .kind = BP_OPT_INT, .offset = OFF(supervisor_depth),
      .min = 0, .max = 32, .subcommands = SUB_NODE, .group = G_LIMITS, .metavar = "N",
      .def = "3", .help = "nested supervisor levels walked below each --supervisor (0..32)" },

    { .name = "top", .kind = BP_OPT_INT, .offset = OFF(top), .min = 0, .max = 50, .subcommands = BP_SUB_CHECK,
      .group = G_LIMITS, .metavar = "N", .def = "0", .def_text = "0 = off",
      .help = "also list the N processes with the longest message queues, the most memory and the most "
              "reductions over --top-window, computed on the target in the same round trip (1..50; "
              "diagnostic only, never changes the verdict; check only, serve and cluster refuse it)" },
    { .name = "top-window", .kind = BP_OPT_DURATION, .offset = OFF(top_window_ms), .min = 1, .max = 60000,
      .subcommands = BP_SUB_CHECK, .group = G_LIMITS, .metavar = "DURATION", .def = "100ms",
      .help = "--top: the window over which reductions are counted; at most half of --timeout" },

    /* Checks */
    { .name = "probe", .kind = BP_OPT_PROBE, .offset = OFF(probe), .subcommands = BP_SUB_CHECK,
      .group = G_CHECKS, .metavar = "KIND", .def = "ready",
      .help = "live (local checks only), ready (adds cluster checks) or startup" },
    LIST("expect-peers", expect_peers, check_node, 0, BP_SUB_ALL, G_CHECKS, "NODES", NULL,
         "nodes that must be connected; comma list, repeatable"),
    { .name = "expect-size", .kind = BP_OPT_INT, .offset = OFF(expect_size), .min = 1,
      .max = 65536, .flags = BP_OPTF_UNSET, .subcommands = BP_SUB_ALL, .group = G_CHECKS,
      .metavar = "N", .def_text = "unset",
      .help = "expected cluster size, the target included" },
    { .name = "memory-limit", .kind = BP_OPT_BYTES, .offset = OFF(memory_limit), .min = 0,
      .max = INT64_MAX, .subcommands = SUB_NODE, .group = G_CHECKS, .metavar = "BYTES",
      .def = "0", .def_text = "0 = the target's cgroup limit",
      .help = "memory the target may use, for --memory-warn/--memory-fail" },
    LIST("require-app", require_apps, check_atom, 0, SUB_NODE, G_CHECKS, "APPS", NULL,
         "applications that must be running; repeatable, comma-separated"),
    LIST("supervisor", supervisors, check_atom, 0, SUB_NODE, G_CHECKS, "NAMES", NULL,
         "registered supervisors whose children must be alive; repeatable"),
    { .name = "mnesia", .kind = BP_OPT_SWITCH, .offset = OFF(mnesia), .subcommands = SUB_NODE, .group = G_CHECKS,
      .help = "mnesia runs, on every db node (db_nodes vs running_db_nodes), and every table has a loaded copy" },
    { .name = "supervisor-strict", .kind = BP_OPT_SWITCH, .offset = OFF(supervisor_strict),
      .subcommands = SUB_NODE, .group = G_CHECKS,
      .help = "children that are not running (start returned ignore, or terminate_child) fail the supervisor check" },
    LIST("governor", governors, check_governor, 0, SUB_NODE, G_CHECKS, "NAMES", NULL,
         "gen_statem/gen_server whose state is checked: NAME (registered), global:NAME, or gproc:TAG "
         "(every gproc local name {n,l,{TAG,_}}); repeatable"),
    LIST("governors-under", governor_families, check_atom, 0, SUB_NODE, G_CHECKS, "SUP", NULL,
         "every child of the registered supervisor SUP is a governor (simple_one_for_one families); repeatable"),
    PATH("governor-state-field", governor_state_field, G_CHECKS, SUB_NODE, "KEY",
         "where a gen_server governor keeps its mode: a map key, or a 1-based tuple/record element"),
    LIST("governor-fail-states", governor_fail_states, check_atom, BP_OPTF_REPLACE, SUB_NODE,
         G_CHECKS, "STATES", "refusing", "governor states that fail; replaces the default"),
    LIST("governor-warn-states", governor_warn_states, check_atom, BP_OPTF_REPLACE, SUB_NODE,
         G_CHECKS, "STATES", "degraded,intervening",
         "governor states that warn; replaces the default"),
    LIST("check-mfa", check_mfas, check_mfa, 0, SUB_NODE, G_CHECKS, "MOD:FUN", NULL,
         "call MOD:FUN() on the target: ok, healthy, true, {ok,_} pass; degraded, {warn,_} warn"),

    /* Thresholds */
    RATIO("memory-warn", thresholds.memory.warn, "0.8", "memory use / --memory-limit"),
    RATIO("memory-fail", thresholds.memory.fail, "0.9", "memory use / --memory-limit"),
    RATIO("process-warn", thresholds.processes.warn, "0.8", "processes / process limit"),
    RATIO("process-fail", thresholds.processes.fail, "0.9", "processes / process limit"),
    RATIO("port-warn", thresholds.ports.warn, "0.8", "ports / port limit"),
    RATIO("port-fail", thresholds.ports.fail, "0.9", "ports / port limit"),
    RATIO("atom-warn", thresholds.atoms.warn, "0.8", "atoms / atom limit"),
    RATIO("atom-fail", thresholds.atoms.fail, "0.9", "atoms / atom limit"),
    RATIO("ets-warn", thresholds.ets.warn, "0.8", "ETS tables / ETS table limit"),
    RATIO("ets-fail", thresholds.ets.fail, "0.9", "ETS tables / ETS table limit"),
    RATIO("fd-warn", thresholds.fds.warn, "0.8", "open fds / RLIMIT_NOFILE"),
    RATIO("fd-fail", thresholds.fds.fail, "0.9", "open fds / RLIMIT_NOFILE"),
    { .name = "run-queue-warn", .kind = BP_OPT_NUMBER, .offset = OFF(thresholds.run_queue_warn),
      .min = 0, .max = 1000000, .subcommands = SUB_NODE, .group = G_THRESH, .metavar = "N",
      .def = "10", .help = "run queue / online schedulers (0 disables)" },
    { .name = "run-queue-fail", .kind = BP_OPT_NUMBER, .offset = OFF(thresholds.run_queue_fail),
      .min = 0, .max = 1000000, .subcommands = SUB_NODE, .group = G_THRESH, .metavar = "N",
      .def = "50", .help = "run queue / online schedulers (0 disables)" },

    /* Output */
    { .name = "json", .short_name = 'j', .kind = BP_OPT_SWITCH, .offset = OFF(json),
      .subcommands = SUB_REPORT, .group = G_OUTPUT, .help = "print the report as JSON" },
    { .name = "format", .kind = BP_OPT_STRING, .offset = OFF(format), .size = sizeof(((bp_config *)0)->format),
      .check = check_cluster_format, .subcommands = BP_SUB_CLUSTER, .group = G_OUTPUT, .metavar = "FORMAT",
      .help = "text, json (as --json) or svg (the mesh as a picture)" },
    { .name = "strict", .kind = BP_OPT_SWITCH, .offset = OFF(strict), .subcommands = BP_SUB_ALL,
      .group = G_OUTPUT, .help = "count degraded (warnings) as unhealthy" },

    /* Cluster and discovery */
    LIST("nodes", nodes, check_target, 0, BP_SUB_CLUSTER | BP_SUB_SERVE, G_CLUSTER, "NODES", NULL,
         "nodes to probe, comma-separated (same as --node)"),
    LIST("expect-nodes", expect_nodes, check_node, 0, BP_SUB_CLUSTER | BP_SUB_SERVE, G_CLUSTER, "NODES", NULL,
         "the nodes a whole cluster has (default: the probed ones)"),
    { .name = "wait", .short_name = 'w', .kind = BP_OPT_DURATION, .offset = OFF(wait_ms), .min = 0,
      .max = 86400000, .subcommands = BP_SUB_CLUSTER, .group = G_CLUSTER, .metavar = "DURATION",
      .def = "0", .def_text = "no waiting",
      .help = "repeat until converged or this long has passed, printing each change" },
    { .name = "allow-degraded", .kind = BP_OPT_SWITCH, .offset = OFF(allow_degraded),
      .subcommands = BP_SUB_CLUSTER, .group = G_CLUSTER,
      .help = "exit 0 when degraded (e.g. a node down) but quorum holds" },
    { .name = "ready-requires-quorum", .kind = BP_OPT_SWITCH, .offset = OFF(ready_requires_quorum),
      .subcommands = BP_SUB_SERVE, .group = G_CLUSTER,
      .help = "readiness also fails when the cluster view has no quorum" },
    PATH("epmd-host", epmd_host, G_CLUSTER, BP_SUB_CLUSTER | BP_SUB_SERVE, "HOST",
         "probe the nodes registered with EPMD on HOST (all, or those of --node-basename)"),
    PATH("dns", dns_name, G_CLUSTER, BP_SUB_CLUSTER | BP_SUB_SERVE, "NAME",
         "probe NODE-BASENAME@ip for every A record of NAME (a headless Service)"),
    { .name = "node-basename", .kind = BP_OPT_STRING, .offset = OFF(node_basename),
      .size = sizeof(((bp_config *)0)->node_basename), .check = check_alive,
      .subcommands = BP_SUB_CLUSTER | BP_SUB_SERVE, .group = G_CLUSTER, .metavar = "APP",
      .help = "alive part of --dns/--k8s-endpoints names (APP@ip); with --epmd-host, keep only "
              "APP, APP-*, APP_*, APP<digit>*" },
    { .name = "dns-by-hostname", .kind = BP_OPT_SWITCH, .offset = OFF(dns_by_hostname),
      .subcommands = BP_SUB_CLUSTER | BP_SUB_SERVE, .group = G_CLUSTER,
      .help = "name discovered nodes by their reverse-DNS host name instead of the address" },
    PATH("dns-server", dns_server, G_CLUSTER, BP_SUB_CLUSTER | BP_SUB_SERVE, "IP:PORT",
         "ask this DNS server instead of the system resolver"),
    PATH("k8s-endpoints", k8s_endpoints, G_CLUSTER, BP_SUB_CLUSTER | BP_SUB_SERVE, "NS/SERVICE",
         "probe the addresses of a Kubernetes Service (in-cluster credentials by default)"),
    PATH("k8s-api", k8s_api, G_CLUSTER, BP_SUB_CLUSTER | BP_SUB_SERVE, "URL",
         "Kubernetes API URL (default: from KUBERNETES_SERVICE_HOST/PORT)"),
    PATH("k8s-token-file", k8s_token_file, G_CLUSTER, BP_SUB_CLUSTER | BP_SUB_SERVE, "FILE",
         "service-account token (default: the in-cluster one)"),
    PATH("k8s-ca-file", k8s_ca_file, G_CLUSTER, BP_SUB_CLUSTER | BP_SUB_SERVE, "FILE",
         "CA of the Kubernetes API (default: the in-cluster one)"),
    { .name = "k8s-cluster-domain", .kind = BP_OPT_STRING, .offset = OFF(k8s_cluster_domain),
      .size = sizeof(((bp_config *)0)->k8s_cluster_domain), .check = check_host,
      .subcommands = BP_SUB_CLUSTER | BP_SUB_SERVE, .group = G_CLUSTER, .metavar = "DOMAIN",
      .def = "cluster.local", .help = "cluster DNS domain of pod names APP@<pod>.<service>.<ns>.svc.DOMAIN" },
    { .name = "rediscover", .kind = BP_OPT_DURATION, .offset = OFF(rediscover_ms), .min = 0, .max = 86400000,
      .subcommands = BP_SUB_SERVE, .group = G_CLUSTER, .metavar = "DURATION", .def = "30s",
      .def_text = "30s; 0: only at start, on SIGHUP and after a failure",
      .help = "ask the discovery sources again this often, in the background: nodes added are probed, "
              "nodes gone are dropped" },
    { .name = "k8s-names", .kind = BP_OPT_STRING, .offset = OFF(k8s_names),
      .size = sizeof(((bp_config *)0)->k8s_names), .check = check_k8s_names,
      .subcommands = BP_SUB_CLUSTER | BP_SUB_SERVE, .group = G_CLUSTER, .metavar = "MODE", .def = "auto",
      .help = "auto (pod DNS names when the endpoint has a hostname, else APP@ip) or ip (always APP@ip)" },
    { .name = "k8s-source", .kind = BP_OPT_STRING, .offset = OFF(k8s_source),
      .size = sizeof(((bp_config *)0)->k8s_source), .check = check_k8s_source,
      .subcommands = BP_SUB_CLUSTER | BP_SUB_SERVE, .group = G_CLUSTER, .metavar = "API",
      .def = "auto", .help = "auto (EndpointSlices, else v1 Endpoints), slices or endpoints (that API only)" },

    /* HTTP server */
    PATH("config", config_file, G_SERVE, BP_SUB_SERVE, "FILE",
         "JSON file of settings (keys are these option names); flags override it; SIGHUP reloads it"),
    { .name = "listen", .short_name = 'l', .kind = BP_OPT_STRING, .offset = OFF(listen),
      .size = sizeof(((bp_config *)0)->listen), .check = check_listen, .subcommands = BP_SUB_SERVE,
      .group = G_SERVE, .metavar = "ADDR:PORT", .def = "0.0.0.0:8080",
      .help = "address and port to serve on (all interfaces by default)" },
    { .name = "interval", .short_name = 'i', .kind = BP_OPT_DURATION, .offset = OFF(interval_ms),
      .min = 50, .max = 3600000, .subcommands = BP_SUB_SERVE, .group = G_SERVE,
      .metavar = "DURATION", .def = "2s", .help = "how often each target is probed (50ms..1h)" },
    { .name = "max-age", .kind = BP_OPT_DURATION, .offset = OFF(max_age_ms), .min = 0,
      .max = 86400000, .subcommands = BP_SUB_SERVE, .group = G_SERVE, .metavar = "DURATION",
      .def = "0", .def_text = "3 x interval + timeout",
      .help = "a report older than this counts as failing" },
    { .name = "max-connections", .kind = BP_OPT_INT, .offset = OFF(max_connections), .min = 1,
      .max = 1000000, .subcommands = BP_SUB_SERVE, .group = G_SERVE, .metavar = "N",
      .def = "1024", .help = "open HTTP connections at most; at the cap a new one evicts an idle or slow one" },
    { .name = "idle-timeout", .kind = BP_OPT_DURATION, .offset = OFF(idle_timeout_ms), .min = 10,
      .max = 3600000, .subcommands = BP_SUB_SERVE, .group = G_SERVE, .metavar = "DURATION",
      .def = "30s", .help = "close a keep-alive connection idle this long (and a stalled answer)" },
    { .name = "header-timeout", .kind = BP_OPT_DURATION, .offset = OFF(header_timeout_ms), .min = 10,
      .max = 3600000, .subcommands = BP_SUB_SERVE, .group = G_SERVE, .metavar = "DURATION",
      .def = "5s", .help = "close a connection whose request head is not complete this long after it began" },
    PATH("tls-cert", tls_cert, G_SERVE, BP_SUB_SERVE, "FILE", "PEM certificate (chain): serve HTTPS"),
    PATH("tls-key", tls_key, G_SERVE, BP_SUB_SERVE, "FILE", "PEM private key of --tls-cert"),
    PATH("tls-client-ca", tls_client_ca, G_SERVE, BP_SUB_SERVE, "FILE",
         "PEM CA: require client certificates signed by it (mutual TLS)"),
    PATH("auth-token-file", auth_token_file, G_SERVE, BP_SUB_SERVE, "FILE",
         "bearer token required on /health and /metrics (probe endpoints stay open)"),
    { .name = "log-format", .kind = BP_OPT_STRING, .offset = OFF(log_format),
      .size = sizeof(((bp_config *)0)->log_format), .check = check_log_format,
      .subcommands = BP_SUB_SERVE, .group = G_SERVE, .metavar = "FORMAT", .def = "text",
      .help = "state-change log lines on stderr: text or json" },
    { .name = "access-log", .kind = BP_OPT_SWITCH, .offset = OFF(access_log),
      .subcommands = BP_SUB_SERVE, .group = G_SERVE, .help = "also log one line per HTTP request" },
    { .name = "history-size", .kind = BP_OPT_INT, .offset = OFF(history_size), .min = 0, .max = 65536,
      .subcommands = BP_SUB_SERVE, .group = G_SERVE, .metavar = "N", .def = "256",
      .help = "state transitions kept per node for /health/history (0 keeps none)" },
    { .name = "peer-series-max", .kind = BP_OPT_INT, .offset = OFF(peer_series_max), .min = 0, .max = 65536,
      .subcommands = BP_SUB_ALL, .group = G_OUTPUT, .metavar = "N", .def = "256",
      .help = "beamprobe_peer_connected series per node in /metrics (missing peers first)" },

    /* Notifications */
    LIST("alertmanager", alertmanagers, check_url, 0, BP_SUB_SERVE, G_NOTIFY, "URL", NULL,
         "push an alert per failing check to this Alertmanager (POST URL/api/v2/alerts); repeatable"),
    PATH("alertmanager-ca-file", alertmanager_ca_file, G_NOTIFY, BP_SUB_SERVE, "FILE",
         "PEM CA bundle the Alertmanagers' certificates must chain to (default: the system's CAs)"),
    PATH("alertmanager-token-file", alertmanager_token_file, G_NOTIFY, BP_SUB_SERVE, "FILE",
         "bearer token sent to the Alertmanagers (chmod 600, as --auth-token-file)"),
    { .name = "alert-resend-interval", .kind = BP_OPT_DURATION, .offset = OFF(alert_resend_interval_ms),
      .min = 1000, .max = 3600000, .subcommands = BP_SUB_SERVE, .group = G_NOTIFY, .metavar = "DURATION",
      .def = "30s", .help = "post every firing alert again this often; endsAt is 4 intervals ahead (1s..1h)" },
    { .name = "external-url", .kind = BP_OPT_STRING, .offset = OFF(external_url),
      .size = sizeof(((bp_config *)0)->external_url), .check = check_url, .subcommands = BP_SUB_SERVE,
      .group = G_NOTIFY, .metavar = "URL", .def_text = "http(s)://<listen address>",
      .help = "serve's own URL, for the alerts' generatorURL (URL/health)" },
    LIST("notify-webhook", notify_webhooks, check_url, 0, BP_SUB_SERVE, G_NOTIFY, "URL", NULL,
         "POST a JSON document per state transition to this URL; repeatable"),
    PATH("notify-secret-file", notify_secret_file, G_NOTIFY, BP_SUB_SERVE, "FILE",
         "key of the webhooks' X-Beamprobe-Signature (HMAC-SHA256 of the body; chmod 600)"),
    { .name = "notify-queue-size", .kind = BP_OPT_INT, .offset = OFF(notify_queue_size), .min = 1,
      .max = 1000000, .subcommands = BP_SUB_SERVE, .group = G_NOTIFY, .metavar = "N", .def = "1024",
      .help = "notifications waiting at most; beyond, the oldest is dropped (and counted)" },
};

#define NOPTIONS (sizeof options / sizeof options[0])

/* bp_config.given has one bit per entry. */
_Static_assert(NOPTIONS <= 64 * sizeof(((bp_config *)0)->given) / sizeof(uint64_t),
               "bp_config.given needs one bit per option");

const bp_config_option *bp_config_options(size_t *count)
{
    if (count)
        *count = NOPTIONS;
    return options;
}

const bp_config_option *bp_config_option_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}
