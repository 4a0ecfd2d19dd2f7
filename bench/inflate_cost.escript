#!/usr/bin/env escript
%% inflate_cost.escript: what binary_to_term(B, [safe]) costs a node for the one-round request's parameters, compressed as sent and uncompressed (run by bench/bench_link.sh).
%% Usage: bench/inflate_cost.escript PARAMS.bin...   (files written by build/oneround_samples)
-mode(compile).

main(Files) ->
    io:format("| parameters | sent (bytes) | binary_to_term as sent (us) | uncompressed (bytes) | binary_to_term uncompressed (us) |~n"
              "|---|---:|---:|---:|---:|~n"),
    [row(F) || F <- Files],
    ok.

row(F) ->
    {ok, Sent} = file:read_file(F),
    Raw = term_to_binary(binary_to_term(Sent)),
    io:format("| ~s | ~b | ~.1f | ~b | ~.1f |~n",
              [filename:basename(F), byte_size(Sent), cost(Sent), byte_size(Raw), cost(Raw)]).

%% Microseconds per decode: the best of 9 batches of 500.
cost(B) ->
    lists:min([begin
                   {T, _} = timer:tc(fun() -> loop(B, 500) end),
                   T / 500
               end || _ <- lists:seq(1, 9)]).

loop(_, 0) -> ok;
loop(B, N) -> _ = binary_to_term(B, [safe]), loop(B, N - 1).
