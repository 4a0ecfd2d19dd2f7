%% bench_nif.erl: the driver of bench/bench_nif.sh, run inside a demo node: the Erlang API (beamprobe) next to a hand-written pure-Erlang health check, its scheduler hygiene, and remote checks.
%%
%% main/1 runs three parts and writes a markdown fragment (tables) and a CSV of
%% every sample; progress goes to standard_error.
%%
%% 1. Local latency: beamprobe:check/1 (ready, live, with governors and a
%%    supervisor), health(live), metrics(), each next to a hand-written twin
%%    gathering the same facts with plain BIFs and OTP calls (erl_*/0 below),
%%    in interleaved rounds whose order rotates.
%% 2. Scheduler hygiene: erlang:system_monitor(_, [{long_schedule, 1}]) (1 ms
%%    is the smallest threshold OTP accepts: 0 is raised to 1) over a mix of
%%    API calls, over the hand-written twins, over inputs near and above the
%%    64 KiB dirty threshold, and a positive control; then the same calls with
%%    call tracing of the NIF functions (return_trace, monotonic timestamps)
%%    to time every NIF call and keep the input of the longest.
%% 3. Remote: beamprobe:check(Node, #{}) against another demo node, next to
%%    the command (priv/beamprobe check, one OS process per call, spawned
%%    with open_port) and rpc-based checks of the same BIFs.
-module(bench_nif).

-export([main/1]).
-export([erl_live/0, erl_ready/0, erl_full/0, erl_health_live/0, erl_metrics/0,
         reply_string/0, reply_ints/0, reply_nils/0, reply_big/0]).
-export([init/1, start_worker/0]).
-export([percall/1, percall_block/2]).

-define(GOVS, [cost_guard, rollback_guard, backlog_valve]).
-define(FULL, #{governor => ?GOVS, supervisor => demo_sup, require_app => [demo]}).
-define(LIMITS, [{processes, process_count, process_limit}, {ports, port_count, port_limit},
                 {atoms, atom_count, atom_limit}, {ets, ets_count, ets_limit}]).
-define(NIFS, [{nif_config, 1}, {nif_collect_step, 4}, {nif_report, 3}, {nif_http, 3}]).
-define(SUP_DEPTH, 3).

%%% ================================================================ main

%% Cfg: #{md, csv, target, cli, cookie_file, local_n, hygiene_n, edge_n,
%% remote_n, warmup, limit_s, parent, tmp}. Halts the node: 0 on success, 1 on
%% failure, 2 when the script (parent, an OS pid) is gone, 3 after limit_s seconds.
main(Cfg) ->
    Limit = maps:get(limit_s, Cfg, 300),
    spawn(fun() ->
              timer:sleep(Limit * 1000),
              io:format(standard_error, "bench_nif: still running after ~b s; giving up~n", [Limit]),
              erlang:halt(3)
          end),
    spawn(fun() -> watch_parent(Cfg) end),
    try run(Cfg) of
        ok -> erlang:halt(0)
    catch C:R:St ->
        io:format(standard_error, "bench_nif: ~p:~p~n~p~n", [C, R, St]),
        erlang:halt(1)
    end.

run(Cfg) ->
    ok = wait_stable(100),
    {ok, Csv} = file:open(maps:get(csv, Cfg), [write]),
    io:format(Csv, "part,contender,i,us~n", []),
    Local = local(Cfg, Csv),
    Hyg = hygiene(Cfg, Csv),
    Trace = nif_times(Cfg),
    Remote = remote(Cfg, Csv),
    ok = file:close(Csv),
    Md = [Local, Hyg, Trace, Remote],
    ok = file:write_file(maps:get(md, Cfg), unicode:characters_to_binary(Md)),
    ok.

%% The script's traps stop both nodes and remove its temporary directory. Should the
%% script die without running them (SIGKILL, or a signal bash does not trap while it
%% waits), this node does it: it halts the target node, removes the directory and halts.
watch_parent(#{parent := Parent} = Cfg) ->
    case file:read_file_info("/proc/" ++ integer_to_list(Parent)) of
        {ok, _} ->
            timer:sleep(250),
            watch_parent(Cfg);
        {error, _} ->
            Target = maps:get(target, Cfg),
            _ = net_kernel:connect_node(Target) andalso rpc:call(Target, erlang, halt, [], 1000),
            _ = file:del_dir_r(maps:get(tmp, Cfg)),
            erlang:halt(2)
    end;
watch_parent(_) ->
    ok.

wait_stable(0) -> timeout;
wait_stable(N) ->
    case demo:all_stable() of
        true -> ok;
        false -> timer:sleep(50), wait_stable(N - 1)
    end.

say(Fmt, Args) -> io:format(standard_error, "bench_nif: " ++ Fmt ++ "~n", Args).

%%% ================================================================ 1. local latency

local_pairs() ->
    [{"ready probe", "`beamprobe:check(#{})`", fun() -> beamprobe:check(#{}) end,
      "`bench_nif:erl_ready()`", fun ?MODULE:erl_ready/0},
     {"live probe", "`beamprobe:check(#{probe => live})`", fun() -> beamprobe:check(#{probe => live}) end,
      "`bench_nif:erl_live()`", fun ?MODULE:erl_live/0},
     {"governors + supervisor", "`beamprobe:check(#{governor => [3], supervisor => demo_sup, require_app => [demo]})`",
      fun() -> beamprobe:check(?FULL) end,
      "`bench_nif:erl_full()`", fun ?MODULE:erl_full/0},
     {"`/health/live` answer", "`beamprobe:health(live)`", fun() -> beamprobe:health(live) end,
      "`bench_nif:erl_health_live()`", fun ?MODULE:erl_health_live/0},
     {"Prometheus text", "`beamprobe:metrics()`", fun() -> beamprobe:metrics() end,
      "`bench_nif:erl_metrics()`", fun ?MODULE:erl_metrics/0}].

local(Cfg, Csv) ->
    N = maps:get(local_n, Cfg),
    W = maps:get(warmup, Cfg),
    Pairs = local_pairs(),
    Cs = lists:append([[{{bp, I}, B}, {{erl, I}, E}]
                       || {I, {_, _, B, _, E}} <- lists:zip(lists:seq(1, length(Pairs)), Pairs)]),
    [sane(K, F()) || {K, F} <- Cs],
    Sizes = [{I, size_of(B()), size_of(E())} || {I, {_, _, B, _, E}} <- number(Pairs)],
    say("local latency: ~b contenders, ~b rounds (+~b warm-up)", [length(Cs), N, W]),
    T0 = erlang:monotonic_time(millisecond),
    S = rounds(Cs, N, W),
    Secs = (erlang:monotonic_time(millisecond) - T0) / 1000,
    csv(Csv, "local", [{key_name(K), L} || {K, L} <- maps:to_list(S)]),
    RedN = min(N, 200),
    Reds = maps:from_list([{K, maps:get(median, stats([reductions(F) || _ <- lists:seq(1, RedN)]))} || {K, F} <- Cs]),
    Rows = [begin
                Bs = stats(maps:get({bp, I}, S)),
                Es = stats(maps:get({erl, I}, S)),
                {_, BSz, ESz} = lists:keyfind(I, 1, Sizes),
                [row([Facts, BCall, us(Bs, median), us(Bs, p90), us(Bs, p99), us(Bs, max), BSz,
                      round(maps:get({bp, I}, Reds))]),
                 row(["", ECall, us(Es, median), us(Es, p90), us(Es, p99), us(Es, max), ESz,
                      round(maps:get({erl, I}, Reds))])]
            end || {I, {Facts, BCall, _, ECall, _}} <- number(Pairs)],
    Ratios = [begin
                  Bs = stats(maps:get({bp, I}, S)),
                  Es = stats(maps:get({erl, I}, S)),
                  row([Facts, us(Bs, median), us(Es, median), ratio(Bs, Es, median), ratio(Bs, Es, p99)])
              end || {I, {Facts, _, _, _, _}} <- number(Pairs)],
    ["### 1. Local calls in one demo node\n\n",
     io_lib:format("~b interleaved rounds (+~b warm-up), every contender once per round, the order rotating "
                   "each round; ~.1f s. Times in microseconds, per call, measured around the call with "
                   "`erlang:monotonic_time/0`.\n\n", [N, W, Secs]),
     "| facts | call | median (µs) | p90 (µs) | p99 (µs) | max (µs) | result size (bytes) | reductions charged to the caller |\n",
     "|---|---|---:|---:|---:|---:|---:|---:|\n", Rows,
     "\n| facts | beamprobe median (µs) | hand-written median (µs) | beamprobe / hand-written, median | p99 |\n",
     "|---|---:|---:|---:|---:|\n", Ratios, "\n",
     "Result size: `erlang:external_size/1` of what the call returns (a map, a `{Status, Json}` "
     "tuple, or the Prometheus text). Reductions: the median growth of the calling process's "
     "`process_info(self(), reductions)` over ", integer_to_list(RedN), " more calls (not timed); "
     "work done in other processes (beamprobe's spawned calls, the governors answering "
     "`sys:get_state/2`) is not in it.\n\n"].

reductions(F) ->
    {reductions, R0} = erlang:process_info(self(), reductions),
    _ = F(),
    {reductions, R1} = erlang:process_info(self(), reductions),
    R1 - R0.

key_name({bp, I}) -> "bp_" ++ atom_to_list(pair_tag(I));
key_name({erl, I}) -> "erl_" ++ atom_to_list(pair_tag(I));
key_name(A) when is_atom(A) -> atom_to_list(A).

pair_tag(I) -> lists:nth(I, [ready, live, full, health_live, metrics]).

size_of(T) -> erlang:external_size(T).

%% Every beamprobe result must be a healthy report: anything else means the
%% benchmark measures an error path.
sane(K, R) ->
    Ok = case R of
             #{<<"status">> := <<"healthy">>} -> true;
             #{status := healthy} -> true;
             {200, B} when is_binary(B) -> true;
             B when is_binary(B), byte_size(B) > 100 -> true;
             L when is_list(L) -> true;
             _ -> false
         end,
    Ok orelse error({unexpected_result, K, R}).

%% Interleaved rounds: every contender once per round, the order rotated by one each round.
rounds(Cs, N, Warmup) ->
    Keys = [K || {K, _} <- Cs],
    Acc0 = maps:from_list([{K, []} || K <- Keys]),
    rounds(Cs, 1 - Warmup, N, Acc0).

rounds(_Cs, R, N, Acc) when R > N -> Acc;
rounds(Cs, R, N, Acc) ->
    Order = rotate(Cs, (R + 1000000) rem length(Cs)),
    Acc1 = lists:foldl(fun({K, F}, A) ->
                               Us = time_us(F),
                               case R >= 1 of
                                   true -> maps:update_with(K, fun(L) -> [Us | L] end, A);
                                   false -> A
                               end
                       end, Acc, Order),
    rounds(Cs, R + 1, N, Acc1).

rotate(L, 0) -> L;
rotate(L, K) -> {A, B} = lists:split(K, L), B ++ A.

time_us(F) ->
    T0 = erlang:monotonic_time(),
    _ = F(),
    T1 = erlang:monotonic_time(),
    erlang:convert_time_unit(T1 - T0, native, nanosecond) / 1000.

%%% ================================================================ hand-written twins
%%% What one would write by hand for the same facts: plain BIFs and OTP calls,
%%% the same thresholds as beamprobe's defaults, a map or a hand-built body.

live_facts() ->
    Mem = erlang:memory(),
    Limits = [{Name, erlang:system_info(C), erlang:system_info(L)} || {Name, C, L} <- ?LIMITS],
    RunQ = lists:sum(erlang:statistics(run_queue_lengths)),
    Scheds = erlang:system_info(schedulers_online),
    #{otp_release => erlang:system_info(otp_release), erts_version => erlang:system_info(version),
      memory => Mem, limits => Limits, run_queue => RunQ, schedulers_online => Scheds,
      dirty_cpu_schedulers_online => erlang:system_info(dirty_cpu_schedulers_online),
      dirty_io_schedulers => erlang:system_info(dirty_io_schedulers)}.

live_checks(#{memory := Mem, limits := Limits, run_queue := RunQ, schedulers_online := Scheds}) ->
    LimitChecks = [#{name => Name, count => C, limit => L, ratio => C / L, status => ratio_status(C / L)}
                   || {Name, C, L} <- Limits],
    PerSched = RunQ / max(1, Scheds),
    #{memory => #{status => pass, total_bytes => proplists:get_value(total, Mem)},
      limits => #{status => worst([S || #{status := S} <- LimitChecks]), limits => LimitChecks},
      schedulers => #{status => if PerSched >= 50 -> fail; PerSched >= 10 -> warn; true -> pass end,
                      run_queue => RunQ, schedulers_online => Scheds}}.

ready_checks(Facts, RequiredApps) ->
    Apps = application:which_applications(),
    Missing = [A || A <- RequiredApps, not lists:keymember(A, 1, Apps)],
    Visible = erlang:nodes(),
    Hidden = erlang:nodes(hidden),
    (live_checks(Facts))#{
      applications => #{status => case Missing of [] -> pass; _ -> fail end, missing => Missing,
                        running => [#{name => A, version => V} || {A, _, V} <- Apps]},
      membership => #{status => pass, visible => Visible, hidden => Hidden}}.

report(Probe, Checks) ->
    #{status => status(worst([S || #{status := S} <- maps:values(Checks)])), probe => Probe,
      node => node(), timestamp => erlang:system_time(millisecond), checks => Checks}.

%% The facts of `check(#{probe => live})`: identity, memory, limits, run queues.
erl_live() ->
    report(live, live_checks(live_facts())).

%% The facts of `check(#{})`: the live facts, running applications, connected nodes.
erl_ready() ->
    report(ready, ready_checks(live_facts(), [])).

%% The facts of `check(?FULL)`: the ready facts, demo_sup's tree (count_children and
%% which_children, nested supervisors 3 levels down), and each governor's state
%% (sys:get_state/2, 200 ms), queue length and memory.
erl_full() ->
    C0 = ready_checks(live_facts(), [demo]),
    Sup = supervisor_check(demo_sup, ?SUP_DEPTH),
    Govs = maps:from_list([{G, governor_check(G)} || G <- ?GOVS]),
    report(ready, maps:merge(C0#{demo_sup => Sup}, Govs)).

supervisor_check(Sup, Depth) ->
    try
        Counts = supervisor:count_children(Sup),
        Children = supervisor:which_children(Sup),
        Down = [Id || {Id, P, _, _} <- Children, not is_pid(P)],
        Nested = [supervisor_check(P, Depth - 1) || {_, P, supervisor, _} <- Children, is_pid(P), Depth > 0],
        #{status => worst([case Down of [] -> pass; _ -> fail end | [S || #{status := S} <- Nested]]),
          counts => Counts, down => Down, nested => Nested}
    catch _:R -> #{status => fail, error => R}
    end.

governor_check(G) ->
    case whereis(G) of
        undefined -> #{status => fail, state => not_running};
        Pid ->
            State = try sys:get_state(G, 200) of
                        {S, _} when is_atom(S) -> S;
                        S when is_atom(S) -> S;
                        _ -> unknown
                    catch _:_ -> unreachable
                    end,
            Info = erlang:process_info(Pid, [message_queue_len, memory]),
            #{status => case State of
                            refusing -> fail; unreachable -> fail;
                            degraded -> warn; intervening -> warn;
                            _ -> pass
                        end,
              state => State, info => Info}
    end.

%% What a hand-written /health/live handler answers: the live checks and a small JSON body.
erl_health_live() ->
    #{status := St, checks := Checks} = erl_live(),
    Failing = [atom_to_binary(K) || {K, #{status := S}} <- maps:to_list(Checks), S =/= pass],
    Body = iolist_to_binary(
             [<<"{\"status\":\"">>, atom_to_binary(St), <<"\",\"ok\":">>, atom_to_binary(St =/= unhealthy),
              <<",\"probe\":\"live\",\"node\":\"">>, atom_to_binary(node()),
              <<"\",\"checks_not_passing\":[">>, lists:join($,, [[$", F, $"] || F <- Failing]), <<"]}">>]),
    {case St of unhealthy -> 503; _ -> 200 end, Body}.

%% Prometheus text of the ready facts, built by hand (gauges only, as beamprobe's).
erl_metrics() ->
    F = live_facts(),
    #{status := St, checks := Checks} = report(ready, ready_checks(F, [])),
    #{memory := Mem, limits := Limits} = F,
    N = [<<"node=\"">>, atom_to_binary(node()), $"],
    G = fun(Name, Labels, V) ->
                [<<"# TYPE ">>, Name, <<" gauge\n">>, Name, ${, N, Labels, <<"} ">>, num(V), $\n]
        end,
    Body = [G(<<"erlang_up">>, [], 1),
            G(<<"erlang_info">>, [<<",otp_release=\"">>, maps:get(otp_release, F),
                                  <<"\",erts_version=\"">>, maps:get(erts_version, F), $"], 1),
            <<"# TYPE erlang_health_status gauge\n">>,
            [[<<"erlang_health_status{">>, N, <<",status=\"">>, atom_to_binary(S), <<"\"} ">>,
              num(bool(status(S) =:= St)), $\n] || S <- [healthy, degraded, unhealthy]],
            <<"# TYPE erlang_check_status gauge\n">>,
            [[[<<"erlang_check_status{">>, N, <<",check=\"">>, atom_to_binary(C), <<"\",status=\"">>,
               atom_to_binary(S), <<"\"} ">>, num(bool(S =:= CS)), $\n] || S <- [pass, warn, fail]]
             || {C, #{status := CS}} <- lists:sort(maps:to_list(Checks))],
            <<"# TYPE erlang_vm_memory_bytes gauge\n">>,
            [[<<"erlang_vm_memory_bytes{">>, N, <<",kind=\"">>, atom_to_binary(K), <<"\"} ">>, num(V), $\n]
             || {K, V} <- Mem],
            [[G(<<"erlang_vm_", (atom_to_binary(Name))/binary, "_count">>, [], C),
              G(<<"erlang_vm_", (atom_to_binary(Name))/binary, "_limit">>, [], L)] || {Name, C, L} <- Limits],
            G(<<"erlang_vm_run_queue_length">>, [], maps:get(run_queue, F)),
            G(<<"erlang_vm_schedulers_online">>, [], maps:get(schedulers_online, F)),
            G(<<"erlang_vm_dirty_cpu_schedulers_online">>, [], maps:get(dirty_cpu_schedulers_online, F)),
            G(<<"erlang_vm_dirty_io_schedulers">>, [], maps:get(dirty_io_schedulers, F)),
            G(<<"erlang_visible_nodes">>, [], length(maps:get(visible, maps:get(membership, Checks)))),
            G(<<"erlang_hidden_nodes">>, [], length(maps:get(hidden, maps:get(membership, Checks))))],
    iolist_to_binary(Body).

num(V) when is_integer(V) -> integer_to_binary(V);
num(V) when is_float(V) -> float_to_binary(V, [short]).

bool(true) -> 1;
bool(false) -> 0.

ratio_status(R) when R >= 0.9 -> fail;
ratio_status(R) when R >= 0.8 -> warn;
ratio_status(_) -> pass.

worst(L) ->
    case {lists:member(fail, L), lists:member(warn, L)} of
        {true, _} -> fail;
        {_, true} -> warn;
        _ -> pass
    end.

status(pass) -> healthy;
status(warn) -> degraded;
status(fail) -> unhealthy;
status(S) -> S.

%%% ---------------------------------------------------------------- custom checks (edge inputs)
%%% Replies of --check-mfa functions, sized around the NIF's 64 KiB threshold
%%% (more reply bytes in one collection step move the decoding to a dirty CPU scheduler).

%% A 60,000-character string: STRING_EXT, 60 KB, one byte per list element.
reply_string() -> {ok, lists:duplicate(60000, $x)}.

%% 11,000 integers of 4 bytes: LIST_EXT of INTEGER_EXT, 55 KB, 11,000 terms to decode.
reply_ints() -> {ok, lists:seq(100000, 110999)}.

%% 60,000 empty lists: LIST_EXT of NIL_EXT, 60 KB, one byte per term: the most terms
%% a reply under 64 KiB can hold.
reply_nils() -> {ok, lists:duplicate(60000, [])}.

%% 120,000 integers: 600 KB, over the threshold (decoded on a dirty CPU scheduler).
reply_big() -> {ok, lists:seq(100000, 219999)}.

%%% ---------------------------------------------------------------- a wide supervisor (edge input)
%%% bench_nif_sup: simple_one_for_one with as many idle workers as make its
%%% which_children reply about 58 KB, under the 64 KiB threshold with the other replies.

start_wide_sup() ->
    case whereis(bench_nif_sup) of
        undefined ->
            {ok, Pid} = supervisor:start_link({local, bench_nif_sup}, ?MODULE, []),
            unlink(Pid);
        _ -> ok
    end,
    add_children(58000).

add_children(Bytes) ->
    case byte_size(term_to_binary(supervisor:which_children(bench_nif_sup))) of
        B when B >= Bytes ->
            {length(supervisor:which_children(bench_nif_sup)), B};
        _ ->
            [{ok, _} = supervisor:start_child(bench_nif_sup, []) || _ <- lists:seq(1, 25)],
            add_children(Bytes)
    end.

init([]) ->
    {ok, {#{strategy => simple_one_for_one, intensity => 10, period => 10},
          [#{id => worker, start => {?MODULE, start_worker, []}}]}}.

start_worker() ->
    {ok, spawn_link(fun() -> receive stop -> ok end end)}.

%%% ================================================================ 2a. long_schedule

%% Blocks of calls, each run by a fresh process (so its own events can be told apart).
api_mix() ->
    [fun() -> beamprobe:check(#{}) end,
     fun() -> beamprobe:check(#{probe => live}) end,
     fun() -> beamprobe:check(?FULL) end,
     fun() -> beamprobe:health(live) end,
     fun() -> beamprobe:metrics() end].

erl_mix() ->
    [fun ?MODULE:erl_ready/0, fun ?MODULE:erl_live/0, fun ?MODULE:erl_full/0,
     fun ?MODULE:erl_health_live/0, fun ?MODULE:erl_metrics/0].

edge_blocks(EdgeN) ->
    Mfa = fun(F) -> fun() -> beamprobe:check(#{check_mfa => [<<"bench_nif:", F/binary>>]}) end end,
    {Kids, SupBytes} = start_wide_sup(),
    [{json, "`check(#{... governors, supervisor, format => json})`", EdgeN, [fun() -> beamprobe:check(?FULL#{format => json}) end]},
     {text, "`check(#{... governors, supervisor, format => text})`", EdgeN, [fun() -> beamprobe:check(?FULL#{format => text}) end]},
     {string_60k, "`check(#{check_mfa => [bench_nif:reply_string]})`: a 60,000-char string reply (60 KB)",
      EdgeN, [Mfa(<<"reply_string">>)]},
     {ints_55k, "`check(#{check_mfa => [bench_nif:reply_ints]})`: 11,000 integers (55 KB)",
      EdgeN, [Mfa(<<"reply_ints">>)]},
     {nils_60k, "`check(#{check_mfa => [bench_nif:reply_nils]})`: 60,000 empty lists (60 KB)",
      EdgeN, [Mfa(<<"reply_nils">>)]},
     {wide_sup, io_lib:format("`check(#{supervisor => bench_nif_sup})`: ~s workers, `which_children` "
                              "~s bytes", [thousands(Kids), thousands(SupBytes)]),
      EdgeN, [fun() -> beamprobe:check(#{supervisor => bench_nif_sup}) end]},
     {big_600k, "`check(#{check_mfa => [bench_nif:reply_big]})`: 120,000 integers (600 KB, over 64 KiB)",
      EdgeN, [Mfa(<<"reply_big">>)]}].

hygiene(Cfg, _Csv) ->
    N = maps:get(hygiene_n, Cfg),
    EdgeN = maps:get(edge_n, Cfg),
    [sane(custom, F()) || {_, _, _, [F]} <- edge_blocks(1)],
    Blocks = [{api_mix, io_lib:format("API mix: `check(#{})`, `check(#{probe => live})`, `check(governors, "
                                      "supervisor)`, `health(live)`, `metrics()` in turn", []), N, api_mix()},
              {erl_mix, "the hand-written twins of the same five, in turn", N, erl_mix()}]
        ++ edge_blocks(EdgeN)
        ++ [{control, "positive control: `erlang:make_tuple(3000000, a)` (one BIF call that does not yield)",
             1, [fun() -> tuple_size(erlang:make_tuple(3000000, a)) end]}],
    Mon = spawn(fun() -> mon_loop(none, none, []) end),
    Prev = erlang:system_monitor(Mon, [{long_schedule, 1}]),
    {_, Set} = erlang:system_monitor(),
    say("long_schedule monitor ~p (asked for 1 ms); ~b API calls, ~b hand-written, ~b per edge input",
        [Set, N, N, EdgeN]),
    Res = [begin
               T0 = erlang:monotonic_time(millisecond),
               Driver = driver(fun() -> cycle(Funs, Calls) end),
               Mon ! {block, Name, Driver, self()},
               receive {block_ok, Mon} -> ok end,
               run_driver(Driver),
               timer:sleep(20),
               {Name, Label, Calls, Driver, erlang:monotonic_time(millisecond) - T0}
           end || {Name, Label, Calls, Funs} <- Blocks],
    erlang:system_monitor(Prev),
    Mon ! {get, self()},
    Events = receive {events, Mon, Ev} -> lists:reverse(Ev) end,
    Rows = [hyg_row(B, [E || {Bn, _, _} = E <- Events, Bn =:= element(1, B)]) || B <- Res],
    Details = [hyg_details(B, [E || {Bn, _, _} = E <- Events, Bn =:= element(1, B)]) || B <- Res],
    ["### 2. Scheduler hygiene\n\n",
     io_lib:format("`erlang:system_monitor(Pid, [{long_schedule, 1}])` in force (`erlang:system_monitor()` then "
                   "says `~w`; OTP 25 raises a 0 to 1 ms, its floor, and reports whole milliseconds). Each block "
                   "runs in a fresh process (the *caller*); beamprobe's own spawned workers are other processes. "
                   "An event *names beamprobe* when its `in` or `out` location is a `beamprobe` function, "
                   "*a NIF* when that function is a `nif_*` stub.\n\n", [Set]),
     "| block | calls | wall (s) | long_schedule events, all processes | in the caller | naming beamprobe | naming a beamprobe NIF | longest, all (ms) | longest naming beamprobe or in the caller (ms) |\n",
     "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", Rows, "\n",
     case lists:append(Details) of
         [] -> "No event in any block gave a location.\n\n";
         D -> ["Events by location (`in` → `out`, count, longest):\n\n", D, "\n"]
     end].

mon_loop(Block, Driver, Acc) ->
    receive
        {block, B, D, From} -> From ! {block_ok, self()}, mon_loop(B, D, Acc);
        {monitor, Pid, long_schedule, Info} ->
            Who = case Pid of Driver -> caller; _ -> Pid end,
            mon_loop(Block, Driver, [{Block, Who, Info} | Acc]);
        {get, From} -> From ! {events, self(), Acc};
        _ -> mon_loop(Block, Driver, Acc)
    end.

%% A process that runs Fun when told to, and exits with its result.
driver(Fun) ->
    spawn(fun() -> receive go -> exit({done, Fun()}) end end).

run_driver(Pid) ->
    Ref = erlang:monitor(process, Pid),
    Pid ! go,
    receive
        {'DOWN', Ref, process, Pid, {done, R}} -> R;
        {'DOWN', Ref, process, Pid, Other} -> error({driver_failed, Other})
    end.

cycle(Funs, Calls) ->
    T = list_to_tuple(Funs),
    K = tuple_size(T),
    lists:foreach(fun(I) -> _ = (element(1 + I rem K, T))() end, lists:seq(0, Calls - 1)),
    Calls.

names_bp({beamprobe, _, _}) -> true;
names_bp(_) -> false.

names_nif({beamprobe, F, _}) -> lists:prefix("nif_", atom_to_list(F));
names_nif(_) -> false.

ev_ms(Info) -> proplists:get_value(timeout, Info, 0).

ev_bp(Info) -> names_bp(proplists:get_value(in, Info)) orelse names_bp(proplists:get_value(out, Info)).

ev_nif(Info) -> names_nif(proplists:get_value(in, Info)) orelse names_nif(proplists:get_value(out, Info)).

hyg_row({Name, Label, Calls, _Driver, Ms}, Evs) ->
    Caller = [E || {_, caller, _} = E <- Evs],
    Bp = [E || {_, _, I} = E <- Evs, ev_bp(I)],
    Nif = [E || {_, _, I} = E <- Evs, ev_nif(I)],
    Mine = lists:usort(Caller ++ Bp),
    row([[atom_to_list(Name), ": ", Label], Calls, io_lib:format("~.1f", [Ms / 1000]), length(Evs),
         length(Caller), length(Bp), length(Nif), longest(Evs), longest(Mine)]).

longest([]) -> "–";
longest(Evs) -> integer_to_list(lists:max([ev_ms(I) || {_, _, I} <- Evs])).

hyg_details({Name, _, _, _, _}, Evs) ->
    Groups = lists:foldl(fun({_, Who, I}, M) ->
                                 K = {proplists:get_value(in, I), proplists:get_value(out, I),
                                      case Who of caller -> caller; _ -> other end},
                                 maps:update_with(K, fun({C, Mx}) -> {C + 1, max(Mx, ev_ms(I))} end,
                                                  {1, ev_ms(I)}, M)
                         end, #{}, Evs),
    [io_lib:format("- ~s: `~s` → `~s`~s: ~b, longest ~b ms\n",
                   [Name, loc(In), loc(Out), case W of caller -> " (the caller)"; _ -> "" end, C, Mx])
     || {{In, Out, W}, {C, Mx}} <- lists:reverse(lists:keysort(2, maps:to_list(Groups)))].

loc({M, F, A}) -> io_lib:format("~s:~s/~b", [M, F, A]);
loc(X) -> io_lib:format("~p", [X]).

%%% ================================================================ 2b. traced NIF durations

nif_times(Cfg) ->
    N = maps:get(hygiene_n, Cfg),
    EdgeN = maps:get(edge_n, Cfg),
    Per = max(1, N div 5),
    Kinds = [{ready, "`check(#{})`"}, {live, "`check(#{probe => live})`"},
             {full, "`check(governors, supervisor)`"}, {health_live, "`health(live)`"}, {metrics, "`metrics()`"}],
    Blocks = [{K, L, Per, [F]} || {{K, L}, F} <- lists:zip(Kinds, api_mix())] ++ edge_blocks(EdgeN),
    {module, beamprobe} = code:ensure_loaded(beamprobe),
    Tracer = spawn(fun() -> tr_loop(#{block => none, pending => none, acc => #{}}) end),
    [1 = erlang:trace_pattern({beamprobe, F, A}, [{'_', [], [{return_trace}]}], [local]) || {F, A} <- ?NIFS],
    say("tracing the NIF calls: ~b calls of each of 5 kinds, ~b per edge input", [Per, EdgeN]),
    T0 = erlang:monotonic_time(millisecond),
    Totals = [begin
                  Driver = driver(fun() ->
                                          Us = [time_us(F) || _ <- lists:seq(1, Calls)],
                                          Ref = erlang:trace_delivered(self()),
                                          receive {trace_delivered, _, Ref} -> ok end,
                                          Us
                                  end),
                  Tracer ! {block, Name, self()},
                  receive {block_ok, Tracer} -> ok end,
                  1 = erlang:trace(Driver, true, [call, monotonic_timestamp, {tracer, Tracer}]),
                  {Name, stats(run_driver(Driver))}
              end || {Name, _, Calls, [F]} <- Blocks],
    erlang:trace_pattern({beamprobe, '_', '_'}, false, [local]),
    Secs = (erlang:monotonic_time(millisecond) - T0) / 1000,
    Tracer ! {get, self()},
    Acc = receive {trace_acc, Tracer, TrAcc} -> TrAcc end,
    Rows = lists:append(
             [[begin
                   #{durs := Ds, max_desc := Desc0, steps := Steps} = maps:get({Name, F}, Acc),
                   S = stats(Ds),
                   Over = length([D || D <- Ds, D >= 1000]),
                   Desc = case Over > 0 andalso map_size(Steps) > 0 of
                              true -> [Desc0, "; calls ≥ 1 ms by step: ",
                                       lists:join(", ", [io_lib:format("step ~b ~b of ~b", [St, O, C])
                                                         || {St, {C, O}} <- lists:sort(maps:to_list(Steps))])];
                              false -> Desc0
                          end,
                   row([[atom_to_list(Name), ": ", Label], io_lib:format("~s/~b", [F, A]), maps:get(n, S),
                        us(S, median), us(S, p99), us(S, max), Over, Desc])
               end || {F, A} <- ?NIFS, maps:is_key({Name, F}, Acc)]
              || {Name, Label, _, _} <- Blocks]),
    AllNormal = [D || {{B, F}, #{durs := Ds}} <- maps:to_list(Acc), B =/= big_600k orelse F =/= nif_collect_step,
                      D <- Ds],
    Over1 = length([D || D <- AllNormal, D >= 1000]),
    Std = [D || {{B, _}, #{durs := Ds}} <- maps:to_list(Acc), lists:member(B, [K || {K, _} <- Kinds]), D <- Ds],
    OverStd = length([D || D <- Std, D >= 1000]),
    Calls = lists:sum([C || {_, _, C, _} <- Blocks]),
    TotalRows = [row([Name, us(S, median), us(S, p99), us(S, max)]) || {Name, S} <- Totals],
    ["#### Every NIF call, timed\n\n",
     io_lib:format("The same calls again (~b of each kind, ~b per edge input; ~b API calls, ~.1f s) with call "
                   "tracing of `beamprobe:nif_config/1`, `nif_collect_step/4`, `nif_report/3` and `nif_http/3` "
                   "(`erlang:trace_pattern/3` with `return_trace`, `monotonic_timestamp`): the time from each "
                   "NIF call to its return, including the tracing's own cost, so an upper bound. Every one of "
                   "these NIFs is registered for normal schedulers; `nif_collect_step` moves itself to a dirty "
                   "CPU scheduler (`enif_schedule_nif`) when a step carries more than 64 KiB of replies, and its "
                   "time then includes the dirty part.\n\n", [Per, EdgeN, Calls, Secs]),
     "| block | NIF | calls | median (µs) | p99 (µs) | max (µs) | calls ≥ 1 ms | input of the longest |\n",
     "|---|---|---:|---:|---:|---:|---:|---|\n", Rows, "\n",
     io_lib:format("NIF calls at or over 1 ms that stayed on a normal scheduler (every row but "
                   "`nif_collect_step` of `big_600k`): **~b of ~b**; in the five ordinary kinds alone ~b of ~b.\n\n",
                   [Over1, length(AllNormal), OverStd, length(Std)]),
     "Whole API calls under tracing, for scale:\n\n",
     "| block | median (µs) | p99 (µs) | max (µs) |\n|---|---:|---:|---:|\n", TotalRows, "\n"].

tr_loop(#{acc := Acc} = St) ->
    receive
        {block, B, From} ->
            From ! {block_ok, self()},
            tr_loop(St#{block := B, pending := none});
        {trace_ts, _Pid, call, {beamprobe, F, Args}, Ts} ->
            tr_loop(St#{pending := {F, Args, Ts}});
        {trace_ts, _Pid, return_from, {beamprobe, F, _}, _Ret, Ts} ->
            #{block := B, pending := {F, Args, T0}} = St,
            D = erlang:convert_time_unit(Ts - T0, native, nanosecond) / 1000,
            K = {B, F},
            E = maps:get(K, Acc, #{durs => [], max => -1, max_desc => "", steps => #{}}),
            E1 = case D > maps:get(max, E) of
                     true -> E#{max := D, max_desc := describe(F, Args)};
                     false -> E
                 end,
            E2 = case {F, Args} of
                     {nif_collect_step, [_, _, Rounds, _]} ->
                         Over = case D >= 1000 of true -> 1; false -> 0 end,
                         E1#{steps := maps:update_with(length(Rounds) + 1, fun({C, O}) -> {C + 1, O + Over} end,
                                                       {1, Over}, maps:get(steps, E1))};
                     _ -> E1
                 end,
            tr_loop(St#{pending := none, acc := Acc#{K => E2#{durs := [D | maps:get(durs, E2)]}}});
        {get, From} ->
            From ! {trace_acc, self(), Acc};
        _ ->
            tr_loop(St)
    end.

describe(nif_config, [Opts]) ->
    io_lib:format("options `~s`", [fmt_opts(Opts)]);
describe(nif_collect_step, [_Cfg, _Node, Rounds, _Times]) ->
    io_lib:format("step ~b, ~s bytes of replies from ~b earlier round(s)",
                  [length(Rounds) + 1, thousands(rounds_bytes(Rounds)), length(Rounds)]);
describe(nif_report, [_Cfg, _Snap, Format]) ->
    io_lib:format("format `~p`", [Format]);
describe(nif_http, [_Cfg, _Snap, Path]) ->
    io_lib:format("path `~s`", [Path]);
describe(_, _) -> "".

fmt_opts(M) when map_size(M) =:= 0 -> "#{}";
fmt_opts(M) -> io_lib:format("~0p", [M]).

rounds_bytes(Rounds) ->
    lists:sum([byte_size(R) || Round <- Rounds, R <- Round, is_binary(R)]).

%%% ================================================================ 3. remote

remote(Cfg, Csv) ->
    N = maps:get(remote_n, Cfg),
    W = min(maps:get(warmup, Cfg), 10),
    Target = maps:get(target, Cfg),
    Cli = maps:get(cli, Cfg),
    Cookie = maps:get(cookie_file, Cfg),
    pong = net_adm:ping(Target),
    Facts = remote_facts(),
    {Ms, Fs, As} = lists:unzip3(Facts),
    True = os:find_executable("true"),
    CliArgs = ["check", "--cookie-file", Cookie, atom_to_list(Target)],
    Cs = [{bp_remote, fun() -> beamprobe:check(Target, #{}) end},
          {cli, fun() -> run_port(Cli, CliArgs) end},
          {rpc_seq, fun() -> [rpc:call(Target, M, F, A, 5000) || {M, F, A} <- Facts] end},
          {rpc_batch, fun() -> rpc:call(Target, lists, zipwith3, [fun erlang:apply/3, Ms, Fs, As], 5000) end},
          {bin_true, fun() -> run_port(True, []) end}],
    #{<<"status">> := <<"healthy">>} = beamprobe:check(Target, #{}),
    {0, _} = run_port(Cli, CliArgs),
    [true = not is_tuple(R) orelse element(1, R) =/= badrpc || R <- (element(2, lists:keyfind(rpc_seq, 1, Cs)))()],
    Batch = (element(2, lists:keyfind(rpc_batch, 1, Cs)))(),
    true = is_list(Batch) andalso length(Batch) =:= length(Facts),
    RoundTrips = maps:get(<<"round_trips">>, beamprobe:check(Target, #{})),
    say("remote: ~b rounds (+~b warm-up) against ~s", [N, W, Target]),
    T0 = erlang:monotonic_time(millisecond),
    S = rounds(Cs, N, W),
    Secs = (erlang:monotonic_time(millisecond) - T0) / 1000,
    csv(Csv, "remote", [{atom_to_list(K), L} || {K, L} <- maps:to_list(S)]),
    Bp = stats(maps:get(bp_remote, S)),
    Labels = [{bp_remote, io_lib:format("`beamprobe:check('~s', #{})` (NIF, dirty I/O scheduler, a new "
                                        "distribution connection per call, ~b round trips)", [Target, RoundTrips])},
              {cli, "`priv/beamprobe check --cookie-file F NODE`, one OS process per call (`open_port` "
                    "`spawn_executable`, until its exit status)"},
              {rpc_seq, io_lib:format("`rpc:call/5` once per fact, one after the other (~b calls) over the "
                                      "VM's open distribution connection", [length(Facts)])},
              {rpc_batch, io_lib:format("one `rpc:call/5` of `lists:zipwith3(fun erlang:apply/3, ...)` "
                                        "carrying the same ~b calls", [length(Facts)])},
              {bin_true, "reference: `/bin/true` through the same `open_port` (spawning any program from the VM)"}],
    Rows = [begin
                St = stats(maps:get(K, S)),
                row([L, ms(St, median), ms(St, p90), ms(St, p99), ratio(St, Bp, median)])
            end || {K, L} <- Labels],
    ["### 3. Remote: one demo node probing another\n\n",
     io_lib:format("~b interleaved, rotating rounds (+~b warm-up), ~.1f s, from the benchmark node to `~s`. "
                   "The rpc contenders gather what the hand-written check above gathers (~s); beamprobe's ready "
                   "probe also reads identity, the cgroup files and more (its report is the same as the "
                   "command's).\n\n",
                   [N, W, Secs, Target, fact_names(Facts)]),
     "| contender | median (ms) | p90 (ms) | p99 (ms) | median / `beamprobe:check/2` |\n",
     "|---|---:|---:|---:|---:|\n", Rows, "\n"].

%% "`erlang:system_info/1` ×11, ..." for the facts' functions.
fact_names(Facts) ->
    Fns = [{M, F, length(A)} || {M, F, A} <- Facts],
    lists:join(", ", [case length([X || X <- Fns, X =:= Fn]) of
                          1 -> io_lib:format("`~s:~s/~b`", [M, F, Ar]);
                          C -> io_lib:format("`~s:~s/~b` ×~b", [M, F, Ar, C])
                      end || {M, F, Ar} = Fn <- lists:usort(Fns)]).

remote_facts() ->
    [{erlang, statistics, [run_queue_lengths]}, {erlang, memory, []}]
        ++ [{erlang, system_info, [I]} || {_, C, L} <- ?LIMITS, I <- [C, L]]
        ++ [{erlang, system_info, [I]} || I <- [schedulers_online, otp_release, version]]
        ++ [{application, which_applications, []}, {erlang, nodes, []}, {erlang, nodes, [hidden]}].

run_port(Exe, Args) ->
    P = open_port({spawn_executable, Exe}, [{args, Args}, exit_status, binary, stderr_to_stdout]),
    port_wait(P, []).

port_wait(P, Acc) ->
    receive
        {P, {data, D}} -> port_wait(P, [D | Acc]);
        {P, {exit_status, S}} -> {S, lists:reverse(Acc)}
    after 10000 -> catch port_close(P), {timeout, lists:reverse(Acc)}
    end.

%%% ================================================================ statistics and output

stats(L) ->
    S = list_to_tuple(lists:sort(L)),
    N = tuple_size(S),
    P = fun(Q) -> element(max(1, min(N, ceil(Q * N))), S) end,
    Median = case N rem 2 of
                 1 -> element((N + 1) div 2, S);
                 0 -> (element(N div 2, S) + element(N div 2 + 1, S)) / 2
             end,
    #{n => N, median => Median, p90 => P(0.90), p99 => P(0.99), max => element(N, S), min => element(1, S)}.

us(S, K) -> fmt_num(maps:get(K, S)).

ms(S, K) -> io_lib:format("~.2f", [maps:get(K, S) / 1000]).

fmt_num(V) when V >= 100 -> thousands(round(V));
fmt_num(V) when V >= 10 -> io_lib:format("~.1f", [V / 1]);
fmt_num(V) -> io_lib:format("~.2f", [V / 1]).

ratio(A, B, K) ->
    io_lib:format("~.2fx", [maps:get(K, A) / maps:get(K, B)]).

thousands(I) when is_integer(I), I < 1000 -> integer_to_list(I);
thousands(I) when is_integer(I) -> thousands(I div 1000) ++ io_lib:format(",~3..0b", [I rem 1000]).

row(Cells) ->
    ["| ", lists:join(" | ", [cell(C) || C <- Cells]), " |\n"].

cell(I) when is_integer(I) -> thousands(I);
cell(A) when is_atom(A) -> atom_to_list(A);
cell(C) -> C.

number(L) -> lists:zip(lists:seq(1, length(L)), L).

csv(Csv, Part, Series) ->
    [[io:format(Csv, "~s,~s,~b,~.2f~n", [Part, Name, I, V]) || {I, V} <- number(lists:reverse(L))]
     || {Name, L} <- lists:sort(Series)],
    ok.

%%% ================================================================ per call: two builds side by side

%% `bench/bench_nif.sh percall`: the cost of one call of health(ready),
%% health(live) and check(#{}) in two builds of beamprobe (before and after),
%% each loaded in a node of its own, next to the plain Erlang they mostly
%% stand for (erlang:memory() and statistics(run_queue)) and to the
%% hand-written ready check (erl_ready/0) measured in the same node. Runs in
%% a driver node: Rounds interleaved rounds, the two nodes' order alternating,
%% each round one block per node (percall_block/2); a block runs every
%% contender N times in a row (after 200 warm-up calls), the order rotating,
%% and reports per contender the wall time per call and the reductions the
%% caller was charged per call (process_info(self(), reductions) around the
%% N calls, divided by N). Writes a markdown fragment to Md; halts 0 or 1.
percall(#{nodes := Nodes, n := N, rounds := Rounds, md := Md, labels := Labels}) ->
    try
        Samples = [begin
                       Order = case R rem 2 of 0 -> Nodes; 1 -> lists:reverse(Nodes) end,
                       [{Node, R, rpc:call(Node, ?MODULE, percall_block, [N, R], infinity)} || Node <- Order]
                   end || R <- lists:seq(1, Rounds)],
        Flat = lists:append(Samples),
        [error({block_failed, Node, Bad}) || {Node, _, Bad} <- Flat, not is_list(Bad)],
        Keys = [K || {K, _} <- percall_contenders()],
        Med = fun(Node, K, Pos) -> median([element(Pos, proplists:get_value(K, B)) || {Nd, _, B} <- Flat, Nd =:= Node]) end,
        [Before, After] = Nodes,
        %% the contender over plain Erlang in the same block (same node, same minutes), median over the rounds
        Ratio = fun(Node, K, Pos) -> median([element(Pos, proplists:get_value(K, B)) / element(Pos, proplists:get_value(plain, B))
                                             || {Nd, _, B} <- Flat, Nd =:= Node]) end,
        Row = fun(K) ->
                  [Ub, Ua] = [Med(Nd, K, 1) || Nd <- Nodes],
                  [Rb, Ra] = [Med(Nd, K, 2) || Nd <- Nodes],
                  [Pb, Pa] = [Ratio(Nd, K, 1) || Nd <- Nodes],
                  [Qb, Qa] = [Ratio(Nd, K, 2) || Nd <- Nodes],
                  row([percall_label(K), fmt_num(Ub), fmt_num(Ua), io_lib:format("~.2fx", [Ua / Ub]),
                       fmt_num(Rb), fmt_num(Ra),
                       io_lib:format("**~.1fx**", [Pb]), io_lib:format("**~.1fx**", [Pa]),
                       io_lib:format("~.1fx", [Qb]), io_lib:format("~.1fx", [Qa])])
              end,
        Spread = fun(Node, K) ->
                     L = [element(1, proplists:get_value(K, B)) || {Nd, _, B} <- Flat, Nd =:= Node],
                     io_lib:format("~s..~s", [fmt_num(lists:min(L)), fmt_num(lists:max(L))])
                 end,
        [Lb, La] = Labels,
        Md1 = [io_lib:format("~b interleaved rounds of ~b calls per contender and build (+200 warm-up calls each), "
                             "the two nodes' order alternating, the contenders taking turns in chunks of 500 calls: "
                             "before = ~s, after = ~s. Time and reductions: median over the rounds of each round's "
                             "mean per call; x / plain: median over the rounds of that round's ratio.~n~n",
                             [Rounds, N, Lb, La]),
               "| call | before µs/call | after µs/call | after/before | before reductions/call | "
               "after reductions/call | before / plain (time) | after / plain (time) | before / plain (reductions) | "
               "after / plain (reductions) |\n",
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
               [Row(K) || K <- Keys], "\n",
               "Spread of the per-round means (µs/call, min..max over the rounds):\n\n",
               "| call | before | after |\n|---|---:|---:|\n",
               [row([percall_label(K), Spread(Before, K), Spread(After, K)]) || K <- Keys], "\n"],
        ok = file:write_file(Md, unicode:characters_to_binary(Md1)),
        erlang:halt(0)
    catch C:R:St ->
        io:format(standard_error, "bench_nif percall: ~p:~p~n~p~n", [C, R, St]),
        erlang:halt(1)
    end.

percall_contenders() ->
    [{health_ready, fun() -> beamprobe:health(ready) end},
     {health_live, fun() -> beamprobe:health(live) end},
     {check, fun() -> beamprobe:check(#{}) end},
     {plain, fun() -> erlang:memory(), statistics(run_queue) end},
     {erl_ready, fun erl_ready/0}].

percall_label(health_ready) -> "`beamprobe:health(ready)`";
percall_label(health_live) -> "`beamprobe:health(live)`";
percall_label(check) -> "`beamprobe:check(#{})`";
percall_label(plain) -> "plain: `erlang:memory(), statistics(run_queue)`";
percall_label(erl_ready) -> "hand-written ready check (`bench_nif:erl_ready/0`)".

%% One block in a benchmark node: [{Contender, {MicrosecondsPerCall, ReductionsPerCall}}].
%% The N calls of each contender run in chunks of 500, the contenders taking turns
%% chunk by chunk (the order rotating with the round), so that a change of load on
%% this shared machine falls on every contender alike.
percall_block(N, Round) ->
    Cs = percall_contenders(),
    {A, B} = lists:split(Round rem length(Cs), Cs),
    Order = B ++ A,
    [percall_loop(F, 200) || {_, F} <- Order],
    Chunk = min(N, 500),
    Acc = percall_chunks(Order, Chunk, N div Chunk, maps:from_list([{K, {0, 0}} || {K, _} <- Cs])),
    Calls = Chunk * (N div Chunk),
    [{K, {Ns / Calls / 1000, Rs / Calls}} || {K, _} <- Cs, {Ns, Rs} <- [maps:get(K, Acc)]].

percall_chunks(_, _, 0, Acc) ->
    Acc;
percall_chunks(Order, Chunk, Left, Acc) ->
    Acc1 = lists:foldl(fun({K, F}, M) ->
                               {Ns, Rs} = percall_time(F, Chunk),
                               maps:update_with(K, fun({A, B}) -> {A + Ns, B + Rs} end, M)
                       end, Acc, Order),
    percall_chunks(tl(Order) ++ [hd(Order)], Chunk, Left - 1, Acc1).

%% Nanoseconds and reductions of N calls of F.
percall_time(F, N) ->
    {reductions, R0} = process_info(self(), reductions),
    T0 = erlang:monotonic_time(nanosecond),
    percall_loop(F, N),
    T1 = erlang:monotonic_time(nanosecond),
    {reductions, R1} = process_info(self(), reductions),
    {T1 - T0, R1 - R0}.

percall_loop(_, 0) -> ok;
percall_loop(F, N) -> _ = F(), percall_loop(F, N - 1).

median(L) ->
    maps:get(median, stats(L)).
