/// The Tensor kernel specifications, gathered under one list name for `--filter-test-list Tensor`.
module FunctionalDiff.Core.Tests.TensorTests

open Expecto

[<Tests>]
let tests =
    testList "Tensor" [
        TensorRandomTests.tests
        TensorElementwiseTests.tests
        TensorReductionTests.tests
        TensorStructuralTests.tests
        TensorPrintTests.tests
    ]
