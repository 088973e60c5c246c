/// User-defined ops with their own VJP (like jax.custom_vjp or torch.autograd.Function). Both the
/// forward function and the rule are written in the op language, so the op stays differentiable
/// at every order: the rule's graph is differentiated again like any other.
namespace FunctionalDiff.Core

/// Construction of custom ops.
[<RequireQualifiedAccess>]
module CustomVjp =

    /// An op computing `forward x` whose VJP is `vjp x g` (g the output cotangent; the result
    /// must have x's shape). Forward mode transposes the rule, which is exact when the rule is
    /// linear in g. The rule is registered once, here, not on every application; the returned
    /// function and the nodes it builds keep the rule alive, and nothing else does.
    let define (name: string) (forward: Expr -> Expr) (vjp: Expr -> Expr -> Expr) : Expr -> Expr =
        if isNull (box forward) then nullArg "forward"
        if isNull (box vjp) then nullArg "vjp"
        let rule = CustomRules.register name vjp
        fun x -> Expr.custom rule x (forward x)

    /// An op of several inputs computing `forward xs` whose VJP is `vjp xs g`: one cotangent per
    /// input, of that input's shape and dtype, or null for a zero cotangent (an input the op's
    /// derivative ignores, as None in torch.autograd.Function). The inputs travel as one flat
    /// vector through the one-input op, so every transform that handles `define` handles this and
    /// the rule stays in the op language; `forward` and `vjp` see them split back into their own
    /// shapes. The inputs must share a dtype, as the parts of one vector. One rule is registered
    /// per signature (the inputs' shapes and dtype), at its first application.
    let defineMany (name: string) (forward: Expr list -> Expr) (vjp: Expr list -> Expr -> Expr list) : Expr list -> Expr =
        if isNull (box forward) then nullArg "forward"
        if isNull (box vjp) then nullArg "vjp"
        let flatten (parts: Expr[]) = Expr.concat 0 (parts |> Array.map (Expr.reshape [| -1 |]))
        // The one-input op for inputs of these shapes and dtype. Its closures hold the shapes, never
        // the nodes of the application that made it.
        let forSignature (shapes: int[][]) (dtype: DType) : Expr -> Expr =
            let starts = Array.scan (+) 0 (shapes |> Array.map Shape.numel)
            let split (z: Expr) =
                List.init shapes.Length (fun i -> Expr.reshape shapes.[i] (Expr.sliceAxis 0 starts.[i] starts.[i + 1] z))
            let rule (z: Expr) (g: Expr) =
                let cotangents = vjp (split z) g
                if isNull (box cotangents) then invalidOp (sprintf "CustomVjp: the VJP rule of '%s' returned null" name)
                let cotangents = Array.ofList cotangents
                if cotangents.Length <> shapes.Length then
                    Shape.fail "CustomVjp"
                        (sprintf "the VJP rule of '%s' returned %d cotangents for %d inputs" name cotangents.Length shapes.Length)
                cotangents
                |> Array.mapi (fun i c ->
                    if isNull (box c) then Expr.zeros dtype shapes.[i]
                    elif c.Dims <> shapes.[i] || c.DType <> dtype then
                        Shape.fail "CustomVjp"
                            (sprintf "the VJP rule of '%s' returned %O%s for input %d of %O%s"
                                 name c.DType (Shape.format c.Dims) i dtype (Shape.format shapes.[i]))
                    else c)
                |> flatten
            define name (fun z -> forward (split z)) rule
        let bySignature = System.Collections.Generic.Dictionary<string, Expr -> Expr>()
        fun (inputs: Expr list) ->
            let xs = Array.ofList inputs
            if xs.Length = 0 then Shape.fail "CustomVjp" (sprintf "'%s' needs at least one input" name)
            xs |> Array.iteri (fun i x -> if isNull (box x) then nullArg (sprintf "inputs[%d]" i))
            let dtype = xs.[0].DType
            match xs |> Array.tryFindIndex (fun x -> x.DType <> dtype) with
            | Some i ->
                Shape.fail "CustomVjp"
                    (sprintf "the inputs of '%s' must share a dtype: input 0 is %O, input %d is %O" name dtype i xs.[i].DType)
            | None -> ()
            let shapes = xs |> Array.map (fun x -> x.Shape)
            let signature = System.String.Join(";", shapes |> Array.map Shape.format) + ":" + string dtype
            let one =
                lock bySignature (fun () ->
                    match bySignature.TryGetValue signature with
                    | true, one -> one
                    | _ ->
                        let one = forSignature shapes dtype
                        bySignature.[signature] <- one
                        one)
            one (flatten xs)
