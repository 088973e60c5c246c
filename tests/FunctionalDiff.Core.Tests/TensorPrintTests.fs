/// Tensor.ToString against torch's `str(tensor)`: every expected string is written by hand from
/// torch's printing rules (precision 4, threshold 1000, 3 edge items, 80 columns), not produced by
/// the code under test, so a change of mode, width, layout or suffix fails here.
module FunctionalDiff.Core.Tests.TensorPrintTests

open Expecto
open FunctionalDiff.Core

let private f32 shape (values: float list) = Tensor.ofArray32 shape (values |> List.map float32 |> List.toArray)
let private f64 shape (values: float list) = Tensor.ofArray64 shape (List.toArray values)

let private prints (expected: string) (t: Tensor) name = Expect.equal (t.ToString()) expected name

let tests =
    testList "Print" [
        test "whole numbers print as `1.`, right-aligned to the widest" {
            prints "tensor([ 1., -2.,  3.])" (f32 [| 3 |] [ 1.0; -2.0; 3.0 ]) "integers"
            // whole numbers whose largest/smallest ratio passes 1000 switch to scientific, as torch does
            prints "tensor([1.0000e+00, 1.0000e+04])" (f32 [| 2 |] [ 1.0; 10000.0 ]) "integer ratio > 1000"
        }
        test "fractions print with 4 decimals, scientific when the range calls for it" {
            // 0.018f is 0.017999999225..., which still rounds to 0.0180
            prints "tensor([1.0000, 0.0180])" (f32 [| 2 |] [ 1.0; 0.018 ]) "fixed"
            prints "tensor([1.0000e-05, 1.0000e+00])" (f32 [| 2 |] [ 1e-5; 1.0 ]) "scientific: smallest below 1e-4"
            prints "tensor([1.2346e+08, 5.0000e-01], dtype=torch.float64)" (f64 [| 2 |] [ 123456789.0; 0.5 ]) "scientific: largest above 1e8"
        }
        test "mixed signs share the width of the widest; zeros are padded to it" {
            prints "tensor([-1.5000,  2.2500,  0.0000])" (f32 [| 3 |] [ -1.5; 2.25; 0.0 ]) "mixed sign"
        }
        test "nan and inf print as torch's words, padded only up to the finite values' width" {
            prints "tensor([1., nan, inf, -inf])" (f32 [| 4 |] [ 1.0; nan; infinity; -infinity ]) "after integers"
            prints "tensor([1.5000,    nan])" (f32 [| 2 |] [ 1.5; nan ]) "after fixed"
            prints "tensor([0., nan])" (f32 [| 2 |] [ 0.0; nan ]) "no nonzero finite value"
        }
        test "rank 0 prints the bare number" {
            prints "tensor(3.5000)" (f32 [||] [ 3.5 ]) "fraction"
            prints "tensor(3.)" (f32 [||] [ 3.0 ]) "whole"
            prints "tensor(3.5000, dtype=torch.float64)" (f64 [||] [ 3.5 ]) "float64"
        }
        test "2-D: one row a line, indented under the first bracket" {
            prints "tensor([[  1.0000, -20.0000],\n        [  3.5000,   4.0000]])"
                (f32 [| 2; 2 |] [ 1.0; -20.0; 3.5; 4.0 ]) "2-D"
        }
        test "3-D: a blank line between the matrices" {
            prints "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])"
                (f32 [| 2; 2; 2 |] [ 0.0 .. 7.0 ]) "3-D"
        }
        test "long rows wrap at 80 columns, as many entries a line as fit after the indent" {
            // (80 - 7) / (6 + 2) = 9 entries of width 6 a line
            let line = "0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000"
            prints ("tensor([" + line + ",\n        " + line + ",\n        0.5000, 0.5000])")
                (f32 [| 20 |] (List.replicate 20 0.5)) "wrapped"
        }
        test "over 1000 elements: 3 edge items and `...`, mode chosen from the shown values" {
            // shown 0, 1, 2, 1997, 1998, 1999: whole, ratio 1999 > 1000, so scientific; width 10
            // gives (80 - 7) / 12 = 6 entries a line, and `...` counts as one of them
            prints
                "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])"
                (f32 [| 2000 |] [ 0.0 .. 1999.0 ]) "1-D"
            let row = "[0., 0., 0.,  ..., 0., 0., 0.]"
            let rows = String.concat ",\n        " [ row; row; row; "..."; row; row; row ]
            prints ("tensor([" + rows + "])") (Tensor.zeros DType.Float32 [| 40; 50 |]) "2-D"
            prints "tensor([1., 1., 1.,  ..., 1., 1., 1.], dtype=torch.float64)"
                (f64 [| 2000 |] (List.replicate 2000 1.0)) "float64"
            // 1000 elements is not over the threshold: all printed
            Expect.isFalse ((Tensor.zeros DType.Float32 [| 1000 |]).ToString().Contains "...") "1000 not summarised"
        }
        test "float64 carries torch's dtype suffix, on its own line when it would pass 80 columns" {
            prints "tensor([ 1., -2.], dtype=torch.float64)" (f64 [| 2 |] [ 1.0; -2.0 ]) "suffix"
            let line = "0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000, 0.5000"
            prints ("tensor([" + line + "],\n       dtype=torch.float64)") (f64 [| 9 |] (List.replicate 9 0.5)) "wrapped suffix"
        }
        test "empty tensors print `[]`, with the size unless they are vectors" {
            prints "tensor([])" (Tensor.zeros DType.Float32 [| 0 |]) "vector"
            prints "tensor([], size=(0, 3))" (Tensor.zeros DType.Float32 [| 0; 3 |]) "matrix"
            prints "tensor([], dtype=torch.float64)" (Tensor.zeros DType.Float64 [| 0 |]) "float64"
        }
    ]
