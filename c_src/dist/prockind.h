/* prockind.h: prove what kind of process a pid is (supervisor, OTP behaviour, plain) before sending it anything. */
#ifndef BP_PROCKIND_H
#define BP_PROCKIND_H

#include <stdint.h>

#include "dist/session.h"
#include "dist/term.h"

/*
 * A probe may only send a process what its kind handles: supervisor calls to
 * supervisors, sys requests to processes in an OTP behaviour's loop. The proof
 * reads, without sending the process anything:
 *   erlang:process_info(Pid, [current_function, current_stacktrace, status,
 *                             message_queue_len, memory, registered_name])
 *   proc_lib:translate_initial_call(Pid)      ('$initial_call' of proc_lib)
 * and, only for a hibernated process (its stack is empty), the behaviours its
 * callback module declares: erlang:get_module_info(Mod, attributes), a BIF
 * that never loads code. docs/DESIGN-NOTES.md ("Do no harm") argues why this
 * is sufficient.
 */
typedef enum {
    BP_PK_UNKNOWN = 0,   /* not proven (yet) */
    BP_PK_GONE,          /* the process no longer exists */
    BP_PK_PLAIN,         /* runs no OTP behaviour loop */
    BP_PK_GEN_SERVER,
    BP_PK_GEN_STATEM,
    BP_PK_GEN_EVENT,
    BP_PK_SUPERVISOR,    /* a gen_server whose callback module is `supervisor` */
    BP_PK_SUPERVISOR_BRIDGE, /* a gen_server of `supervisor_bridge`: a supervisor child, no children API */
    BP_PK_HIBERNATED     /* hibernated: needs its module's behaviours (bp_prockind_take_attrs) */
} bp_pk_kind;

typedef struct {
    bp_pk_kind kind;
    char module[128];          /* callback module ('$initial_call'), or "" */
    char where[160];           /* current function "m:f/a", or "" */
    char registered[256];      /* its registered name, or "" */
    int64_t message_queue_len; /* -1 unknown */
    int64_t memory;            /* bytes, -1 unknown */
    int started_as_supervisor; /* '$initial_call' {supervisor, Callback, 1} */
    int started_as_gen_event;  /* '$initial_call' {gen_event, init_it, 6} */
    int init_fun_is_init;      /* '$initial_call' {Callback, init, 1}, as gen sets it */
} bp_prockind;

/*
 * The rule of the proof as data, for the one-round request (c_src/dist/oneround.erl.src), so that
 * the target applies the same table: {[Module], MatchSpec, [Item]}. Run over the functions of
 * the loaded Modules, as {ModuleBin, FunctionBin, Module, Function}, MatchSpec makes the clauses
 * of a match spec over stack frames that gives the kind of each frame of a behaviour's loop
 * code: {{M, F, '_', '_'}, [], [Kind]} for each function named (a clause per name) or starting
 * with a prefix (byte_size and binary_part guards); Kind 3 gen_server, 4 gen_statem, 5
 * gen_event. Item: the process_info items of the proof, as binaries; the first two are
 * current_function and current_stacktrace (the target reads them by position).
 * ei's return.
 */
int bp_prockind_encode_rule(ei_x_buff *x);

/* Add the proof's two calls for `pid` to b; their indexes go to at[0], at[1]. 0 or BP_ENOMEM. */
int bp_prockind_plan(bp_batch *b, const bp_term *pid, int at[2]);

/*
 * Read the two replies (process_info's, translate_initial_call's) into k.
 * Returns 0, or -1 when process_info itself did not answer (k->kind UNKNOWN).
 */
int bp_prockind_take(const bp_term *info, const bp_term *initial_call, bp_prockind *k);

/* For a hibernated process: ask for its callback module's attributes. 0, BP_ENOMEM, or -1 if no module. */
int bp_prockind_plan_attrs(bp_batch *b, const bp_prockind *k, int *at);

/* Settle a hibernated process's kind from its module's attributes (PLAIN if none is a behaviour). */
void bp_prockind_take_attrs(const bp_term *attrs, bp_prockind *k);

/* Runs a loop that handles system messages (sys:get_state is safe)? */
int bp_prockind_handles_sys(const bp_prockind *k);

/* "supervisor kernel", "gen_server logger_server", "a plain process (in code_server:loop/1)". */
void bp_prockind_describe(const bp_prockind *k, char *out, size_t outlen);

#endif
