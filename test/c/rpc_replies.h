/* rpc_replies.h: replies a scripted node gives as rpc would, shared by the collector's unit tests. */
#ifndef BP_TEST_RPC_REPLIES_H
#define BP_TEST_RPC_REPLIES_H

#include <ei.h>

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
