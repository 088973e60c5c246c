/// Text form of tensor values, laid out the way PyTorch's `str(tensor)` prints them (its default
/// print options: precision 4, threshold 1000, 3 edge items, 80 columns), so that a user comparing
/// our output with torch's sees the same text.
namespace FunctionalDiff.Core

open System
open System.Text
open System.Globalization

module internal TensorFormat =

    /// Tensors with more elements than this are summarised: each long axis keeps `edge` items at each end.
    let private threshold = 1000
    let private edge = 3
    let private lineWidth = 80
    /// `tensor(` is the prefix, and nested rows are indented to sit under its first `[`.
    let private prefix = "tensor("

    /// How every entry of one tensor is written: torch picks one mode for the whole tensor.
    type private Mode =
        | Integer
        | Fixed
        | Scientific

    let private invariant = CultureInfo.InvariantCulture

    /// Python's `{:.4e}`: mantissa with 4 decimals, exponent signed and at least two digits
    /// (.NET's "E4" writes three, `1.0000E-005`).
    let private scientific (x: float) =
        let text = x.ToString("E4", invariant)
        let at = text.IndexOf 'E'
        let exponent = Int32.Parse(text.Substring(at + 1), invariant)
        let sign = if exponent < 0 then "-" else "+"
        text.Substring(0, at) + "e" + sign + (abs exponent).ToString("00", invariant)

    let private formatNumber (mode: Mode) (x: float) =
        if Double.IsNaN x then "nan"
        elif Double.IsPositiveInfinity x then "inf"
        elif Double.IsNegativeInfinity x then "-inf"
        else
            match mode with
            // the trailing `.` says the dtype is floating although the value is whole
            | Integer -> x.ToString("F0", invariant) + "."
            | Fixed -> x.ToString("F4", invariant)
            | Scientific -> scientific x

    /// torch's choice of mode and width, made from the printed values only (a summarised tensor's
    /// hidden middle does not count). The width comes from the finite nonzero values alone, so
    /// zeros, nan and inf can be wider or narrower than it: torch then does not pad them further.
    let private chooseMode (shown: float seq) =
        let nonzeroFinite = shown |> Seq.filter (fun x -> Double.IsFinite x && x <> 0.0) |> Seq.toArray
        if nonzeroFinite.Length = 0 then Integer, 1
        else
            let magnitudes = nonzeroFinite |> Array.map abs
            let largest, smallest = Array.max magnitudes, Array.min magnitudes
            let mode =
                if nonzeroFinite |> Array.forall (fun x -> x = Math.Ceiling x) then
                    if largest / smallest > 1000.0 || largest > 1e8 then Scientific else Integer
                elif largest / smallest > 1000.0 || largest > 1e8 || smallest < 1e-4 then Scientific
                else Fixed
            mode, nonzeroFinite |> Array.map (fun x -> (formatNumber mode x).Length) |> Array.max

    /// Python's `str` of a shape tuple, as in torch's `size=(0, 3)`.
    let private tuple (shape: int[]) =
        let items = shape |> Array.map (fun n -> n.ToString(invariant))
        if items.Length = 1 then "(" + items.[0] + ",)" else "(" + String.Join(", ", items) + ")"

    /// Renders a dense row-major value with torch's layout; `dtypeSuffix` is torch's name for a
    /// dtype other than its default float32 (`torch.float64`), or null for none.
    let format (dtypeSuffix: string) (shape: int[]) (values: float[]) =
        let rank = shape.Length
        let summarise = values.Length > threshold
        let strides = Shape.contiguousStrides shape
        // the indices printed along an axis of length n; -1 marks the `...`
        let visible (n: int) =
            if summarise && n > 2 * edge then Array.concat [ [| 0 .. edge - 1 |]; [| -1 |]; [| n - edge .. n - 1 |] ]
            else [| 0 .. n - 1 |]
        // the printed positions, gathered first because the mode and width depend on them only
        let rec shownPositions (axis: int) (position: int) : int seq =
            if axis = rank then Seq.singleton position
            else
                visible shape.[axis] |> Seq.filter (fun i -> i >= 0)
                |> Seq.collect (fun i -> shownPositions (axis + 1) (position + i * strides.[axis]))
        let mode, width = chooseMode (shownPositions 0 0 |> Seq.map (fun p -> values.[p]))
        let entry (position: int) = (formatNumber mode values.[position]).PadLeft width
        // torch's nested layout: recursion depth is the rank (a handful), never the element count
        let rec render (axis: int) (position: int) (indent: int) : string =
            let items = visible shape.[axis]
            if axis = rank - 1 then
                // a row: as many entries per line as fit in 80 columns after the indent, each
                // counted as its width plus ", "; the elision is " ..." as torch writes it
                let texts = items |> Array.map (fun i -> if i < 0 then " ..." else entry (position + i * strides.[axis]))
                let perLine = max 1 ((lineWidth - indent) / (width + 2))
                let lines = texts |> Array.chunkBySize perLine |> Array.map (fun line -> String.Join(", ", line))
                "[" + String.Join(",\n" + String(' ', indent + 1), lines) + "]"
            else
                let slices =
                    items |> Array.map (fun i ->
                        if i < 0 then "..." else render (axis + 1) (position + i * strides.[axis]) (indent + 1))
                // one newline between rows, two (a blank line) between matrices, and so on
                let separator = "," + String('\n', rank - 1 - axis) + String(' ', indent + 1)
                "[" + String.Join(separator, slices) + "]"
        let body, suffixes =
            let dtypeSuffixes = if isNull dtypeSuffix then [] else [ "dtype=" + dtypeSuffix ]
            if values.Length = 0 then
                // torch leaves out the size of an empty vector only: `tensor([])` but `size=(0, 3)`
                "[]", (if rank <> 1 then [ "size=" + tuple shape ] else []) @ dtypeSuffixes
            elif rank = 0 then formatNumber mode values.[0], dtypeSuffixes
            else render 0 0 prefix.Length, dtypeSuffixes
        let sb = StringBuilder(prefix).Append(body)
        // torch measures the last line as its length + 2 and moves a suffix that would pass 80
        // columns to a line of its own, indented under the first `[`
        let mutable lastLine = body.Length - body.LastIndexOf '\n' + 1 + (if body.Contains '\n' then 0 else prefix.Length)
        for suffix in suffixes do
            if lastLine + suffix.Length + 2 > lineWidth then
                sb.Append(",\n").Append(' ', prefix.Length).Append(suffix) |> ignore
                lastLine <- prefix.Length + suffix.Length
            else
                sb.Append(", ").Append(suffix) |> ignore
                lastLine <- lastLine + suffix.Length + 2
        sb.Append(')').ToString()
