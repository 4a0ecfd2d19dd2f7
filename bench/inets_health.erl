%% Comparison server for bench/bench_serve.sh: an OTP inets httpd module answering /health/ready and /metrics from facts gathered per request.
-module(inets_health).
-export([start/3, do/1, cache_init/1, refresh_loop/1]).

-include_lib("inets/include/httpd.hrl").

-define(GOVERNORS, [cost_guard, rollback_guard, backlog_valve]).
-define(GOVERNOR_STATES, [boot, stable, warning, intervening, degraded, refusing]).
-define(SUPERVISOR, demo_sup).
-define(APP, demo).
-define(GOVERNOR_TIMEOUT, 200).
-define(CACHE_INTERVAL_MS, 2000).
-define(CACHE, inets_health_cache).

%% Starts inets and an httpd on 127.0.0.1:Port (0 = any) in this node, with this module as its
%% only request handler, and (once per node) a registered process refreshing the cached body of
%% /health/ready/cached every 2 s. Dir is an existing directory (server and document root).
%% Nodelay = true sets TCP_NODELAY on the accepted sockets ({socket_type, {ip_comm, [{nodelay,
%% true}]}}); false keeps inets' defaults. Keep-alive is on, without a request limit (the
%% defaults). Returns {ok, BoundPort}.
start(Dir, Port, Nodelay) ->
    {ok, _} = application:ensure_all_started(inets),
    ok = ensure_cache(),
    Socket = case Nodelay of
                 true -> [{socket_type, {ip_comm, [{nodelay, true}]}}];
                 false -> []
             end,
    {ok, Pid} = inets:start(httpd, [{port, Port},
                                    {bind_address, {127, 0, 0, 1}},
                                    {server_name, "inets_health"},
                                    {server_root, Dir},
                                    {document_root, Dir},
                                    {modules, [?MODULE]},
                                    {keep_alive, true},
                                    {max_clients, 1000}] ++ Socket),
    [{port, Bound}] = httpd:info(Pid, [port]),
    {ok, Bound}.

%% The cache: a named ETS table owned by a registered process that re-renders the body every 2 s.
ensure_cache() ->
    case whereis(?CACHE) of
        undefined ->
            Pid = spawn(?MODULE, cache_init, [self()]),
            receive {Pid, ready} -> ok after 5000 -> {error, cache_timeout} end;
        _ ->
            ok
    end.

cache_init(Parent) ->
    register(?CACHE, self()),
    ?CACHE = ets:new(?CACHE, [named_table, public, {read_concurrency, true}]),
    cache_body(),
    Parent ! {self(), ready},
    refresh_loop(?CACHE_INTERVAL_MS).

refresh_loop(Ms) ->
    receive stop -> ok after Ms -> cache_body(), refresh_loop(Ms) end.

cache_body() ->
    {Code, Body} = ready(),
    ets:insert(?CACHE, {ready, Code, iolist_to_binary(Body)}).

%% httpd callback: the whole routing.
do(#mod{method = Method, request_uri = Uri}) when Method =:= "GET"; Method =:= "HEAD" ->
    Path = hd(string:split(Uri, "?")),
    case Path of
        "/health/ready" ->
            {Code, Body} = ready(),
            reply(Code, "application/json", Body);
        "/health/ready/cached" ->
            [{ready, Code, Body}] = ets:lookup(?CACHE, ready),
            reply(Code, "application/json", Body);
        "/metrics" ->
            reply(200, "text/plain; version=0.0.4; charset=utf-8", metrics());
        _ ->
            reply(404, "text/plain", <<"not found\n">>)
    end;
do(_Mod) ->
    reply(405, "text/plain", <<"method not allowed\n">>).

reply(Code, Type, Body) ->
    Head = [{code, Code}, {content_type, Type}, {cache_control, "no-store"},
            {content_length, integer_to_list(iolist_size(Body))}],
    {proceed, [{response, {response, Head, Body}}]}.

%% ---------- /health/ready: the facts of a typical Cowboy health handler, per request ----------

ready() ->
    Mem = erlang:memory(total),
    Procs = erlang:system_info(process_count),
    ProcLimit = erlang:system_info(process_limit),
    RunQueue = erlang:statistics(run_queue),
    AppUp = lists:keymember(?APP, 1, application:which_applications()),
    Children = catch supervisor:count_children(?SUPERVISOR),
    Govs = [{G, governor_state(G)} || G <- ?GOVERNORS],
    Checks = [{<<"memory">>, pass, [{<<"total_bytes">>, int(Mem)}]},
              {<<"processes">>, ratio_status(Procs, ProcLimit),
               [{<<"count">>, int(Procs)}, {<<"limit">>, int(ProcLimit)}]},
              {<<"run_queue">>, pass, [{<<"length">>, int(RunQueue)}]},
              {<<"applications">>, bool_status(AppUp), [{<<"demo">>, bool(AppUp)}]},
              {<<"supervisor">>, supervisor_status(Children),
               [{<<"active">>, int(children(active, Children))}]}]
        ++ [{atom_to_binary(G), governor_status(S), [{<<"state">>, str(S)}]} || {G, S} <- Govs],
    Failing = [Name || {Name, fail, _} <- Checks],
    {Status, Code} = case Failing of [] -> {<<"healthy">>, 200}; _ -> {<<"unhealthy">>, 503} end,
    Body = [<<"{\"status\":\"">>, Status, <<"\",\"node\":\"">>, atom_to_binary(node()),
            <<"\",\"timestamp\":\"">>, timestamp(), <<"\",\"checks\":{">>,
            join([[$", Name, <<"\":{\"status\":\"">>, atom_to_binary(St), $", 
                   [[<<",\"">>, K, <<"\":">>, V] || {K, V} <- Kvs], $}]
                  || {Name, St, Kvs} <- Checks]),
            <<"}}">>],
    {Code, Body}.

