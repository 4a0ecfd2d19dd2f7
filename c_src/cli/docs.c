/* docs.c: the man page and the bash/zsh completion, generated from the option table behind --help. */
#include <stdio.h>
#include <string.h>

#include "beamprobe.h"
#include "cli/cli.h"
#include "core/config.h"

const bp_cli_command bp_cli_commands[] = {
    { "check", "NODE", "probe one node (exit code for Kubernetes exec probes)", BP_SUB_CHECK },
    { "serve", NULL, "HTTP health endpoints and Prometheus metrics for nodes", BP_SUB_SERVE },
    { "cluster", NULL, "probe every node at once: mesh, partitions, quorum, --wait", BP_SUB_CLUSTER },
    { "help", "[COMMAND]", "show help", 0 },
    { "version", NULL, "print the version", 0 },
};
const size_t bp_cli_n_commands = sizeof bp_cli_commands / sizeof bp_cli_commands[0];

typedef struct {
    int code;
    const char *text;
} exit_code;

static const exit_code check_exits[] = {
    { BP_EXIT_HEALTHY, "healthy (or degraded, unless --strict)" },
    { BP_EXIT_USAGE, "usage or configuration error" },
    { BP_EXIT_CONNECT, "could not connect (name resolution, EPMD, TCP, handshake, cookie, timeout)" },
    { BP_EXIT_INCOMPLETE, "connected, but the checks could not complete in time" },
    { BP_EXIT_UNHEALTHY, "unhealthy (or degraded with --strict)" },
};

static const exit_code cluster_exits[] = {
    { BP_EXIT_HEALTHY, "converged (or degraded with --allow-degraded)" },
    { BP_EXIT_USAGE, "usage or configuration error, or a discovery source failed" },
    { BP_EXIT_CONNECT, "no node could be reached" },
    { BP_EXIT_UNHEALTHY, "not converged (degraded, partitioned, no quorum)" },
};

static const exit_code serve_exits[] = {
    { BP_EXIT_HEALTHY, "stopped by SIGTERM or SIGINT" },
    { BP_EXIT_USAGE, "usage or configuration error (including an unusable certificate or key, "
                     "a listen address that cannot be bound, a bad discovery option or more than 1024 targets; "
                     "a discovery source that does not answer is retried in the background instead)" },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void print_exits(const exit_code *e, size_t n)
{
    printf("\nExit codes:\n");
    for (size_t i = 0; i < n; i++)
        printf("  %d  %s\n", e[i].code, e[i].text);
}

void bp_cli_print_exit_codes(void)
{
    print_exits(check_exits, N_OF(check_exits));
}

void bp_cli_print_cluster_exit_codes(void)
{
    print_exits(cluster_exits, N_OF(cluster_exits));
}

/* ---- roff ---------------------------------------------------------------- */

#define ROFF_WIDTH 72

/* A space of s at p ends a sentence: the next line begins a new one. */
static int sentence_end(const char *s, const char *p)
{
    return p > s && strchr(".;", p[-1]) && p[1] >= 'A' && p[1] <= 'Z';
}

/*
 * Text for mdoc text lines: backslashes and hyphens escaped, a new line after
 * every sentence (mandoc's "new sentence, new line") and before a word that
 * would pass ROFF_WIDTH, no line starting with a control character.
 */
static void roff_text(FILE *f, const char *s)
{
    size_t col = 0;
    for (const char *p = s; *p; p++) {
        if (col == 0 && (*p == '.' || *p == '\''))
            col += (size_t)fprintf(f, "\\&");
        if (*p == '\n' || (*p == ' ' && (sentence_end(s, p) || col + 1 + strcspn(p + 1, " \n") > ROFF_WIDTH))) {
            fputc('\n', f);
            col = 0;
        } else if (*p == '\\' || *p == '-') {
            col += (size_t)fprintf(f, "\\%c", *p == '-' ? '-' : 'e');
        } else {
            fputc(*p, f);
            col++;
        }
    }
    fputc('\n', f);
}

static void man_commands_of(FILE *f, unsigned mask)
{
    const char *sep = "";
    size_t n = 0, seen = 0;
    for (size_t i = 0; i < bp_cli_n_commands; i++)
        n += (bp_cli_commands[i].mask & mask) != 0;
    fputs("Commands:", f);
    for (size_t i = 0; i < bp_cli_n_commands; i++) {
        if (!(bp_cli_commands[i].mask & mask))
            continue;
        seen++;
        fprintf(f, "%s %s", sep, bp_cli_commands[i].name);
        sep = seen + 1 == n ? " and" : ",";
    }
    fputs(".\n", f);
}

/* The OPTIONS section: every option --help shows, grouped as --help groups them. */
static void man_options(FILE *f)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    const char *group = NULL;

    fputs(".Sh OPTIONS\n"
          "Options are written as in\n.Fl \\-help :\n"
          ".Fl \\-name Ar value\n"
          "or\n.Fl \\-name Ns = Ns Ar value ;\n"
          "each also names a key of the\n.Fl \\-config\nfile.\n"
          "Each entry lists the commands it applies to.\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const bp_config_option *o = &t[i];
        const char *def = o->def_text ? o->def_text : o->def;
        if (o->flags & BP_OPTF_HIDDEN)
            continue;
        if (!group || strcmp(group, o->group) != 0) {
            if (group)
                fputs(".El\n", f);
            fprintf(f, ".Ss %s\n.Bl -tag -width Ds\n", o->group);
            group = o->group;
        }
        fputs(".It", f);
        if (o->short_name)
            fprintf(f, " Fl %c ,", o->short_name);
        fprintf(f, " Fl \\-%s", o->name);
        if (o->kind != BP_OPT_SWITCH && o->metavar)
            fprintf(f, " Ar %s", o->metavar);
        fputc('\n', f);
        if (def) {
            char text[1024];
            snprintf(text, sizeof text, "%s (default: %s)", o->help, def);
            roff_text(f, text);
        } else {
            roff_text(f, o->help);
        }
        fputs(".Pp\n", f);
        man_commands_of(f, o->subcommands);
    }
    if (group)
        fputs(".El\n", f);
}

