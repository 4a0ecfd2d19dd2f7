#!/usr/bin/env escript
%% gen_oneround.escript: turn c_src/dist/oneround.expr into the C header of its external term format, checking that it is safe to send.
%%
%%   escript scripts/gen_oneround.escript IN.expr OUT.h
%%
%% The expression is evaluated on a target by erl_eval:expr/5. So that doing so loads no code and
%% creates no atom there, this script:
%%   - refuses guards, bit syntax, comprehensions, maps, records, receive, if and local calls
%%     (erl_eval would call erl_internal, erl_lint's guard checks or eval_bits, which an
%%     interactive node has not loaded);
%%   - turns every call Mod:Fun(Args) into a call of the fun value fun Mod:Fun/N (erl_eval
%%     checks remote calls with erl_internal:bif/3, never fun values);
%%   - renames every variable to a function name of the preloaded module erlang (erl_eval binds
%%     any atom; a variable's own name would be a new atom on the target);
%%   - fails unless every atom of the result exists in a bare VM (erl -boot start_clean).
%% The string "@PARAMS@" marks where C puts the parameters: the header holds the bytes before and
%% after it.
-mode(compile).

main([In, Out]) ->
    {ok, Text} = file:read_file(In),
    {ok, Tokens, _} = erl_scan:string(unicode:characters_to_list(Text)),
    {ok, Parsed} = erl_parse:parse_exprs(Tokens),
    Exprs0 = erl_parse:map_anno(fun(_) -> 0 end, Parsed), % line numbers cost bytes on every probe
    Vars = lists:usort(vars(Exprs0, [])) -- ['_'],
    Names = [F || {_, F} <- lists:usort([{length(atom_to_list(F)), F} || {F, _} <- erlang:module_info(exports)])],
    length(Names) >= length(Vars) orelse die("~p variables, only ~p names", [length(Vars), length(Names)]),
    Map = maps:from_list(lists:zip(Vars, lists:sublist(Names, length(Vars)))),
    Exprs = case rewrite(Exprs0, Map) of
                [E] -> E; % erl_eval:expr/5 evaluates one expression and returns its value alone
                _ -> die("one expression expected", [])
            end,
    Bin = term_to_binary(Exprs, [{minor_version, 2}]),
    <<131, Body/binary>> = Bin,
    Mark = <<107, 8:16, "@PARAMS@">>,
    [Head, Tail] = case binary:split(Body, Mark, [global]) of
                       [_, _] = Parts -> Parts;
                       _ -> die("\"@PARAMS@\" must occur exactly once", [])
                   end,
    check_atoms(lists:usort(atoms(Exprs, [])), Out),
    ok = file:write_file(Out, header(In, Head, Tail)),
    io:format("~s: ~p bytes, ~p variables renamed, every atom exists in a bare VM~n",
              [Out, byte_size(Body), length(Vars)]);
main(_) ->
    die("usage: gen_oneround.escript IN.expr OUT.h", []).

die(Fmt, Args) ->
    io:format(standard_error, "gen_oneround: " ++ Fmt ++ "~n", Args),
    halt(1).

vars({var, _, V}, Acc) -> [V | Acc];
vars({named_fun, _, V, Cs}, Acc) -> vars(Cs, [V | Acc]);
vars(T, Acc) when is_tuple(T) -> vars(tuple_to_list(T), Acc);
vars([H | T], Acc) -> vars(T, vars(H, Acc));
vars(_, Acc) -> Acc.

%% The forms erl_eval runs with modules every node has loaded; anything else fails the build.
rewrite({var, A, '_'}, _) -> {var, A, '_'};
rewrite({var, A, V}, M) -> {var, A, maps:get(V, M)};
rewrite({named_fun, A, V, Cs}, M) -> {named_fun, A, maps:get(V, M), rewrite(Cs, M)};
rewrite({call, A, {remote, _, {atom, _, Mod}, {atom, _, Fun}}, Args}, M) ->
    {call, A, {'fun', A, {function, {atom, A, Mod}, {atom, A, Fun}, {integer, A, length(Args)}}}, rewrite(Args, M)};
rewrite({call, A, {remote, _, _, _}, _}, _) -> die("line ~p: a call whose module or function is not literal", [A]);
rewrite({call, A, {atom, _, F}, _}, _) -> die("line ~p: local call ~p: write erlang:~p", [A, F, F]);
rewrite({clause, A, _, [_ | _], _}, _) -> die("line ~p: guards are not allowed (erl_eval checks them with erl_lint)", [A]);
rewrite({Bad, A, _}, _) when Bad =:= bin; Bad =:= map; Bad =:= 'if'; Bad =:= 'receive' ->
    die("line ~p: ~p is not allowed", [A, Bad]);
rewrite({Bad, A, _, _}, _) when Bad =:= lc; Bad =:= bc; Bad =:= mc; Bad =:= map; Bad =:= record; Bad =:= record_index ->
    die("line ~p: ~p is not allowed", [A, Bad]);
rewrite({Bad, A, _, _, _}, _) when Bad =:= 'receive'; Bad =:= record; Bad =:= record_field ->
    die("line ~p: ~p is not allowed", [A, Bad]);
rewrite(T, M) when is_tuple(T) -> list_to_tuple(rewrite(tuple_to_list(T), M));
rewrite([H | T], M) -> [rewrite(H, M) | rewrite(T, M)];
rewrite(X, _) -> X.

atoms(A, Acc) when is_atom(A) -> [A | Acc];
atoms(T, Acc) when is_tuple(T) -> atoms(tuple_to_list(T), Acc);
atoms([H | T], Acc) -> atoms(T, atoms(H, Acc));
atoms(_, Acc) -> Acc.

%% Ask a bare VM, by name as text, which atoms it lacks (binary_to_existing_atom creates none).
check_atoms(Atoms, Out) ->
    List = Out ++ ".atoms",
    ok = file:write_file(List, [[atom_to_binary(A, utf8), $\n] || A <- Atoms]),
    Erl = filename:join([code:root_dir(), "bin", "erl"]),
    Eval = "{ok, B} = file:read_file(\"" ++ List ++ "\"), "
           "M = [N || N <- binary:split(B, <<\"\\n\">>, [global]), N =/= <<>>, "
           "      not is_atom(catch binary_to_existing_atom(N, utf8))], "
           "io:format(\"~p~n\", [M]), halt().",
    Port = open_port({spawn_executable, Erl},
                     [{args, ["-boot", "start_clean", "-noshell", "-eval", Eval]}, exit_status, stderr_to_stdout, binary]),
    Reply = collect(Port, <<>>),
    file:delete(List),
    case Reply of
        {0, <<"[]\n">>} -> ok;
        {_, Missing} -> die("atoms a bare VM lacks (pass them as names in the parameters): ~s", [Missing])
    end.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, Acc}
    end.

header(In, Head, Tail) ->
    ["/* oneround_expr.h: generated by scripts/gen_oneround.escript from ", In, "; do not edit. */\n",
     "#ifndef BP_ONEROUND_EXPR_H\n#define BP_ONEROUND_EXPR_H\n\n",
     "/* The Expr of erl_eval:expr/5 in external term format (no version byte), split where the\n"
     "   parameters' STRING_EXT (or list) goes. */\n",
     bytes("bp__oneround_head", Head), bytes("bp__oneround_tail", Tail),
     "\n#endif\n"].

bytes(Name, Bin) ->
    Lines = chunks([io_lib:format("~b,", [B]) || <<B>> <= Bin], 20),
    ["static const unsigned char ", Name, "[] = {\n", [["    ", L, "\n"] || L <- Lines], "};\n"].

chunks([], _) -> [];
chunks(L, N) when length(L) =< N -> [L];
chunks(L, N) -> {H, T} = lists:split(N, L), [H | chunks(T, N)].
