using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// .npy and .npz against the NumPy format specification, written out here: the magic
/// "\x93NUMPY", a major and minor version byte, the header length (uint16 little endian in 1.0,
/// uint32 in 2.0), an ASCII dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...), }
/// padded with spaces and ended by '\n' so that the data starts at a multiple of 64 (numpy ≥ 1.?'s
/// alignment; 16 was the older one, and readers accept any), then the elements in C order.
/// </summary>
public sealed class NpyTests : IDisposable
{
    readonly string directory = Directory.CreateTempSubdirectory("npytests").FullName;
    string PathOf(string name) => System.IO.Path.Combine(directory, name);
    public void Dispose() => Directory.Delete(directory, recursive: true);

    static byte[] NpyBytes(string header, byte[] data, int major = 1)
    {
        // the header as numpy lays it out: padded with spaces, newline last, data aligned to 64
        int prefix = major == 1 ? 10 : 12;
        int total = prefix + header.Length + 1;
        int padded = (total + 63) / 64 * 64;
        var text = header + new string(' ', padded - total) + "\n";
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 };
        if (major == 1) bytes.AddRange(BitConverter.GetBytes((ushort)text.Length));
        else bytes.AddRange(BitConverter.GetBytes((uint)text.Length));
        bytes.AddRange(Encoding.ASCII.GetBytes(text));
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    static byte[] LittleEndian(double[] values)
    {
        var b = new byte[values.Length * 8];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(i * 8), values[i]);
        return b;
    }

    static byte[] LittleEndian(float[] values)
    {
        var b = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), values[i]);
        return b;
    }

    [Fact]
    public void WrittenFilesFollowTheSpecificationByteForByte()
    {
        var values = new[] { 1.5, -2.0, 3.25, double.NaN, double.PositiveInfinity, 1e-300 };
        Npy.Save(PathOf("m.npy"), Tensor.FromArray(values, 2, 3));
        Assert.Equal(NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", LittleEndian(values)), File.ReadAllBytes(PathOf("m.npy")));

        var single = new[] { 0.5f, -7f, 1e-30f };
        Npy.Save(PathOf("v.npy"), Tensor.FromArray(single));
        Assert.Equal(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", LittleEndian(single)), File.ReadAllBytes(PathOf("v.npy")));

        Npy.Save(PathOf("s.npy"), Tensor.Scalar(4.0));
        Assert.Equal(NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", LittleEndian(new[] { 4.0 })), File.ReadAllBytes(PathOf("s.npy")));
        Assert.Equal(0, (File.ReadAllBytes(PathOf("s.npy")).Length - 8) % 64);
    }

    [Fact]
    public void FilesWrittenIndependentlyAreRead()
    {
        // version 1.0 with numpy's spacing, version 2.0, double quotes and a transposed view written by us
        var values = new[] { 1.0, 2, 3, 4, 5, 6 };
        File.WriteAllBytes(PathOf("a.npy"), NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", LittleEndian(values)));
        var a = Npy.Load(PathOf("a.npy"));
        Assert.Equal(new[] { 3, 2 }, a.Shape);
        Assert.Equal(values, a.ToDoubleArray());

        var single = new[] { 1f, -1f, 0.25f, 8f };
        File.WriteAllBytes(PathOf("b.npy"), NpyBytes("{\"descr\":\"<f4\",\"fortran_order\":False,\"shape\":(2,1,2)}", LittleEndian(single), major: 2));
        var b = Npy.Load(PathOf("b.npy"));
        Assert.Equal(DType.Float32, b.DType);
        Assert.Equal(new[] { 2, 1, 2 }, b.Shape);
        Assert.Equal(single, b.ToSingleArray());
    }

    [Fact]
    public void RoundTripsKeepBitsShapeAndDtypeIncludingViews()
    {
        foreach (var t in new[]
        {
            Tensor.RandomNormal([4, 5, 2], seed: 1),
            Tensor.RandomNormal([7, 3], seed: 2, dtype: DType.Float32).Transpose(),
            Tensor.Zeros([0, 3]),
        })
        {
            Npy.Save(PathOf("t.npy"), t);
            var back = Npy.Load(PathOf("t.npy"));
            Assert.Equal(t.Shape, back.Shape);
            Assert.Equal(t.DType, back.DType);
            Assert.Equal(t.ToDoubleArray(), back.ToDoubleArray());
        }
    }

    [Theory]
    [InlineData("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", "'<i8'")]
    [InlineData("{'descr': '>f8', 'fortran_order': False, 'shape': (2,), }", "'>f8'")]
    [InlineData("{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", "Fortran")]
    public void OtherLayoutsRaiseNamingTheFileAndTheHeader(string header, string problem)
    {
        File.WriteAllBytes(PathOf("bad.npy"), NpyBytes(header, new byte[16]));
        var e = Assert.Throws<InvalidDataException>(() => Npy.Load(PathOf("bad.npy")));
        Assert.Contains("bad.npy", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.Contains(header, e.Message);
    }

    [Fact]
    public void TruncatedFilesAndOtherFormatsRaise()
    {
        File.WriteAllBytes(PathOf("short.npy"), NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", new byte[8]));
        Assert.Contains("ends after", Assert.Throws<InvalidDataException>(() => Npy.Load(PathOf("short.npy"))).Message);
        File.WriteAllText(PathOf("text.npy"), "not numpy at all");
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => Npy.Load(PathOf("text.npy"))).Message);
        File.WriteAllText(PathOf("text.npz"), "not a zip either");
        Assert.Contains("text.npz", Assert.Throws<InvalidDataException>(() => Npz.Load(PathOf("text.npz"))).Message);
    }

    /// <summary>
    /// A header that claims more than the file holds, or more than an array can hold, is a broken
    /// file like any other: InvalidDataException naming the file, raised before the data is
    /// allocated (a header claiming 2.4 GB of elements raised ArgumentException "count =
    /// -1894967296"; a version 2.0 header length of 2^31 − 1 raised OutOfMemoryException).
    /// </summary>
    [Theory]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (300000000,), }", "(300000000,)")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (65536, 65536), }", "(65536, 65536)")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000), }", "(100000, 100000)")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000,), }", "ends after")]
    public void HeadersClaimingMoreThanTheFileRaiseBeforeAllocating(string header, string problem)
    {
        File.WriteAllBytes(PathOf("big.npy"), NpyBytes(header, new byte[8]));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Npy.Load(PathOf("big.npy")));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "the data was allocated before the check");
        Assert.Contains("big.npy", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff })]  // −1 as an int32: uint32 4294967295
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0x7f })]  // 2^31 − 1
    public void Version2HeaderLengthsBeyondTheFileRaise(byte[] length)
    {
        byte[] bytes = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0, .. length, .. "{'descr'"u8];
        File.WriteAllBytes(PathOf("long.npy"), bytes);
        var e = Assert.Throws<InvalidDataException>(() => Npy.Load(PathOf("long.npy")));
        Assert.Contains("long.npy", e.Message);
        Assert.Contains("header", e.Message);
    }

    [Fact]
    public void NpzArchivesAreZipsOfNpyEntries()
    {
        var p = Parameters.Of(("w", Tensor.RandomNormal([3, 2], seed: 3)), ("b", Tensor.FromArray(new[] { 1f, 2f })));
        p.Save(PathOf("p.npz"));
        using (var zip = ZipFile.OpenRead(PathOf("p.npz")))
        {
            Assert.Equal(new[] { "w.npy", "b.npy" }, zip.Entries.Select(e => e.FullName));
            using var s = zip.GetEntry("b.npy")!.Open();
            using var m = new MemoryStream();
            s.CopyTo(m);
            Assert.Equal(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", LittleEndian(new[] { 1f, 2f })), m.ToArray());
        }
        var back = Parameters.Load(PathOf("p.npz"));
        Assert.Equal(new[] { "w", "b" }, back.Names);
        Assert.Equal(p["w"].ToDoubleArray(), back["w"].ToDoubleArray());
        Assert.Equal(DType.Float32, back["b"].DType);

        // a compressed archive (np.savez_compressed) written independently
        using (var file = File.Create(PathOf("c.npz")))
        using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
        {
            using var s = zip.CreateEntry("x.npy", CompressionLevel.Optimal).Open();
            s.Write(NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", LittleEndian(new[] { 9.0, -9.0 })));
        }
        Assert.Equal(new[] { 9.0, -9.0 }, Npz.Load(PathOf("c.npz"))["x"].ToDoubleArray());
    }
}