static void man_exits(FILE *f, const char *cmd, const exit_code *e, size_t n)
{
    fprintf(f, ".Ss %s\n.Bl -tag -width Ds -compact\n", cmd);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, ".It %d\n", e[i].code);
        roff_text(f, e[i].text);
    }
    fputs(".El\n", f);
}

static const char MAN_HEAD[] =
    ".Dd December 5, 2026\n"
    ".Dt BEAMPROBE 1\n"
    ".Os\n"
    ".Sh NAME\n"
    ".Nm beamprobe\n"
    ".Nd health probe for Erlang/OTP nodes and clusters\n"
    ".Sh SYNOPSIS\n"
    ".Nm\n.Cm check\n.Op Ar options\n.Ar node\n"
    ".Nm\n.Cm serve\n.Op Ar options\n.Fl \\-node Ar node ...\n"
    ".Nm\n.Cm cluster\n.Op Ar options\n.Fl \\-nodes Ar node , Ns Ar node , Ns ...\n"
    ".Nm\n.Cm help\n.Op Ar command\n"
    ".Nm\n.Fl \\-version\n"
    ".Sh DESCRIPTION\n"
    ".Nm\n"
    "probes Erlang/OTP nodes the way the distribution protocol sees them:\n"
    "it connects as a hidden C node, with a deadline on every step, asks\n"
    "questions that only use functions shipped with OTP, and reports what it sees.\n"
    "Nothing is loaded on the target.\n"
    ".Pp\n"
    "The commands are:\n"
    ".Bl -tag -width Ds\n"
    ".It Cm check Oo Ar options Oc Ar node\n"
    "Probe one Erlang node (name@host, or a bare name: the node of that name\n"
    "on this host, as in a Kubernetes exec probe) and report its health under\n"
    "the name the node states.\n"
    "Every step (name resolution, EPMD, connect, handshake, every remote call)\n"
    "shares one\n"
    ".Fl \\-timeout .\n"
    "The exit code says the verdict (see\n.Sx EXIT STATUS ) .\n"
    ".It Cm serve Oo Ar options Oc Fl \\-node Ar node ...\n"
    "Probe each node every\n.Fl \\-interval\n"
    "over a persistent distribution connection and answer HTTP from the\n"
    "latest report, never waiting on a node:\n"
    ".Bl -tag -width Ds\n"
    ".It Pa /health/live , /livez , /live\n200 when the liveness checks pass, else 503.\n"
    ".It Pa /health/ready , /readyz , /ready , /healthz\nreadiness (peers, supervisors, governors, ...).\n"
    ".It Pa /health/startup , /startupz\nstartup (required applications).\n"
    ".It Pa /health\nthe full JSON report.\n"
    ".It Pa /health/cluster\nthe cluster view of all targets.\n"
    ".It Pa /metrics\nPrometheus text format 0.0.4.\n"
    ".It Pa / , /status\nthe status page.\n"
    ".El\n"
    ".Pp\n"
    "A report older than\n.Fl \\-max\\-age\ncounts as failing; every answer says its age.\n"
    "Targets are given with\n.Fl \\-node\nand the discovery sources\n"
    ".Fl \\-epmd\\-host , \\-dns\nand\n.Fl \\-k8s\\-endpoints ;\n"
    "with several, the verdict routes answer for all of them.\n"
    "SIGTERM stops gracefully (exit 0); SIGHUP reloads\n.Fl \\-config\n"
    "(and discovers again), keeping the old settings if the new ones are invalid.\n"
    ".It Cm cluster Oo Ar options Oc Fl \\-nodes Ar list\n"
    "Probe every node at once (the whole takes as long as the slowest node),\n"
    "run each node's own checks, and tell whether the cluster is whole: who\n"
    "sees whom, partitions, asymmetric links, quorum, missing and unexpected\n"
    "nodes.\n"
    "Verdicts: converged, degraded (e.g. one node down, quorum holds),\n"
    "partitioned, no_quorum, unreachable.\n"
    "Targets are given with\n.Fl \\-nodes\nand the same discovery sources as\n.Cm serve .\n"
    ".It Cm help Op Ar command\n"
    "Show the help of\n.Nm\nor of one command (also\n.Fl \\-help , Fl h ) .\n"
    ".It Cm version\n"
    "Print the version and the report schema version (also\n.Fl \\-version ) .\n"
    ".El\n";

