namespace NewTechPark.Edge.Collector.Hosting;

/// <summary>
/// The collector's claim on its data directory: an exclusive lock on <c>collector.lock</c> in it,
/// held from start to exit. The kernel drops the lock when the process ends, kill -9 and power cut
/// included, so a stale file never blocks anything. <c>collector restore</c> takes the same lock,
/// so it refuses to swap the store under a running collector, and a collector cannot start while a
/// restore is under way; a second collector on the same directory is refused too.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string FileName = "collector.lock";

    private readonly FileStream _file;

    private DataDirectoryLock(FileStream file) => _file = file;

    /// <summary>Takes the lock, or returns null when another process holds it.</summary>
    public static DataDirectoryLock? TryTake(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        try
        {
            // FileShare.None: .NET takes flock(LOCK_EX | LOCK_NB) on Unix and a share-mode lock on Windows.
            return new DataDirectoryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>Another process (a collector, or a restore under way) holds the data directory.</summary>
public sealed class DataDirectoryInUseException(string dataDirectory)
    : Exception($"another process holds {Path.Combine(Path.GetFullPath(dataDirectory), DataDirectoryLock.FileName)}: a collector already runs on {Path.GetFullPath(dataDirectory)}, or a restore is under way. Stop it first, or give this one another --Collector:DataDirectory.");
