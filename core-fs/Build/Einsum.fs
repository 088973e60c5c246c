/// Einstein summation over one or two operands, lowered to the primitives: diagonals for a
/// letter repeated within an operand, sums for letters only one operand has, and one (batched)
/// matmul for the letters both share, followed by a permutation into the output's order.
namespace FunctionalDiff.Core

open System

/// torch.einsum for one and two operands (no ellipsis).
[<RequireQualifiedAccess>]
module Einsum =

    let private fail (detail: string) : 'a = Shape.fail "Einsum" detail

    /// The operands' letters and the output's: explicit after "->", or else torch's implicit
    /// output, the letters that occur exactly once, in alphabetical order.
    let private parse (equation: string) (count: int) =
        if isNull equation then nullArg "equation"
        let text = equation.Replace(" ", "")
        if text.Contains "." then fail (sprintf "equation \"%s\": ellipsis (...) is not supported" equation)
        let left, output =
            match text.IndexOf "->" with
            | -1 -> text, None
            | i -> text.Substring(0, i), Some(text.Substring(i + 2))
        let operands = left.Split ','
        if operands.Length <> count then
            fail (sprintf "equation \"%s\" names %d operands but %d were given" equation operands.Length count)
        for letters in Array.append operands (Option.toArray output) do
            for c in letters do
                if not (Char.IsLetter c) then fail (sprintf "equation \"%s\": '%c' is not a letter" equation c)
        let all = String.Concat operands
        let output =
            match output with
            | Some o ->
                if o |> Seq.distinct |> Seq.length <> o.Length then fail (sprintf "equation \"%s\": an output letter repeats" equation)
                for c in o do
                    if not (all.Contains c) then fail (sprintf "equation \"%s\": output letter '%c' is in no operand" equation c)
                o
            | None -> all |> Seq.countBy id |> Seq.filter (fun (_, n) -> n = 1) |> Seq.map fst |> Seq.sort |> String.Concat
        operands, output

    /// One operand with its letters checked against its rank, each repeated letter reduced to a
    /// diagonal, and the letters no one else needs summed away.
    let private prepare (equation: string) (keep: char -> bool) (letters: string) (x: Expr) =
        if letters.Length <> x.Rank then
            fail (sprintf "equation \"%s\": \"%s\" has %d letters for an operand of shape %s" equation letters letters.Length (Shape.format x.Dims))
        let mutable x = x
        let mutable letters = List.ofSeq letters
        let mutable repeated = letters |> List.countBy id |> List.tryFind (fun (_, n) -> n > 1)
        while repeated.IsSome do
            let c = fst repeated.Value
            let i = List.findIndex ((=) c) letters
            let j = List.findIndexBack ((=) c) letters
            if x.Dims.[i] <> x.Dims.[j] then
                fail (sprintf "equation \"%s\": letter '%c' has lengths %d and %d in shape %s" equation c x.Dims.[i] x.Dims.[j] (Shape.format x.Dims))
            x <- Indexing.diagonal 0 i j x
            letters <- (letters |> List.indexed |> List.filter (fun (k, _) -> k <> i && k <> j) |> List.map snd) @ [ c ]
            repeated <- letters |> List.countBy id |> List.tryFind (fun (_, n) -> n > 1)
        let dropped = letters |> List.indexed |> List.filter (fun (_, c) -> not (keep c)) |> List.map fst |> Array.ofList
        let x = if dropped.Length = 0 then x else Expr.sumAxes dropped false x
        x, letters |> List.filter keep |> Array.ofList

    /// Moves the axes named by `order` (letters of `letters`) into that order.
    let private arrange (letters: char[]) (order: char[]) (x: Expr) =
        Expr.permute (order |> Array.map (fun c -> Array.IndexOf(letters, c))) x

    let private lengthOf (letters: char[]) (x: Expr) (c: char) = x.Dims.[Array.IndexOf(letters, c)]

    /// torch.einsum with one operand: transposes, diagonals, traces and sums.
    let einsum1 (equation: string) (x: Expr) =
        let operands, output = parse equation 1
        let x, letters = prepare equation (fun c -> output.Contains c) operands.[0] x
        arrange letters (output.ToCharArray()) x

    /// torch.einsum with two operands, lowered to one matmul over the shared letters: batch
    /// letters (in both and the output), contracted letters (in both, not the output), and each
    /// operand's own letters, flattened into [batch, rows, inner] @ [batch, inner, columns].
    let einsum2 (equation: string) (a: Expr) (b: Expr) =
        let operands, output = parse equation 2
        let inA, inB = operands.[0], operands.[1]
        let a, lettersA = prepare equation (fun c -> output.Contains c || inB.Contains c) inA a
        let b, lettersB = prepare equation (fun c -> output.Contains c || inA.Contains c) inB b
        let shared = lettersA |> Array.filter (fun c -> Array.contains c lettersB)
        for c in shared do
            if lengthOf lettersA a c <> lengthOf lettersB b c then
                fail (sprintf "equation \"%s\": letter '%c' has length %d in the first operand %s and %d in the second %s"
                          equation c (lengthOf lettersA a c) (Shape.format a.Dims) (lengthOf lettersB b c) (Shape.format b.Dims))
        let batch = shared |> Array.filter (fun c -> output.Contains c)
        let contracted = shared |> Array.filter (fun c -> not (output.Contains c))
        let onlyA = lettersA |> Array.filter (fun c -> not (Array.contains c lettersB))
        let onlyB = lettersB |> Array.filter (fun c -> not (Array.contains c lettersA))
        let size (letters: char[]) (x: Expr) (group: char[]) = group |> Array.fold (fun n c -> n * lengthOf letters x c) 1
        let lengths (letters: char[]) (x: Expr) (group: char[]) = group |> Array.map (lengthOf letters x)
        let batchSize, rows, inner, columns = size lettersA a batch, size lettersA a onlyA, size lettersA a contracted, size lettersB b onlyB
        let left = Expr.reshape [| batchSize; rows; inner |] (arrange lettersA (Array.concat [ batch; onlyA; contracted ]) a)
        let right = Expr.reshape [| batchSize; inner; columns |] (arrange lettersB (Array.concat [ batch; contracted; onlyB ]) b)
        // without batch letters the product is a plain matrix product, which plans run directly
        let product =
            if batch.Length = 0 then Expr.matmul (Expr.reshape [| rows; inner |] left) (Expr.reshape [| inner; columns |] right)
            else Expr.matmul left right
        let resultLetters = Array.concat [ batch; onlyA; onlyB ]
        let result = Expr.reshape (Array.concat [ lengths lettersA a batch; lengths lettersA a onlyA; lengths lettersB b onlyB ]) product
        arrange resultLetters (output.ToCharArray()) result
