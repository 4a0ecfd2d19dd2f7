/* config_args.c: the command line (long and short options, values, positionals) and --help, over the option table. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "beamprobe.h"
#include "core/config.h"
#include "core/config_int.h"

/* ---- argv -------------------------------------------------------------- */

static const char *subcommand_name(unsigned mask)
{
    switch (mask) {
    case BP_SUB_CHECK: return "beamprobe check";
    case BP_SUB_SERVE: return "beamprobe serve";
    case BP_SUB_CLUSTER: return "beamprobe cluster";
    default: return "beamprobe";
    }
}

/* The table entry for the first n bytes of name, or NULL. */
static const bp_config_option *find_n(const char *name, size_t len)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);

    for (size_t i = 0; i < n; i++)
        if (strncmp(t[i].name, name, len) == 0 && t[i].name[len] == '\0')
            return &t[i];
    return NULL;
}

static const bp_config_option *find_short(char ch)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);

    for (size_t i = 0; i < n; i++)
        if (ch != '\0' && t[i].short_name == ch)
            return &t[i];
    return NULL;
}

/* An argument that the parser would read as an option, so not as an option's value. */
static int looks_like_option(const char *a)
{
    return a[0] == '-' && a[1] != '\0';
}

/* `spelled` is shown up to `len` bytes: the value of "--foo=value" never is. */
static int unknown(const char *spelled, size_t len, unsigned mask, char *err, size_t errlen)
{
    char sv[SHOW_MAX + 4];

    return bp__config_fail(err, errlen, "unknown option '%s' (see '%s --help')",
                bp__config_show_n(spelled, len, sv, sizeof sv), subcommand_name(mask));
}

static int not_here(const char *label, unsigned mask, char *err, size_t errlen)
{
    const char *sub = subcommand_name(mask);
    return bp__config_fail(err, errlen, "option %s does not apply to '%s' (see '%s --help')", label, sub, sub);
}

static int missing_value(const bp_config_option *o, const char *label, char *err, size_t errlen)
{
    return bp__config_fail(err, errlen, "option %s requires a %s value", label, o->metavar);
}

/* "--timeout -5": a negative number is a value, and a bad one, not a missing one. */
static int negative_value(const char *a)
{
    return a[0] == '-' && a[1] >= '0' && a[1] <= '9';
}

/* One "--name", "--name=value" or "--name value" argument at argv[*i]. */
static int parse_long(bp_config *c, unsigned mask, int argc, char **argv, int *i, char *err,
                      size_t errlen)
{
    const char *a = argv[*i];
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    const bp_config_option *o = find_n(name, nlen);
    const char *value = eq ? eq + 1 : NULL;
    char label[80];

    if (!o)
        return unknown(a, nlen + 2, mask, err, errlen);
    snprintf(label, sizeof label, "--%s", o->name);
    if (o->kind == BP_OPT_REFUSED)
        return bp__config_refuse_cookie(label, err, errlen);
    if (!(o->subcommands & mask))
        return not_here(label, mask, err, errlen);
    if (o->kind != BP_OPT_SWITCH && !value) {
        if (*i + 1 >= argc || !argv[*i + 1] || (looks_like_option(argv[*i + 1]) && !negative_value(argv[*i + 1])))
            return missing_value(o, label, err, errlen);
        value = argv[++*i];
    }
    return bp__config_set_opt(c, o, value, label, err, errlen);
}

/* One "-x", "-xvalue", "-x value" or "-jv" argument at argv[*i]. */
static int parse_short(bp_config *c, unsigned mask, int argc, char **argv, int *i, char *err,
                       size_t errlen)
{
    const char *a = argv[*i];
    const char *eq = strchr(a + 1, '=');
    size_t nlen = eq ? (size_t)(eq - a - 1) : strlen(a + 1);
    const bp_config_option *o = find_n(a + 1, nlen);
    char label[80];

    /* Erlang habits such as "-setcookie X" are refused like --cookie, never parsed as -s... */
    if (o && o->kind == BP_OPT_REFUSED) {
        snprintf(label, sizeof label, "-%s", o->name);
        return bp__config_refuse_cookie(label, err, errlen);
    }
    if (o && nlen > 1)
        return bp__config_fail(err, errlen, "unknown option '-%s': long options take two dashes (--%s)",
                    o->name, o->name);
    for (const char *p = a + 1; *p; p++) {
        const char *value;
        int rc;

        o = find_short(*p);
        if (!o) {
            unsigned char uc = (unsigned char)*p;
            char ch = (uc < 0x20 || uc >= 0x7f) ? '?' : *p;
            return bp__config_fail(err, errlen, "unknown option '-%c' (see '%s --help')", ch,
                        subcommand_name(mask));
        }
        snprintf(label, sizeof label, "-%c/--%s", *p, o->name);
        if (!(o->subcommands & mask))
            return not_here(label, mask, err, errlen);
        if (o->kind == BP_OPT_SWITCH) {
            if ((rc = bp__config_set_opt(c, o, NULL, label, err, errlen)) < 0)
                return rc;
            continue;
        }
        value = p + 1;
        if (*value == '=')
            value++;
        if (!*value) {
            if (*i + 1 >= argc || !argv[*i + 1] || (looks_like_option(argv[*i + 1]) && !negative_value(argv[*i + 1])))
                return missing_value(o, label, err, errlen);
            value = argv[++*i];
        }
        return bp__config_set_opt(c, o, value, label, err, errlen);
    }
    return 0;
}

