%% beamprobe_tests.erl: eunit tests of the Erlang API, run inside a demo node by test/integration/test_nif.sh.
%%
%% Two layers. Run alone (`rebar3 eunit`), the tests that need nothing but
%% this VM run: options, formats, health, metrics, the server, upgrade, many
%% calls. In a node running the demo application (supervisors, the three
%% governors) the governor and supervisor tests join, and when the script sets
%% application env beamprobe: test_peer (a second demo node) and test_hung
%% (a node it has SIGSTOPped), the remote and cluster tests too
%% (test/integration/test_nif.sh runs all of them).
-module(beamprobe_tests).

-include_lib("eunit/include/eunit.hrl").

-define(GOVS, [cost_guard, rollback_guard, backlog_valve]).

peer() -> application:get_env(beamprobe, test_peer, undefined).

%% Tests that need the demo application, or the demo node's peers.
with_demo_test_() ->
    case whereis(demo_sup) of
        undefined -> [];
        _ -> [fun local_report/0, fun governor_state_is_judged/0, fun custom_check/0,
              fun health_unhealthy/0, server_with_governors()]
    end.

with_peers_test_() ->
    case peer() of
        undefined -> [];
        _ -> [fun remote_peer/0, remote_hung(), fun cluster/0]
    end.
hung() -> application:get_env(beamprobe, test_hung, undefined).

checks(Report) -> maps:get(<<"checks">>, Report).

%%% ------------------------------------------------------------ check/1

