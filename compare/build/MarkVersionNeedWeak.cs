// An MSBuild task, compiled by RoslynCodeTaskFactory at build time, that marks one symbol-version
// need of an ELF64 shared library as weak, in place.
//
// Why: TorchSharp 0.107.0's libLibTorchSharp.so needs GLIBCXX_3.4.32 only for a link-time marker
// symbol that nothing calls, but Debian 12's libstdc++ stops at 3.4.30, so the loader refuses the
// library. A weak need (VER_FLG_WEAK) lets it load. See ../shared/notes/torchsharp-debian12.md.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// RoslynCodeTaskFactory compiles this against netstandard2.0: no spans, no nullable annotations.

public class MarkVersionNeedWeak : Task
{
    /// <summary>The ELF file to patch in place.</summary>
    [Required] public string LibraryPath { get; set; } = "";

    /// <summary>The version need to mark weak, e.g. GLIBCXX_3.4.32.</summary>
    [Required] public string VersionName { get; set; } = "";

    /// <summary>Candidate paths of the host library that would provide the version.</summary>
    [Required] public string[] HostLibraryCandidates { get; set; } = Array.Empty<string>();

    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;

    public override bool Execute()
    {
        if (!File.Exists(LibraryPath))
        {
            Log.LogMessage(MessageImportance.Low, $"MarkVersionNeedWeak: {LibraryPath} not found; nothing to do.");
            return true;
        }
        string host = Array.Find(HostLibraryCandidates, File.Exists);
        if (host != null && HostProvides(host, VersionName))
        {
            Log.LogMessage(MessageImportance.Normal, $"MarkVersionNeedWeak: {host} provides {VersionName}; {LibraryPath} left as shipped.");
            return true;
        }
        byte[] elf = File.ReadAllBytes(LibraryPath);
        int changed = MarkWeak(elf, VersionName, out string problem);
        if (changed < 0)
        {
            Log.LogError($"MarkVersionNeedWeak: {LibraryPath}: {problem}");
            return false;
        }
        if (changed > 0)
        {
            File.WriteAllBytes(LibraryPath, elf);
            Log.LogMessage(MessageImportance.High, $"MarkVersionNeedWeak: marked {VersionName} weak in {LibraryPath}.");
        }
        else
        {
            Log.LogMessage(MessageImportance.Normal, $"MarkVersionNeedWeak: {VersionName} already weak or absent in {LibraryPath}.");
        }
        return true;
    }

    // The host's libstdc++ names every version it defines in its dynamic string table;
    // a NUL-delimited match of the name is enough to know it defines that version.
    static bool HostProvides(string path, string version)
    {
        byte[] bytes = File.ReadAllBytes(path);
        byte[] needle = Encoding.ASCII.GetBytes("\0" + version + "\0");
        for (int i = 0; i + needle.Length <= bytes.Length; i++)
        {
            int k = 0;
            while (k < needle.Length && bytes[i + k] == needle[k]) k++;
            if (k == needle.Length) return true;
        }
        return false;
    }

    /// Returns the number of Vernaux entries changed, or -1 with a reason when the file is not as expected.
    static int MarkWeak(byte[] elf, string version, out string problem)
    {
        problem = "";
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        { problem = "not an ELF file"; return -1; }
        if (elf[4] != 2 || elf[5] != 1)
        { problem = "only little-endian ELF64 is supported"; return -1; }

        ulong sectionTable = BitConverter.ToUInt64(elf, 0x28);
        int entrySize = BitConverter.ToUInt16(elf, 0x3A);
        int sectionCount = BitConverter.ToUInt16(elf, 0x3C);
        int changed = 0;
        bool found = false;
        for (int s = 0; s < sectionCount; s++)
        {
            int header = checked((int)sectionTable + s * entrySize);
            if (BitConverter.ToUInt32(elf, header + 4) != ShtGnuVerneed) continue;
            found = true;
            int sectionOffset = checked((int)BitConverter.ToUInt64(elf, header + 0x18));
            int linkedStrings = (int)BitConverter.ToUInt32(elf, header + 0x28);
            int needCount = (int)BitConverter.ToUInt32(elf, header + 0x2C);
            int stringsHeader = checked((int)sectionTable + linkedStrings * entrySize);
            int stringsOffset = checked((int)BitConverter.ToUInt64(elf, stringsHeader + 0x18));

            int need = sectionOffset;
            for (int n = 0; n < needCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, need + 2);
                int aux = need + (int)BitConverter.ToUInt32(elf, need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    int nameOffset = (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (ReadCString(elf, stringsOffset + nameOffset) == version)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlgWeak) == 0)
                        {
                            ushort weak = (ushort)(flags | VerFlgWeak);
                            elf[aux + 4] = (byte)(weak & 0xff);
                            elf[aux + 5] = (byte)(weak >> 8);
                            changed++;
                        }
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                int next = (int)BitConverter.ToUInt32(elf, need + 12);
                if (next == 0) break;
                need += next;
            }
        }
        if (!found) { problem = "no SHT_GNU_verneed section"; return -1; }
        return changed;
    }

    static string ReadCString(byte[] bytes, int start)
    {
        int end = Array.IndexOf(bytes, (byte)0, start);
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }
}
