/// The planner's working tables: a stack of ints, a map from int to int, and a set of int rows
/// found by their contents. A planner runs on every Eval, so in a user's loop that builds its
/// graph each step these tables are as hot as the kernels. Dictionary, HashSet and Stack
/// instantiated over struct keys are generic code of the framework: under tiered compilation each
/// instantiation starts unoptimised, gathers a profile, and waits its turn to be recompiled, and
/// every such recompilation postpones the others. These types are ours, so they are compiled
/// optimised at their first call (core-fs/build/OptimizeMethods.targets), and they hold ints only.
namespace FunctionalDiff.Core

open System

/// A last-in first-out stack of ints.
[<Sealed>]
type internal IntStack() =
    let mutable items: int[] = Array.zeroCreate 16
    let mutable count = 0

    member _.Count = count

    member _.Push(value: int) =
        if count = items.Length then
            let bigger: int[] = Array.zeroCreate (2 * items.Length)
            Array.Copy(items, bigger, count)
            items <- bigger
        items.[count] <- value
        count <- count + 1

    /// The value pushed last, removed; the stack must not be empty.
    member _.Pop() : int =
        if count = 0 then invalidOp "IntStack.Pop: the stack is empty"
        count <- count - 1
        items.[count]

    member _.Clear() = count <- 0

/// A map from int keys to non-negative int values, by open addressing. Clear is constant time: a
/// slot is in use only when it carries the current generation, so a table cleared once per fused
/// group never sweeps its arrays.
[<Sealed>]
type internal IntMap() =
    let mutable keys: int[] = Array.zeroCreate 16
    let mutable values: int[] = Array.zeroCreate 16
    let mutable generations: int[] = Array.zeroCreate 16
    let mutable generation = 1
    let mutable count = 0

    /// The slot of `key` in tables of `capacity` slots (a power of two): Fibonacci hashing
    /// spreads consecutive keys, which node positions and hash codes often are.
    static let home (key: int) (capacity: int) = int ((uint32 key * 2654435769u) >>> (32 - Numerics.BitOperations.Log2(uint32 capacity)))

    member _.Count = count

    /// The value of `key`, or -1 when the map has none.
    member _.Find(key: int) : int =
        let mask = keys.Length - 1
        let mutable i = home key keys.Length
        let mutable result = -2
        while result = -2 do
            if generations.[i] <> generation then result <- -1
            elif keys.[i] = key then result <- values.[i]
            else i <- (i + 1) &&& mask
        result

    member this.Contains(key: int) = this.Find key >= 0

    /// Sets the value of `key` (a value of zero or more), adding the key when it is new.
    member this.Set(key: int, value: int) =
        if value < 0 then invalidArg "value" "IntMap holds values of zero or more"
        // at most half full, so a probe sequence stays short and always ends at a free slot
        if 2 * (count + 1) > keys.Length then this.Grow()
        let mask = keys.Length - 1
        let mutable i = home key keys.Length
        let mutable placed = false
        while not placed do
            if generations.[i] <> generation then
                keys.[i] <- key
                values.[i] <- value
                generations.[i] <- generation
                count <- count + 1
                placed <- true
            elif keys.[i] = key then
                values.[i] <- value
                placed <- true
            else i <- (i + 1) &&& mask

    member _.Clear() =
        count <- 0
        generation <- generation + 1
        // after 2^31 clears the counter would come back to generations still in the arrays
        if generation = Int32.MaxValue then
            Array.Clear generations
            generation <- 1

    member private this.Grow() =
        let oldKeys, oldValues, oldGenerations, oldGeneration = keys, values, generations, generation
        keys <- Array.zeroCreate (2 * oldKeys.Length)
        values <- Array.zeroCreate (2 * oldKeys.Length)
        generations <- Array.zeroCreate (2 * oldKeys.Length)
        generation <- 1
        count <- 0
        for i in 0 .. oldKeys.Length - 1 do
            if oldGenerations.[i] = oldGeneration then this.Set(oldKeys.[i], oldValues.[i])

/// Rows of `width` ints, each stored once and found by its contents: Add gives a new row the
/// next number (0, 1, 2, ...), Find gives the number of a row added before. A hash of the row
/// leads to a chain of the rows that share it. A row is passed as an array of `width` ints that
/// the caller may reuse for the next row (Add copies it).
[<Sealed>]
type internal IntRowSet(width: int) =
    do if width < 1 then invalidArg "width" "rows have one int or more"
    let mutable cells: int[] = Array.zeroCreate (16 * width)
    // the row added before this one with the same hash, or -1
    let mutable previous: int[] = Array.zeroCreate 16
    let latest = IntMap()
    let mutable count = 0

    static let hashOf (row: int[]) =
        let mutable h = 17
        for i in 0 .. row.Length - 1 do
            h <- h * 31 + row.[i]
        h

    member _.Count = count

    /// The int in column `column` of row `row`.
    member _.Item(row: int, column: int) = cells.[row * width + column]

    /// The number of a row with these contents, or -1.
    member _.Find(row: int[]) : int =
        if row.Length <> width then invalidArg "row" (sprintf "IntRowSet holds rows of %d ints, not %d" width row.Length)
        let mutable r = latest.Find(hashOf row)
        let mutable found = -1
        while found < 0 && r >= 0 do
            let mutable same = true
            let mutable i = 0
            while same && i < width do
                same <- cells.[r * width + i] = row.[i]
                i <- i + 1
            if same then found <- r else r <- previous.[r]
        found

    /// Adds a row (which Find does not know) and returns its number.
    member _.Add(row: int[]) : int =
        if row.Length <> width then invalidArg "row" (sprintf "IntRowSet holds rows of %d ints, not %d" width row.Length)
        if count = previous.Length then
            let biggerCells: int[] = Array.zeroCreate (2 * cells.Length)
            Array.Copy(cells, biggerCells, count * width)
            cells <- biggerCells
            let biggerPrevious: int[] = Array.zeroCreate (2 * previous.Length)
            Array.Copy(previous, biggerPrevious, count)
            previous <- biggerPrevious
        Array.Copy(row, 0, cells, count * width, width)
        let h = hashOf row
        previous.[count] <- latest.Find h
        latest.Set(h, count)
        count <- count + 1
        count - 1
