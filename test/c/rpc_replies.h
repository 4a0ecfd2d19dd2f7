/* rpc_replies.h: replies a scripted node gives as rpc would, shared by the collector's unit tests. */
#ifndef BP_TEST_RPC_REPLIES_H
#define BP_TEST_RPC_REPLIES_H

#include <ei.h>

/* {badrpc, {'EXIT', {undef, []}}}: what rpc answers for a function the node does not have. */
static inline void encode_badrpc_undef(ei_x_buff *x)
{
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, "badrpc");
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, "EXIT");
    ei_x_encode_tuple_header(x, 2);
    ei_x_encode_atom(x, "undef");
    ei_x_encode_empty_list(x);
}

#endif
