/* test_collect.c: the collector's plan and reply handling, driven by a scripted executor (no node). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "beamprobe.h"
#include "core/config.h"
#include "dist/collect.h"
#include "rpc_replies.h"

/* The processes of a scripted node, by registered name; pid number = index + 1. */
enum { P_PLAIN, P_GEN_SERVER, P_SUPERVISOR, P_HIB_STATEM, P_HIB_PLAIN, P_COUNT };
static const char *const proc_names[P_COUNT] = { "plainp", "strict", "top_sup", "hib_gov", "hib_plain" };

/* A scripted node: how it answers, and what it was asked. */
typedef struct {
    int refuse_combined;   /* answer the combined BIF call with {badrpc, ...} */
    int rounds;
    int combined_calls;    /* lists:zipwith calls seen */
    int single_bifs;       /* erlang:system_info calls seen alone */
    int sent[P_COUNT];     /* messages that would reach each process: gen:call, sys:get_state */
    int attrs_asked;       /* erlang:get_module_info calls */
    int scramble;          /* answer every system_info with a negative number */
    int malformed;         /* answer memory, nodes, statistics, which_applications, monotonic_time wrongly */
    int gproc;             /* gproc:select: 1 two names and an entry of another shape, 2 an atom, 3 no gproc */
    int atoms_made;        /* calls naming a process by an atom the node would have had to create */
} node_script;

static void encode_mfa(ei_x_buff *x, const char *m, const char *f, long a)
{
    ei_x_encode_tuple_header(x, 3);
    ei_x_encode_atom(x, m);
    ei_x_encode_atom(x, f);
    ei_x_encode_long(x, a);
}

/* The process a call's first argument names (atom or pid), or -1. */
static int proc_of(const bp_rpc *r)
{
    int i = 0, arity;
    char atom[MAXATOMLEN];
    erlang_pid pid;
    /* a call without arguments leaves args empty: its buffer holds no term to decode */
    if (r->args.index <= 0 || ei_decode_list_header(r->args.buff, &i, &arity) < 0)
        return -1;
    if (ei_decode_pid(r->args.buff, &i, &pid) == 0)
        return pid.num >= 1 && pid.num <= P_COUNT ? (int)pid.num - 1 : -1;
    if (ei_decode_atom(r->args.buff, &i, atom) == 0)
        for (int k = 0; k < P_COUNT; k++)
            if (strcmp(atom, proc_names[k]) == 0)
                return k;
    return -1;
}

/* process_info(Pid, [...]) as the VM would answer for each scripted process. */
static void encode_process_info(ei_x_buff *x, int p)
{
    int hib = p == P_HIB_STATEM || p == P_HIB_PLAIN;
    ei_x_encode_list_header(x, 4);
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, "current_function");
    encode_mfa(x, hib ? "erlang" : p == P_PLAIN ? "my" : "gen_server", hib ? "hibernate" : "loop", hib ? 3 : p == P_PLAIN ? 0 : 7);
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, "current_stacktrace");
    if (hib) {
        ei_x_encode_empty_list(x);
    } else {
        ei_x_encode_list_header(x, 2);
        ei_x_encode_tuple_header(x, 4);
        ei_x_encode_atom(x, p == P_PLAIN ? "my" : "gen_server");
        ei_x_encode_atom(x, "loop");
        ei_x_encode_long(x, p == P_PLAIN ? 0 : 7);
        ei_x_encode_empty_list(x);
        ei_x_encode_tuple_header(x, 4);
        ei_x_encode_atom(x, "proc_lib");
        ei_x_encode_atom(x, "init_p_do_apply");
        ei_x_encode_long(x, 3);
        ei_x_encode_empty_list(x);
        ei_x_encode_empty_list(x);
    }
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, "message_queue_len");
    ei_x_encode_long(x, 0);
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, "memory");
    ei_x_encode_long(x, 2000 + p);
    ei_x_encode_empty_list(x);
}