static const char MAN_TAIL_ENV[] =
    ".Sh ENVIRONMENT\n"
    ".Bl -tag -width Ds\n"
    ".It Ev BEAMPROBE_COOKIE\n"
    "The distribution cookie, when no\n.Fl \\-cookie\\-file\nis given.\n"
    "The cookie is never an option on the command line, where other users\n"
    "could read it.\n"
    ".It Ev HOME\n"
    "Where\n.Pa ~/.erlang.cookie\nis looked up.\n"
    ".It Ev ERL_EPMD_PORT\n"
    "The port of EPMD on the target hosts, as for erl (default 4369).\n"
    ".It Ev KUBERNETES_SERVICE_HOST , Ev KUBERNETES_SERVICE_PORT\n"
    "The Kubernetes API server used by\n.Fl \\-k8s\\-endpoints\n"
    "when it runs inside a pod.\n"
    ".El\n"
    ".Sh FILES\n"
    ".Bl -tag -width Ds\n"
    ".It Pa ~/.erlang.cookie\n"
    "The cookie, when neither\n.Fl \\-cookie\\-file\nnor\n.Ev BEAMPROBE_COOKIE\nis given.\n"
    "A cookie file readable by group or others is refused, as erl does.\n"
    ".It Pa /var/run/secrets/kubernetes.io/serviceaccount/\n"
    "The service account token and CA used by\n.Fl \\-k8s\\-endpoints\ninside a pod.\n"
    ".El\n"
    ".Pp\n"
    "The\n.Fl \\-config\nfile of\n.Cm serve\nis JSON whose keys are the long option names.\n";

