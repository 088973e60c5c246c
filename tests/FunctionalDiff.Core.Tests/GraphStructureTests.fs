/// The shape of the graphs themselves: hash-consing, canonical forms, the structure of the
/// pullbacks of sin and matmul, the CS229 two-layer net, printing, and construction errors.
module FunctionalDiff.Core.Tests.GraphStructureTests

open System
open System.Threading.Tasks
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64
let private same (a: Expr) (b: Expr) message = Expect.isTrue (obj.ReferenceEquals(a, b)) (sprintf "%s: %O is not %O" message a b)

let private messageOf (f: unit -> 'a) =
    try f () |> ignore; "no exception" with :? ShapeException as e -> e.Message

/// The CS229 net on a column input: z1 = W1 x + b1, a1 = sigmoid z1, z2 = W2 a1 + b2,
/// a2 = sigmoid z2, loss = (a2 - y)^2 summed. Two inputs, three hidden units, one output.
let private cs229Loss (x: Expr) (y: Expr) (parameters: Expr list) =
    match parameters with
    | [ w1; b1; w2; b2 ] ->
        let a1 = Expr.sigmoid (Expr.matmul w1 x + b1)
        let a2 = Expr.sigmoid (Expr.matmul w2 a1 + b2)
        Expr.sum (Expr.square (a2 - y))
    | _ -> invalidArg "parameters" "four parameters"

let private cs229Shapes = [ [| 3; 2 |]; [| 3; 1 |]; [| 1; 3 |]; [| 1; 1 |] ]

[<Tests>]
let tests =
    testList "Graph" [
        testList "Structure" [
            test "structurally equal nodes are one object; Vars never merge" {
                let x = Expr.variable "x" [| 3 |] f64
                same (sin x + x) (sin x + x) "sin x + x"
                same (Expr.scalar f64 2.0) (Expr.scalar f64 2.0) "scalar constants merge by value"
                Expect.isFalse (obj.ReferenceEquals(Expr.scalar f64 2.0, Expr.scalar DType.Float32 2.0)) "but not across dtypes"
                Expect.isFalse (obj.ReferenceEquals(Expr.variable "x" [| 3 |] f64, x)) "two Vars named x"
                let t = Tensor.FromArray([| 1.0; 2.0 |], [| 2 |])
                same (constant t) (constant t) "one tensor, one node"
                Expect.isFalse (obj.ReferenceEquals(constant t, constant (Tensor.FromArray([| 1.0; 2.0 |], [| 2 |])))) "equal tensors compare by reference"
            }
            test "building is thread-safe: parallel builders get the same nodes" {
                let x = Expr.variable "x" [| 4 |] f64
                let build () =
                    let mutable e = x
                    for i in 1 .. 2000 do
                        e <- sin e * float (i % 7 + 2)
                    e
                let results = Array.init 4 (fun _ -> Task.Run(fun () -> build ())) |> Array.map (fun t -> t.Result)
                for r in results do same r results.[0] "parallel result"
            }
            test "interning finds every node again after its table has grown many times" {
                // 10^5 distinct nodes make the table rebuild itself about eight times over.
                let x = Expr.variable "x" [| 2 |] f64
                let build () = Array.scan (fun (e: Expr) i -> if i % 2 = 0 then sin e else e * float (i % 5 + 2)) x [| 1 .. 100_000 |]
                let first = build ()
                let second = build ()
                Expect.equal (first |> Array.map (fun e -> e.Id) |> Array.distinct).Length first.Length "the chain's nodes are distinct"
                Expect.isTrue (Array.forall2 (fun (a: Expr) b -> obj.ReferenceEquals(a, b)) first second) "building it again gives the same objects"
            }
            test "canonical forms: the IEEE-exact ones (x*1, x-0, x+(-0), -(-x), scalar folding, collapsed views)" {
                let x = Expr.variable "x" [| 2; 3 |] f64
                same (1.0 * x) x "1 * x"
                same (x * 1.0) x "x * 1"
                same (x / 1.0) x "x / 1"
                same (x ** 1.0) x "x ** 1"
                same (x - 0.0) x "x - 0"
                same (x + -0.0) x "x + (-0)"
                same (-0.0 - x) (-x) "(-0) - x"
                same (x * -1.0) (-x) "x * -1"
                same (-(-x)) x "double negation"
                same (Expr.scalar f64 2.0 * Expr.scalar f64 3.0 + 1.0) (Expr.scalar f64 7.0) "folding"
                same (Expr.transpose (Expr.transpose x)) x "transpose twice"
                same (Expr.reshape [| 3; 2 |] (Expr.reshape [| 6 |] x)) (Expr.reshape [| 3; 2 |] x) "reshape chain"
                same (Expr.reshape [| 2; 3 |] x) x "reshape to the same shape"
                // Not exact in IEEE (x = inf, NaN or -0), so built as written: GraphIeeeTests checks the values.
                Expect.isFalse (Fold.isZero (x * 0.0)) "x * 0 is not a zero"
                Expect.isFalse (obj.ReferenceEquals(x + 0.0, x)) "x + 0 is not x"
                Expect.isFalse (obj.ReferenceEquals(0.0 - x, -x)) "0 - x is not -x"
            }
            test "the VJP of sin x is g * cos x" {
                let x = Expr.variable "x" [| 3 |] f64
                let g = Expr.variable "g" [| 3 |] f64
                let _, pullback = Diff.vjp sin x
                same (pullback g) (g * cos x) "pullback"
            }
            test "the VJP of W @ x is W^T g for x and g x^T for W" {
                let w = Expr.variable "W" [| 2; 3 |] f64
                let x = Expr.variable "x" [| 3; 1 |] f64
                let g = Expr.variable "g" [| 2; 1 |] f64
                let _, pullback = Diff.vjp2 Expr.matmul (w, x)
                let gw, gx = pullback g
                same gx (Expr.matmul (Expr.transpose w) g) "for x"
                same gw (Expr.matmul g (Expr.transpose x)) "for W"
                Expect.equal gw.Shape [| 2; 3 |] "W's cotangent has W's shape"
            }
            test "CS229 net: gradients have the parameters' shapes and match finite differences" {
                let random = Random(11)
                let x = constant (sample random Normal [| 2; 1 |])
                let y = constant (tensor [| 1; 1 |] [| 1.0 |])
                let point = cs229Shapes |> List.map (sample random Normal)
                let grads = Diff.gradN (cs229Loss x y) (point |> List.map constant)
                Expect.equal (grads |> List.map (fun g -> g.Shape)) cs229Shapes "shapes; W2's is the 1x3 row"
                let reference = numericGradient (cs229Loss x y) point
                List.iteri2 (fun i g r -> expectClose 1e-6 (values g) r (sprintf "parameter %d" i)) grads reference
            }
            test "CS229 net: the gradient graph has no Jacobian-sized node" {
                let x = Expr.variable "x" [| 2; 1 |] f64
                let y = Expr.variable "y" [| 1; 1 |] f64
                let parameters = cs229Shapes |> List.mapi (fun i s -> Expr.variable (sprintf "p%d" i) s f64)
                let grads = Diff.gradN (cs229Loss x y) parameters
                // The largest parameter, input or activation is W1 or z1/a1 with 6 and 3 elements.
                let largest = 6
                for node in Graph.topologicalOrder grads do
                    Expect.isLessThanOrEqual node.Numel largest (sprintf "%O" node)
                let text = Print.text (grads.[2])
                Expect.stringContains text "matmul" "W2's gradient is a matmul"
                Expect.stringContains text "transpose" "of the transposed activation"
                Expect.isFalse (text.Contains "[3,2,1]" || text.Contains "[1,3,3]") "no Jacobian-shaped intermediate"
            }
            test "Print.text is one named line per node, jaxpr style; Print.dot is Graphviz" {
                let a = Expr.variable "a" [| 2; 3 |] f64
                let b = Expr.variable "b" [| 3 |] f64
                let e = Expr.sum (sin (Expr.matmul a b) * 2.0)
                let expected =
                    "{ lambda a:f64[2,3] b:f64[3] ; let\n"
                    + "    c:f64[2] = matmul a b\n"
                    + "    d:f64[2] = sin c\n"
                    + "    e:f64[2] = mul d 2:f64[]\n"
                    + "    f:f64[] = reduce_sum[axes=[0] keep_dims=false] e\n"
                    + "  in (f) }"
                Expect.equal (Print.text e) expected "text"
                let dot = Print.dot e
                Expect.stringStarts dot "digraph" "dot header"
                Expect.equal (dot.Split("->").Length - 1) 6 "one edge per input: 2 + 1 + 2 + 1"
                Expect.equal (string (sin a)) "Expr(sin : f64[2,3])" "ToString is short"
                // primitive names as Print and OpName spell them, never a %A dump of the op's fields
                Expect.equal (string (Expr.le a a)) "Expr(less_equal : f64[2,3])" "a binary kind in snake case"
                Expect.equal (string (Expr.sum a)) "Expr(reduce_sum : f64[])" "a reduction without its axes"
                Expect.equal (string (Expr.reshape [| 6 |] a)) "Expr(reshape : f64[6])" "a view without its shape"
            }
            test "Graph.nodeCount counts shared nodes once" {
                let x = Expr.variable "x" [| 2 |] f64
                let s = sin x
                Expect.equal (Graph.nodeCount (s * s + s)) 4 "x, sin, mul, add"
            }
            test "pooled scratch keeps no node: release clears what was written, rentCleared gives defaults" {
                // the pool must not keep a graph alive through a traversal's scratch array
                let x = Expr.variable "x" [| 2 |] f64
                let nodes = Pool.rent<Expr> 100
                let written = [| x; sin x; cos x |]
                Array.blit written 0 nodes 0 written.Length
                Pool.release nodes written.Length
                for i in 0 .. written.Length - 1 do
                    Expect.isNull (box nodes.[i]) (sprintf "entry %d still holds a node" i)
                // entries with references inside a struct, and a value-type table
                let pairs = Pool.rent<struct (Expr * int)> 10
                pairs.[0] <- struct (x, 7)
                Pool.release pairs 1
                let struct (held, k) = pairs.[0]
                Expect.isNull (box held) "a struct entry still holds a node"
                Expect.equal k 0 "the struct entry is its default"
                let used = Pool.rent<int> 5000
                Array.fill used 0 used.Length 7
                Pool.giveBack used
                let table = Pool.rentCleared<int> 3000
                Expect.isTrue (table |> Array.take 3000 |> Array.forall ((=) 0)) "a cleared int table"
                let flags = Pool.rentCleared<bool> 77
                Expect.isTrue (flags |> Array.take 77 |> Array.forall not) "a cleared bool table"
                Pool.giveBack table
                Pool.giveBack flags
            }
        ]
        testList "Errors" [
            test "shape mistakes raise ShapeException at construction, naming op and shapes" {
                let a = Expr.variable "a" [| 2; 3 |] f64
                Expect.equal (messageOf (fun () -> Expr.matmul a a)) "MatMul: [2,3] @ [2,3]: inner dimensions 3 and 2 differ" "matmul"
                Expect.equal (messageOf (fun () -> a + Expr.variable "b" [| 4 |] f64)) "Add: shapes [2,3] and [4] cannot be broadcast" "add"
                Expect.stringContains (messageOf (fun () -> Expr.reshape [| 4 |] a)) "Reshape: cannot reshape [2,3]" "reshape"
                Expect.stringContains (messageOf (fun () -> Expr.sumAxes [| 2 |] false a)) "Sum: axis 2 is out of range" "sum axis"
                Expect.stringContains (messageOf (fun () -> Expr.concat 0 [ a; Expr.variable "c" [| 2; 2 |] f64 ])) "Concat: shapes [2,3], [2,2]" "concat"
                Expect.stringContains (messageOf (fun () -> Expr.permute [| 0; 0 |] a)) "Permute" "permute"
                Expect.stringContains (messageOf (fun () -> Expr.broadcastTo [| 3; 3 |] a)) "BroadcastTo: cannot broadcast [2,3] to [3,3]" "broadcastTo"
            }
            test "evaluating an unbound Var names it" {
                let x = Expr.variable "weights" [| 2 |] f64
                let message = try Eval.eval (sin x) |> ignore; "no exception" with :? InvalidOperationException as e -> e.Message
                Expect.stringContains message "weights" "names the var"
                let bound = Eval.evalWith [ x, tensor [| 2 |] [| 0.0; 1.0 |] ] (x * 3.0)
                Expect.equal (bound.ToDoubleArray()) [| 0.0; 3.0 |] "bound"
            }
            test "a pullback rejects a cotangent of the wrong shape" {
                let _, pullback = Diff.vjp sin (Expr.variable "x" [| 3 |] f64)
                Expect.stringContains (messageOf (fun () -> pullback (Expr.variable "g" [| 2 |] f64))) "Vjp: the pullback's cotangent of shape [2]" "named as the C# facade names it"
                Expect.stringContains (messageOf (fun () -> Diff.grad sin (Expr.variable "x" [| 3 |] f64))) "Grad: f must return one element" "grad of non-scalar"
            }
        ]
    ]
