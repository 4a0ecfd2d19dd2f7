%% inets_health.erl: beamprobe's health routes in an inets httpd server.
%%
%% An httpd module (mod_* style): add it to the server's modules and every
%% request is answered as `beamprobe serve` answers it (/health/ready,
%% /livez, /metrics, /status, 404, 405, ...):
%%
%%   {ok, Pid} = inets:start(httpd, [{port, 8080}, {server_name, "health"},
%%                                   {server_root, "/tmp"}, {document_root, "/tmp"},
%%                                   {modules, [inets_health]}]).
%%
%% To serve only some paths and leave the rest to the modules after it,
%% return {proceed, Data} for the others. Options for beamprobe:handle/4
%% (supervisor, governor, timeout, ...) go in application env
%% inets_health opts (a map).
-module(inets_health).

-export([do/1]).

-include_lib("inets/include/httpd.hrl").

-spec do(#mod{}) -> {proceed, list()}.
do(#mod{method = Method, request_uri = Uri, parsed_header = Headers, data = Data}) ->
    case proplists:get_value(status, Data) of
        undefined ->
            case proplists:get_value(response, Data) of
                undefined -> {proceed, [{response, answer(Method, Uri, Headers)} | Data]};
                _ -> {proceed, Data}
            end;
        _ ->
            {proceed, Data}
    end.

answer(Method, Uri, Headers) ->
    Opts = application:get_env(inets_health, opts, #{}),
    case beamprobe:handle(Method, Uri, Headers, Opts) of
        {Status, RespHeaders, Body} ->
            Head = [{code, Status}, {content_length, integer_to_list(byte_size(Body))}
                    | [header(N, V) || {N, V} <- RespHeaders]],
            {response, Head, binary_to_list(Body)};
        {error, Reason} ->
            Msg = io_lib:format("{\"error\":\"~0p\"}\n", [Reason]),
            {response, [{code, 500}, {content_type, "application/json"}], lists:flatten(Msg)}
    end.

header(<<"content-type">>, V) -> {content_type, binary_to_list(V)};
header(N, V) -> {binary_to_list(N), binary_to_list(V)}.
