/// NumPy's `.npy` and `.npz` formats for float32 and float64 tensors in C order, so tensors
/// move to and from NumPy and PyTorch (`np.save`/`np.load`, `torch.from_numpy`). A `.npy` file is
/// the magic bytes \x93NUMPY, a version (1.0, 2.0 or 3.0), the header's length (2 bytes little
/// endian in 1.0, 4 in 2.0 and 3.0), a header that is a Python dict literal with 'descr',
/// 'fortran_order' and 'shape', padded with spaces and ended by a newline so that the data
/// starts at a multiple of 64 bytes, and then the elements, row-major, in the descr's byte order.
/// An `.npz` file is a zip archive of `.npy` files, one per array, named `<name>.npy`.
namespace FunctionalDiff.Core

open System
open System.IO
open System.IO.Compression
open System.Runtime.InteropServices
open System.Text
open System.Text.RegularExpressions

/// Reading and writing NumPy `.npy` files.
[<RequireQualifiedAccess>]
module Npy =

    let private magic = [| 0x93uy; byte 'N'; byte 'U'; byte 'M'; byte 'P'; byte 'Y' |]

    let private formatError (method: string) (file: string) (header: string) (problem: string) : 'a =
        raise (InvalidDataException(sprintf "%s: '%s' cannot be read: %s (header: %s)" method file problem header))

    /// The header dict numpy writes for a C-order float tensor, padded to the 64-byte boundary.
    let header (t: Tensor) =
        let descr = match t.DType with DType.Float32 -> "<f4" | DType.Float64 -> "<f8"
        let shape =
            match t.Dims with
            | [| n |] -> sprintf "(%d,)" n
            | dims -> "(" + String.Join(", ", dims) + ")"
        let dict = sprintf "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" descr shape
        // magic (6) + version (2) + length (2) + dict + padding + '\n' is a multiple of 64
        let unpadded = 10 + dict.Length + 1
        let padding = (64 - unpadded % 64) % 64
        dict + String(' ', padding) + "\n"

    /// Writes `t` as a version 1.0 `.npy` stream (little endian, C order).
    let writeStream (stream: Stream) (t: Tensor) =
        if isNull stream then nullArg "stream"
        let text = header t
        let headerBytes = Encoding.ASCII.GetBytes text
        stream.Write(magic, 0, magic.Length)
        stream.WriteByte 1uy
        stream.WriteByte 0uy
        stream.WriteByte(byte (headerBytes.Length &&& 0xFF))
        stream.WriteByte(byte (headerBytes.Length >>> 8))
        stream.Write(headerBytes, 0, headerBytes.Length)
        // the elements' bytes as they lie in memory: little endian on every platform .NET runs on here
        if not BitConverter.IsLittleEndian then raise (PlatformNotSupportedException "Npy: big-endian hosts are not supported")
        match t.DType with
        | DType.Float64 -> stream.Write(MemoryMarshal.AsBytes(ReadOnlySpan(t.ToDoubleArray())))
        | DType.Float32 -> stream.Write(MemoryMarshal.AsBytes(ReadOnlySpan(t.ToSingleArray())))

    let private readExactly (stream: Stream) (count: int) (method: string) (file: string) (header: string) =
        let buffer = Array.zeroCreate<byte> count
        let mutable read = 0
        while read < count do
            let n = stream.Read(buffer, read, count - read)
            if n = 0 then formatError method file header (sprintf "the file ends after %d of %d expected bytes" read count)
            read <- read + n
        buffer

    /// Reads a `.npy` stream of `length` bytes; `file` names it in errors. The header's length
    /// and shape are checked against `length` before anything of their size is allocated, so a
    /// broken or hostile header is an InvalidDataException, not an OutOfMemoryException or an
    /// overflowed count.
    let readStream (method: string) (file: string) (length: int64) (stream: Stream) : Tensor =
        if isNull stream then nullArg "stream"
        let prefix = readExactly stream 8 method file "(none)"
        if prefix.[0..5] <> magic then formatError method file "(none)" "it does not start with the .npy magic \\x93NUMPY"
        let major = int prefix.[6]
        let lengthBytes =
            match major with
            | 1 -> 2
            | 2 | 3 -> 4
            | v -> formatError method file "(none)" (sprintf "format version %d.%d is unknown" v (int prefix.[7]))
        let lengthField = readExactly stream lengthBytes method file "(none)"
        let headerLength = if lengthBytes = 2 then int64 (BitConverter.ToUInt16(lengthField, 0)) else int64 (BitConverter.ToUInt32(lengthField, 0))
        let afterLength = int64 (8 + lengthBytes)
        if headerLength > length - afterLength then
            formatError method file "(none)" (sprintf "the header length field says %d bytes, but only %d follow it" headerLength (length - afterLength))
        let headerLength = int headerLength
        let headerText = (if major = 3 then Encoding.UTF8 else Encoding.Latin1).GetString(readExactly stream headerLength method file "(none)")
        let shown = headerText.TrimEnd()
        let field (name: string) (pattern: string) =
            let m = Regex.Match(headerText, "['\"]" + name + "['\"]\\s*:\\s*" + pattern)
            if not m.Success then formatError method file shown (sprintf "the header has no valid '%s'" name)
            m.Groups.[1].Value
        let descr = field "descr" "['\"]([^'\"]*)['\"]"
        let fortran = field "fortran_order" "(True|False)"
        let shapeText = field "shape" "\\(([^)]*)\\)"
        if fortran = "True" then
            formatError method file shown "Fortran (column-major) order is not supported; save a C-order array (np.ascontiguousarray)"
        let dtype =
            match descr with
            | "<f8" -> DType.Float64
            | "<f4" -> DType.Float32
            | "|f8" | "=f8" when BitConverter.IsLittleEndian -> DType.Float64
            | "|f4" | "=f4" when BitConverter.IsLittleEndian -> DType.Float32
            | other -> formatError method file shown (sprintf "dtype '%s' is not supported: only little-endian float32 ('<f4') and float64 ('<f8')" other)
        let shape =
            shapeText.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
            |> Array.map (fun s ->
                match Int32.TryParse s with
                | true, n when n >= 0 -> n
                | _ -> formatError method file shown (sprintf "shape entry '%s' is not a dimension" s))
        // the bytes the shape needs, in int64 and saturating at 2^62, so no product wraps around
        let elementBytes = match dtype with DType.Float64 -> 8L | DType.Float32 -> 4L
        let saturated = 1L <<< 62
        let mutable needed = elementBytes
        for d in shape do
            needed <- if d = 0 then 0L elif needed > saturated / int64 d then saturated else needed * int64 d
        let available = length - afterLength - int64 headerLength
        if needed > available then
            formatError method file shown (sprintf "the file ends after %d of %d expected bytes" available needed)
        if needed / elementBytes > int64 Shape.maxElements then
            formatError method file shown (sprintf "shape (%s) has more elements than a tensor can hold (%d)" shapeText Shape.maxElements)
        let count = Shape.numel shape
        match dtype with
        | DType.Float64 ->
            let data = Array.zeroCreate<float> count
            let bytes = readExactly stream (count * 8) method file shown
            Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length)
            Tensor.OwnDense(shape, data)
        | DType.Float32 ->
            let data = Array.zeroCreate<float32> count
            let bytes = readExactly stream (count * 4) method file shown
            Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length)
            Tensor.OwnDense(shape, data)

    /// Writes `t` to a `.npy` file.
    let save (path: string) (t: Tensor) =
        if isNull path then nullArg "path"
        use stream = File.Create path
        writeStream stream t

    /// Reads a `.npy` file.
    let load (path: string) : Tensor =
        if isNull path then nullArg "path"
        use stream = File.OpenRead path
        readStream "Npy.Load" path stream.Length stream