/* Answer the calls about processes; 0 if r is none of them. */
static int encode_proc_reply(node_script *ns, const bp_rpc *r, ei_x_buff *x)
{
    int p = proc_of(r);
    if (strcmp(r->fun, "binary_to_existing_atom") == 0) { /* the node has the atoms of its processes' names */
        int i = 0, arity, type, size;
        char name[64] = "";
        long len = 0;
        if (ei_decode_list_header(r->args.buff, &i, &arity) == 0 && ei_get_type(r->args.buff, &i, &type, &size) == 0
            && size < (int)sizeof name)
            (void)ei_decode_binary(r->args.buff, &i, name, &len);
        for (int k = 0; k < P_COUNT; k++)
            if (strcmp(name, proc_names[k]) == 0)
                return ei_x_encode_atom(x, name), 1;
        encode_badrpc_exit(x, "badarg");
        return 1;
    }
    if (strcmp(r->fun, "whereis") == 0) {
        ns->atoms_made += p < 0;
        erlang_pid pid = { .num = (unsigned)p + 1, .creation = 1 };
        snprintf(pid.node, sizeof pid.node, "n@h");
        return p < 0 ? ei_x_encode_atom(x, "undefined"), 1 : (ei_x_encode_pid(x, &pid), 1);
    }
    if (strcmp(r->fun, "get_module_info") == 0) { /* any module: it declares gen_statem */
        ns->attrs_asked++;
        ei_x_encode_list_header(x, 1);
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "behaviour");
        ei_x_encode_list_header(x, 1);
        ei_x_encode_atom(x, "gen_statem");
        ei_x_encode_empty_list(x);
        ei_x_encode_empty_list(x);
        return 1;
    }
    if (p < 0)
        return 0;
    if (strcmp(r->fun, "process_info") == 0) {
        encode_process_info(x, p);
    } else if (strcmp(r->fun, "translate_initial_call") == 0) {
        if (p == P_SUPERVISOR)
            encode_mfa(x, "supervisor", "top", 1);
        else if (p == P_GEN_SERVER || p == P_HIB_STATEM)
            encode_mfa(x, p == P_HIB_STATEM ? "gov" : "strict", "init", 1);
        else if (p == P_HIB_PLAIN)
            encode_mfa(x, "worker", "run", 0);
        else
            encode_mfa(x, "proc_lib", "init_p", 5);
    } else if (strcmp(r->fun, "get_state") == 0 || strcmp(r->fun, "call") == 0) {
        ns->sent[p]++;
        if (strcmp(r->fun, "get_state") == 0 && p == P_SUPERVISOR) {
            /* #state{}: name, strategy, children, dynamics, intensity 3, period 60, restarts
               (monotonic seconds; the node's clock reads 5000 native at 1000 per second = 5 s) */
            static const char *const tail[] = { "never", "top" };
            ei_x_encode_tuple_header(x, 12);
            ei_x_encode_atom(x, "state");
            ei_x_encode_atom(x, "top_sup");
            ei_x_encode_atom(x, "one_for_one");
            ei_x_encode_empty_list(x);
            ei_x_encode_atom(x, "undefined");
            ei_x_encode_long(x, 3);
            ei_x_encode_long(x, 60);
            ei_x_encode_list_header(x, 3);
            ei_x_encode_long(x, 5);
            ei_x_encode_long(x, -50);
            ei_x_encode_long(x, -56); /* older than the period */
            ei_x_encode_empty_list(x);
            ei_x_encode_long(x, 0);
            for (int k = 0; k < 2; k++)
                ei_x_encode_atom(x, tail[k]);
            ei_x_encode_empty_list(x);
        } else if (strcmp(r->fun, "get_state") == 0) {
            ei_x_encode_tuple_header(x, 2);
            ei_x_encode_atom(x, "stable");
            ei_x_encode_empty_list(x);
        } else { /* {ok, []}: counts and children alike */
            ei_x_encode_tuple_header(x, 2);
            ei_x_encode_atom(x, "ok");
            ei_x_encode_empty_list(x);
        }
    } else {
        return 0;
    }
    return 1;
}