local_report() ->
    R = beamprobe:check(#{supervisor => demo_sup, governor => ?GOVS, require_app => [demo]}),
    ?assertEqual(atom_to_binary(node()), maps:get(<<"node">>, R)),
    ?assertEqual(<<"healthy">>, maps:get(<<"status">>, R)),
    C = checks(R),
    ?assertEqual(<<"stable">>, maps:get(<<"state">>, maps:get(<<"governor:cost_guard">>, C))),
    Sup = maps:get(<<"supervisor:demo_sup">>, C),
    ?assertEqual(<<"pass">>, maps:get(<<"status">>, Sup)),
    Fds = maps:get(<<"fds">>, maps:get(<<"limits">>, C)),
    ?assert(maps:get(<<"count">>, Fds) > 0),
    ?assert(maps:get(<<"limit">>, Fds) >= maps:get(<<"count">>, Fds)).

governor_state_is_judged() ->
    ok = demo_governor:set_state(rollback_guard, refusing),
    try
        R = beamprobe:check(#{governor => ?GOVS}),
        ?assertEqual(<<"fail">>, maps:get(<<"status">>, maps:get(<<"governor:rollback_guard">>, checks(R)))),
        ?assertNotEqual(<<"healthy">>, maps:get(<<"status">>, R))
    after
        demo_governor:set_state(rollback_guard, stable)
    end.

formats_test() ->
    Json = beamprobe:check(#{format => json}),
    ?assertMatch(<<"{", _/binary>>, Json),
    Text = beamprobe:check(#{format => text, probe => live}),
    ?assertNotEqual(nomatch, binary:match(Text, atom_to_binary(node()))).

custom_check() ->
    R = beamprobe:check(#{check_mfa => [<<"demo:check_ok">>]}),
    ?assertEqual(<<"pass">>, maps:get(<<"status">>, maps:get(<<"custom:demo:check_ok">>, checks(R)))).

%%% ------------------------------------------------------------ bad options

bad_options_test_() ->
    [?_assertEqual({error, {bad_option, bogus}}, beamprobe:check(#{bogus => 1})),
     ?_assertEqual({error, {bad_option, timeout}}, beamprobe:check(#{timeout => -1})),
     ?_assertEqual({error, {bad_option, timeout}}, beamprobe:check(#{timeout => <<"soon">>})),
     ?_assertEqual({error, {bad_option, probe}}, beamprobe:check(#{probe => sometimes})),
     ?_assertEqual({error, {bad_option, cookie}}, beamprobe:check(#{cookie => <<"secret">>})),
     ?_assertEqual({error, {bad_option, governor}}, beamprobe:check(#{governor => []})),
     ?_assertMatch({error, {invalid, _}}, beamprobe:check(#{timeout => 100, governor_timeout => 500})),
     ?_assertError(badarg, beamprobe:check(#{timeout => self()})),
     ?_assertError(badarg, beamprobe:check(#{json => 1})),
     ?_assertError(badarg, beamprobe:check(#{"timeout" => 100})),
     ?_assertError(badarg, beamprobe:check(#{governor => [{a, b}]})),
     ?_assertError(badarg, beamprobe:check(#{format => yaml})),
     ?_assertError(badarg, beamprobe:check(not_a_map)),
     ?_assertError(badarg, beamprobe:health(sideways)),
     ?_assertEqual({error, {bad_option, port}}, beamprobe:start_server(#{port => 70000})),
     ?_assertEqual({error, {bad_option, vm_budget}}, beamprobe:start_server(#{vm_budget => 0}))].

%% Durations and sizes take the CLI's text forms or plain integers (ms, bytes).
option_forms_test() ->
    ?assert(is_map(beamprobe:check(#{timeout => <<"2s">>, max_reply => "512k", memory_warn => 0.5,
                                     memory_fail => <<"95%">>, strict => false}))).

%%% ------------------------------------------------------------ check/2

remote_peer() ->
    Peer = peer(),
    R = beamprobe:check(Peer, #{governor => ?GOVS, supervisor => demo_sup}),
    ?assertEqual(atom_to_binary(Peer), maps:get(<<"node">>, R)),
    ?assertEqual(<<"healthy">>, maps:get(<<"status">>, R)).

remote_unknown_test() ->
    {ok, Host} = inet:gethostname(),
    ?assertMatch({error, {not_registered, _}},
                 beamprobe:check(list_to_atom("nobody_here@" ++ Host), #{})).

%% A SIGSTOPped node costs the caller its deadline, not more, and no other
%% process waits meanwhile (the probe runs on a dirty I/O scheduler).
remote_hung() ->
    {timeout, 30, fun() ->
        Counter = spawn(fun() -> tick(0) end),
        T0 = erlang:monotonic_time(millisecond),
        Result = beamprobe:check(hung(), #{timeout => 800}),
        Elapsed = erlang:monotonic_time(millisecond) - T0,
        Counter ! {count, self()},
        Ticks = receive {ticks, N} -> N end,
        ?assertEqual({error, timeout}, Result),
        ?assert(Elapsed >= 700),
        ?assert(Elapsed < 3000),
        %% the ticker ran all along (it sleeps 10 ms per tick)
        ?assert(Ticks >= 20)
    end}.

tick(N) ->
    receive {count, From} -> From ! {ticks, N}
    after 10 -> tick(N + 1)
    end.

%%% ------------------------------------------------------------ health/1, metrics/0

health_test_() ->
    [?_assertMatch({200, <<"{", _/binary>>}, beamprobe:health(Kind)) || Kind <- [live, ready, startup, full]].

health_unhealthy() ->
    ok = demo_governor:set_state(backlog_valve, refusing),
    try
        {Status, Body} = beamprobe:health(ready, #{governor => ?GOVS}),
        ?assertEqual(503, Status),
        ?assertNotEqual(nomatch, binary:match(Body, <<"backlog_valve">>)),
        %% liveness stays local: a refusing governor does not fail it
        ?assertMatch({200, _}, beamprobe:health(live, #{governor => ?GOVS}))
    after
        demo_governor:set_state(backlog_valve, stable)
    end.

metrics_test() ->
    M = beamprobe:metrics(#{governor => ?GOVS}),
    ?assert(is_binary(M)),
    [?assertNotEqual(nomatch, binary:match(M, Family), Family)
     || Family <- [<<"erlang_vm_processes">>, <<"beamprobe_up">>, <<"process_open_fds">>,
                   <<"beamprobe_check_status">>]].

%%% ------------------------------------------------------------ cluster/1

cluster() ->
    %% two separate nodes: two components, neither a majority of the two expected
    Apart = beamprobe:cluster(#{nodes => [node(), peer()]}),
    ?assertEqual(<<"no_quorum">>, maps:get(<<"verdict">>, Apart)),
    ?assertEqual(2, length(maps:get(<<"partitions">>, Apart))),
    %% connected: one component; by default the targets are this node and those it sees
    true = net_kernel:connect_node(peer()),
    R = beamprobe:cluster(#{expect_nodes => [node(), peer()]}),
    %% (the peer's mesh comes with it: its other nodes are seen, one component)
    [Component] = maps:get(<<"partitions">>, R),
    ?assert(lists:member(atom_to_binary(node()), Component)),
    ?assert(lists:member(atom_to_binary(peer()), Component)),
    ?assertEqual(true, maps:get(<<"holds">>, maps:get(<<"quorum">>, R))),
    ?assertMatch({error, {discovery, _}}, beamprobe:cluster(#{epmd_host => <<"no-such-host.invalid">>})).

%%% ------------------------------------------------------------ the in-VM server

server_with_governors() ->
    {setup, fun() -> application:ensure_all_started(inets) end,
     fun() ->
         {ok, Port} = beamprobe:start_server(#{port => 0, interval => 200, governor => ?GOVS}),
         try
             ?assertEqual({error, already_running}, beamprobe:start_server(#{port => 0})),
             ?assertEqual(ok, wait_for(fun() -> get(Port, "/health/ready") end, 200, 50)),
             ?assertMatch({200, _}, get(Port, "/health/live")),
             ?assertMatch({200, _}, get(Port, "/health/startup")),
             {200, Full} = get(Port, "/health"),
             ?assertNotEqual(nomatch, string:find(Full, "governor:cost_guard")),
             {200, Metrics} = get(Port, "/metrics"),
             ?assertNotEqual(nomatch, string:find(Metrics, "beamprobe_up")),
             ?assertMatch({404, _}, get(Port, "/nowhere")),
             %% a change is seen at the next refresh
             ok = demo_governor:set_state(cost_guard, refusing),
             ?assertEqual(ok, wait_for(fun() -> get(Port, "/health/ready") end, 503, 50)),
             ok = demo_governor:set_state(cost_guard, stable),
             Info = beamprobe:server_info(),
             ?assertEqual(Port, maps:get(port, Info)),
             ?assert(maps:get(pongs, Info) > 0)
         after
             demo_governor:set_state(cost_guard, stable),
             ?assertEqual(ok, beamprobe:stop_server())
         end,
         ?assertEqual({error, not_running}, beamprobe:stop_server()),
         ?assertMatch({error, _}, get(Port, "/health/live"))
     end}.

%% The server belongs to the agent process: if it dies, the resource's
%% destructor stops the server and frees the port.
server_owner_death_test() ->
    {ok, Port} = beamprobe:start_server(#{port => 0}),
    Agent = whereis(beamprobe_agent),
    Mon = erlang:monitor(process, Agent),
    exit(Agent, kill),
    receive {'DOWN', Mon, process, Agent, _} -> ok end,
    erlang:garbage_collect(),
    ?assertEqual(ok, wait_for(fun() -> case get(Port, "/health/live") of
                                           {error, _} -> closed;
                                           _ -> open
                                       end
                              end, closed, 100)),
    ?assertEqual({error, not_running}, beamprobe:server_info()).

get(Port, Path) ->
    _ = application:ensure_all_started(inets),
    Url = "http://127.0.0.1:" ++ integer_to_list(Port) ++ Path,
    case httpc:request(get, {Url, []}, [{timeout, 3000}], []) of
        {ok, {{_, Status, _}, _, Body}} -> {Status, Body};
        {error, Reason} -> {error, Reason}
    end.

%% Poll F until it returns Want (or {Want, _}), at most N times 100 ms apart.
wait_for(_F, _Want, 0) ->
    timeout;
wait_for(F, Want, N) ->
    case F() of
        Want -> ok;
        {Want, _} -> ok;
        _ -> timer:sleep(100), wait_for(F, Want, N - 1)
    end.

%%% ------------------------------------------------------------ code upgrade

%% Reloading the module loads the library again through the NIF's upgrade
%% callback: resources made by the old instance (a snapshot inside a running
%% server) keep working, and so does the API.
upgrade_test() ->
    {ok, Port} = beamprobe:start_server(#{port => 0, interval => 100}),
    try
        ?assertEqual(ok, wait_for(fun() -> get(Port, "/health/live") end, 200, 50)),
        code:purge(beamprobe),
        ?assertEqual({module, beamprobe}, code:load_file(beamprobe)),
        ?assertEqual(<<"healthy">>, maps:get(<<"status">>, beamprobe:check(#{}))),
        %% the agent still runs the old code with the old library's resources
        ?assertMatch({200, _}, get(Port, "/health/live")),
        ?assert(maps:get(pongs, beamprobe:server_info()) > 0)
    after
        beamprobe:stop_server()
    end.

%%% ------------------------------------------------------------ no leak

%% Many calls, then the VM's own accounting of NIF resources and binaries
%% must be back where it was (the sanitizer run checks the C heap).
repeated_calls_test_() ->
    {timeout, 120, fun() ->
        Run = fun(K) -> [begin
                             _ = beamprobe:check(#{probe => live}),
                             {error, _} = beamprobe:check(#{bogus => 1})
                         end || _ <- lists:seq(1, K)]
              end,
        Run(200),
        erlang:garbage_collect(),
        Before = erlang:memory(binary),
        Run(application:get_env(beamprobe, test_calls, 2000)),
        erlang:garbage_collect(),
        After = erlang:memory(binary),
        ?assert(After - Before < 1024 * 1024)
    end}.
