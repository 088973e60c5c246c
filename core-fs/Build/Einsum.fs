/// Einstein summation, lowered to the primitives: diagonals for a letter repeated within an
/// operand, sums for letters only one operand has, and one (batched) matmul for the letters two
/// operands share (more than two are contracted from left to right, two at a time), followed by a
/// permutation into the output's order. An ellipsis is first spelled out in letters the equation
/// does not use.
namespace FunctionalDiff.Core

open System

/// torch.einsum for any number of operands, with ellipsis.
[<RequireQualifiedAccess>]
module Einsum =

    let private fail (detail: string) : 'a = Shape.fail "Einsum" detail

    /// Letters an equation may use for the axes of an ellipsis: those it does not name itself.
    let private freshLetters (text: string) =
        [| yield! [ 'A' .. 'Z' ]; yield! [ 'a' .. 'z' ] |] |> Array.filter (fun c -> not (text.Contains c))

    /// The equation (spaces removed) with each "..." spelled out, for operands of the given ranks,
    /// and the letters that stand for ellipsis axes. An operand's ellipsis covers the axes its
    /// letters do not; across operands these axes align at the right, as broadcasting aligns
    /// them, so the last axis of every ellipsis gets the same letter. An explicit output's "..."
    /// takes the letters of the longest ellipsis; an implicit output puts them first, before the
    /// letters that occur once (torch's order). Equations without "..." come back as they are.
    let private expandEllipsis (equation: string) (ranks: int[]) : string * char[] =
        let text = equation.Replace(" ", "")
        if not (text.Contains ".") then text, [||]
        else
            let left, output =
                match text.IndexOf "->" with
                | -1 -> text, None
                | i -> text.Substring(0, i), Some(text.Substring(i + 2))
            let operands = left.Split ','
            // a wrong operand count is reported by parse, on the equation as written
            if operands.Length <> ranks.Length then text, [||]
            else
                let checkDots (part: string) =
                    let rest = part.Replace("...", "")
                    if rest.Contains "." || part.Length - rest.Length > 3 then
                        fail (sprintf "equation \"%s\": an ellipsis is three dots, at most one per operand and output" equation)
                for part in Array.append operands (Option.toArray output) do checkDots part
                let covered =
                    operands |> Array.mapi (fun i part ->
                        if not (part.Contains "...") then 0
                        else
                            let named = part.Length - 3
                            if named > ranks.[i] then
                                fail (sprintf "equation \"%s\": \"%s\" names %d axes besides the ellipsis for an operand of rank %d"
                                          equation part named ranks.[i])
                            ranks.[i] - named)
                let width = Array.max covered
                let fresh = freshLetters text
                if fresh.Length < width then
                    fail (sprintf "equation \"%s\": too few unused letters for an ellipsis of %d axes" equation width)
                let spelled = String(fresh.[.. width - 1])
                let operands = operands |> Array.mapi (fun i part -> part.Replace("...", spelled.Substring(width - covered.[i])))
                let named = String.Concat(left.Split ',').Replace("...", "")
                let output =
                    match output with
                    | Some o -> o.Replace("...", spelled)
                    | None ->
                        let once = named |> Seq.countBy id |> Seq.filter (fun (_, n) -> n = 1) |> Seq.map fst |> Seq.sort |> String.Concat
                        spelled + once
                String.Join(",", operands) + "->" + output, fresh.[.. width - 1]

    /// The operands' letters and the output's: explicit after "->", or else torch's implicit
    /// output, the letters that occur exactly once, in alphabetical order.
    let private parseExpanded (equation: string) (text: string) (count: int) =
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

    /// The operands' letters, the output's, and the letters that stand for ellipsis axes.
    let private parse (equation: string) (operands: Expr[]) =
        if isNull equation then nullArg "equation"
        let text, ellipsis = expandEllipsis equation (operands |> Array.map (fun x -> x.Rank))
        let letters, output = parseExpanded equation text operands.Length
        letters, output, ellipsis

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

    /// torch.einsum with one operand: transposes, diagonals, traces and sums; "..." stands for
    /// the axes the letters do not name.
    let einsum1 (equation: string) (x: Expr) =
        let operands, output, _ = parse equation [| x |]
        let x, letters = prepare equation (fun c -> output.Contains c) operands.[0] x
        arrange letters (output.ToCharArray()) x

    /// Two operands, with letters `inA` and `inB` (no ellipsis left), contracted into `output`'s
    /// letters by one matmul over the shared letters: batch letters (in both and the output),
    /// contracted letters (in both, not the output), and each operand's own letters, flattened
    /// into [batch, rows, inner] @ [batch, inner, columns]. A shared letter of length 1 on one side
    /// takes the other side's length, as torch broadcasts every letter (an ellipsis's too).
    /// `nameA` and `nameB` say which operands these are in an error.
    let private contract (equation: string) (inA: string) (inB: string) (output: string) (nameA: string) (nameB: string) (a: Expr) (b: Expr) =
        let a, lettersA = prepare equation (fun c -> output.Contains c || inB.Contains c) inA a
        let b, lettersB = prepare equation (fun c -> output.Contains c || inA.Contains c) inB b
        let shared = lettersA |> Array.filter (fun c -> Array.contains c lettersB)
        let stretch (letters: char[]) (x: Expr) (otherLetters: char[]) (other: Expr) =
            let dims =
                letters |> Array.mapi (fun i c ->
                    if Array.contains c otherLetters && x.Dims.[i] = 1 then lengthOf otherLetters other c else x.Dims.[i])
            if Ir.sameDims dims x.Dims then x else Expr.broadcastTo dims x
        let a, b = stretch lettersA a lettersB b, stretch lettersB b lettersA a
        for c in shared do
            if lengthOf lettersA a c <> lengthOf lettersB b c then
                fail (sprintf "equation \"%s\": letter '%c' has length %d in %s %s and %d in %s %s"
                          equation c (lengthOf lettersA a c) nameA (Shape.format a.Dims) (lengthOf lettersB b c) nameB (Shape.format b.Dims))
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

    /// torch.einsum with two operands, lowered to one matmul over the shared letters (see
    /// `contract`). "..." stands for the axes the letters do not name; the two operands' ellipsis
    /// axes broadcast against each other (a length 1 stretches to the other's), as do letters.
    let einsum2 (equation: string) (a: Expr) (b: Expr) =
        let operands, output, _ = parse equation [| a; b |]
        contract equation operands.[0] operands.[1] output "the first operand" "the second" a b

    /// torch.einsum with any number of operands: one or two as einsum1 and einsum2; more are
    /// contracted from left to right, two at a time, each intermediate keeping the letters that a
    /// later operand or the output still names. Left to right is torch's own order when it is not
    /// told to optimise the path; a cheaper order is the caller's to write as nested einsums.
    let einsumN (equation: string) (operands: Expr[]) =
        if isNull operands then nullArg "operands"
        match operands.Length with
        | 0 -> fail (sprintf "equation \"%s\": at least one operand is needed" equation)
        | 1 -> einsum1 equation operands.[0]
        | 2 -> einsum2 equation operands.[0] operands.[1]
        | count ->
            let letters, output, _ = parse equation operands
            let mutable result = operands.[0]
            let mutable resultLetters = letters.[0]
            for k in 1 .. count - 1 do
                let target =
                    if k = count - 1 then output
                    else
                        let later = String.Concat(letters.[k + 1 ..]) + output
                        (resultLetters + letters.[k]) |> Seq.distinct |> Seq.filter (fun c -> later.Contains c) |> String.Concat
                let name = if k = 1 then "operand 1" else sprintf "operands 1-%d" k
                result <- contract equation resultLetters letters.[k] target name (sprintf "operand %d" (k + 1)) result operands.[k]
                resultLetters <- target
            result
