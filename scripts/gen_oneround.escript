#!/usr/bin/env escript
%% gen_oneround.escript: turn c_src/dist/oneround.erl.src into the C header of the one-round request, checking that it is safe to send.
%%
%%   escript scripts/gen_oneround.escript IN.erl.src OUT.h
%%
%% IN is written as an Erlang module, but it is never compiled nor loaded: a target runs it with
%% erl_eval (docs/DESIGN-NOTES.md, "One round trip"). So that doing so loads no code and creates
%% no atom there, this script:
%%   - turns each function into a procedure: its body as abstract code, evaluated by
%%     erl_eval:expr/5 with its arguments as bindings; a call of a local function becomes such
%%     an evaluation (so no fun is ever created: erl_eval asks erl_lint about every fun it
%%     creates, which costs more than the probe and loads erl_anno and ordsets);
%%   - turns every call Mod:Fun(Args) into a call of the fun value fun Mod:Fun/N (erl_eval
%%     checks remote calls with erl_internal:bif/3, never fun values);
%%   - refuses funs, guards, bit syntax, maps, records, receive, if, comprehension filters
%%     (erl_eval would call erl_lint, erl_internal or eval_bits, which an interactive node may
%%     not have loaded);
%%   - renames every variable to an atom every release has (erl_eval binds any atom; a variable's
%%     own name would be a new atom on the target): an auto-imported BIF's name, an operator's, or
%%     an atom the request holds anyway;
%%   - fails unless every atom and every external fun (fun M:F/A) of the result exists in a bare VM
%%     (erl -boot start_clean) of this OTP and of every other release installed
%%     (scripts/otp-release.sh installed): the target decodes the procedures, sent among the
%%     parameters, with binary_to_term(B, [safe]), which refuses any other.
%% With --check-params it checks sample parameters built by C the same way (c_src/Makefile).
%% The header holds the request (one expression over a variable C binds to the parameters, a
%% binary) and the procedures, each with the features that need it: C sends, among the
%% parameters, those of the features the probe asks for (the others as []).
-mode(compile).

main(["--check-params" | [_ | _] = Files]) ->
    %% the parameters C sends (sample configurations, c_src/tools/oneround_samples.c): their atoms
    %% and external funs, and each whole binary decoded with binary_to_term(B, [safe])
    Terms = [begin {ok, B} = file:read_file(F), binary_to_term(B) end || F <- Files],
    Checked = check_bare(lists:usort(atoms(Terms, [])), lists:usort(ext_funs(Terms, [])), Files, hd(Files)),
    io:format("gen_oneround: the request's parameters (~p samples) decode with [safe] in a bare VM of ~s~n",
              [length(Files), Checked]);
main([In, Out]) ->
    Forms = case epp:parse_file(In, []) of
                {ok, Fs} -> Fs;
                {error, E} -> die("~s: ~p", [In, E])
            end,
    [die("~s: ~p", [In, E]) || {error, E} <- Forms],
    %% line numbers cost bytes on every probe: all 0 (before any node of ours is added)
    Funs0 = [{N, A, Cs} || {function, _, N, A, Cs} <- [erl_parse:map_anno(fun(_) -> 0 end, F) || F <- Forms]],
    Parts = lists:append([Fs || {attribute, _, part, {_, Fs}} <- Forms]),
    Funs = once(inline(Funs0, 3), Parts),
    case Funs of
        [{main, 1, _} | _] -> ok;
        _ -> die("the first function must be main/1", [])
    end,
    Features = [F || {attribute, _, part, F} <- Forms],
    %% each function: its procedure's number and the names its arguments are bound to
    Index = maps:from_list([{{N, A}, {I, case const(F) of {ok, _} -> const; error -> params(A, Cs) end}}
                            || {{N, A, Cs} = F, I} <- lists:zip(Funs, lists:seq(1, length(Funs)))]),
    {Procs0, FunTabs} = fun_vars([proc(F, Index) || F <- Funs], length(Funs)),
    Main0 = request(length(Funs) + length(FunTabs)),
    Vars = lists:usort(vars([Main0 | Procs0], [])) -- ['_'],
    Names = [F || {_, F} <- lists:usort([{length(atom_to_list(F)), F} || F <- var_names([Main0 | Procs0], Vars)])],
    length(Names) >= length(Vars) orelse die("~p variables, only ~p names", [length(Vars), length(Names)]),
    Map = maps:from_list(lists:zip(Vars, lists:sublist(Names, length(Vars)))),
    Main = rename(Main0, Map),
    Procs = [rename(P, Map) || P <- Procs0],
    <<131, Body/binary>> = term_to_binary(Main, [{minor_version, 2}]),
    Chunks = [begin <<131, B/binary>> = term_to_binary(unconst(P), [{minor_version, 2}]), B end || P <- Procs],
    Masks0 = masks(Funs, Features),
    Masks = Masks0 ++ [lists:nth(I, Masks0) || {I, _} <- FunTabs],
    Sent = {Main, [unconst(P) || P <- Procs]},
    Checked = check_bare(lists:usort(atoms(Sent, [])), lists:usort(ext_funs(Sent, [])), [], Out),
    ok = file:write_file(Out, header(In, Body, maps:get('$Bin', Map), Chunks, Masks, Features,
                                     [{N, A} || {N, A, _} <- Funs] ++ [{funs_of, element(1, lists:nth(I, Funs))} || {I, _} <- FunTabs])),
    io:format("~s: request ~p bytes, ~p procedures in ~p bytes, ~p variables renamed, every atom and fun exists in a bare VM of ~s~n",
              [Out, byte_size(Body), length(Procs), iolist_size(Chunks), length(Vars), Checked]);
