namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// The process's count of minor page faults, read from <c>/proc/self/stat</c> on Linux. The
/// benchmark reports how many our timed calls took, because on a VM a first touch of fresh memory
/// can cost several microseconds per 4 KB page and then decides the time of a large op.
/// </summary>
public static class PageFaults
{
    /// <summary>Minor faults so far, or null where <c>/proc/self/stat</c> cannot be read.</summary>
    public static long? Minor()
    {
        try
        {
            string stat = File.ReadAllText("/proc/self/stat");
            // Fields after the parenthesised command name start with field 3 (state); minflt is field 10.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}