/* Encode one reply into x (after its version byte) by the call's module and function. */
static void encode_reply(void *ctx, const bp_rpc *r, ei_x_buff *x)
{
    node_script *ns = ctx;
    if (encode_proc_reply(ns, r, x))
        return;
    if (strcmp(r->mod, "gproc") == 0 && ns->gproc == 1) { /* [{k1, strict}, {k2, hib_gov}, {k3, nopid}] */
        static const int procs[2] = { P_GEN_SERVER, P_HIB_STATEM };
        ei_x_encode_list_header(x, 3);
        for (int k = 0; k < 2; k++) {
            erlang_pid pid = { .num = (unsigned)procs[k] + 1, .creation = 1 };
            snprintf(pid.node, sizeof pid.node, "n@h");
            ei_x_encode_tuple_header(x, 2);
            ei_x_encode_atom(x, k ? "k2" : "k1");
            ei_x_encode_pid(x, &pid);
        }
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "k3");
        ei_x_encode_atom(x, "nopid");
        ei_x_encode_empty_list(x);
        return;
    }
    if (strcmp(r->mod, "gproc") == 0 && ns->gproc == 2) {
        ei_x_encode_atom(x, "nonsense");
        return;
    }
    if (strcmp(r->mod, "gproc") == 0 && ns->gproc == 3) {
        encode_badrpc_undef(x);
        return;
    }
    if (strcmp(r->mod, "lists") == 0 && strcmp(r->fun, "zipwith") == 0) {
        ns->combined_calls++;
        if (ns->refuse_combined) {
            encode_badrpc_undef(x);
            return;
        }
        ei_x_encode_empty_list(x); /* a wrong shape: the count of results does not match */
    } else if (strcmp(r->fun, "system_info") == 0) {
        ns->single_bifs++;
        ei_x_encode_long(x, ns->scramble ? -2000000000000 : 100);
    } else if (strcmp(r->fun, "is_alive") == 0) {
        ei_x_encode_atom(x, "true");
    } else if (strcmp(r->fun, "disk") == 0) { /* {error, "disk full"}, {warn, <<"slow">>} */
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "error");
        ei_x_encode_string(x, "disk full");
    } else if (ns->malformed && strcmp(r->fun, "memory") == 0) { /* [{total, -5}] */
        ei_x_encode_list_header(x, 1);
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "total");
        ei_x_encode_long(x, -5);
        ei_x_encode_empty_list(x);
    } else if (ns->malformed && strcmp(r->fun, "statistics") == 0) { /* [3, -1] */
        ei_x_encode_list_header(x, 2);
        ei_x_encode_long(x, 3);
        ei_x_encode_long(x, -1);
        ei_x_encode_empty_list(x);
    } else if (ns->malformed && strcmp(r->fun, "monotonic_time") == 0) {
        ei_x_encode_long(x, 50); /* before the start time (100) */
    } else if (ns->malformed && (strcmp(r->fun, "nodes") == 0 || strcmp(r->fun, "which_applications") == 0)) {
        ei_x_encode_atom(x, "undefined");
    } else if (strcmp(r->fun, "memory") == 0) {
        ei_x_encode_list_header(x, 1);
        ei_x_encode_tuple_header(x, 2);
        ei_x_encode_atom(x, "total");
        ei_x_encode_long(x, 4096);
        ei_x_encode_empty_list(x);
    } else if (strcmp(r->fun, "statistics") == 0) {
        ei_x_encode_list_header(x, 3); /* one normal queue, dirty cpu, dirty io */
        ei_x_encode_long(x, 300);
        ei_x_encode_long(x, 400);
        ei_x_encode_long(x, 0);
        ei_x_encode_empty_list(x);
    } else if (strcmp(r->fun, "convert_time_unit") == 0) {
        ei_x_encode_long(x, 1000);
    } else if (strcmp(r->fun, "monotonic_time") == 0) {
        ei_x_encode_long(x, 5000);
    } else { /* nodes/1, which_applications/1, the file reads: nothing */
        ei_x_encode_empty_list(x);
    }
}

static int scripted_call(void *ctx, bp_batch *b, int64_t deadline_ms)
{
    (void)deadline_ms;
    node_script *ns = ctx;
    ns->rounds++;
    answer_batch(b, encode_reply, ns);
    return 0;
}