main(_) ->
    die("usage: gen_oneround.escript IN.erl.src OUT.h | --check-params PARAMS.bin...", []).

%% The names variables are renamed to (erl_eval binds any atom; a variable's own name would be a
%% new atom on the target): atoms every release has. The erlang module's auto-imported BIFs and
%% operators (never removed; its other exports come and go: erlang:display_nl/0 of OTP 25 is gone
%% in 27), and the atoms the request holds anyway (checked below like all of them).
var_names(Forms, Vars) ->
    Stable = [F || {F, A} <- erlang:module_info(exports),
                   erl_internal:bif(F, A) orelse erl_internal:arith_op(F, A) orelse erl_internal:bool_op(F, A)
                       orelse erl_internal:comp_op(F, A)],
    lists:usort(Stable ++ atoms([unconst(P) || P <- Forms], [])) -- ['_', var_key | Vars].

die(Fmt, Args) ->
    io:format(standard_error, "gen_oneround: " ++ Fmt ++ "~n", Args),
    halt(1).

%% The request: decode the parameters (a binary bound by the call's bindings), put each procedure
%% in the process dictionary (key 100 + its number: looked up by a call, they are no binding of
%% every procedure's scope, which erl_eval would merge at every argument), and run main(Params).
request(NProcs) ->
    {block, 0,
     [{match, 0, {var, 0, '$Params'}, remote(erlang, binary_to_term, [{var, 0, '$Bin'}, {cons, 0, {atom, 0, safe}, {nil, 0}}])},
      remote(lists, zipwith, [{'fun', 0, {function, {atom, 0, erlang}, {atom, 0, put}, {integer, 0, 2}}},
                              remote(lists, seq, [{integer, 0, 101}, {integer, 0, 100 + NProcs}]),
                              remote(erlang, tuple_to_list, [remote(erlang, element, [{integer, 0, 5}, {var, 0, '$Params'}])])]),
      proc_call({1, params(1, [{clause, 0, [{var, 0, 'Params'}], [], []}])}, [{var, 0, '$Params'}])]}.

%% Inline the calls of small functions (one clause, its arguments plain variables, no variable of
%% its own, not recursive): each saves erl_eval a call of expr/5 and a new scope. An argument
%% that is no variable nor literal is put in place of its parameter only where it is then
%% evaluated once, unconditionally (not in a case, try or comprehension) and in the same order:
%% what the call would have done. Functions no longer called are dropped.
inline(Funs, 0) -> Funs;
inline(Funs, Passes) ->
    Small = maps:from_list([{{N, A}, {Ps, B}} || {N, A, [{clause, _, Ps0, [], B}]} <- Funs, A > 0,
                                                   Ps <- [[V || {var, _, V} <- Ps0]], length(Ps) =:= A,
                                                   length(lists:usort(Ps)) =:= A, not lists:member('_', Ps),
                                                   lists:usort(vars(B, [])) -- ['_' | Ps] =:= [],
                                                   not lists:member({N, A}, local_calls(B, []))]),
    Funs1 = [{N, A, subst_calls(Cs, maps:remove({N, A}, Small))} || {N, A, Cs} <- Funs],
    Called = lists:usort(lists:append([local_calls(Cs, []) || {_, _, Cs} <- Funs1])),
    inline([F || {N, A, _} = F <- Funs1, {N, A} =:= {main, 1} orelse lists:member({N, A}, Called)], Passes - 1).

subst_calls({call, A, {atom, _, F} = Fn, Args0}, Small) ->
    Args = subst_calls(Args0, Small),
    case maps:find({F, length(Args)}, Small) of
        {ok, {Ps, Body}} ->
            case inlinable(Ps, Args, Body) of
                true -> {block, A, replace(Body, maps:from_list(lists:zip(Ps, Args)))};
                false -> {call, A, Fn, Args}
            end;
        error -> {call, A, Fn, Args}
    end;
subst_calls(T, Small) when is_tuple(T) -> list_to_tuple(subst_calls(tuple_to_list(T), Small));
subst_calls([H | T], Small) -> [subst_calls(H, Small) | subst_calls(T, Small)];
subst_calls(X, _) -> X.

%% Inline each function called from one place only (one clause, its arguments plain variables,
%% not recursive, no part's entry): its arguments bound by matches, its variables renamed (a
%% suffix of their own), its body a block in place of the call. It saves erl_eval a call of
%% expr/5 and a new scope, the most costly step of every procedure call.
once(Funs, Parts) ->
    Sites = lists:append([local_calls(Cs, []) || {_, _, Cs} <- Funs]),
    Once = maps:from_list([{{N, A}, {Ps, B}} || {N, A, [{clause, _, Ps0, [], B}]} = F <- Funs, A > 0,
                                                 const(F) =:= error, {N, A} =/= {main, 1}, not lists:member({N, A}, Parts),
                                                 length([S || S <- Sites, S =:= {N, A}]) =:= 1,
                                                 Ps <- [[V || {var, _, V} <- Ps0]], length(Ps) =:= A,
                                                 length(lists:usort(Ps)) =:= A, not lists:member('_', Ps),
                                                 not lists:member({N, A}, local_calls(B, []))]),
    case maps:size(Once) of
        0 -> Funs;
        _ ->
            %% one at a time: an inlined body may itself hold a call of another
            [{N, A} = Key | _] = lists:sort(maps:keys(Once)),
            {Ps, Body} = maps:get(Key, Once),
            Suffix = "_" ++ atom_to_list(N) ++ integer_to_list(A),
            Ren = fun(V) -> list_to_atom(atom_to_list(V) ++ Suffix) end,
            Block = fun(Args) ->
                            {block, 0, [{match, 0, {var, 0, Ren(P)}, Arg} || {P, Arg} <- lists:zip(Ps, Args)]
                                       ++ rename_all(Body, Ren)}
                    end,
            Funs1 = [{N1, A1, put_block(Cs, Key, Block)} || {N1, A1, Cs} <- Funs, {N1, A1} =/= Key],
            once(Funs1, Parts)
    end.

put_block({call, _, {atom, _, F}, Args0}, {F, A} = Key, Block) when length(Args0) =:= A ->
    Block(put_block(Args0, Key, Block));
put_block(T, Key, Block) when is_tuple(T) -> list_to_tuple(put_block(tuple_to_list(T), Key, Block));
put_block([H | T], Key, Block) -> [put_block(H, Key, Block) | put_block(T, Key, Block)];
put_block(X, _, _) -> X.

rename_all({var, A, V}, Ren) when V =/= '_' -> {var, A, Ren(V)};
rename_all(T, Ren) when is_tuple(T) -> list_to_tuple(rename_all(tuple_to_list(T), Ren));
rename_all([H | T], Ren) -> [rename_all(H, Ren) | rename_all(T, Ren)];
rename_all(X, _) -> X.

simple({var, _, _}) -> true;
simple({Lit, _, _}) when Lit =:= atom; Lit =:= integer; Lit =:= char; Lit =:= string -> true;
simple({nil, _}) -> true;
simple(_) -> false.

inlinable(Ps, Args, Body) ->
    Complex = [P || {P, Arg} <- lists:zip(Ps, Args), not simple(Arg)],
    Strict = strict_vars(Body, []),
    All = vars(Body, []),
    lists:all(fun(P) -> length([V || V <- All, V =:= P]) =:= 1 andalso lists:member(P, Strict) end, Complex)
        andalso [V || V <- lists:reverse(Strict), lists:member(V, Complex)] =:= Complex.

%% Variables evaluated unconditionally, in order (newest first): not below a case, try, lc, ...
strict_vars({var, _, V}, Acc) -> [V | Acc];
strict_vars({call, _, F, Args}, Acc) -> strict_vars(Args, strict_vars(F, Acc));
strict_vars({Op, _, X}, Acc) when Op =:= tuple; Op =:= block -> strict_vars(X, Acc);
strict_vars({cons, _, H, T}, Acc) -> strict_vars(T, strict_vars(H, Acc));
strict_vars({op, _, O, L, R}, Acc) when O =/= 'andalso', O =/= 'orelse' -> strict_vars(R, strict_vars(L, Acc));
strict_vars({op, _, _, X}, Acc) -> strict_vars(X, Acc);
strict_vars({'case', _, X, _}, Acc) -> strict_vars(X, Acc);
strict_vars([H | T], Acc) -> strict_vars(T, strict_vars(H, Acc));
strict_vars(_, Acc) -> Acc.

replace({var, _, V} = E, Map) -> maps:get(V, Map, E);
replace(T, Map) when is_tuple(T) -> list_to_tuple(replace(tuple_to_list(T), Map));
replace([H | T], Map) -> [replace(H, Map) | replace(T, Map)];
replace(X, _) -> X.

%% Which features need each function: 0 for main's own (always sent), else a bit per feature
%% (-part({Name, [{Fun, Arity}]}), in order) whose functions reach it without passing through
%% another feature's.
masks(Funs, Features) ->
    Calls = maps:from_list([{{N, A}, lists:usort(local_calls(Cs, []))} || {N, A, Cs} <- Funs]),
    Roots = lists:append([Fs || {_, Fs} <- Features]),
    Base = reach([{main, 1}], Roots, Calls),
    Bits = [{1 bsl I, reach(Fs, Roots -- Fs, Calls)} || {{_, Fs}, I} <- lists:zip(Features, lists:seq(0, length(Features) - 1))],
    [case lists:member({N, A}, Base) of
         true -> 0;
         false ->
             case lists:sum([B || {B, Set} <- Bits, lists:member({N, A}, Set)]) of
                 0 -> die("~p/~p is called by nothing", [N, A]);
                 M -> M
             end
     end || {N, A, _} <- Funs].

local_calls({call, _, {atom, _, F}, Args}, Acc) -> local_calls(Args, [{F, length(Args)} | Acc]);
local_calls(T, Acc) when is_tuple(T) -> local_calls(tuple_to_list(T), Acc);
local_calls([H | T], Acc) -> local_calls(T, local_calls(H, Acc));
local_calls(_, Acc) -> Acc.

reach(Starts, Stop, Calls) -> reach(Starts, Stop, Calls, []).
reach([], _, _, Seen) -> Seen;
reach([F | Rest], Stop, Calls, Seen) ->
    case lists:member(F, Seen) orelse lists:member(F, Stop) of
        true -> reach(Rest, Stop, Calls, Seen);
        false -> reach(maps:get(F, Calls, []) ++ Rest, Stop, Calls, [F | Seen])
    end.

remote(M, F, Args) ->
    {call, 0, {'fun', 0, {function, {atom, 0, M}, {atom, 0, F}, {integer, 0, length(Args)}}}, Args}.

arg(I) -> list_to_atom("$A" ++ integer_to_list(I)).

%% A function of one clause whose arguments are all variables binds them directly; any other
%% binds '$A1'... and matches its clauses against them (a case): fewer bindings, less work for
%% erl_eval, which merges them at every argument it evaluates.
params(Arity, [{clause, _, Ps, [], _}]) ->
    Vars = [V || {var, _, V} <- Ps, V =/= '_'],
    case length(Vars) =:= Arity andalso length(lists:usort(Vars)) =:= Arity of
        true -> Vars;
        false -> [arg(K) || K <- lists:seq(1, Arity)]
    end;
params(Arity, _) -> [arg(K) || K <- lists:seq(1, Arity)].

%% erl_eval:expr(erlang:get(100 + I), #{Param1 => Arg1, ...}, none, none, value)
proc_call({I, Params}, Args) ->
    Keys = [{atom, 0, {var_key, V}} || V <- Params],
    Bindings = {map, 0, [{map_field_assoc, 0, K, V} || {K, V} <- lists:zip(Keys, Args)]},
    remote(erl_eval, expr, [remote(erlang, get, [{integer, 0, 100 + I}]), Bindings,
                            {atom, 0, none}, {atom, 0, none}, {atom, 0, value}]).

%% A procedure that makes three calls or more of funs it calls twice or more gets them as variables, bound at its
%% start from a tuple of fun values sent as a constant (key 100 + N + J): erl_eval evaluates a
%% call of a variable's fun in half the time of a call of `fun M:F/A`, which it builds anew
%% (three evaluated atoms or integers, three merges of the bindings) every time. Returns the
%% procedures (with the constants after them) and [{Procedure, Constant}].
fun_vars(Procs, N) ->
    {Ps, Tabs} = lists:unzip([fun_vars_of(P, I) || {P, I} <- lists:zip(Procs, lists:seq(1, length(Procs)))]),
    Used = [{I, T} || {I, T} <- lists:zip(lists:seq(1, length(Tabs)), Tabs), T =/= none],
    Put = maps:from_list([{I, N + J} || {{I, _}, J} <- lists:zip(Used, lists:seq(1, length(Used)))]),
    {[case maps:find(I, Put) of
          {ok, K} -> {block, 0, [{match, 0, {tuple, 0, [{var, 0, V} || {V, _} <- element(2, lists:keyfind(I, 1, Used))]},
                                  remote(erlang, get, [{integer, 0, 100 + K}])}, P]};
          error -> P
      end || {P, I} <- lists:zip(Ps, lists:seq(1, length(Ps)))]
     ++ [{const, list_to_tuple([erlang:make_fun(M, F, A) || {_, {M, F, A}} <- T])} || {_, T} <- Used],
     [{I, T} || {I, T} <- Used]}.

fun_vars_of({const, _} = C, _) -> {C, none};
fun_vars_of(P, _) ->
    Calls = fun_nodes(P, []),
    %% a fun used once would only grow every scope's bindings
    Distinct = [MFA || MFA <- lists:usort(Calls), length([C || C <- Calls, C =:= MFA]) >= 2],
    case length([C || C <- Calls, lists:member(C, Distinct)]) >= 3 of
        false -> {P, none};
        true ->
            Vars = [{list_to_atom("$F" ++ integer_to_list(J)), MFA} || {MFA, J} <- lists:zip(Distinct, lists:seq(1, length(Distinct)))],
            {replace_funs(P, maps:from_list([{MFA, V} || {V, MFA} <- Vars])), Vars}
    end.

fun_nodes({'fun', _, {function, {atom, _, M}, {atom, _, F}, {integer, _, A}}}, Acc) -> [{M, F, A} | Acc];
fun_nodes(T, Acc) when is_tuple(T) -> fun_nodes(tuple_to_list(T), Acc);
fun_nodes([H | T], Acc) -> fun_nodes(T, fun_nodes(H, Acc));
fun_nodes(_, Acc) -> Acc.

replace_funs({'fun', A, {function, {atom, _, M}, {atom, _, F}, {integer, _, N}}} = E, Vars) ->
    case maps:find({M, F, N}, Vars) of
        {ok, V} -> {var, A, V};
        error -> E
    end;
replace_funs(T, Vars) when is_tuple(T) -> list_to_tuple(replace_funs(tuple_to_list(T), Vars));
replace_funs([H | T], Vars) -> [replace_funs(H, Vars) | replace_funs(T, Vars)];
replace_funs(X, _) -> X.

%% A constant: a function of no argument whose body is one literal. Its procedure is its value:
%% a call of it is erlang:get(100 + I), no term is built by erl_eval.
const({_, 0, [{clause, _, [], [], [E]}]}) ->
    try {ok, erl_parse:normalise(E)} catch _:_ -> error end;
const(_) -> error.

unconst({const, V}) -> V;
unconst(P) -> P.

%% A function as one expression over its arguments '$A1'...: a case over them for its clauses.
proc(F, Index) ->
    case const(F) of
        {ok, V} -> {const, V};
        error -> proc_body(F, Index)
    end.

proc_body({Name, Arity, Clauses}, Index) ->
    [die("~p/~p: guards are not allowed (erl_eval checks them with erl_lint)", [Name, Arity]) || {clause, _, _, [_ | _], _} <- Clauses],
    Args = [{var, 0, arg(K)} || K <- lists:seq(1, Arity)],
    Body = fun(B) -> {block, 0, expr(B, Index, {Name, Arity})} end,
    Direct = element(2, maps:get({Name, Arity}, Index)) =/= [arg(K) || K <- lists:seq(1, Arity)],
    case {Arity, Clauses} of
        {0, [{clause, _, [], [], B}]} -> Body(B);
        {_, [{clause, _, _, [], B}]} when Direct -> Body(B);
        {1, _} -> {'case', 0, hd(Args), [{clause, A, [P], [], [Body(B)]} || {clause, A, [P], [], B} <- Clauses]};
        _ -> {'case', 0, {tuple, 0, Args}, [{clause, A, [{tuple, A, Ps}], [], [Body(B)]} || {clause, A, Ps, [], B} <- Clauses]}
    end.

%% The forms erl_eval runs with modules every node has loaded; anything else fails the build.
expr({call, _, {atom, _, F}, Args}, Index, Where) ->
    case maps:find({F, length(Args)}, Index) of
        {ok, {I, const}} -> remote(erlang, get, [{integer, 0, 100 + I}]);
        {ok, Proc} -> proc_call(Proc, expr(Args, Index, Where));
        error -> die("~p: call of ~p/~p, which is no function here (write erlang:~p)", [Where, F, length(Args), F])
    end;
expr({call, A, {remote, _, {atom, _, M}, {atom, _, F}}, Args}, Index, Where) ->
    {call, A, {'fun', A, {function, {atom, A, M}, {atom, A, F}, {integer, A, length(Args)}}}, expr(Args, Index, Where)};
expr({call, _, {remote, _, _, _}, _}, _, Where) -> die("~p: a call whose module or function is not literal", [Where]);
expr({'fun', _, {function, {atom, _, _}, {atom, _, _}, {integer, _, _}}} = F, _, _) -> F;
expr({'fun', _, _}, _, Where) -> die("~p: funs are not allowed (erl_eval runs erl_lint on each)", [Where]);
expr({named_fun, _, _, _}, _, Where) -> die("~p: funs are not allowed", [Where]);
expr({clause, _, _, [_ | _], _}, _, Where) -> die("~p: guards are not allowed", [Where]);
expr({lc, A, E, Qs}, Index, Where) ->
    [die("~p: comprehension filters are not allowed (erl_eval checks them with erl_lint)", [Where]) || Q <- Qs, element(1, Q) =/= generate],
    {lc, A, expr(E, Index, Where), expr(Qs, Index, Where)};
expr({Bad, _, _}, _, Where) when Bad =:= bin; Bad =:= map; Bad =:= 'if'; Bad =:= 'receive' ->
    die("~p: ~p is not allowed", [Where, Bad]);
expr({Bad, _, _, _}, _, Where) when Bad =:= bc; Bad =:= mc; Bad =:= map; Bad =:= record; Bad =:= record_index ->
    die("~p: ~p is not allowed", [Where, Bad]);
expr({Bad, _, _, _, _}, _, Where) when Bad =:= 'receive'; Bad =:= record; Bad =:= record_field ->
    die("~p: ~p is not allowed", [Where, Bad]);
expr(T, Index, Where) when is_tuple(T) -> list_to_tuple(expr(tuple_to_list(T), Index, Where));
expr([H | T], Index, Where) -> [expr(H, Index, Where) | expr(T, Index, Where)];
expr(X, _, _) -> X.

vars({const, _}, Acc) -> Acc;
vars({var, _, V}, Acc) -> [V | Acc];
vars({var_key, V}, Acc) -> [V | Acc];
vars(T, Acc) when is_tuple(T) -> vars(tuple_to_list(T), Acc);
vars([H | T], Acc) -> vars(T, vars(H, Acc));
vars(_, Acc) -> Acc.

rename({const, _} = C, _) -> C;
rename({var, A, '_'}, _) -> {var, A, '_'};
rename({var, A, V}, M) -> {var, A, maps:get(V, M)};
rename({atom, A, {var_key, V}}, M) -> {atom, A, maps:get(V, M)};
rename(T, M) when is_tuple(T) -> list_to_tuple(rename(tuple_to_list(T), M));
rename([H | T], M) -> [rename(H, M) | rename(T, M)];
rename(X, _) -> X.

atoms(A, Acc) when is_atom(A) -> [A | Acc];
atoms(F, Acc) when is_function(F) ->
    {module, M} = erlang:fun_info(F, module),
    {name, N} = erlang:fun_info(F, name),
    [M, N | Acc];
atoms(T, Acc) when is_tuple(T) -> atoms(tuple_to_list(T), Acc);
atoms([H | T], Acc) -> atoms(T, atoms(H, Acc));
atoms(_, Acc) -> Acc.

%% External funs (fun M:F/A values, in the constants of the procedures and in the parameters):
%% binary_to_term(B, [safe]) refuses one the target's export table lacks.
ext_funs(F, Acc) when is_function(F) ->
    case erlang:fun_info(F, type) of
        {type, external} ->
            {module, M} = erlang:fun_info(F, module),
            {name, N} = erlang:fun_info(F, name),
            {arity, A} = erlang:fun_info(F, arity),
            [{M, N, A} | Acc];
        _ -> die("a local fun cannot be sent: ~p", [F])
    end;
ext_funs(T, Acc) when is_tuple(T) -> ext_funs(tuple_to_list(T), Acc);
ext_funs([H | T], Acc) -> ext_funs(T, ext_funs(H, Acc));
ext_funs(_, Acc) -> Acc.

%% Check the atoms, the external funs and the Samples (files decoded whole with [safe]) in a bare
%% VM of this escript's OTP and of every other release installed (scripts/otp-release.sh
%% installed): the target may run any of them, and each has atoms and exports the others lack.
%% Returns which releases were checked, for the build's output.
check_bare(Atoms, Funs, Samples, Out) ->
    Own = erlang:system_info(otp_release),
    Script = filename:join(filename:dirname(filename:absname(escript:script_name())), "otp-release.sh"),
    Others = [{Rel, Erl} || Line <- string:split(os:cmd(Script ++ " installed 2>/dev/null"), "\n", all),
                            [Rel, Erl] <- [string:split(Line, " ")], Rel =/= Own],
    VMs = [{Own, filename:join([code:root_dir(), "bin", "erl"])} | Others],
    Bad = [{Rel, Missing} || {Rel, Erl} <- VMs, Missing <- [check_in(Erl, Atoms, Funs, Samples, Out)], Missing =/= ok],
    Bad =:= [] orelse die("in a bare VM of OTP ~s (pass such names as binaries in the parameters, or build the "
                          "term on the target): ~s", [element(1, hd(Bad)), element(2, hd(Bad))]),
    case Others of
        [] -> "OTP " ++ Own ++ " alone (the only release installed; scripts/otp-release.sh fetch 27|29 adds others)";
        _ -> "OTP " ++ lists:join(", ", [Rel || {Rel, _} <- VMs])
    end.

%% Ask a bare VM (erl -boot start_clean), by name as text, which atoms it lacks: binary_to_existing_atom
%% creates none. Running the check loads modules of its own (erl_scan, io_lib, ...): an atom found
%% only in the atom tables of such modules, and in none of those every distributed node has loaded
%% (kernel's first primLoad group of the boot script, the distribution's, re, string, ...), counts
%% as lacking too. Atoms in no module at all are the runtime's own. Then which funs M:F/A its
%% export table lacks (binary_to_term(EXPORT_EXT, [safe])), and which samples it refuses.
check_in(Erl, Atoms, Funs, Samples, Out) ->
    List = Out ++ ".atoms",
    ok = file:write_file(List, [[[atom_to_binary(A, utf8), $\n] || A <- Atoms],
                                [[$\t, atom_to_binary(M, utf8), $\t, atom_to_binary(F, utf8), $\t, integer_to_list(A), $\n]
                                 || {M, F, A} <- Funs],
                                [["\t\t", S, $\n] || S <- Samples]]),
    Eval = "{ok, B} = file:read_file(\"" ++ List ++ "\"), "
           "Lines = [binary:split(L, <<\"\\t\">>, [global]) || L <- binary:split(B, <<\"\\n\">>, [global]), L =/= <<>>], "
           "{ok, [{script, _, Is}]} = file:consult(filename:join([code:root_dir(), \"releases\", "
           "    erlang:system_info(otp_release), \"start.script\"])), "
           "[First | _] = [Ms || {primLoad, Ms} <- Is], "
           "Always = First ++ [net_kernel, global, global_group, rpc, erpc, erl_distribution, inet_db, inet, "
           "    re, string, binary, maps, unicode_util, os, proplists, orddict], "
           "Of = fun(M) -> case code:which(M) of F when is_list(F) -> "
           "    case beam_lib:chunks(F, [atoms]) of {ok, {_, [{atoms, L}]}} -> [A || {_, A} <- L]; _ -> [] end; "
           "    _ -> [] end end, "
           "Pre = [[M | [F || {F, _} <- M:module_info(exports)]] || M <- erlang:pre_loaded()], "
           "Info = fun Walk(T) when is_atom(T) -> [T]; Walk(T) when is_tuple(T) -> Walk(tuple_to_list(T)); "
           "    Walk([H | T]) -> Walk(H) ++ Walk(T); Walk(_) -> [] end, "
           "Base = lists:append([Of(M) || M <- Always]) ++ lists:append(Pre) ++ Info(erlang:module_info()), "
           "Extra = lists:append([Of(M) || {M, _} <- code:all_loaded(), not lists:member(M, Always)]), "
           "Lacks = fun(N) -> case catch binary_to_existing_atom(N, utf8) of "
           "        A when is_atom(A) -> lists:member(A, Extra) andalso not lists:member(A, Base); "
           "        _ -> true end end, "
           "BadAtoms = [N || [N] <- Lines, Lacks(N)], "
           "BadFuns = [{M, F, A} || [<<>>, M, F, A] <- Lines, "
           "    Lacks(M) orelse Lacks(F) orelse case catch binary_to_term(<<131, 113, 119, (byte_size(M)), M/binary, "
           "        119, (byte_size(F)), F/binary, 97, (binary_to_integer(A))>>, [safe]) of "
           "        Fun when is_function(Fun) -> false; _ -> true end], "
           "BadSamples = [S || [<<>>, <<>>, S] <- Lines, "
           "    case catch binary_to_term(element(2, file:read_file(S)), [safe]) of {'EXIT', _} -> true; _ -> false end], "
           "io:format(\"~p~n\", [{BadAtoms, BadFuns, BadSamples}]), halt().",
    Port = open_port({spawn_executable, Erl},
                     [{args, ["-boot", "start_clean", "-noshell", "-eval", Eval]}, exit_status, stderr_to_stdout, binary]),
    Reply = collect(Port, <<>>),
    file:delete(List),
    case Reply of
        {0, <<"{[],[],[]}\n">>} -> ok;
        {_, Missing} -> io_lib:format("{atoms, external funs M:F/A, sample files} it lacks or refuses: ~s", [Missing])
    end.

collect(Port, Acc) ->
    receive
        {Port, {data, D}} -> collect(Port, <<Acc/binary, D/binary>>);
        {Port, {exit_status, S}} -> {S, Acc}
    end.

header(In, Body, BinVar, Chunks, Masks, Features, Names) ->
    {Table, _} = lists:mapfoldl(fun({{C, M}, {N, A}}, Off) ->
                                        {io_lib:format("    { ~b, ~b, 0x~.16bu }, /* ~p/~p */~n", [Off, byte_size(C), M, N, A]), Off + byte_size(C)}
                                end,
                                0, lists:zip(lists:zip(Chunks, Masks), Names)),
    ["/* oneround_expr.h: generated by scripts/gen_oneround.escript from ", In, "; do not edit. */\n",
     "#ifndef BP_ONEROUND_EXPR_H\n#define BP_ONEROUND_EXPR_H\n\n",
     [io_lib:format("#define BP__OR_FEATURE_~s 0x~.16bu~n", [string:uppercase(atom_to_list(N)), 1 bsl I])
      || {{N, _}, I} <- lists:zip(Features, lists:seq(0, length(Features) - 1))],
     "\n/* The variable bound to term_to_binary of the parameters in the bindings of erl_eval:expr/5. */\n",
     io_lib:format("#define BP__ONEROUND_BIN_VAR \"~s\"~n~n", [BinVar]),
     "/* The Expr of erl_eval:expr/5 in external term format (no version byte). */\n",
     bytes("bp__oneround_expr", Body),
     "/* The procedures, each in external term format (no version byte), one after another. */\n",
     bytes("bp__oneround_proc_bytes", iolist_to_binary(Chunks)),
     "/* Each procedure: offset and length in bp__oneround_proc_bytes, the features that need it (0: always). */\n",
     "static const struct {\n    unsigned off, len, features;\n} bp__oneround_procs[] = {\n", Table, "};\n",
     "\n#endif\n"].

%% scripts/analyze.sh defines BP_ANALYZE_NO_BYTES for cppcheck alone: an array of one byte then
%% stands for the bytes, whose tens of KB of initialiser cost its value flow over 25 s a run and
%% hold nothing to check (clang-tidy, scan-build and the compilers see the real bytes).
bytes(Name, Bin) ->
    Lines = chunks([io_lib:format("~b,", [B]) || <<B>> <= Bin], 20),
    ["#ifndef BP_ANALYZE_NO_BYTES\n",
     "static const unsigned char ", Name, "[] = {\n", [["    ", L, "\n"] || L <- Lines], "};\n",
     "#else\nstatic const unsigned char ", Name, "[1] = { 0 };\n#endif\n"].

chunks([], _) -> [];
chunks(L, N) when length(L) =< N -> [L];
chunks(L, N) -> {H, T} = lists:split(N, L), [H | chunks(T, N)].
