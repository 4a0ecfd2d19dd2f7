/* oneround_answers.h: the one-round reply as a table of answers (single calls and batches), each batch reply read as rex would give it. */
#ifndef BP_ONEROUND_ANSWERS_H
#define BP_ONEROUND_ANSWERS_H

#include <stddef.h>

#include "core/arena.h"
#include "dist/term.h"

/* One call the target made: Mod:Fun(Args), or Mod:Fun(Pid, Extra...) in a batch, and its reply (read with bp_or_answer_reply). */
typedef struct {
    const bp_term *mod, *fun;
    const bp_term *args;        /* the arguments (a list), or NULL in a batch: */
    const bp_term *pid, *extra; /* the first argument, and the list of the others */
    const bp_term *raw;     /* the reply as sent */
    const bp_term *reply;   /* as rex would give it (built on first use) */
    int mode;               /* 0 raw; 1 gen:call's, 2 and 3 sys:get_state's gen:receive_response result (3: OTP 26.1+'s
                               {ok, State}); 4 process_info's values as a tuple */
    unsigned char used;
} bp_or_answer;

/*
 * The answers of the reply's list: {Mod, Fun, Args, Reply} one call each, {0, Mod, Fun,
 * {Pids, Extra, Replies, Mode}} the calls Mod:Fun(Pid, Extra...) for each pid (oneround.erl.src, batch/6).
 * *out is allocated in a (NULL and *n = 0 for an empty list). 0, or -1 on a malformed batch
 * (its calls are then left out: C asks them itself) or OOM.
 */
int bp_or_answers(const bp_term *list, bp_arena *a, bp_or_answer **out, size_t *n);

/* The answers of one function (same Mod and Fun terms), by index, and where a search starts. */
typedef struct {
    const bp_term *mod, *fun;
    size_t *idx, n, cursor;
} bp_or_group;

/* Group answers v[0..n) by function (in order within each); *g in a. 0, or -1 on OOM. */
int bp_or_group_answers(const bp_or_answer *v, size_t n, bp_arena *a, bp_or_group **g, size_t *ng);

/* The reply of answer e as rex would give it; NULL on OOM. */
const bp_term *bp_or_answer_reply(bp_or_answer *e, bp_arena *a);

#endif