static bp_snapshot *collect_as(node_script *ns, bp_probe_kind kind, const char *governors, const char *sups)
{
    bp_config *cfg = test_malloc(sizeof *cfg);
    bp_config_defaults(cfg);
    cfg->probe = kind;
    char err[256];
    if (governors)
        assert_int_equal(bp_config_set(cfg, "governor", governors, err, sizeof err), 0);
    if (sups)
        assert_int_equal(bp_config_set(cfg, "supervisor", sups, err, sizeof err), 0);
    bp_snapshot *snap = bp_snapshot_new("n@h");
    assert_non_null(snap);
    bp_collect_exec ex = { .call = scripted_call, .ctx = ns, .self_name = NULL };
    assert_int_equal(bp_collect_with(&ex, cfg, INT64_MAX, snap), 0);
    test_free(cfg);
    return snap;
}

static bp_snapshot *collect(node_script *ns)
{
    return collect_as(ns, BP_PROBE_LIVE, NULL, NULL);
}

/* A node that refuses the combined call (an older OTP without one of the BIFs): each BIF is
 * asked alone in the next round, and every fact still arrives. */
static void test_combined_bif_call_refused_falls_back(void **state)
{
    (void)state;
    node_script ns = { .refuse_combined = 1 };
    bp_snapshot *s = collect(&ns);
    assert_int_equal(ns.combined_calls, 1);
    assert_true(ns.single_bifs >= 10); /* limits, schedulers, identity, one call each */
    assert_int_equal(s->round_trips, 2);
    assert_int_equal(s->limits.state, BP_FACT_OK);
    assert_int_equal(s->process_count, 100);
    assert_int_equal(s->atom_limit, 100);
    assert_int_equal(s->schedulers.state, BP_FACT_OK);
    assert_int_equal(s->schedulers_online, 100);
    assert_int_equal(s->run_queue, 300);
    assert_int_equal(s->dirty_cpu_run_queue, 400);
    assert_int_equal(s->memory.state, BP_FACT_OK);
    assert_int_equal(bp_snapshot_memory(s, "total"), 4096);
    bp_snapshot_free(s);
}

/* A combined reply of the wrong shape is not trusted, and not retried call by call either:
 * the facts are marked failed with a reason. */
static void test_combined_bif_call_malformed(void **state)
{
    (void)state;
    node_script ns = { .refuse_combined = 0 };
    bp_snapshot *s = collect(&ns);
    assert_int_equal(ns.single_bifs, 0);
    assert_int_not_equal(s->limits.state, BP_FACT_OK);
    assert_non_null(s->limits.error);
    assert_int_equal(s->process_count, -1);
    bp_snapshot_free(s);
}

static void expect_fact_error(const bp_fact *f, const char *error)
{
    assert_int_equal(f->state, BP_FACT_ERROR);
    assert_string_equal(f->error, error);
}

/* A scrambled node: out-of-range counts and a release that is no number fail their facts
 * instead of passing as "no limits reported". */
static void test_scrambled_replies_fail_their_facts(void **state)
{
    (void)state;
    node_script ns = { .refuse_combined = 1, .scramble = 1 };
    bp_snapshot *s = collect_as(&ns, BP_PROBE_READY, NULL, NULL);
    expect_fact_error(&s->limits, "unexpected reply to erlang:system_info(process_count): -2000000000000");
    expect_fact_error(&s->identity, "unexpected reply to erlang:system_info(otp_release): -2000000000000");
    assert_null(s->otp_release);
    assert_int_equal(s->schedulers.state, BP_FACT_ERROR);
    assert_int_equal(s->memory.state, BP_FACT_OK); /* its own reply was fine */
    bp_snapshot_free(s);
}

/* Replies of the wrong shape or out of range fail their own facts, each with what was unexpected. */
static void test_malformed_replies_fail_their_facts(void **state)
{
    (void)state;
    node_script ns = { .refuse_combined = 1, .malformed = 1 };
    bp_snapshot *s = collect_as(&ns, BP_PROBE_READY, NULL, NULL);
    expect_fact_error(&s->memory, "unexpected reply to erlang:memory/0: total -5");
    expect_fact_error(&s->membership, "unexpected reply to erlang:nodes/1");
    expect_fact_error(&s->schedulers, "unexpected reply to statistics(run_queue_lengths_all)");
    expect_fact_error(&s->applications, "unexpected reply to application:which_applications/1");
    expect_fact_error(&s->identity, "the node's clock reads before its start time");
    bp_snapshot_free(s);
}

