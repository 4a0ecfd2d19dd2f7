/* rpc_replies.h: replies a scripted node gives as rpc would, shared by the collector's unit tests. */
#ifndef BP_TEST_RPC_REPLIES_H
#define BP_TEST_RPC_REPLIES_H

#include <ei.h>

#include "dist/session.h"

/* Answer every call of batch b (one round of a scripted node) with what encode writes after the
   version byte. Include cmocka.h first. */
typedef void scripted_encode_fn(void *ctx, const bp_rpc *r, ei_x_buff *x);
static inline void answer_batch(bp_batch *b, scripted_encode_fn *encode, void *ctx)
{
    for (size_t i = 0; i < bp_batch_count(b); i++) {
        ei_x_buff x;
        ei_x_new_with_version(&x);
        encode(ctx, bp_batch_get(b, i), &x);
        assert_int_equal(bp_batch_set_reply(b, i, (const unsigned char *)x.buff, (size_t)x.index, 1 << 20), 0);
        ei_x_free(&x);
    }
}

/* {badrpc, {'EXIT', {Reason, []}}}: what rpc answers when the call raised error:Reason. */
static inline void encode_badrpc_exit(ei_x_buff *x, const char *reason)
{
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, "badrpc");
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, "EXIT");
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, reason);
    ei_x_encode_empty_list(x);
}

/* What rpc answers for a function the node does not have. */
static inline void encode_badrpc_undef(ei_x_buff *x)
{
    encode_badrpc_exit(x, "undef");
}

#endif
