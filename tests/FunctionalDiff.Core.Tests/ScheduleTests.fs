/// The learning-rate schedules from F#: torch's recurrences agree with the closed forms they stand for (to rounding),
/// and ReduceLROnPlateau's state steps as its rule says. (The C# schedulers are checked against TorchSharp's, rate by
/// rate, in the comparison tests.)
module FunctionalDiff.Core.Tests.ScheduleTests

open System
open Expecto
open FunctionalDiff.Core

let private close (expected: float) (actual: float) =
    Expect.isLessThanOrEqual (abs (actual - expected)) (1e-14 * abs expected + 1e-17) (sprintf "%g against %g" actual expected)

[<Tests>]
let tests =
    testList "Schedules" [
        test "cosine annealing's recurrence is the half cosine from the base rate to etaMin" {
            let rates = Schedules.rates (Schedules.cosineAnnealingLR 10.0 0.02) 0.5 11
            rates |> Array.iteri (fun e r -> close (0.02 + (0.5 - 0.02) * (1.0 + Math.Cos(Math.PI * float e / 10.0)) / 2.0) r)
        }
        test "cosine annealing climbs back over the next tMax epochs, as torch's recurrence does" {
            let rates = Schedules.rates (Schedules.cosineAnnealingLR 4.0 0.0) 1.0 13
            rates |> Array.iteri (fun e r -> close ((1.0 + Math.Cos(Math.PI * float e / 4.0)) / 2.0) r)
        }
        test "step, exponential, linear and polynomial recurrences are their closed forms" {
            let check schedule (closed: int -> float) =
                Schedules.rates schedule 0.3 40 |> Array.iteri (fun e r -> close (closed e) r)
            check (Schedules.stepLR 6 0.5) (fun e -> 0.3 * Math.Pow(0.5, float (e / 6)))
            check (Schedules.exponentialLR 0.9) (fun e -> 0.3 * Math.Pow(0.9, float e))
            check (Schedules.linearLR 0.2 1.0 10) (fun e -> 0.3 * (0.2 + 0.8 * float (min e 10) / 10.0))
            check (Schedules.polynomialLR 25 1.5) (fun e -> 0.3 * Math.Pow(1.0 - float (min e 25) / 25.0, 1.5))
        }
        test "ReduceLROnPlateau waits patience epochs, reduces, then cools down" {
            let settings = { Schedules.plateauDefaults with Patience = 2; Cooldown = 1; Factor = 0.5 }
            let mutable state = Schedules.plateauStart settings
            let mutable rate = 1.0
            let history = ResizeArray()
            // improves twice, then stalls
            for metric in [ 3.0; 2.0; 2.0; 2.0; 2.0; 2.0; 2.0; 2.0 ] do
                let next, r = Schedules.plateauStep settings state rate metric
                state <- next
                rate <- r
                history.Add r
            // bad epochs 1, 2, 3 (> patience: reduce at the 5th metric), then a cooldown epoch that does not count,
            // then bad epochs 1, 2, 3 again (reduce at the 9th, not reached)
            Expect.sequenceEqual history [ 1.0; 1.0; 1.0; 1.0; 0.5; 0.5; 0.5; 0.5 ] "the rates"
            Expect.equal state.Best 2.0 "the best metric"
        }
        test "errors name the schedule" {
            let messageOf (make: unit -> Schedule) =
                try
                    make () |> ignore
                    failwith "no exception"
                with :? ArgumentException as e -> e.Message
            Expect.stringContains (messageOf (fun () -> Schedules.stepLR 0 0.1)) "StepLR" "the name"
            Expect.stringContains (messageOf (fun () -> Schedules.cosineAnnealingLR 0.0 0.0)) "tMax" "the parameter"
            Expect.stringContains (messageOf (fun () -> Schedules.sequential [| Schedules.exponentialLR 0.9 |] [| 3 |])) "SequentialLR" "the name"
        }
        test "a sequence and a chain follow the closed forms of what they combine" {
            // linear warm-up over 5 epochs, then cosine annealing over 20 from its own epoch 0 (torch's closed form there)
            let warmUp = Schedules.sequential [| Schedules.linearLR 0.01 1.0 5; Schedules.cosineAnnealingLR 20.0 0.001 |] [| 5 |]
            let rates = Schedules.rates warmUp 0.1 40
            for e in 0 .. 39 do
                let expected =
                    if e < 5 then 0.1 * (0.01 + 0.99 * float e / 5.0)
                    else 0.001 + (0.1 - 0.001) * (1.0 + cos (Math.PI * float (e - 5) / 20.0)) / 2.0
                Expect.floatClose { absolute = 0.0; relative = 1e-12 } rates.[e] expected (sprintf "epoch %d" e)
            // a constant factor of 0.5 for 4 epochs on top of an exponential decay
            let chain = Schedules.chained [| Schedules.constantLR 0.5 4; Schedules.exponentialLR 0.9 |]
            Schedules.rates chain 0.1 30
            |> Array.iteri (fun e r ->
                Expect.floatClose { absolute = 0.0; relative = 1e-12 } r (0.1 * 0.9 ** float e * (if e < 4 then 0.5 else 1.0)) (sprintf "chain epoch %d" e))
        }
    ]
