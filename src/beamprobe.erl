%% beamprobe.erl: the Erlang API of beamprobe: the same checks, JSON and metrics as the CLI, from inside the VM.
%%
%% One engine: the NIF (priv/beamprobe_nif.so) holds the C policy and
%% renderers of `beamprobe check` and `serve`. For the local node, the C
%% collector's plan (the very calls a remote probe sends to rex) is run here,
%% in this VM, round by round; the replies go back to C, which builds the same
%% snapshot a remote probe would. Remote nodes are probed by the C
%% distribution session on a NIF thread of their own, which answers the
%% caller by message (await_job/2): no scheduler waits on the network.
%%
%% Options are maps whose keys are the CLI's long flags with '_' for '-'
%% (timeout => 500 | <<"500ms">>, governor => [cost_guard], supervisor =>
%% demo_sup, memory_limit => <<"2G">>, ...), with the CLI's defaults. An
%% unknown key or a bad value gives {error, {bad_option, Key}}, a combination
%% that does not hold together {error, {invalid, Why}}, a value of the wrong
%% Erlang type raises badarg. Reports are the CLI's JSON as maps with binary
%% keys (docs/SCHEMA.md).
-module(beamprobe).

-export([check/1, check/2, health/1, health/2, metrics/0, metrics/1, handle/3, handle/4, cluster/1,
         start_server/1, stop_server/0, server_info/0, version/0]).

-on_load(init/0).

-export_type([options/0, report/0, health_kind/0, http_text/0, http_headers/0]).

-type options() :: #{atom() => term()}.
-type report() :: #{binary() => term()}.
-type health_kind() :: live | ready | startup | full.
-type error() :: {error, term()}.
%% A method, path or header as HTTP servers hand them over: Cowboy and Elli
%% binaries, inets charlists, Elli's methods atoms ('GET').
-type http_text() :: binary() | string() | atom().
%% The request's headers, of which only Authorization is read (any case):
%% a list of {Name, Value} (inets, Elli) or a map (Cowboy).
-type http_headers() :: [{http_text(), http_text()}] | #{http_text() => http_text()}.

-define(AGENT, beamprobe_agent).
-define(NIF_ONLY_KEYS, [format, port, vm_budget]).
-define(DEFAULT_VM_BUDGET, 1000).
%% How long past its timeout a caller waits for a job's answer (the C side
%% answers at the deadline; this covers thread start and rendering).
-define(JOB_MARGIN, 50).
-define(DEFAULT_MAX_JOBS, 256).

%%% ---------------------------------------------------------------- API

%% @doc A report of the local node, judged exactly as `beamprobe check` would.
%% Opts may hold format => map (default) | json | text.
-spec check(options()) -> report() | binary() | error().
check(Opts) when is_map(Opts) ->
    with_config(Opts, fun(Cfg, Settings) ->
        case collect_local(Cfg, Settings) of
            {ok, Snap} -> nif_report(Cfg, Snap, format(Opts));
            Error -> Error
        end
    end);
check(_) ->
    erlang:error(badarg).

%% @doc A report of another node through the distribution protocol, under
%% the options' timeout, probed from a NIF thread while the caller waits.
%% Uses this VM's cookie for Node unless cookie_file is given. A node that
%% does not answer in time gives {error, timeout}; other failures
%% {error, {Reason, Message}}; {error, busy} when max_jobs probes are
%% already running (application env beamprobe max_jobs, default 256).
-spec check(node(), options()) -> report() | binary() | error().
check(Node, Opts) when is_atom(Node), is_map(Opts) ->
    with_config(Opts, fun(Cfg, Settings) ->
        Name = atom_to_binary(Node, utf8),
        Cookie = cookie_for(Node, Opts),
        case await_job(fun(Ref) -> nif_check_remote(Cfg, Name, Cookie, Ref) end, Settings) of
            {done, Snap} -> nif_report(Cfg, Snap, format(Opts));
            Error -> Error
        end
    end);
check(_, _) ->
    erlang:error(badarg).

