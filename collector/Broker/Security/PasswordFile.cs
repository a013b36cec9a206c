using System.Text;

namespace NewTechPark.Edge.Collector.Broker.Security;

/// <summary>
/// Edits a Mosquitto-format password file (<c>user:$7$…</c> lines) for <c>collector devices</c>:
/// one user added, replaced or removed, every other line (comments, readers) kept as it was. The
/// new file is written beside the old one, readable by the owner only, and renamed over it, so the
/// running collector (<see cref="PasswordFileReload"/>) and Mosquitto never read half a file. A lock
/// file serialises two commands run at once, so neither loses the other's change.
/// </summary>
public static class PasswordFile
{
    /// <summary>A password file of a site is a few kilobytes; anything this large is not one.</summary>
    public const long MaxBytes = 4 * 1024 * 1024;

    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    /// <summary>The user names of the file, in file order (no hash is checked here: the collector does that when it reads the file).</summary>
    public static IReadOnlyList<string> Users(string path) =>
        ReadLines(path).Select(UserOf).OfType<string>().Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Adds <paramref name="user"/> with <paramref name="hash"/>; false (file unchanged) when the user is there and <paramref name="replace"/> is off.</summary>
    public static bool Set(string path, string user, string hash, bool replace)
    {
        using var _ = Lock(path);
        var lines = ReadLines(path);
        if (!replace && lines.Any(l => UserOf(l) == user))
        {
            return false;
        }

        var kept = lines.Where(l => UserOf(l) != user).ToList();
        kept.Add($"{user}:{hash}");
        Write(path, kept);
        return true;
    }

    /// <summary>Removes <paramref name="user"/>'s line; false when the file has none.</summary>
    public static bool Remove(string path, string user)
    {
        using var _ = Lock(path);
        var lines = ReadLines(path);
        var kept = lines.Where(l => UserOf(l) != user).ToList();
        if (kept.Count == lines.Count)
        {
            return false;
        }

        Write(path, kept);
        return true;
    }

    private static string? UserOf(string line)
    {
        var trimmed = line.TrimStart();
        var colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        return trimmed.Length == 0 || trimmed.StartsWith('#') || colon <= 0 ? null : trimmed[..colon];
    }

    private static List<string> ReadLines(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var length = new FileInfo(path).Length;
        if (length > MaxBytes)
        {
            throw new IOException($"{path} is {length:N0} bytes: not a password file (at most {MaxBytes:N0})");
        }

        return [.. File.ReadAllLines(path, Encoding.UTF8)];
    }

    private static void Write(string path, List<string> lines)
    {
        // The owner only, as the collector demands of the file; a file that was 0640 (the broker's group) stays 0640.
        var mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        if (!OperatingSystem.IsWindows() && File.Exists(path))
        {
            mode = File.GetUnixFileMode(path) & (UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        }

        var temporary = path + ".new";
        using (var stream = OperatingSystem.IsWindows()
                   ? new FileStream(temporary, FileMode.Create)
                   : new FileStream(temporary, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = mode }))
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false));
            foreach (var line in lines)
            {
                writer.Write(line + "\n");
            }

            writer.Flush();
            stream.Flush(flushToDisk: true);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, mode);
        }

        File.Move(temporary, path, overwrite: true);
    }

    // The lock file stays: deleting it on close would let a third command lock a new file while a second waits on the old one.
    private static FileStream Lock(string path)
    {
        var deadline = DateTime.UtcNow + LockWait;
        while (true)
        {
            try
            {
                return new FileStream(path + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // Another `devices` command holds the file for a few milliseconds.
                Thread.Sleep(50);
            }
        }
    }
}
