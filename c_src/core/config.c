/* config.c: defaults, value parsers, argv parsing, validation and --help, all driven by the option table. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "beamprobe.h"
#include "core/config.h"
#include "core/config_int.h"

/* ---- messages ---------------------------------------------------------- */


int bp__config_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return BP_EUSAGE;
}


/*
 * At most the first `max` bytes of a user-supplied string, made safe to print:
 * control bytes become '?', and anything beyond SHOW_MAX bytes becomes "...".
 */
const char *bp__config_show_n(const char *s, size_t max, char *buf, size_t n)
{
    size_t i = 0, len = strnlen(s, max);
    size_t keep = len > SHOW_MAX ? SHOW_MAX : len;

    if (n < SHOW_MAX + 4)
        return "?";
    for (; i < keep; i++) {
        unsigned char ch = (unsigned char)s[i];
        buf[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (len > keep) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static const char *show(const char *s, char *buf, size_t n)
{
    return bp__config_show_n(s, SIZE_MAX, buf, n);
}

static void fmt_duration(int64_t ms, char *buf, size_t n)
{
    if (ms != 0 && ms % 3600000 == 0)
        snprintf(buf, n, "%lldh", (long long)(ms / 3600000));
    else if (ms != 0 && ms % 60000 == 0)
        snprintf(buf, n, "%lldm", (long long)(ms / 60000));
    else if (ms != 0 && ms % 1000 == 0)
        snprintf(buf, n, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, n, "%lldms", (long long)ms);
}

static void fmt_bytes(int64_t b, char *buf, size_t n)
{
    static const char *const unit[] = { "TiB", "GiB", "MiB", "KiB" };
    static const int shift[] = { 40, 30, 20, 10 };

    for (size_t i = 0; i < 4; i++) {
        int64_t u = (int64_t)1 << shift[i];
        if (b != 0 && b % u == 0) {
            snprintf(buf, n, "%lld%s", (long long)(b / u), unit[i]);
            return;
        }
    }
    snprintf(buf, n, "%lld", (long long)b);
}

/* ---- value parsers ----------------------------------------------------- */

#define FRAC_DIGITS 6
#define FRAC_SCALE 1000000 /* 10^FRAC_DIGITS */

/*
 * A non-negative decimal "123" or "1.25" at the start of s: integer part in
 * *ip, fraction in millionths in *frac, *end after the number. At least one
 * digit on each side of a '.', at most six significant fraction digits.
 */
static int parse_fixed(const char *s, int64_t *ip, int64_t *frac, const char **end)
{
    const char *p = s;
    int64_t v = 0, f = 0;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (*p == '.') {
        const char *q = ++p, *last;
        int nd;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
        last = p; /* drop trailing zeros: "1.500000000" is 1.5 */
        while (last > q && last[-1] == '0')
            last--;
        if (last - q > FRAC_DIGITS)
            return -1;
        for (nd = 0; q < last; q++, nd++)
            f = f * 10 + (*q - '0');
        for (; nd < FRAC_DIGITS; nd++)
            f *= 10;
    }
    *ip = v;
    *frac = f;
    *end = p;
    return 0;
}

/* ip.frac * mult, which must be a whole number; -1 on overflow or a remainder. */
static int scale_exact(int64_t ip, int64_t frac, int64_t mult, int64_t *out)
{
    int64_t whole, part;

    if (ip > INT64_MAX / mult)
        return -1;
    whole = ip * mult;
    /* frac < 10^6 and mult <= 2^40, so the product fits in 63 bits */
    if ((frac * mult) % FRAC_SCALE != 0)
        return -1;
    part = frac * mult / FRAC_SCALE;
    if (whole > INT64_MAX - part)
        return -1;
    *out = whole + part;
    return 0;
}

typedef struct {
    const char *suffix;
    int64_t mult;
} unit_def;

static int parse_with_units(const char *s, const unit_def *units, size_t nunits, int64_t *out)
{
    int64_t ip, frac, v;
    const char *end;

    if (!s || !out || parse_fixed(s, &ip, &frac, &end) < 0)
        return -1;
    for (size_t i = 0; i < nunits; i++) {
        if (strcasecmp(end, units[i].suffix) == 0) {
            if (scale_exact(ip, frac, units[i].mult, &v) < 0)
                return -1;
            *out = v;
            return 0;
        }
    }
    return -1;
}

int bp_parse_duration_ms(const char *s, int64_t *ms)
{
    static const unit_def units[] = {
        { "", 1 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
    };
    return parse_with_units(s, units, sizeof units / sizeof units[0], ms);
}

int bp_parse_bytes(const char *s, int64_t *bytes)
{
    static const unit_def units[] = {
        { "", 1 },
        { "b", 1 },
        { "k", (int64_t)1 << 10 },
        { "kib", (int64_t)1 << 10 },
        { "kb", 1000 },
        { "m", (int64_t)1 << 20 },
        { "mib", (int64_t)1 << 20 },
        { "mb", 1000000 },
        { "g", (int64_t)1 << 30 },
        { "gib", (int64_t)1 << 30 },
        { "gb", 1000000000 },
        { "t", (int64_t)1 << 40 },
        { "tib", (int64_t)1 << 40 },
        { "tb", 1000000000000 },
    };
    return parse_with_units(s, units, sizeof units / sizeof units[0], bytes);
}

/* "0.8" or "80%" as a double (range checked by the caller). */
static int parse_ratio(const char *s, double *out)
{
    int64_t ip, frac;
    const char *end;
    double v;

    if (parse_fixed(s, &ip, &frac, &end) < 0 || ip > 1000000)
        return -1;
    v = (double)ip + (double)frac / FRAC_SCALE;
    if (strcmp(end, "%") == 0)
        v /= 100.0;
    else if (*end)
        return -1;
    *out = v;
    return 0;
}

/* A non-negative decimal number, integer part at most max. */
static int parse_number(const char *s, int64_t max, double *out)
{
    int64_t ip, frac;
    const char *end;

    if (parse_fixed(s, &ip, &frac, &end) < 0 || *end || ip > max || (ip == max && frac > 0))
        return -1;
    *out = (double)ip + (double)frac / FRAC_SCALE;
    return 0;
}

/* Decimal digits only: no sign, no fraction. */
static int parse_int(const char *s, int64_t *out)
{
    int64_t ip, frac;
    const char *end;

    if (s[strspn(s, "0123456789")] != '\0' || parse_fixed(s, &ip, &frac, &end) < 0)
        return -1;
    *out = ip;
    return 0;
}

static int parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* ---- setting one option ------------------------------------------------ */

static void *field_of(bp_config *c, const bp_config_option *o)
{
    return (char *)c + o->offset;
}

static const void *cfield_of(const bp_config *c, const bp_config_option *o)
{
    return (const char *)c + o->offset;
}

static size_t index_of(const bp_config_option *o)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    return (size_t)(o - t);
}

static int given_bit(const bp_config *c, size_t i)
{
    return (c->given[i / 64] >> (i % 64)) & 1 ? 1 : 0;
}

int bp__config_refuse_cookie(const char *label, char *err, size_t errlen)
{
    return bp__config_fail(err, errlen,
                "%s is not accepted: a cookie on the command line is visible to other users "
                "(ps, /proc); put it in a file (--cookie-file FILE, mode 0600) or in the "
                "BEAMPROBE_COOKIE environment variable",
                label);
}

static int bad_value(const char *label, const char *value, const char *why, char *err,
                     size_t errlen)
{
    char sv[SHOW_MAX + 4];
    return bp__config_fail(err, errlen, "invalid value '%s' for %s: %s", show(value, sv, sizeof sv), label, why);
}

static int out_of_range(const bp_config_option *o, const char *label, const char *value,
                        char *err, size_t errlen)
{
    char lo[32], hi[32], why[96];

    if (o->kind == BP_OPT_DURATION) {
        fmt_duration(o->min, lo, sizeof lo);
        fmt_duration(o->max, hi, sizeof hi);
    } else if (o->kind == BP_OPT_BYTES) {
        fmt_bytes(o->min, lo, sizeof lo);
        fmt_bytes(o->max, hi, sizeof hi);
    } else {
        snprintf(lo, sizeof lo, "%lld", (long long)o->min);
        snprintf(hi, sizeof hi, "%lld", (long long)o->max);
    }
    snprintf(why, sizeof why, "must be between %s and %s", lo, hi);
    return bad_value(label, value, why, err, errlen);
}

/* Split a list value on commas into `list`, all or nothing. */
static int set_list(bp_config *c, const bp_config_option *o, const char *value, const char *label,
                    char *err, size_t errlen)
{
    bp_namelist *list = field_of(c, o);
    bp_namelist tmp;
    const char *p = value;
    int replace = (o->flags & BP_OPTF_REPLACE) && !given_bit(c, index_of(o));
    char sv[SHOW_MAX + 4];

    if (replace)
        memset(&tmp, 0, sizeof tmp); /* no stale bytes: equal configs compare equal */
    else
        memcpy(&tmp, list, sizeof tmp);
    if (tmp.n > BP_LIST_MAX)
        return bp__config_fail(err, errlen, "%s holds too many values (max %d)", label, BP_LIST_MAX);

    for (;;) {
        const char *comma = strchr(p, ',');
        const char *b = p, *e = comma ? comma : p + strlen(p);
        char entry[BP_NAME_MAX], why[128];
        size_t len, i;

        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        len = (size_t)(e - b);
        if (len == 0)
            return bp__config_fail(err, errlen, "empty entry in '%s' for %s", show(value, sv, sizeof sv), label);
        if (len >= BP_NAME_MAX)
            return bp__config_fail(err, errlen, "entry '%s' for %s is too long (%zu bytes, max %d)",
                        bp__config_show_n(b, len, sv, sizeof sv), label, len, BP_NAME_MAX - 1);
        memcpy(entry, b, len);
        entry[len] = '\0';
        if (o->check && o->check(entry, why, sizeof why) < 0)
            return bad_value(label, entry, why, err, errlen);
        for (i = 0; i < tmp.n; i++)
            if (strcmp(tmp.v[i], entry) == 0)
                break;
        if (i == tmp.n) {
            if (tmp.n == BP_LIST_MAX)
                return bp__config_fail(err, errlen, "too many values for %s (max %d)", label, BP_LIST_MAX);
            memcpy(tmp.v[tmp.n++], entry, len + 1);
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    memcpy(list, &tmp, sizeof tmp);
    return 0;
}

/*
 * Apply `value` to option `o`; `label` names the option in messages ("--node",
 * or "target" for positional arguments). On error nothing is changed.
 */
int bp__config_set_opt(bp_config *c, const bp_config_option *o, const char *value, const char *label, char *err,
                       size_t errlen)
{
    void *f = field_of(c, o);
    char why[128];
    int64_t v;
    double d;
    int b;

    if (o->kind == BP_OPT_REFUSED)
        return bp__config_refuse_cookie(label, err, errlen);
    if (!value && o->kind != BP_OPT_SWITCH)
        return bp__config_fail(err, errlen, "option %s requires a value (%s)", label, o->metavar);

    switch (o->kind) {
    case BP_OPT_SWITCH:
        if (!value)
            b = 1;
        else if (parse_bool(value, &b) < 0)
            return bad_value(label, value, "expected true or false", err, errlen);
        *(int *)f = b;
        break;
    case BP_OPT_STRING: {
        size_t len = strlen(value);
        char sv[SHOW_MAX + 4];
        if (len == 0)
            return bp__config_fail(err, errlen, "empty value for %s", label);
        if (len >= o->size)
            return bp__config_fail(err, errlen, "value '%s' for %s is too long (%zu bytes, max %zu)",
                        show(value, sv, sizeof sv), label, len, o->size - 1);
        if (o->check && o->check(value, why, sizeof why) < 0)
            return bad_value(label, value, why, err, errlen);
        memcpy(f, value, len + 1);
        break;
    }
    case BP_OPT_INT:
        if (parse_int(value, &v) < 0)
            return bad_value(label, value, "expected a whole number", err, errlen);
        if (v < o->min || v > o->max)
            return out_of_range(o, label, value, err, errlen);
        *(int *)f = (int)v;
        break;
    case BP_OPT_DURATION:
        if (value[0] && value[strspn(value, "0123456789")] == '\0' && strspn(value, "0") != strlen(value))
            return bad_value(label, value, "a duration needs a unit: 5ms, 5s, 1m", err, errlen);
        if (bp_parse_duration_ms(value, &v) < 0)
            return bad_value(label, value,
                             "expected a duration such as 1500ms, 2s, 1.5s or 1m", err, errlen);
        if (v < o->min || v > o->max)
            return out_of_range(o, label, value, err, errlen);
        *(int *)f = (int)v;
        break;
    case BP_OPT_BYTES:
        if (bp_parse_bytes(value, &v) < 0)
            return bad_value(label, value,
                             "expected a size such as 1048576, 512k, 4MiB or 2GB", err, errlen);
        if (v < o->min || v > o->max)
            return out_of_range(o, label, value, err, errlen);
        *(int64_t *)f = v;
        break;
    case BP_OPT_RATIO:
        if (parse_ratio(value, &d) < 0 || !(d > 0.0 && d <= 1.0))
            return bad_value(label, value, "expected a ratio in (0, 1] such as 0.8 or 80%",
                             err, errlen);
        *(double *)f = d;
        break;
    case BP_OPT_NUMBER:
        if (parse_number(value, o->max, &d) < 0) {
            snprintf(why, sizeof why, "expected a non-negative number up to %lld, such as 10 or 2.5",
                     (long long)o->max);
            return bad_value(label, value, why, err, errlen);
        }
        *(double *)f = d;
        break;
    case BP_OPT_LIST: {
        int rc = set_list(c, o, value, label, err, errlen);
        if (rc < 0)
            return rc;
        break;
    }
    case BP_OPT_PROBE:
        if (strcmp(value, "live") == 0)
            *(bp_probe_kind *)f = BP_PROBE_LIVE;
        else if (strcmp(value, "ready") == 0)
            *(bp_probe_kind *)f = BP_PROBE_READY;
        else if (strcmp(value, "startup") == 0)
            *(bp_probe_kind *)f = BP_PROBE_STARTUP;
        else
            return bad_value(label, value, "expected live, ready or startup", err, errlen);
        break;
    case BP_OPT_REFUSED:
        break; /* handled above */
    }
    c->given[index_of(o) / 64] |= (uint64_t)1 << (index_of(o) % 64);
    return 0;
}

/* ---- public entry points ----------------------------------------------- */

void bp_config_defaults(bp_config *c)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);

    if (!c)
        return;
    memset(c, 0, sizeof *c);
    c->expect_size = -1;
    for (size_t i = 0; i < n; i++)
        if (t[i].def)
            (void)bp__config_set_opt(c, &t[i], t[i].def, t[i].name, NULL, 0); /* checked by the tests */
    memset(c->given, 0, sizeof c->given);
}

int bp_config_set(bp_config *c, const char *name, const char *value, char *err, size_t errlen)
{
    const bp_config_option *o;
    char label[80], sv[SHOW_MAX + 4];

    if (!c || !name)
        return bp__config_fail(err, errlen, "no option name");
    o = bp_config_option_find(name);
    if (!o)
        return bp__config_fail(err, errlen, "unknown option '%s'", show(name, sv, sizeof sv));
    snprintf(label, sizeof label, "--%s", o->name);
    return bp__config_set_opt(c, o, value, label, err, errlen);
}

int bp_config_option_arity(const char *name)
{
    const bp_config_option *o = bp_config_option_find(name);

    if (!o)
        return -1;
    return o->kind == BP_OPT_SWITCH ? 0 : 1;
}

int bp_config_is_given(const bp_config *c, const char *name)
{
    const bp_config_option *o = bp_config_option_find(name);

    if (!c || !o)
        return 0;
    return given_bit(c, index_of(o));
}

/* ---- validation -------------------------------------------------------- */

static int validate_one(const bp_config *c, const bp_config_option *o, char *err, size_t errlen)
{
    const void *f = cfield_of(c, o);
    char why[128], sv[SHOW_MAX + 4], a[32], b[32];
    int64_t v = 0;

    switch (o->kind) {
    case BP_OPT_REFUSED:
        return 0;
    case BP_OPT_SWITCH:
        if (*(const int *)f != 0 && *(const int *)f != 1)
            return bp__config_fail(err, errlen, "--%s must be 0 or 1", o->name);
        return 0;
    case BP_OPT_STRING: {
        const char *s = f;
        if (!memchr(s, '\0', o->size))
            return bp__config_fail(err, errlen, "--%s is too long (max %zu bytes)", o->name, o->size - 1);
        if (!*s && o->def)
            return bp__config_fail(err, errlen, "--%s must not be empty", o->name);
        if (*s && o->check && o->check(s, why, sizeof why) < 0)
            return bp__config_fail(err, errlen, "invalid --%s '%s': %s", o->name, show(s, sv, sizeof sv), why);
        return 0;
    }
    case BP_OPT_INT:
    case BP_OPT_DURATION:
        v = *(const int *)f;
        if ((o->flags & BP_OPTF_UNSET) && v == -1)
            return 0;
        break;
    case BP_OPT_BYTES:
        v = *(const int64_t *)f;
        break;
    case BP_OPT_RATIO: {
        double d = *(const double *)f;
        if (!(isfinite(d) && d > 0.0 && d <= 1.0))
            return bp__config_fail(err, errlen, "--%s must be a ratio in (0, 1], not %g", o->name, d);
        return 0;
    }
    case BP_OPT_NUMBER: {
        double d = *(const double *)f;
        if (!(isfinite(d) && d >= (double)o->min && d <= (double)o->max))
            return bp__config_fail(err, errlen, "--%s must be between %lld and %lld, not %g", o->name,
                        (long long)o->min, (long long)o->max, d);
        return 0;
    }
    case BP_OPT_LIST: {
        const bp_namelist *l = f;
        if (l->n > BP_LIST_MAX)
            return bp__config_fail(err, errlen, "too many values for --%s (%zu, max %d)", o->name, l->n,
                        BP_LIST_MAX);
        for (size_t i = 0; i < l->n; i++) {
            const char *s = l->v[i];
            if (!memchr(s, '\0', BP_NAME_MAX))
                return bp__config_fail(err, errlen, "value %zu of --%s is too long (max %d bytes)", i + 1,
                            o->name, BP_NAME_MAX - 1);
            if (!*s)
                return bp__config_fail(err, errlen, "value %zu of --%s is empty", i + 1, o->name);
            if (o->check && o->check(s, why, sizeof why) < 0)
                return bp__config_fail(err, errlen, "invalid value '%s' for --%s: %s", show(s, sv, sizeof sv),
                            o->name, why);
        }
        return 0;
    }
    case BP_OPT_PROBE: {
        bp_probe_kind k = *(const bp_probe_kind *)f;
        if (k != BP_PROBE_LIVE && k != BP_PROBE_READY && k != BP_PROBE_STARTUP)
            return bp__config_fail(err, errlen, "--%s must be live, ready or startup", o->name);
        return 0;
    }
    }

    if (v >= o->min && v <= o->max)
        return 0;
    if (o->kind == BP_OPT_DURATION) {
        fmt_duration(o->min, a, sizeof a);
        fmt_duration(o->max, b, sizeof b);
        return bp__config_fail(err, errlen, "--%s must be between %s and %s, not %lldms", o->name, a, b,
                    (long long)v);
    }
    if (o->kind == BP_OPT_BYTES) {
        fmt_bytes(o->min, a, sizeof a);
        fmt_bytes(o->max, b, sizeof b);
        return bp__config_fail(err, errlen, "--%s must be between %s and %s, not %lld", o->name, a, b,
                    (long long)v);
    }
    return bp__config_fail(err, errlen, "--%s must be between %lld and %lld, not %lld", o->name,
                (long long)o->min, (long long)o->max, (long long)v);
}

/* For every "X-warn" number or ratio with an "X-fail" partner: warn <= fail. */
static int validate_pair(const bp_config *c, const bp_config_option *w, char *err, size_t errlen)
{
    size_t len = strlen(w->name);
    char fname[64];
    const bp_config_option *fo;
    double wv, fv;

    if ((w->kind != BP_OPT_RATIO && w->kind != BP_OPT_NUMBER) || len < 5 || len >= sizeof fname ||
        strcmp(w->name + len - 5, "-warn") != 0)
        return 0;
    memcpy(fname, w->name, len - 5);
    memcpy(fname + len - 5, "-fail", 6);
    fo = bp_config_option_find(fname);
    if (!fo || fo->kind != w->kind)
        return 0;
    wv = *(const double *)cfield_of(c, w);
    fv = *(const double *)cfield_of(c, fo);
    if (wv > fv)
        return bp__config_fail(err, errlen, "--%s (%g) must not be above --%s (%g)", w->name, wv, fo->name, fv);
    return 0;
}

int bp_config_validate(const bp_config *c, char *err, size_t errlen)
{
    size_t n;
    const bp_config_option *t = bp_config_options(&n);
    int rc;

    if (!c)
        return bp__config_fail(err, errlen, "no configuration");
    for (size_t i = 0; i < n; i++)
        if ((rc = validate_one(c, &t[i], err, errlen)) < 0)
            return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = validate_pair(c, &t[i], err, errlen)) < 0)
            return rc;
    /* when not given it is derived from --timeout (half of it), which a 1 ms timeout leaves equal */
    if (bp_config_is_given(c, "governor-timeout") && c->governor_timeout_ms >= c->timeout_ms)
        return bp__config_fail(err, errlen, "--governor-timeout (%dms) must be shorter than --timeout (%dms)",
                    c->governor_timeout_ms, c->timeout_ms);
    /* the target waits the window inside the probe: the rest of it must fit too */
    if (c->top > 0 && (int64_t)c->top_window_ms * 2 > c->timeout_ms)
        return bp__config_fail(err, errlen,
                    "--top-window (%dms) must be at most half of --timeout (%dms): the target waits that long "
                    "inside the probe",
                    c->top_window_ms, c->timeout_ms);
    if ((c->tls_cert[0] != '\0') != (c->tls_key[0] != '\0'))
        return bp__config_fail(err, errlen, "--tls-cert and --tls-key go together");
    if (c->tls_client_ca[0] && !c->tls_cert[0])
        return bp__config_fail(err, errlen, "--tls-client-ca needs --tls-cert and --tls-key");
    if ((c->tls_certfile[0] != '\0') != (c->tls_keyfile[0] != '\0'))
        return bp__config_fail(err, errlen, "--tls-certfile and --tls-keyfile go together");
    for (size_t i = 0; i < c->governor_fail_states.n; i++)
        for (size_t j = 0; j < c->governor_warn_states.n; j++)
            if (strcmp(c->governor_fail_states.v[i], c->governor_warn_states.v[j]) == 0)
                return bp__config_fail(err, errlen,
                            "governor state '%s' is in both --governor-fail-states and "
                            "--governor-warn-states",
                            c->governor_fail_states.v[i]);
    return 0;
}

void bp_config_finish(bp_config *c)
{
    if (c->max_age_ms == 0)
        c->max_age_ms = 3 * c->interval_ms + c->timeout_ms;
    if (!bp_config_is_given(c, "governor-timeout") && c->governor_timeout_ms >= c->timeout_ms)
        c->governor_timeout_ms = c->timeout_ms / 2 > 0 ? c->timeout_ms / 2 : 1;
}