governor_state(G) ->
    try sys:get_state(G, ?GOVERNOR_TIMEOUT) of
        {StateName, _Data} when is_atom(StateName) -> StateName;
        _ -> unknown
    catch _:_ -> unreachable
    end.

governor_status(refusing) -> fail;
governor_status(unreachable) -> fail;
governor_status(S) when S =:= degraded; S =:= intervening -> warn;
governor_status(_) -> pass.

ratio_status(N, Limit) when N >= Limit * 0.9 -> fail;
ratio_status(N, Limit) when N >= Limit * 0.8 -> warn;
ratio_status(_, _) -> pass.

bool_status(true) -> pass;
bool_status(false) -> fail.

supervisor_status(L) when is_list(L) ->
    case children(specs, L) =:= children(active, L) of true -> pass; false -> fail end;
supervisor_status(_) -> fail.

children(Key, L) when is_list(L) -> proplists:get_value(Key, L, 0);
children(_, _) -> 0.

timestamp() ->
    list_to_binary(calendar:system_time_to_rfc3339(erlang:system_time(millisecond),
                                                   [{unit, millisecond}, {offset, "Z"}])).

%% ---------- /metrics: Prometheus text 0.0.4, built per request ----------

metrics() ->
    N = [<<"node=\"">>, atom_to_binary(node()), $"],
    Mem = erlang:memory(),
    SI = fun erlang:system_info/1,
    {{input, In}, {output, Out}} = erlang:statistics(io),
    {Gcs, Reclaimed, _} = erlang:statistics(garbage_collection),
    {Reds, _} = erlang:statistics(reductions),
    {Ctx, _} = erlang:statistics(context_switches),
    {Runtime, _} = erlang:statistics(runtime),
    {Wall, _} = erlang:statistics(wall_clock),
    RunQueues = erlang:statistics(run_queue_lengths_all),
    Apps = application:which_applications(),
    Children = catch supervisor:count_children(?SUPERVISOR),
    Govs = [{G, governor_state(G), erlang:whereis(G)} || G <- ?GOVERNORS],
    [gauge(<<"erlang_vm_memory_bytes">>, <<"Memory currently allocated by the VM, by kind.">>,
           [{[N, <<",kind=\"">>, atom_to_binary(K), $"], V} || {K, V} <- Mem]),
     gauge(<<"erlang_vm_processes">>, <<"Number of processes currently existing on the node.">>,
           [{N, SI(process_count)}]),
     gauge(<<"erlang_vm_process_limit">>, <<"Maximum number of processes that can exist at the same time.">>,
           [{N, SI(process_limit)}]),
     gauge(<<"erlang_vm_ports">>, <<"Number of ports currently existing on the node.">>,
           [{N, SI(port_count)}]),
     gauge(<<"erlang_vm_port_limit">>, <<"Maximum number of ports that can exist at the same time.">>,
           [{N, SI(port_limit)}]),
     gauge(<<"erlang_vm_atoms">>, <<"Number of atoms currently existing on the node.">>,
           [{N, SI(atom_count)}]),
     gauge(<<"erlang_vm_atom_limit">>, <<"Maximum number of atoms that can exist at the same time.">>,
           [{N, SI(atom_limit)}]),
     gauge(<<"erlang_vm_ets_tables">>, <<"Number of ETS tables.">>, [{N, SI(ets_count)}]),
     gauge(<<"erlang_vm_ets_limit">>, <<"Maximum number of ETS tables allowed.">>, [{N, SI(ets_limit)}]),
     gauge(<<"erlang_vm_schedulers_online">>, <<"Number of schedulers online.">>,
           [{N, SI(schedulers_online)}]),
     gauge(<<"erlang_vm_dirty_cpu_schedulers_online">>, <<"Number of dirty CPU scheduler threads online.">>,
           [{N, SI(dirty_cpu_schedulers_online)}]),
     gauge(<<"erlang_vm_dirty_io_schedulers">>, <<"Number of dirty I/O scheduler threads.">>,
           [{N, SI(dirty_io_schedulers)}]),
     gauge(<<"erlang_vm_run_queue_length">>, <<"Processes and ports ready to run, per run queue.">>,
           [{[N, <<",queue=\"">>, integer_to_binary(I), $"], L}
            || {I, L} <- lists:zip(lists:seq(1, length(RunQueues)), RunQueues)]),
     counter(<<"erlang_vm_statistics_bytes_input_total">>, <<"Total bytes received through ports.">>, [{N, In}]),
     counter(<<"erlang_vm_statistics_bytes_output_total">>, <<"Total bytes output to ports.">>, [{N, Out}]),
     counter(<<"erlang_vm_statistics_garbage_collection_number_of_gcs">>, <<"Garbage collections.">>, [{N, Gcs}]),
     counter(<<"erlang_vm_statistics_garbage_collection_words_reclaimed">>, <<"Words reclaimed by garbage collections.">>,
             [{N, Reclaimed}]),
     counter(<<"erlang_vm_statistics_reductions_total">>, <<"Total reductions.">>, [{N, Reds}]),
     counter(<<"erlang_vm_statistics_context_switches">>, <<"Total context switches since the system started.">>,
             [{N, Ctx}]),
     counter(<<"erlang_vm_statistics_runtime_milliseconds">>, <<"Sum of the runtime of all threads.">>, [{N, Runtime}]),
     counter(<<"erlang_vm_statistics_wallclock_time_milliseconds">>, <<"Wall clock time since the system started.">>,
             [{N, Wall}]),
     gauge(<<"erlang_vm_visible_nodes">>, <<"Number of connected visible nodes.">>, [{N, length(nodes(visible))}]),
     gauge(<<"erlang_vm_hidden_nodes">>, <<"Number of connected hidden nodes.">>, [{N, length(nodes(hidden))}]),
     gauge(<<"app_application_up">>, <<"1 if the application is running.">>,
           [{[N, <<",app=\"">>, atom_to_binary(A), $"], 1} || {A, _, _} <- Apps]),
     gauge(<<"app_supervisor_children">>, <<"Children of the top supervisor, by kind.">>,
           [{[N, <<",supervisor=\"">>, atom_to_binary(?SUPERVISOR), <<"\",kind=\"">>, atom_to_binary(K), $"],
             children(K, Children)} || K <- [specs, active, supervisors, workers]]),
     gauge(<<"app_governor_state">>, <<"State of each governor as a state set: 1 for the current state, 0 for the others.">>,
           [{[N, <<",governor=\"">>, atom_to_binary(G), <<"\",state=\"">>, atom_to_binary(St), $"],
             case St of S -> 1; _ -> 0 end} || {G, S, _} <- Govs, St <- ?GOVERNOR_STATES]),
     gauge(<<"app_governor_message_queue_len">>, <<"Message queue length of each governor process.">>,
           [{[N, <<",governor=\"">>, atom_to_binary(G), $"], pinfo(P, message_queue_len)} || {G, _, P} <- Govs]),
     gauge(<<"app_governor_memory_bytes">>, <<"Memory of each governor process.">>,
           [{[N, <<",governor=\"">>, atom_to_binary(G), $"], pinfo(P, memory)} || {G, _, P} <- Govs])].

pinfo(Pid, Key) when is_pid(Pid) ->
    case erlang:process_info(Pid, Key) of {Key, V} -> V; undefined -> 0 end;
pinfo(_, _) -> 0.

gauge(Name, Help, Samples) -> family(Name, Help, <<"gauge">>, Samples).
counter(Name, Help, Samples) -> family(Name, Help, <<"counter">>, Samples).

family(Name, Help, Type, Samples) ->
    [<<"# HELP ">>, Name, $\s, Help, $\n, <<"# TYPE ">>, Name, $\s, Type, $\n,
     [[Name, ${, Labels, <<"} ">>, integer_to_binary(V), $\n] || {Labels, V} <- Samples]].

%% ---------- JSON helpers ----------

int(I) -> integer_to_binary(I).
bool(true) -> <<"true">>;
bool(false) -> <<"false">>.
str(A) -> [$", atom_to_binary(A), $"].

join([]) -> [];
join([H | T]) -> [H | [[$, | X] || X <- T]].
