namespace NewTechPark.Edge.TestSupport;

/// <summary>The settings files of the tree (shipped appsettings and the readers' samples), found from the repository root.</summary>
public static class SettingsFiles
{
    /// <summary>The repository root: the folder above the tests that holds NewTechPark.Edge.sln.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NewTechPark.Edge.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("NewTechPark.Edge.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Every <c>appsettings*.json</c> and <c>*.sample.json</c> below <paramref name="folders"/> (relative to the root), as relative paths.</summary>
    public static IReadOnlyList<string> Below(params string[] folders)
    {
        var root = RepositoryRoot();
        return [.. folders
            .Select(f => Path.Combine(root, f))
            .Where(Directory.Exists)
            .SelectMany(f => Directory.EnumerateFiles(f, "*.json", SearchOption.AllDirectories))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => Path.GetFileName(f).StartsWith("appsettings", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".sample.json", StringComparison.OrdinalIgnoreCase))
            .Select(f => Path.GetRelativePath(root, f))
            .Order(StringComparer.Ordinal)];
    }
}