/// Reading and writing NumPy `.npz` archives (several named arrays in one zip file).
[<RequireQualifiedAccess>]
module Npz =

    /// Writes the named tensors as `<name>.npy` entries, uncompressed as `np.savez` does.
    let save (path: string) (entries: (string * Tensor)[]) =
        if isNull path then nullArg "path"
        if isNull entries then nullArg "entries"
        use file = File.Create path
        use archive = new ZipArchive(file, ZipArchiveMode.Create)
        for name, t in entries do
            if String.IsNullOrEmpty name then invalidArg "entries" "Npz.Save: every array needs a name"
            let entry = archive.CreateEntry(name + ".npy", CompressionLevel.NoCompression)
            use stream = entry.Open()
            Npy.writeStream stream t

    /// Reads every `.npy` entry of an archive (stored or deflated), by name without `.npy`, in archive order.
    let load (path: string) : (string * Tensor)[] =
        if isNull path then nullArg "path"
        use archive =
            try ZipFile.OpenRead path
            with :? InvalidDataException as e ->
                raise (InvalidDataException(sprintf "Npz.Load: '%s' is not a zip archive (%s)" path e.Message, e))
        [| for entry in archive.Entries do
               if entry.FullName.EndsWith(".npy", StringComparison.Ordinal) then
                   use stream = entry.Open()
                   let name = entry.FullName.Substring(0, entry.FullName.Length - 4)
                   yield name, Npy.readStream "Npz.Load" (path + "/" + entry.FullName) entry.Length stream |]
