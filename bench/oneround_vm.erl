%% oneround_vm.erl: measures, inside a target VM, what the one-round request of a probe costs there (bench/bench_oneround_vm.sh).
-module(oneround_vm).
-export([capture/0, captured/1, measure/2]).

%% Trace the next erl_eval:expr/5 call of a new process (rex's worker: the request) and keep its arguments.
capture() ->
    persistent_term:erase(oneround_vm),
    Tracer = spawn(fun Loop() ->
                           receive
                               {trace, _, call, {erl_eval, expr, A}} ->
                                   case persistent_term:get(oneround_vm, none) of
                                       none -> persistent_term:put(oneround_vm, A);
                                       _ -> ok
                                   end,
                                   Loop();
                               _ -> Loop()
                           end
                   end),
    erlang:trace_pattern({erl_eval, expr, 5}, true, [global]),
    erlang:trace(new_processes, true, [call, {tracer, Tracer}]),
    ok.

%% Stop tracing; the captured request's arguments, written to File.
captured(File) ->
    erlang:trace(all, false, [call]),
    erlang:trace_pattern({erl_eval, expr, 5}, false, [global]),
    file:write_file(File, term_to_binary(persistent_term:get(oneround_vm))).

%% Evaluate the request N times: min and median wall (us), reductions of one evaluation in a
%% process of its own, nodes erl_eval evaluated, and the parameters' size and decoding time.
measure(File, N) ->
    {ok, B} = file:read_file(File),
    [_, Bindings | _] = Args = binary_to_term(B),
    [{_, Params}] = maps:to_list(Bindings),
    #{wall_us => stat(fun() -> apply(erl_eval, expr, Args) end, N),
      reductions => in_process(fun() -> apply(erl_eval, expr, Args) end, reductions),
      nodes => in_process(fun() -> apply(erl_eval, expr, Args) end, nodes),
      params_bytes => byte_size(Params),
      decode_us => stat(fun() -> binary_to_term(Params, [safe]) end, N)}.

stat(F, N) ->
    Ts = lists:sort([element(1, timer:tc(F)) || _ <- lists:seq(1, N)]),
    {min, hd(Ts), median, lists:nth(N div 2 + 1, Ts)}.

%% Reductions of F, or how many expressions erl_eval evaluated (calls of erl_eval:expr/6, traced).
in_process(F, What) ->
    Self = self(),
    W = spawn(fun() ->
                      receive go -> ok end,
                      {reductions, R0} = process_info(self(), reductions),
                      F(),
                      {reductions, R1} = process_info(self(), reductions),
                      Self ! {done, R1 - R0}
              end),
    case What of
        reductions -> W ! go, receive {done, R} -> R end;
        nodes ->
            Counter = spawn(fun() -> count(0, Self) end),
            erlang:trace_pattern({erl_eval, expr, 6}, true, [local]),
            erlang:trace(W, true, [call, {tracer, Counter}]),
            W ! go,
            receive {done, _} -> ok end,
            erlang:trace_pattern({erl_eval, expr, 6}, false, [local]),
            Counter ! {stop, Self},
            receive {count, C} -> C end
    end.

count(C, Self) ->
    receive
        {trace, _, call, _} -> count(C + 1, Self);
        {stop, Self} -> Self ! {count, C}
    end.