/* --governor gproc:TAG: every {Key, Pid} gproc lists is a member named {TAG,Key}, proved and asked
 * like any governor; a reply of another shape, or no gproc on the node, fails the family's fact. */
static void test_gproc_family(void **state)
{
    (void)state;
    node_script ns = { .gproc = 1 };
    bp_snapshot *s = collect_as(&ns, BP_PROBE_READY, "gproc:cost_guard", NULL);
    assert_int_equal(s->n_families, 1);
    const bp_govfamily_snap *f = &s->families[0];
    assert_string_equal(f->name, "gproc:cost_guard");
    assert_int_equal(f->fact.state, BP_FACT_OK);
    assert_int_equal(f->n_members, 2); /* the entry without a pid is no member */
    assert_int_equal(f->n_total, 2);   /* nor counted as one */
    assert_string_equal(f->members[0].name, "{cost_guard,k1}");
    assert_string_equal(f->members[1].name, "{cost_guard,k2}");
    assert_string_equal(f->members[0].kind, "gen_server strict");
    assert_string_equal(f->members[0].unreadable, "a gen_server's state: give --governor-state-field");
    assert_string_equal(f->members[1].kind, "gen_statem gov");
    assert_string_equal(f->members[1].state, "stable");
    assert_int_equal(ns.sent[P_GEN_SERVER], 1);
    assert_int_equal(ns.sent[P_HIB_STATEM], 1);
    bp_snapshot_free(s);

    node_script odd = { .gproc = 2 };
    s = collect_as(&odd, BP_PROBE_READY, "gproc:cost_guard", NULL);
    expect_fact_error(&s->families[0].fact, "unexpected reply to gproc:select/2");
    assert_int_equal(s->families[0].n_members, 0);
    bp_snapshot_free(s);

    node_script none = { .gproc = 3 };
    s = collect_as(&none, BP_PROBE_READY, "gproc:cost_guard", NULL);
    expect_fact_error(&s->families[0].fact, "gproc is not running on the target (no gproc module)");
    bp_snapshot_free(s);
}

/* --check-mfa: true passes; a textual reason reads as text. */
static void test_custom_checks(void **state)
{
    (void)state;
    node_script ns = { .refuse_combined = 1 };
    bp_config *cfg = test_malloc(sizeof *cfg);
    bp_config_defaults(cfg);
    char err[256];
    assert_int_equal(bp_config_set(cfg, "check-mfa", "erlang:is_alive,app:disk", err, sizeof err), 0);
    bp_snapshot *s = bp_snapshot_new("n@h");
    bp_collect_exec ex = { .call = scripted_call, .ctx = &ns, .self_name = NULL };
    assert_int_equal(bp_collect_with(&ex, cfg, INT64_MAX, s), 0);
    assert_int_equal(s->n_custom, 2);
    assert_int_equal(s->custom[0].verdict, BP_VERDICT_PASS);
    assert_string_equal(s->custom[0].detail, "true");
    assert_int_equal(s->custom[1].verdict, BP_VERDICT_FAIL);
    assert_string_equal(s->custom[1].detail, "error: disk full");
    bp_snapshot_free(s);
    test_free(cfg);
}

static const bp_governor_snap *governor(const bp_snapshot *s, const char *name)
{
    for (size_t i = 0; i < s->n_governors; i++)
        if (strcmp(s->governors[i].name, name) == 0)
            return &s->governors[i];
    fail_msg("no governor %s", name);
    return NULL;
}

/* Governors: only processes proven to run an OTP loop get sys:get_state; the others are
 * reported, with their kind, and sent nothing. A hibernated one is proven by its module. */