int bp_config_parse_argv(bp_config *c, unsigned subcommand_mask, int argc, char **argv, char *err,
                         size_t errlen)
{
    const bp_config_option *node = bp_config_option_find("node");
    unsigned mask = subcommand_mask ? subcommand_mask : BP_SUB_ALL;
    int only_positional = 0;

    if (!c || (argc > 0 && !argv))
        return bp__config_fail(err, errlen, "no arguments");
    for (int i = 1; i < argc && argv[i]; i++) {
        const char *a = argv[i];
        int rc;

        if (only_positional || !looks_like_option(a))
            rc = bp__config_set_opt(c, node, a, "target node", err, errlen);
        else if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        } else if (a[1] == '-')
            rc = parse_long(c, mask, argc, argv, &i, err, errlen);
        else
            rc = parse_short(c, mask, argc, argv, &i, err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* ---- --help ------------------------------------------------------------ */

#define HELP_WIDTH 80

static int visible(const bp_config_option *o, unsigned mask)
{
    return !(o->flags & BP_OPTF_HIDDEN) && (o->subcommands & mask);
}

static void left_column(const bp_config_option *o, char *buf, size_t n)
{
    const char *mv = o->kind == BP_OPT_SWITCH ? "" : o->metavar;
    const char *sp = *mv ? " " : "";

    if (o->short_name)
        snprintf(buf, n, "-%c, --%s%s%s", o->short_name, o->name, sp, mv);
    else
        snprintf(buf, n, "    --%s%s%s", o->name, sp, mv);
}

/* Print one word (n bytes) of a help column that starts at `col`, wrapping at HELP_WIDTH. */
static void help_word(FILE *f, int *pos, int col, const char *w, size_t n)
{
    if (*pos > col) {
        if (*pos + 1 + (int)n > HELP_WIDTH) {
            fprintf(f, "\n%*s", col, "");
            *pos = col;
        } else {
            fputc(' ', f);
            (*pos)++;
        }
    }
    fprintf(f, "%.*s", (int)n, w);
    *pos += (int)n;
}

/* The help text from column `col` on, words wrapped; "[default: X]" is never split. */
static void help_text(FILE *f, int col, const char *help, const char *def)
{
    int pos = col;
    char chunk[160];

    for (const char *p = help; *p;) {
        size_t n = strcspn(p, " ");
        if (n)
            help_word(f, &pos, col, p, n);
        p += n;
        while (*p == ' ')
            p++;
    }
    if (def) {
        snprintf(chunk, sizeof chunk, "[default: %s]", def);
        help_word(f, &pos, col, chunk, strlen(chunk));
    }
    fputc('\n', f);
}

void bp_config_print_help(FILE *f, unsigned subcommand_mask)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    unsigned mask = subcommand_mask ? subcommand_mask : BP_SUB_ALL;
    const char *group = NULL;
    int width = 0;
    char left[128];

    if (!f)
        return;
    for (size_t i = 0; i < n; i++) {
        if (!visible(&t[i], mask))
            continue;
        left_column(&t[i], left, sizeof left);
        if ((int)strlen(left) > width)
            width = (int)strlen(left);
    }
    for (size_t i = 0; i < n; i++) {
        const bp_config_option *o = &t[i];

        if (!visible(o, mask))
            continue;
        if (!group || strcmp(group, o->group) != 0) {
            fprintf(f, "\n%s:\n", o->group);
            group = o->group;
        }
        left_column(o, left, sizeof left);
        fprintf(f, "  %-*s  ", width, left);
        help_text(f, 2 + width + 2, o->help, o->def_text ? o->def_text : o->def);
    }
}