static const char MAN_TAIL_EXAMPLES[] =
    ".Sh EXAMPLES\n"
    "Probe a node on this host by its short name, as a Kubernetes exec probe would:\n"
    ".Pp\n.Dl $ beamprobe check app\n"
    ".Pp\n"
    "Readiness with a governor and a required peer, as JSON:\n"
    ".Pp\n.Dl $ beamprobe check \\-\\-probe ready \\-\\-governor cost_guard \\-\\-expect\\-peers b@host \\-\\-json a@host\n"
    ".Pp\n"
    "Serve health endpoints and metrics for three nodes on port 8080:\n"
    ".Pp\n.Dl $ beamprobe serve \\-\\-listen :8080 \\-\\-node a@h1 \\-\\-node b@h2 \\-\\-node c@h3\n"
    ".Pp\n"
    "Wait until a cluster found through DNS has converged:\n"
    ".Pp\n.Dl $ beamprobe cluster \\-\\-dns app\\-headless.ns.svc.cluster.local \\-\\-wait 60s\n"
    ".Sh SEE ALSO\n"
    ".Xr epmd 1 ,\n.Xr erl 1\n"
    ".Pp\n"
    "The documentation in the source tree:\n"
    ".Pa README.md ,\n.Pa docs/SCHEMA.md ,\n.Pa docs/METRICS.md ,\n.Pa docs/CLUSTER.md ,\n"
    ".Pa docs/DISCOVERY.md .\n";

static int manpage(void)
{
    fputs(MAN_HEAD, stdout);
    man_options(stdout);
    fputs(MAN_TAIL_ENV, stdout);
    fputs(".Sh EXIT STATUS\n", stdout);
    man_exits(stdout, "check", check_exits, N_OF(check_exits));
    man_exits(stdout, "cluster", cluster_exits, N_OF(cluster_exits));
    man_exits(stdout, "serve", serve_exits, N_OF(serve_exits));
    fputs(MAN_TAIL_EXAMPLES, stdout);
    return 0;
}

/* ---- completion ------------------------------------------------------------ */

static int is_file_value(const bp_config_option *o)
{
    return o->metavar && strcmp(o->metavar, "FILE") == 0;
}

/* Words of a metavar like "peer|none", or NULL when it names no fixed choices. */
static const char *choices(const bp_config_option *o)
{
    return o->kind != BP_OPT_SWITCH && o->metavar && strchr(o->metavar, '|') ? o->metavar : NULL;
}

static void bash_words(FILE *f, unsigned mask)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    const char *sep = "";
    for (size_t i = 0; i < n; i++) {
        if ((t[i].flags & BP_OPTF_HIDDEN) || !(t[i].subcommands & mask))
            continue;
        fprintf(f, "%s--%s", sep, t[i].name);
        sep = " ";
        if (t[i].short_name)
            fprintf(f, " -%c", t[i].short_name);
    }
    fputs(" --help", f);
}

/* `case` patterns of the options that take a value, by what the value is. */
static void bash_value_cases(FILE *f)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    for (size_t i = 0; i < n; i++) {
        const bp_config_option *o = &t[i];
        if ((o->flags & BP_OPTF_HIDDEN) || o->kind == BP_OPT_SWITCH)
            continue;
        fprintf(f, "    --%s", o->name);
        if (o->short_name)
            fprintf(f, "|-%c", o->short_name);
        if (is_file_value(o))
            fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n", f);
        else if (choices(o)) {
            fputs(") COMPREPLY=($(compgen -W '", f);
            for (const char *p = o->metavar; *p; p++)
                fputc(*p == '|' ? ' ' : *p, f);
            fputs("' -- \"$cur\")); return ;;\n", f);
        } else
            fputs(") return ;;\n", f);
    }
}

static void bash_completion(FILE *f)
{
    fputs("# bash completion for beamprobe (generated by `beamprobe completion bash`; do not edit)\n"
          "_beamprobe() {\n"
          "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} sub=${COMP_WORDS[1]}\n"
          "  COMPREPLY=()\n"
          "  if ((COMP_CWORD == 1)); then\n"
          "    COMPREPLY=($(compgen -W '",
          f);
    for (size_t i = 0; i < bp_cli_n_commands; i++)
        fprintf(f, "%s ", bp_cli_commands[i].name);
    fputs("--help --version' -- \"$cur\"))\n"
          "    return\n"
          "  fi\n"
          "  case $prev in\n",
          f);
    bash_value_cases(f);
    fputs("  esac\n  local words\n  case $sub in\n", f);
    for (size_t i = 0; i < bp_cli_n_commands; i++) {
        const bp_cli_command *c = &bp_cli_commands[i];
        if (!c->mask)
            continue;
        fprintf(f, "    %s) words='", c->name);
        bash_words(f, c->mask);
        fputs("' ;;\n", f);
    }
    fputs("    help) words='", f);
    for (size_t i = 0; i < bp_cli_n_commands; i++)
        if (bp_cli_commands[i].mask)
            fprintf(f, "%s ", bp_cli_commands[i].name);
    fputs("' ;;\n"
          "    *) return ;;\n"
          "  esac\n"
          "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
          "}\n"
          "complete -F _beamprobe beamprobe\n",
          f);
}

