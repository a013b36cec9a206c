namespace NewTechPark.Edge.Collector.Health;

/// <summary>Free and total bytes of the disk that holds a folder.</summary>
public readonly record struct DiskSpace(long FreeBytes, long TotalBytes)
{
    public double FreePercent => TotalBytes <= 0 ? 0 : 100.0 * FreeBytes / TotalBytes;
}

/// <summary>Where the disk check gets its numbers; tests hand it fake ones.</summary>
public interface IFreeSpaceProvider
{
    DiskSpace Of(string folder);
}

/// <summary>The real numbers: what the service user may still write (<see cref="DriveInfo.AvailableFreeSpace"/>, which leaves out root's reserve).</summary>
public sealed class DriveFreeSpace : IFreeSpaceProvider
{
    public DiskSpace Of(string folder)
    {
        var drive = new DriveInfo(Path.GetFullPath(folder));
        return new DiskSpace(drive.AvailableFreeSpace, drive.TotalSize);
    }
}
