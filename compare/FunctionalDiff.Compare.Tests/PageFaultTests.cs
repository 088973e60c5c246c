using System.Runtime.InteropServices;
using FunctionalDiff.Compare.Bench;
using Xunit;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The benchmark's page-fault column reads /proc/self/stat; these tests hold it against the
/// kernel's other account of the same counter, getrusage(RUSAGE_SELF).ru_minflt.
/// </summary>
public class PageFaultTests
{
    [StructLayout(LayoutKind.Sequential)]
    struct Usage
    {
        // struct rusage on 64-bit Linux: two timevals, then 14 longs; ru_minflt is the fifth long
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        public long MaxResident, SharedText, UnsharedData, UnsharedStack, MinorFaults, MajorFaults;
        public long Swaps, BlockIn, BlockOut, MessagesSent, MessagesReceived, Signals, VoluntarySwitches, InvoluntarySwitches;
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    static extern int GetResourceUsage(int who, out Usage usage);

    static long RusageMinorFaults()
    {
        Assert.Equal(0, GetResourceUsage(0, out var usage)); // RUSAGE_SELF
        return usage.MinorFaults;
    }

    [Fact]
    public void MinorFaultCountLiesBetweenTwoGetrusageReadings()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Null(PageFaults.Minor());
            return;
        }
        long before = RusageMinorFaults();
        long? read = PageFaults.Minor();
        long after = RusageMinorFaults();
        Assert.NotNull(read);
        Assert.InRange(read!.Value, before, after);
    }

    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    static extern IntPtr Map(IntPtr address, UIntPtr length, int protection, int flags, int descriptor, IntPtr offset);

    [DllImport("libc", EntryPoint = "munmap")]
    static extern int Unmap(IntPtr address, UIntPtr length);

    [Fact]
    public void TouchingFreshMemoryRaisesTheCount()
    {
        if (!OperatingSystem.IsLinux())
            return;
        // 8 MB of fresh anonymous memory straight from mmap (malloc might reuse touched heap);
        // one write per 4 KB page faults it in (fewer faults where the kernel backs it with huge
        // pages, but never none)
        const int bytes = 8 << 20;
        const int readWrite = 0x1 | 0x2, privateAnonymous = 0x02 | 0x20;
        IntPtr block = Map(IntPtr.Zero, (UIntPtr)bytes, readWrite, privateAnonymous, -1, IntPtr.Zero);
        Assert.NotEqual(new IntPtr(-1), block);
        try
        {
            long before = PageFaults.Minor()!.Value;
            for (int offset = 0; offset < bytes; offset += 4096)
                Marshal.WriteByte(block, offset, 1);
            long after = PageFaults.Minor()!.Value;
            long rusage = RusageMinorFaults();
            Assert.True(after - before >= 4, $"{after - before} faults for 2048 fresh pages");
            Assert.True(rusage >= after);
        }
        finally
        {
            Unmap(block, (UIntPtr)bytes);
        }
    }
}