%% @doc What `beamprobe serve` answers on /health/live, /health/ready,
%% /health/startup or /health (full) for this node: {HttpStatus, JsonBody},
%% ready to return from any HTTP handler.
-spec health(health_kind()) -> {200 | 503, binary()} | error().
health(Kind) ->
    health(Kind, #{}).

-spec health(health_kind(), options()) -> {200 | 503, binary()} | error().
health(Kind, Opts) when is_map(Opts) ->
    case lists:keyfind(Kind, 1, [{live, "/health/live"}, {ready, "/health/ready"},
                                 {startup, "/health/startup"}, {full, "/health"}]) of
        {Kind, Path} ->
            Probe = case Kind of full -> ready; _ -> Kind end,
            served(Opts#{probe => Probe}, Path);
        false ->
            erlang:error(badarg)
    end;
health(_, _) ->
    erlang:error(badarg).

%% @doc This node's metrics in the Prometheus text format (as on `serve`'s /metrics).
-spec metrics() -> binary() | error().
metrics() ->
    metrics(#{}).

-spec metrics(options()) -> binary() | error().
metrics(Opts) when is_map(Opts) ->
    case served(Opts, "/metrics") of
        {200, Text} -> Text;
        {_, _} = Other -> {error, Other};
        Error -> Error
    end;
metrics(_) ->
    erlang:error(badarg).

%% @doc What `beamprobe serve` answers to Method Path for this node, routed
%% by serve's own code (the probe routes and their aliases, /health,
%% /metrics, /health/cluster, /health/history, / and /status, 404 elsewhere,
%% 405 for methods other than GET and HEAD, 401 without the bearer token of
%% auth_token_file where serve asks for it): {Status, Headers, Body} with
%% lower-case header names (content-type, cache-control, ...) and an empty
%% body for HEAD. Path may carry a query ("/health/history?limit=5").
%% A Cowboy handler is one line:
%% `{Status, H, Body} = beamprobe:handle(cowboy_req:method(Req), cowboy_req:path(Req), cowboy_req:headers(Req))'.
-spec handle(http_text(), http_text(), http_headers()) ->
          {100..599, [{binary(), binary()}], binary()} | error().
handle(Method, Path, Headers) ->
    handle(Method, Path, Headers, #{}).

-spec handle(http_text(), http_text(), http_headers(), options()) ->
          {100..599, [{binary(), binary()}], binary()} | error().
handle(Method, Path, Headers, Opts) when is_map(Opts) ->
    M = http_bin(Method),
    P = http_bin(Path),
    Auth = authorization(Headers),
    with_config(Opts, fun(Cfg, Settings) ->
        case collect_local(Cfg, Settings) of
            {ok, Snap} -> nif_handle(Cfg, Snap, M, P, Auth);
            Error -> Error
        end
    end);
handle(_, _, _, _) ->
    erlang:error(badarg).

http_bin(B) when is_binary(B), byte_size(B) > 0 -> B;
http_bin(A) when is_atom(A) -> atom_to_binary(A, latin1);
http_bin([_ | _] = L) -> iolist_to_binary(L);
http_bin(_) -> erlang:error(badarg).

authorization(Headers) when is_map(Headers) ->
    authorization(maps:to_list(Headers));
authorization(Headers) when is_list(Headers) ->
    case [V || {K, V} <- Headers, is_authorization(K)] of
        [V | _] -> iolist_to_binary(V);
        [] -> <<>>
    end;
authorization(_) ->
    erlang:error(badarg).

is_authorization(K) when is_atom(K) -> is_authorization(atom_to_binary(K, latin1));
is_authorization(K) when is_list(K) -> is_authorization(iolist_to_binary(K));
is_authorization(K) when is_binary(K) -> string:lowercase(K) =:= <<"authorization">>;
is_authorization(_) -> false.

%% @doc The cluster report of `beamprobe cluster --json` for the nodes
%% given (nodes => [...]) or discovered (epmd_host, dns, k8s_endpoints);
%% with neither, this node and every node it sees. Discovery and the probes
%% share the timeout; a node that does not answer in time is reported
%% unreachable. {error, busy} as for check/2.
-spec cluster(options()) -> report() | error().
cluster(Opts) when is_map(Opts) ->
    Opts1 = case has_targets(Opts) of
                true -> Opts;
                false -> Opts#{node => [node() | nodes()]}
            end,
    with_config(Opts1, fun(Cfg, Settings) ->
        Cookie = cookie_for(node(), Opts1),
        await_job(fun(Ref) -> nif_cluster(Cfg, Cookie, Ref) end, Settings)
    end);
cluster(_) ->
    erlang:error(badarg).

%% @doc Serve the `serve` endpoints for this node from a thread owned by the
%% NIF: port => P (0 picks one; default 8080) or listen => "ADDR:PORT", plus
%% serve's options (interval, max_age, tls_cert, ...) and vm_budget => Ms:
%% how long the VM may leave the server's pings unanswered before the probe
%% routes answer 503 "VM unresponsive" (default 1000).
-spec start_server(options()) -> {ok, inet:port_number()} | error().
start_server(Opts) when is_map(Opts) ->
    Budget = maps:get(vm_budget, Opts, ?DEFAULT_VM_BUDGET),
    Listen = case Opts of
                 #{listen := L} -> L;
                 #{port := P} when is_integer(P), P >= 0, P =< 65535 -> ":" ++ integer_to_list(P);
                 #{port := _} -> bad;
                 #{} -> undefined
             end,
    if
        not is_integer(Budget); Budget < 10 -> {error, {bad_option, vm_budget}};
        Listen =:= bad -> {error, {bad_option, port}};
        true ->
            Opts1 = case Listen of undefined -> Opts; _ -> Opts#{listen => Listen} end,
            with_config(maps:without([port], Opts1), fun(Cfg, Settings) ->
                start_agent(Cfg, Settings, Budget)
            end)
    end;
start_server(_) ->
    erlang:error(badarg).

%% @doc Stop the in-VM server (in-flight answers finish first).
-spec stop_server() -> ok | {error, not_running}.
stop_server() ->
    agent_call(stop).

%% @doc The in-VM server's state: port, pings sent and answered, last VM round trip.
-spec server_info() -> map() | {error, not_running}.
server_info() ->
    agent_call(info).

%% @doc The version of the loaded NIF, e.g. <<"0.1.0">>: the same as `beamprobe --version`
%% and the application's vsn (test/integration/test_install.sh checks all three agree).
-spec version() -> binary().
version() ->
    nif_version().

%%% ---------------------------------------------------------------- options

with_config(Opts, Fun) ->
    case nif_config(maps:without(?NIF_ONLY_KEYS, Opts)) of
        {ok, Cfg, Settings} -> Fun(Cfg, Settings);
        {error, _} = Error -> Error
    end.

format(Opts) ->
    case maps:get(format, Opts, map) of
        F when F =:= map; F =:= json; F =:= text -> F;
        _ -> erlang:error(badarg)
    end.

has_targets(Opts) ->
    lists:any(fun(K) -> maps:is_key(K, Opts) end, [node, nodes, epmd_host, dns, k8s_endpoints]).

cookie_for(Node, Opts) ->
    case maps:is_key(cookie_file, Opts) of
        true -> <<>>;
        false -> atom_to_binary(erlang:get_cookie(Node), utf8)
    end.

%% A one-off site answering Path from a fresh snapshot of this node.
served(Opts, Path) ->
    with_config(Opts, fun(Cfg, Settings) ->
        case collect_local(Cfg, Settings) of
            {ok, Snap} -> nif_http(Cfg, Snap, Path);
            Error -> Error
        end
    end).

%%% ---------------------------------------------------------------- NIF jobs

%% Start a NIF job (Start(Ref)) and wait for its one answer {Ref, Result}.
%% The job's thread answers by its deadline; past the timeout and a margin
%% the caller gives up: nif_job_finish/1 then either cancels the job (no
%% answer will ever come) or finds it answered already (its message is, or
%% is about to be, in the mailbox and is taken out). Either way nothing is
%% left in the caller's mailbox.
await_job(Start, #{timeout := Timeout}) ->
    Ref = make_ref(),
    case Start(Ref) of
        {ok, Job} ->
            receive
                {Ref, Result} ->
                    answered = nif_job_finish(Job),
                    Result
            after Timeout + ?JOB_MARGIN ->
                case nif_job_finish(Job) of
                    cancelled -> ok;
                    answered -> receive {Ref, _} -> ok end
                end,
                {error, timeout}
            end;
        {error, _} = Error ->
            Error
    end.

%%% ---------------------------------------------------------------- local collection

%% Run the collector's rounds in this VM until it has a snapshot.
collect_local(Cfg, #{timeout := Timeout}) ->
    T0 = erlang:monotonic_time(microsecond),
    Ts = erlang:system_time(millisecond),
    step(Cfg, atom_to_binary(node(), utf8), [], Ts, T0, T0 + Timeout * 1000).

step(Cfg, Node, Rounds, Ts, T0, Deadline) ->
    Times = {Ts, erlang:monotonic_time(microsecond) - T0},
    case nif_collect_step(Cfg, Node, Rounds, Times) of
        {calls, Calls} ->
            Replies = run_round(Calls, Deadline),
            step(Cfg, Node, Rounds ++ [Replies], Ts, T0, Deadline);
        {done, Snap} ->
            {ok, Snap};
        {error, _} = Error ->
            Error
    end.

%% Like rex: the cheap calls in order in this process first (so the
%% run-queue reading sees none of our workers), then the others at once, each
%% in its own process, until the deadline. Replies are term_to_binary of what
%% rpc:call would return; 'timeout' for a call that did not finish.
run_round(Calls, Deadline) ->
    Inline = [{I, inline(C)} || {I, C} <- number(Calls), element(1, C) =/= spawn],
    Spawned = [{I, spawn_call(M, F, A)} || {I, {spawn, M, F, A}} <- number(Calls)],
    Done = await(Spawned, Deadline, []),
    [Reply || {_, Reply} <- lists:keysort(1, Inline ++ Done)].

number(List) ->
    lists:zip(lists:seq(1, length(List)), List).

inline({reply, Bin}) -> Bin;
inline({block, M, F, A}) -> term_to_binary(apply_call(M, F, A)).

spawn_call(M, F, A) ->
    {Pid, Ref} = spawn_monitor(fun() -> exit({?MODULE, term_to_binary(apply_call(M, F, A))}) end),
    {Pid, Ref}.

await([], _Deadline, Acc) ->
    Acc;
await([{I, {Pid, Ref}} | Rest], Deadline, Acc) ->
    Left = max(0, (Deadline - erlang:monotonic_time(microsecond)) div 1000),
    receive
        {'DOWN', Ref, process, Pid, {?MODULE, Bin}} ->
            await(Rest, Deadline, [{I, Bin} | Acc]);
        {'DOWN', Ref, process, Pid, Reason} ->
            await(Rest, Deadline, [{I, term_to_binary({badrpc, {'EXIT', Reason}})} | Acc])
    after Left ->
        exit(Pid, kill),
        receive {'DOWN', Ref, process, Pid, _} -> ok end,
        await(Rest, Deadline, [{I, timeout} | Acc])
    end.

%% What rpc:call returns for M:F(A...).
apply_call(M, F, A) ->
    try apply(M, F, A)
    catch
        throw:Value -> Value;
        exit:Reason -> {badrpc, {'EXIT', Reason}};
        error:Reason:Stack -> {badrpc, {'EXIT', {Reason, Stack}}}
    end.

%%% ---------------------------------------------------------------- in-VM agent

start_agent(Cfg, Settings, Budget) ->
    Caller = self(),
    Tag = make_ref(),
    {Pid, Mon} = spawn_monitor(fun() -> agent_init(Caller, Tag, Cfg, Settings, Budget) end),
    receive
        {Tag, Result} ->
            erlang:demonitor(Mon, [flush]),
            Result;
        {'DOWN', Mon, process, Pid, Reason} ->
            {error, Reason}
    end.

agent_init(Caller, Tag, Cfg, Settings, Budget) ->
    try register(?AGENT, self()) of
        true ->
            case nif_agent_start(Cfg, atom_to_binary(node(), utf8), Budget) of
                {ok, Agent, Port} ->
                    Caller ! {Tag, {ok, Port}},
                    self() ! refresh,
                    agent_loop(#{agent => Agent, cfg => Cfg, settings => Settings, worker => none});
                {error, _} = Error ->
                    Caller ! {Tag, Error}
            end
    catch
        error:badarg -> Caller ! {Tag, {error, already_running}}
    end.

%% The agent answers the watchdog's pings (its answer time is what the
%% server judges the VM by) and refreshes the snapshot every interval, the
%% collection running in a worker so pings never wait behind it.
agent_loop(#{agent := Agent, cfg := Cfg, settings := Settings, worker := Worker} = S) ->
    receive
        {'$beamprobe_ping', Seq} ->
            nif_agent_pong(Agent, Seq),
            agent_loop(S);
        refresh when Worker =:= none ->
            erlang:send_after(maps:get(interval, Settings), self(), refresh),
            W = spawn_monitor(fun() -> exit({?MODULE, collect_local(Cfg, Settings)}) end),
            agent_loop(S#{worker := W});
        refresh ->
            erlang:send_after(maps:get(interval, Settings), self(), refresh),
            agent_loop(S);
        {'DOWN', Ref, process, Pid, Reason} when Worker =:= {Pid, Ref} ->
            case Reason of
                {?MODULE, {ok, Snap}} -> nif_agent_publish(Agent, Snap);
                _ -> ok
            end,
            agent_loop(S#{worker := none});
        {?AGENT, From, Tag, info} ->
            From ! {Tag, nif_agent_info(Agent)},
            agent_loop(S);
        {?AGENT, From, Tag, stop} ->
            nif_agent_stop(Agent),
            unregister(?AGENT),
            From ! {Tag, ok}
    end.

agent_call(Request) ->
    case whereis(?AGENT) of
        undefined ->
            {error, not_running};
        Pid ->
            Mon = erlang:monitor(process, Pid),
            Pid ! {?AGENT, self(), Mon, Request},
            receive
                {Mon, Reply} -> erlang:demonitor(Mon, [flush]), Reply;
                {'DOWN', Mon, process, Pid, _} -> {error, not_running}
            end
    end.

%%% ---------------------------------------------------------------- NIF loading

%% The load info is the cap on concurrent NIF jobs (check/2, cluster/1).
init() ->
    Path = filename:join(priv_dir(), "beamprobe_nif"),
    MaxJobs = case application:get_env(beamprobe, max_jobs) of
                  {ok, N} when is_integer(N), N > 0 -> N;
                  _ -> ?DEFAULT_MAX_JOBS
              end,
    case erlang:load_nif(Path, MaxJobs) of
        ok ->
            ok;
        {error, {Reason, Text}} ->
            %% keep the module: every call then says why instead of `undef`
            persistent_term:put({?MODULE, load_error}, {Reason, Path, Text}),
            ok
    end.

priv_dir() ->
    case code:priv_dir(beamprobe) of
        Dir when is_list(Dir) ->
            Dir;
        {error, bad_name} ->
            %% not in a release or a code path named after the app: ../priv next to ebin
            filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv")
    end.

not_loaded() ->
    erlang:nif_error({beamprobe_nif_not_loaded,
                      persistent_term:get({?MODULE, load_error}, unknown)}).

nif_version() -> not_loaded().
nif_config(_Opts) -> not_loaded().
nif_collect_step(_Cfg, _Node, _Rounds, _Times) -> not_loaded().
nif_report(_Cfg, _Snap, _Format) -> not_loaded().
nif_http(_Cfg, _Snap, _Path) -> not_loaded().
nif_handle(_Cfg, _Snap, _Method, _Target, _Auth) -> not_loaded().
nif_check_remote(_Cfg, _Node, _Cookie, _Ref) -> not_loaded().
nif_cluster(_Cfg, _Cookie, _Ref) -> not_loaded().
nif_job_finish(_Job) -> not_loaded().
nif_agent_start(_Cfg, _Node, _Budget) -> not_loaded().
nif_agent_publish(_Agent, _Snap) -> not_loaded().
nif_agent_pong(_Agent, _Seq) -> not_loaded().
nif_agent_stop(_Agent) -> not_loaded().
nif_agent_info(_Agent) -> not_loaded().
