/// The VJP table: one arm per primitive, each giving the cotangent of every input from the
/// cotangent `g` of the node's output. Rules use only the op language, so their graphs can be
/// differentiated again; the compiler's exhaustiveness check proves every primitive has a rule.
namespace FunctionalDiff.Core

/// The rules. Cotangents may come back in the output's (broadcast) shape: the reverse walk sums
/// each one down to its input's shape, so rules never repeat un-broadcasting.
[<RequireQualifiedAccess>]
module Rules =

    /// Spreads the cotangent of a strided slice back into zeros of the input's shape, using only
    /// reshape, pad and unit-step slice so the result stays differentiable.
    let private unslice (starts: int[]) (steps: int[]) (inputDims: int[]) (g: Expr) =
        let rank = inputDims.Length
        let mutable spread = g
        for axis in 0 .. rank - 1 do
            let step = steps.[axis]
            if step > 1 then
                // Give each picked value step-1 zeros behind it: [.., n, ..] -> [.., n, step, ..] -> [.., n*step, ..].
                let dims = spread.Dims
                let withUnit = Expr.reshape (Array.insertAt (axis + 1) 1 dims) spread
                let after = Array.zeroCreate (rank + 1)
                after.[axis + 1] <- step - 1
                let padded = Expr.pad (Array.zeroCreate (rank + 1)) after withUnit
                spread <- Expr.reshape (Array.updateAt axis (dims.[axis] * step) dims) padded
        let kept = Array.init rank (fun a -> min spread.Dims.[a] (inputDims.[a] - starts.[a]))
        let trimmed = Expr.slice (Array.zeroCreate rank) kept (Array.create rank 1) spread
        Expr.pad starts (Array.init rank (fun a -> inputDims.[a] - starts.[a] - kept.[a])) trimmed

    /// The cotangent a max/min reduction or maximum/minimum sends to the entries that won:
    /// shared evenly among ties, as torch does. `where` keeps NaN in g away from the losers.
    let private shareAmongWinners (winner: Expr) (tie: Expr) (g: Expr) =
        let zero = Expr.scalar g.DType 0.0
        Expr.where winner g (Expr.where tie (g * 0.5) zero)

    /// The cotangents of `node`'s inputs, in order, given the cotangent g of its output. Each is
    /// lazy so the reverse walk builds only those it needs (never those of constants).
    let cotangents (node: Expr) (g: Expr) : Lazy<Expr> list =
        let args = node.Args
        let y = node
        let zeroFor (e: Expr) = lazy (Expr.zerosLike e)
        let zero = Expr.scalar g.DType 0.0
        match node.Op with
        | Op.Var _ | Op.Const _ -> []
        | Op.Unary op ->
            let x = args.[0]
            let cotangent =
                match op with
                | UnaryOp.Neg -> lazy (-g)
                | UnaryOp.Exp -> lazy (g * y)
                | UnaryOp.Log -> lazy (g / x)
                | UnaryOp.Log1p -> lazy (g / (1.0 + x))
                | UnaryOp.Expm1 -> lazy (g * (y + 1.0))
                | UnaryOp.Sin -> lazy (g * Expr.cos x)
                | UnaryOp.Cos -> lazy (g * -(Expr.sin x))
                | UnaryOp.Tan -> lazy (g * (1.0 + Expr.square y))
                | UnaryOp.Tanh -> lazy (g * (1.0 - Expr.square y))
                | UnaryOp.Sigmoid -> lazy (g * (y * (1.0 - y)))
                | UnaryOp.Relu -> lazy (Expr.where (Expr.gt x zero) g zero)
                | UnaryOp.Abs -> lazy (g * Expr.sign x)
                | UnaryOp.Sqrt -> lazy (g / (2.0 * y))
                | UnaryOp.Rsqrt -> lazy (g * (-0.5 * (y * y * y)))
                | UnaryOp.Square -> lazy (g * (2.0 * x))
                | UnaryOp.Reciprocal -> lazy (-(g * (y * y)))
                | UnaryOp.Erf -> lazy (g * (2.0 / sqrt System.Math.PI * Expr.exp (-(x * x))))
                | UnaryOp.Sign | UnaryOp.Floor | UnaryOp.Ceil | UnaryOp.Round -> zeroFor x
            [ cotangent ]
        | Op.Binary op ->
            let a, b = args.[0], args.[1]
            match op with
            | BinaryOp.Add -> [ lazy g; lazy g ]
            | BinaryOp.Sub -> [ lazy g; lazy (-g) ]
            | BinaryOp.Mul -> [ lazy (g * b); lazy (g * a) ]
            | BinaryOp.Div -> [ lazy (g / b); lazy (-(g * y / b)) ]
            | BinaryOp.Pow ->
                // torch: no cotangent through a zero exponent, nor to the exponent where the base is 0.
                [ lazy (Expr.where (Expr.eq b zero) zero (g * (b * a ** (b - 1.0))))
                  lazy (Expr.where (Expr.eq a zero * Expr.ge b zero) zero (g * (y * Expr.log a))) ]
            | BinaryOp.Maximum ->
                [ lazy (shareAmongWinners (Expr.gt a b) (Expr.eq a b) g)
                  lazy (shareAmongWinners (Expr.lt a b) (Expr.eq a b) g) ]
            | BinaryOp.Minimum ->
                [ lazy (shareAmongWinners (Expr.lt a b) (Expr.eq a b) g)
                  lazy (shareAmongWinners (Expr.gt a b) (Expr.eq a b) g) ]
            | BinaryOp.Atan2 ->
                [ lazy (g * b / (a * a + b * b)); lazy (-(g * a) / (a * a + b * b)) ]
            | BinaryOp.Less | BinaryOp.LessEqual | BinaryOp.Greater | BinaryOp.GreaterEqual
            | BinaryOp.Equal | BinaryOp.NotEqual -> [ zeroFor a; zeroFor b ]
        | Op.Where ->
            let mask = args.[0]
            [ zeroFor mask; lazy (Expr.where mask g zero); lazy (Expr.where mask zero g) ]
        | Op.Reduce(op, axes, keepDims) ->
            let x = args.[0]
            let kept = Shape.reduced x.Dims axes true
            let gKept = if keepDims then g else Expr.reshape kept g
            let count = axes |> Array.fold (fun n a -> n * x.Dims.[a]) 1
            let cotangent =
                match op with
                | ReduceOp.Sum -> lazy (Expr.broadcastTo x.Dims gKept)
                | ReduceOp.Mean -> lazy (Expr.broadcastTo x.Dims (gKept / float count))
                | ReduceOp.Max | ReduceOp.Min ->
                    lazy (
                        let winners = Expr.eq x (Expr.reshape kept y)
                        let ties = Expr.sumAxes axes true winners
                        Expr.where winners (gKept / ties) zero)
                // Division by x: undefined where an entry is exactly 0 (torch special-cases it).
                | ReduceOp.Prod -> lazy (gKept * Expr.reshape kept y / x)
            [ cotangent ]
        | Op.ArgMax _ -> [ zeroFor args.[0] ]
        | Op.MatMul ->
            // Lift vectors to matrices, take the matrix rule (g bᵀ and aᵀ g), and drop the unit axes again.
            let a, b = args.[0], args.[1]
            let a2 = if a.Rank = 1 then Expr.reshape [| 1; a.Dims.[0] |] a else a
            let b2 = if b.Rank = 1 then Expr.reshape [| b.Dims.[0]; 1 |] b else b
            let g2 = lazy (Expr.reshape (Expr.matmul a2 b2).Dims g)
            [ lazy (Expr.matmul g2.Value (Expr.transpose b2) |> Expr.sumTo a2.Dims |> Expr.reshape a.Dims)
              lazy (Expr.matmul (Expr.transpose a2) g2.Value |> Expr.sumTo b2.Dims |> Expr.reshape b.Dims) ]
        | Op.Permute permutation ->
            let inverse = Array.zeroCreate permutation.Length
            permutation |> Array.iteri (fun i p -> inverse.[p] <- i)
            [ lazy (Expr.permute inverse g) ]
        | Op.Reshape _ -> [ lazy (Expr.reshape args.[0].Dims g) ]
        | Op.BroadcastTo _ -> [ lazy (Expr.sumTo args.[0].Dims g) ]
        | Op.Slice(starts, _, steps) -> [ lazy (unslice starts steps args.[0].Dims g) ]
        | Op.Pad(before, _) ->
            let x = args.[0]
            [ lazy (Expr.slice before (Array.map2 (+) before x.Dims) (Array.create x.Rank 1) g) ]
        | Op.Concat axis ->
            let offsets = args |> Array.scan (fun o (p: Expr) -> o + p.Dims.[axis]) 0
            args |> Array.mapi (fun i _ -> lazy (Expr.sliceAxis axis offsets.[i] offsets.[i + 1] g)) |> List.ofArray
        | Op.Flip axes -> [ lazy (Expr.flip axes g) ]
        | Op.Gather axis ->
            let source, index = args.[0], args.[1]
            [ lazy (Expr.scatterAdd axis index g source.Dims); zeroFor index ]
        | Op.ScatterAdd(axis, _) ->
            let index = args.[0]
            [ zeroFor index; lazy (Expr.gather axis index g) ]
        | Op.Cast _ -> [ lazy (Expr.cast args.[0].DType g) ]
        | Op.StopGradient -> [ zeroFor args.[0] ]
        // The user's rule, applied to the node's current x: after a substitution the rebuilt node
        // carries the new x, so the rule is re-applied there. The forward graph gets no cotangent.
        | Op.Custom(id, _) -> [ lazy (CustomRules.cotangent id args.[0] g); zeroFor args.[1] ]