static void test_governor_sent_only_what_its_kind_handles(void **state)
{
    (void)state;
    node_script ns = { 0 };
    bp_snapshot *s = collect_as(&ns, BP_PROBE_READY, "plainp,strict,hib_gov,hib_plain,nobody", NULL);
    assert_int_equal(ns.sent[P_PLAIN], 0);
    assert_int_equal(ns.sent[P_HIB_PLAIN], 0);
    assert_int_equal(ns.sent[P_GEN_SERVER], 1);
    assert_int_equal(ns.sent[P_HIB_STATEM], 1);
    assert_int_equal(ns.attrs_asked, 2); /* both hibernated ones have an '$initial_call' */
    const bp_governor_snap *g = governor(s, "plainp");
    assert_true(g->alive && g->sys_refused);
    assert_int_equal(g->state_fact.state, BP_FACT_ERROR);
    assert_string_equal(g->kind, "a plain process (in my:loop/0)");
    assert_non_null(strstr(g->state_fact.error, "plainp does not handle system messages"));
    assert_int_equal(g->memory, 2000 + P_PLAIN);
    g = governor(s, "hib_plain");
    assert_true(g->sys_refused);
    assert_non_null(strstr(g->kind, "worker"));
    g = governor(s, "strict");
    assert_string_equal(g->kind, "gen_server strict");
    assert_null(g->state); /* a gen_server's state {stable, []} is no name without --governor-state-field */
    assert_string_equal(g->unreadable, "a gen_server's state: give --governor-state-field");
    g = governor(s, "hib_gov");
    assert_string_equal(g->kind, "gen_statem gov");
    assert_string_equal(g->state, "stable");
    g = governor(s, "nobody");
    assert_int_equal(g->fact.state, BP_FACT_OK);
    assert_false(g->alive);
    assert_int_equal(ns.atoms_made, 0); /* "nobody" was looked up as an existing atom, never sent as one */
    assert_int_equal(s->round_trips, 5); /* the names' atoms, whereis, proof, module attributes, sys:get_state */
    bp_snapshot_free(s);
}

/* Supervisors: count_children/which_children only to a proven supervisor. */
static void test_supervisor_calls_only_to_supervisors(void **state)
{
    (void)state;
    node_script ns = { .refuse_combined = 1 }; /* the BIFs one by one: the clock is read */
    bp_snapshot *s = collect_as(&ns, BP_PROBE_READY, NULL, "strict,plainp,top_sup,missing");
    assert_int_equal(ns.sent[P_GEN_SERVER], 0);
    assert_int_equal(ns.sent[P_PLAIN], 0);
    assert_int_equal(ns.sent[P_SUPERVISOR], 3); /* count_children, which_children, sys:get_state */
    assert_int_equal(s->n_supervisors, 4);
    for (size_t i = 0; i < s->n_supervisors; i++) {
        const bp_supervisor_snap *p = &s->supervisors[i];
        if (strcmp(p->name, "strict") == 0) {
            assert_int_equal(p->fact.state, BP_FACT_ERROR);
            assert_string_equal(p->fact.error, "strict is not a supervisor (gen_server strict)");
        } else if (strcmp(p->name, "plainp") == 0) {
            assert_string_equal(p->fact.error, "plainp is not a supervisor (a plain process (in my:loop/0))");
        } else if (strcmp(p->name, "top_sup") == 0) {
            assert_int_equal(p->fact.state, BP_FACT_OK);
            assert_string_equal(p->kind, "supervisor top");
            assert_int_equal(p->intensity, 3);
            assert_int_equal(p->period, 60);
            assert_int_equal(p->recent_restarts, 2);
        } else {
            assert_string_equal(p->fact.error, "not running");
        }
    }
    bp_snapshot_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_combined_bif_call_refused_falls_back),
        cmocka_unit_test(test_combined_bif_call_malformed),
        cmocka_unit_test(test_scrambled_replies_fail_their_facts),
        cmocka_unit_test(test_malformed_replies_fail_their_facts),
        cmocka_unit_test(test_gproc_family),
        cmocka_unit_test(test_custom_checks),
        cmocka_unit_test(test_governor_sent_only_what_its_kind_handles),
        cmocka_unit_test(test_supervisor_calls_only_to_supervisors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
