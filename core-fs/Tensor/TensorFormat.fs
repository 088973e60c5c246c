/// Text form of tensor values, laid out the way numpy and torch print them.
namespace FunctionalDiff.Core

open System
open System.Text
open System.Globalization

module internal TensorFormat =

    /// Dimensions longer than this are elided with `...`, keeping `edge` items at each end.
    let private threshold = 1000
    let private edge = 3

    let private formatNumber (x: float) =
        if Double.IsNaN x then "nan"
        elif Double.IsPositiveInfinity x then "inf"
        elif Double.IsNegativeInfinity x then "-inf"
        elif x = Math.Round x && abs x < 1e8 then x.ToString("0.", CultureInfo.InvariantCulture)
        elif abs x >= 1e-4 && abs x < 1e8 then x.ToString("0.0###", CultureInfo.InvariantCulture)
        else x.ToString("0.####e+00", CultureInfo.InvariantCulture)

    /// Renders a dense row-major value with its shape and dtype.
    let format (dtypeName: string) (shape: int[]) (values: float[]) =
        let total = values.Length
        let elide = total > threshold
        let strides = Shape.contiguousStrides shape
        let visible (n: int) =
            if elide && n > 2 * edge then Array.append [| 0 .. edge - 1 |] (Array.append [| -1 |] [| n - edge .. n - 1 |])
            else [| 0 .. n - 1 |]
        // every printed number shares one width so rows align
        let texts = values |> Array.map formatNumber
        let width = if texts.Length = 0 then 0 else texts |> Array.map String.length |> Array.max
        let sb = StringBuilder()
        sb.Append("tensor(") |> ignore
        let rec render (axis: int) (position: int) (indent: int) =
            if axis = shape.Length then
                sb.Append(texts.[position].PadLeft width) |> ignore
            else
                sb.Append('[') |> ignore
                let items = visible shape.[axis]
                items |> Array.iteri (fun k i ->
                    if k > 0 then
                        if axis = shape.Length - 1 then sb.Append(", ") |> ignore
                        else
                            sb.Append(',') |> ignore
                            sb.Append('\n', shape.Length - 1 - axis) |> ignore
                            sb.Append(' ', indent + 1) |> ignore
                    if i < 0 then sb.Append("...") |> ignore
                    else render (axis + 1) (position + i * strides.[axis]) (indent + 1))
                sb.Append(']') |> ignore
        // recursion depth is the rank (at most a handful), never the element count
        render 0 0 7
        sb.Append(", shape=").Append(Shape.format shape).Append(", dtype=").Append(dtypeName).Append(')') |> ignore
        sb.ToString()