/* s inside a single-quoted _arguments spec: quotes closed and reopened, []: escaped. */
static void zsh_quoted(FILE *f, const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else if (strchr("[]:\\", *p)) {
            fputc('\\', f);
            fputc(*p, f);
        } else
            fputc(*p, f);
    }
}

static void zsh_spec(FILE *f, const bp_config_option *o, int is_short)
{
    fputs("    '", f);
    if (o->kind == BP_OPT_LIST)
        fputc('*', f);
    if (is_short)
        fprintf(f, "-%c", o->short_name);
    else
        fprintf(f, "--%s", o->name);
    if (o->kind != BP_OPT_SWITCH)
        fputs(is_short ? "+" : "=", f);
    fputc('[', f);
    zsh_quoted(f, o->help);
    fputc(']', f);
    if (o->kind != BP_OPT_SWITCH) {
        fputc(':', f);
        zsh_quoted(f, o->metavar ? o->metavar : "value");
        fputc(':', f);
        if (is_file_value(o))
            fputs("_files", f);
        else if (choices(o)) {
            fputc('(', f);
            for (const char *p = o->metavar; *p; p++)
                fputc(*p == '|' ? ' ' : *p, f);
            fputc(')', f);
        } else
            fputc(' ', f);
    }
    fputs("' \\\n", f);
}

static void zsh_completion(FILE *f)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);

    fputs("#compdef beamprobe\n"
          "# zsh completion for beamprobe (generated by `beamprobe completion zsh`; do not edit)\n"
          "_beamprobe() {\n"
          "  local -a commands\n"
          "  commands=(\n",
          f);
    for (size_t i = 0; i < bp_cli_n_commands; i++) {
        fprintf(f, "    '%s:", bp_cli_commands[i].name);
        zsh_quoted(f, bp_cli_commands[i].summary);
        fputs("'\n", f);
    }
    fputs("  )\n"
          "  if ((CURRENT == 2)); then\n"
          "    _describe -t commands 'beamprobe command' commands\n"
          "    _arguments '--help[show help]' '--version[print the version]'\n"
          "    return\n"
          "  fi\n"
          "  local sub=$words[2]\n"
          "  shift words\n"
          "  ((CURRENT--))\n"
          "  case $sub in\n",
          f);
    for (size_t c = 0; c < bp_cli_n_commands; c++) {
        const bp_cli_command *cmd = &bp_cli_commands[c];
        if (!cmd->mask)
            continue;
        fprintf(f, "  %s)\n    _arguments -s \\\n", cmd->name);
        for (size_t i = 0; i < n; i++) {
            if ((t[i].flags & BP_OPTF_HIDDEN) || !(t[i].subcommands & cmd->mask))
                continue;
            if (t[i].short_name)
                zsh_spec(f, &t[i], 1);
            zsh_spec(f, &t[i], 0);
        }
        fputs("    '(- *)--help[show help]' \\\n", f);
        fputs(cmd->args ? "    '*:node: '\n    ;;\n" : "    ;;\n", f);
    }
    fputs("  help)\n    _describe -t commands 'beamprobe command' commands\n    ;;\n"
          "  esac\n"
          "}\n"
          "if [[ $funcstack[1] == _beamprobe ]]; then\n"
          "  _beamprobe \"$@\"\n"
          "else\n"
          "  compdef _beamprobe beamprobe\n"
          "fi\n",
          f);
}

int bp_cli_manpage(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        fprintf(stderr, "Usage: beamprobe manpage  (the beamprobe(1) page, mdoc, on stdout)\n");
        return BP_EXIT_USAGE;
    }
    return manpage();
}

int bp_cli_completion(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "bash") == 0) {
        bash_completion(stdout);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "zsh") == 0) {
        zsh_completion(stdout);
        return 0;
    }
    fprintf(stderr, "Usage: beamprobe completion bash|zsh  (the completion script on stdout)\n");
    return BP_EXIT_USAGE;
}
